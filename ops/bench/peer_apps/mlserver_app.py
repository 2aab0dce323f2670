"""MLServer peer: writes settings.json and model-settings.json, then runs `mlserver start`.

`WORKERS` inference workers (parallel_workers), adaptive batching at the service's limits;
POST /v2/models/image-classifier/infer with a BYTES input of base64 content type.
"""

import json
import os
import socket
import sys
import tempfile
from pathlib import Path

from tf_model import BATCH_MAX_SIZE, BATCH_TIMEOUT_S, HOST, MODEL_NAME, PORT, WORKERS


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


if __name__ == "__main__":
    folder = Path(tempfile.mkdtemp(prefix="mlserver-"))
    settings = {
        "host": HOST,
        "http_port": PORT,
        # MLServer always serves gRPC and metrics too: free loopback ports for them.
        "grpc_port": _free_port(),
        "metrics_port": _free_port(),
        "parallel_workers": WORKERS,
    }
    model_settings = {
        "name": MODEL_NAME,
        "implementation": "mlserver_runtime.ImageClassifier",
        "max_batch_size": BATCH_MAX_SIZE,
        "max_batch_time": BATCH_TIMEOUT_S,
    }
    (folder / "settings.json").write_text(json.dumps(settings))
    (folder / "model-settings.json").write_text(json.dumps(model_settings))
    command = str(Path(sys.executable).with_name("mlserver"))  # the venv's console script
    os.execv(command, [command, "start", str(folder)])
