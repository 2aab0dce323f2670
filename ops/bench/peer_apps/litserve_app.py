"""LitServe peer: a LitAPI with LitServe's own batching, `WORKERS` workers on the CPU.

POST /predict {"image": "<base64 JPEG>"} -> {"probabilities": [...]}.
"""

import litserve as ls
import numpy as np
from tf_model import (
    BATCH_MAX_SIZE,
    BATCH_TIMEOUT_S,
    HOST,
    PORT,
    WORKERS,
    Classifier,
    from_b64,
)


class ClassifierAPI(ls.LitAPI):
    """decode -> batch -> predict -> unbatch -> encode, as LitServe's batching docs lay it out."""

    def setup(self, device: str) -> None:
        self.model = Classifier()

    def decode_request(self, request: dict) -> bytes:
        return from_b64(request["image"])

    def batch(self, inputs: list[bytes]) -> list[bytes]:
        return inputs

    def predict(self, images: list[bytes]) -> np.ndarray:
        return self.model(images)

    def unbatch(self, output: np.ndarray) -> list[np.ndarray]:
        return list(output)

    def encode_response(self, output: np.ndarray) -> dict:
        return {"probabilities": output.tolist()}


if __name__ == "__main__":
    api = ClassifierAPI(max_batch_size=BATCH_MAX_SIZE, batch_timeout=BATCH_TIMEOUT_S)
    server = ls.LitServer(api, accelerator="cpu", workers_per_device=WORKERS)
    server.run(host=HOST, port=PORT, generate_client_file=False)
