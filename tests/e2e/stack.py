"""Steps the e2e modules share: a timed engine operation, and the release's settled pods."""

import time
from pathlib import Path

from ops.deploy.pulumi_cli import PulumiCli
from tests.e2e.kube import release_pods


def timed(cli: PulumiCli, *args: str) -> tuple[str, float]:
    started = time.monotonic()
    output = cli.run(*args)
    elapsed = time.monotonic() - started
    print(f"pulumi {' '.join(args[:3])}: {elapsed:.1f}s")
    return output, elapsed


def settled_pods(kubeconfig: Path, outputs: dict, count: int, timeout: float = 120) -> list[str]:
    """The release's pods once exactly `count` run and none is terminating (a rollout's old
    pods linger through their grace period)."""
    deadline = time.monotonic() + timeout
    while True:
        pods = release_pods(kubeconfig, outputs)
        running = [
            pod["metadata"]["name"]
            for pod in pods
            if "deletionTimestamp" not in pod["metadata"]
            and pod["status"].get("phase") == "Running"
        ]
        if len(pods) == len(running) == count:
            return running
        assert time.monotonic() < deadline, (
            f"pods not settled: {[p['metadata']['name'] for p in pods]}"
        )
        time.sleep(1)
