"""Shared fixtures: each expensive real thing is made once per session, in tests/fixtures/."""

import pytest

pytest_plugins = ["tests.fixtures.model", "tests.fixtures.cluster", "tests.fixtures.images"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the local cluster is marked `cluster` (`pytest -m cluster` selects
    them all). The cluster's own tests come first: the node works before anything is released
    onto it. End-to-end tests run last: they publish a newer model version, which the other
    layers (pinned to the session's first `local_model`) must not see, and the last of them
    stops the cluster."""
    for item in items:
        if "local_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.cluster)

    def order(item: pytest.Item) -> tuple[bool, bool]:
        in_cluster_module = item.path.parent.name == "cluster"
        return item.get_closest_marker("e2e") is not None, not in_cluster_module

    items.sort(key=order)
