"""Shared fixtures: each expensive real thing is made once per session, in tests/fixtures/."""

import pytest

pytest_plugins = ["tests.fixtures.model", "tests.fixtures.cluster", "tests.fixtures.images"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end tests run last: they publish a newer model version, which the other layers
    (pinned to the session's first `local_model`) must not see."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
