"""(b)/(c) Load with wrk: a Lua script posts one body over and over; JSON summary parsed back."""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("post.lua")


@dataclass(frozen=True)
class LoadResult:
    """One wrk run: achieved throughput and latency percentiles."""

    concurrency: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    failed: int


def wrk_binary() -> str:
    """Path of wrk, or an error saying how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk not found on PATH: install it (as root: apt-get install -y wrk)")
    return path


def run_wrk(
    url: str, body: Path, content_type: str, concurrency: int, seconds: float, delay_ms: float = 0
) -> LoadResult:
    """POST `body` to `url` from `concurrency` connections for `seconds`."""
    threads = min(concurrency, 2)
    env = {
        **os.environ,
        "BODY_FILE": str(body),
        "CONTENT_TYPE": content_type,
        "DELAY_MS": str(delay_ms),
    }
    command = [
        wrk_binary(),
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{seconds:g}s",
        "-s",
        str(SCRIPT),
        url,
    ]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    summary = json.loads(output.strip().splitlines()[-1])
    return LoadResult(
        concurrency=concurrency,
        requests_per_second=summary["requests"] / summary["seconds"],
        p50_ms=summary["p50_ms"],
        p99_ms=summary["p99_ms"],
        failed=summary["errors"] + summary["non_2xx"],
    )
