"""BentoML peer: a service of `WORKERS` workers whose API uses BentoML's adaptive batching.

`bentoml serve bentoml_app:ImageClassifier`; POST /classify {"images": ["<base64 JPEG>"]}
-> [[probabilities]]. Batchable: BentoML merges concurrent requests' lists along dimension 0.
"""

import bentoml
from tf_model import BATCH_MAX_SIZE, WORKERS, Classifier, from_b64


@bentoml.service(workers=WORKERS)
class ImageClassifier:
    """One Classifier per worker process."""

    def __init__(self) -> None:
        self.model = Classifier()

    @bentoml.api(batchable=True, max_batch_size=BATCH_MAX_SIZE)
    def classify(self, images: list[str]) -> list[list[float]]:
        return self.model([from_b64(image) for image in images]).tolist()
