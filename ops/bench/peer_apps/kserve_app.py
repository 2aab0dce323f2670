"""KServe peer: a custom `kserve.Model` under `kserve.ModelServer` with `WORKERS` processes
(`--http_port` is read by kserve.model_server itself).

POST /v1/models/image-classifier:predict {"instances": [{"b64": "<base64 JPEG>"}]}
-> {"predictions": [[probabilities]]}. KServe's Python server has no batching of its own.
"""

from typing import Any

import kserve
import uvicorn
from tf_model import HOST, MODEL_NAME, WORKERS, Classifier, from_b64

# KServe hard-codes host 0.0.0.0 for its REST server; the bench serves on loopback only.
_uvicorn_config = uvicorn.Config.__init__


def _on_loopback(self: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
    _uvicorn_config(self, *args, **{**kwargs, "host": HOST})


uvicorn.Config.__init__ = _on_loopback  # type: ignore[method-assign]


class ImageClassifier(kserve.Model):
    """The TF model is built on first use in each worker: KServe spawns its workers and
    pickles the registered model into them, and a loaded TF model does not pickle."""

    def __init__(self) -> None:
        super().__init__(MODEL_NAME)
        self._classifier: Classifier | None = None

    def load(self) -> bool:
        self.ready = True
        return self.ready

    def predict(self, payload: dict, headers: dict[str, str] | None = None) -> dict:
        if self._classifier is None:
            self._classifier = Classifier()
        images = [from_b64(instance["b64"]) for instance in payload["instances"]]
        return {"predictions": self._classifier(images).tolist()}


if __name__ == "__main__":
    model = ImageClassifier()
    model.load()
    kserve.ModelServer(workers=WORKERS, enable_grpc=False).start([model])
