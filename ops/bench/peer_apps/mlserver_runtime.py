"""MLServer peer's custom runtime: an `MLModel` over the SavedModel, one per inference worker."""

from mlserver import MLModel
from mlserver.codecs import Base64Codec, NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse
from tf_model import Classifier


class ImageClassifier(MLModel):
    """BYTES input `images` (base64 content type) -> FP32 output `probabilities` [N, classes]."""

    async def load(self) -> bool:
        self._classifier = Classifier()
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        images = self.decode(payload.inputs[0], default_codec=Base64Codec)
        probabilities = self._classifier(images)
        return InferenceResponse(
            model_name=self.name,
            outputs=[NumpyCodec.encode_output("probabilities", probabilities)],
        )
