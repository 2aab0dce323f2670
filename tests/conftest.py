"""Shared fixtures: each expensive real thing is made once per session, in tests/fixtures/."""

import pytest

pytest_plugins = ["tests.fixtures.model", "tests.fixtures.cluster", "tests.fixtures.images"]

# The end-to-end modules in the order a user meets them: the first release, what the chart
# promises, then updates and teardown.
E2E_MODULES = ("test_release.py", "test_chart_promises.py", "test_local_stack.py")


# What needs the CPUs on time: the cluster, the images, the server processes whose latencies
# and load balance tests assert. `make test` runs these in the foreground lane (tests/lanes.py).
FOREGROUND_MARKERS = ("e2e", "cluster", "image", "realtime")
LANES = ("foreground", "background")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--lane",
        choices=LANES,
        help="run one lane of `make test`: foreground (markers "
        + ", ".join(FOREGROUND_MARKERS)
        + ") or background (the rest)",
    )


def lane(item: pytest.Item) -> str:
    """The lane `item` runs in; the cluster marker is added at collection, before this."""
    foreground = any(item.get_closest_marker(marker) for marker in FOREGROUND_MARKERS)
    return "foreground" if foreground else "background"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that uses the local cluster is marked `cluster` (`pytest -m cluster` selects
    them all). Tests without the cluster come first: the service's timing checks (a worker
    that does not wake within 50 ms loses its share of a burst) run before the cluster's
    dozen processes share the 2 CPUs. Then the cluster's own tests: the node works before
    anything is released onto it. End-to-end tests run last: they publish a newer model
    version, which the other layers (pinned to the session's first `local_model`) must not
    see; their first module stops the cluster and releases onto the one `pulumi up` starts,
    their last stops that one."""
    for item in items:
        if "local_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.cluster)

    def order(item: pytest.Item) -> tuple[bool, bool, bool, int]:
        in_cluster_module = item.path.parent.name == "cluster"
        uses_cluster = in_cluster_module or item.get_closest_marker("cluster") is not None
        e2e = item.get_closest_marker("e2e") is not None
        e2e_step = E2E_MODULES.index(item.path.name) if e2e else 0
        return e2e, uses_cluster, not in_cluster_module, e2e_step

    items.sort(key=order)
    chosen = config.getoption("lane")
    if chosen is not None:
        config.hook.pytest_deselected(items=[item for item in items if lane(item) != chosen])
        items[:] = [item for item in items if lane(item) == chosen]
