"""Shared fixtures: each expensive real thing is made once per session, in tests/fixtures/."""

import contextlib
import os
import signal
from collections.abc import Iterator

import pytest

from ops.testrun import BACKGROUND_GROUP_VARIABLE

pytest_plugins = ["tests.fixtures.model", "tests.fixtures.cluster", "tests.fixtures.images"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the local cluster is marked `cluster` (ops/testrun.py runs those in
    the foreground lane). The cluster's own tests come first: the node works before anything
    is released onto it. End-to-end tests run last: they publish a newer model version, which
    the other layers (pinned to the session's first `local_model`) must not see, and the last
    of them stops the cluster."""
    for item in items:
        if "local_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.cluster)

    def order(item: pytest.Item) -> tuple[bool, bool]:
        in_cluster_module = item.path.parent.name == "cluster"
        return item.get_closest_marker("e2e") is not None, not in_cluster_module

    items.sort(key=order)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A `timed` test runs with `make test`'s background lane stopped (ops/testrun.py): only
    the call, so fixtures that wait on a lock the background lane holds never wait on a
    stopped process."""
    group = os.environ.get(BACKGROUND_GROUP_VARIABLE)
    if group is None or item.get_closest_marker("timed") is None:
        return (yield)
    try:
        os.killpg(int(group), signal.SIGSTOP)
    except ProcessLookupError:  # the background lane has finished
        return (yield)
    try:
        return (yield)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(group), signal.SIGCONT)
