"""METRICS_PORT: /metrics answers only there, and nothing else does."""

from pathlib import Path

import pytest
import requests

from ops.bench.server import free_port
from service.settings import Backend, Settings
from tests.service.conftest import ready_app, served

pytestmark = [pytest.mark.service, pytest.mark.realtime]
PORT, METRICS_PORT = 8080, 9090


@pytest.mark.parametrize(
    ("port", "path", "status"),
    [
        (METRICS_PORT, "/metrics", 200),
        (PORT, "/metrics", 404),
        (METRICS_PORT, "/v2/health/live", 404),
        (METRICS_PORT, "/v2", 404),
        (PORT, "/v2/health/live", 200),
    ],
)
def test_metrics_and_the_api_each_answer_on_their_own_port(
    model_base: Path, port: int, path: str, status: int
) -> None:
    app = ready_app(
        Settings(
            model_base_path=model_base, model_backend=Backend.LITERT, metrics_port=METRICS_PORT
        )
    )
    response = app.test_client().get(path, environ_overrides={"SERVER_PORT": str(port)})
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith(
        "text/plain" if status == 200 and path == "/metrics" else "application/json"
    )


def test_gunicorn_listens_on_both_ports(model_base: Path, tmp_path: Path) -> None:
    metrics_port = free_port()
    with served(
        model_base,
        tmp_path / "gunicorn.log",
        MODEL_BACKEND="litert",
        METRICS_PORT=str(metrics_port),
    ) as server:
        scrape = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
        assert scrape.status_code == 200 and "inference_requests_total" in scrape.text
        assert server.get("/metrics").status_code == 404
