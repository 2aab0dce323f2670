"""Worker placement: workers share connections and CPUs; a replacement waits for its model."""

import contextlib
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.bench.server import Server
from service.cpu import worker_cpus
from service.worker import FRESH_CONNECTION_SECONDS
from tests.service.conftest import READY_TIMEOUT, served, workers_with_a_model

pytestmark = [pytest.mark.service, pytest.mark.realtime]
THREADS = 2
LIVE = b"GET /v2/health/live HTTP/1.1\r\nHost: test\r\n\r\n"
# A request whose chunked body has not come yet holds a request thread (under its deadline).
HELD = (
    b"POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: image/png\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)


def chunked_end(body: bytes) -> bytes:
    """The rest of a HELD request: `body` as one chunk, then the last chunk."""
    return f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


@pytest.fixture(scope="module")
def two_worker_server(
    model_base: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with served(
        model_base,
        tmp_path_factory.mktemp("balance") / "gunicorn.log",
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS=str(THREADS),
    ) as server:
        yield server


def _established_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port, state, inode = int(fields[1].rsplit(":", 1)[1], 16), fields[3], fields[9]
            if local_port == port and state == "01":  # 01: ESTABLISHED
                inodes.add(inode)
    return inodes


def connections_per_worker(server: Server) -> list[int]:
    """Accepted connections each worker holds, from its socket fds and the TCP table."""
    port = int(server.url.rsplit(":", 1)[1])
    established = _established_inodes(port)
    return sorted(
        sum(link[len("socket:[") : -1] in established for link in _fd_links(pid))
        for pid in server.worker_pids()
    )


def _fd_links(pid: int) -> list[str]:
    links = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(FileNotFoundError):  # closed while we looked
            links.append(os.readlink(fd))
    return links


def wait_for_counts(server: Server, expected: list[int]) -> list[int]:
    deadline = time.monotonic() + 10
    while (counts := connections_per_worker(server)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return counts


def open_connections(server: Server, count: int, first_bytes: bytes = b"") -> list[socket.socket]:
    """`count` connections opened back to back, each sending `first_bytes` at once."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    connections = []
    for _ in range(count):
        connection = socket.create_connection((host, int(port)), timeout=10)
        connection.sendall(first_bytes)
        connections.append(connection)
    return connections


def answers_200(connection: socket.socket, rest_of_request: bytes) -> bool:
    connection.sendall(rest_of_request)
    answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    return True


def assert_a_burst_is_split_evenly(server: Server, image: bytes) -> None:
    """2 x THREADS connections opened at once end up THREADS per worker, and stay there."""
    head, tail = HELD, chunked_end(image)
    connections = open_connections(server, 2 * THREADS, head)
    try:
        assert wait_for_counts(server, [THREADS, THREADS]) == [THREADS, THREADS]
        assert all(answers_200(c, tail) for c in connections)
        # Kept alive, each connection stays with its worker.
        assert connections_per_worker(server) == [THREADS, THREADS]
    finally:
        for connection in connections:
            connection.close()


def test_a_burst_of_connections_is_split_evenly(
    two_worker_server: Server, digit_images: dict[str, bytes]
) -> None:
    assert_a_burst_is_split_evenly(two_worker_server, digit_images["1"])


def test_silent_connections_do_not_stop_the_workers_accepting(two_worker_server: Server) -> None:
    silent = open_connections(two_worker_server, 2 * THREADS)
    try:
        began = time.monotonic()
        [late] = open_connections(two_worker_server, 1)
        with late:
            assert answers_200(late, LIVE)
        # It waited for the silent ones to stop counting as fresh, not for them to close.
        assert time.monotonic() - began < FRESH_CONNECTION_SECONDS + 3
    finally:
        for connection in silent:
            connection.close()


def assert_each_worker_has_its_own_cpu(server: Server) -> None:
    cpus = worker_cpus(2)
    placed = sorted(sorted(os.sched_getaffinity(pid)) for pid in server.worker_pids())
    if cpus is None:  # this machine does not have exactly one CPU per worker
        assert placed == [sorted(os.sched_getaffinity(0))] * 2
    else:
        assert placed == [[cpu] for cpu in cpus]


def test_each_worker_is_pinned_to_its_own_cpu(two_worker_server: Server) -> None:
    assert_each_worker_has_its_own_cpu(two_worker_server)


def test_a_replacement_worker_takes_no_request_before_its_model_is_ready(
    two_worker_server: Server, digit_images: dict[str, bytes]
) -> None:
    survivor, victim = two_worker_server.worker_pids()
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + READY_TIMEOUT
    # Reaped: its model_info series is gone (child_exit) before a replacement is started.
    while victim in two_worker_server.worker_pids():
        assert time.monotonic() < deadline, "the killed worker was not reaped"
        time.sleep(0.05)
    statuses: list[int] = []
    # Requests on new connections for as long as the replacement is loading its model (at
    # least 20), so that it would get about half of them if it accepted before being ready.
    while len(statuses) < 20 or workers_with_a_model(two_worker_server) < 2:
        assert time.monotonic() < deadline, f"no ready replacement:\n{two_worker_server.tail()}"
        response = two_worker_server.post(
            "/predict",
            data=digit_images["3"],
            headers={"Content-Type": "image/png", "Connection": "close"},
        )
        statuses.append(response.status_code)
    assert set(statuses) == {200}, statuses
    replacement = next(pid for pid in two_worker_server.worker_pids() if pid != survivor)
    assert replacement != victim
    assert_each_worker_has_its_own_cpu(two_worker_server)  # it took the dead worker's CPU
    # Once ready, the replacement takes its share again.
    assert_a_burst_is_split_evenly(two_worker_server, digit_images["3"])


def test_after_a_reload_the_new_workers_each_have_their_own_cpu(two_worker_server: Server) -> None:
    old = set(two_worker_server.worker_pids())
    # SIGHUP: gunicorn starts a new generation of workers, then stops the old one.
    os.kill(two_worker_server.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        workers = set(two_worker_server.worker_pids())
        if len(workers) == 2 and not workers & old:
            break
        time.sleep(0.2)
    assert len(workers) == 2 and not workers & old, (old, workers)
    assert_each_worker_has_its_own_cpu(two_worker_server)
    two_worker_server.wait_until("/v2/health/ready", 200, READY_TIMEOUT)
