"""The model's two signatures (names, dtypes, shapes) as TF-Serving and v2 describe them."""

from typing import Any

from service.model_store import ModelArtifact

SERVING_DEFAULT = "serving_default"
SERVE_TENSOR = "serve_tensor"
IMAGES = "images"
TENSOR = "inputs"
OUTPUT = "probabilities"
INPUT_OF = {SERVING_DEFAULT: IMAGES, SERVE_TENSOR: TENSOR}


def _tensor_info(name: str, dtype: str, shape: list[int]) -> dict[str, Any]:
    return {
        "dtype": dtype,
        "tensor_shape": {
            "dim": [{"size": str(size), "name": ""} for size in shape],
            "unknown_rank": False,
        },
        "name": name,
    }


def signature_defs(artifact: ModelArtifact) -> dict[str, Any]:
    """TF-Serving `signature_def` map for GetModelMetadata."""
    output = {OUTPUT: _tensor_info(f"{OUTPUT}:0", "DT_FLOAT", [-1, artifact.num_classes])}
    image_shape = [-1, artifact.height, artifact.width, 3]
    return {
        SERVING_DEFAULT: {
            "inputs": {IMAGES: _tensor_info(f"{SERVING_DEFAULT}_{IMAGES}:0", "DT_STRING", [-1])},
            "outputs": output,
            "method_name": "tensorflow/serving/predict",
        },
        SERVE_TENSOR: {
            "inputs": {TENSOR: _tensor_info(f"{SERVE_TENSOR}_{TENSOR}:0", "DT_FLOAT", image_shape)},
            "outputs": output,
            "method_name": "tensorflow/serving/predict",
        },
    }


def v2_tensors(artifact: ModelArtifact) -> dict[str, list[dict[str, Any]]]:
    """Open Inference Protocol model metadata inputs/outputs; a request sends one of the inputs."""
    return {
        "inputs": [
            {"name": IMAGES, "datatype": "BYTES", "shape": [-1]},
            {"name": TENSOR, "datatype": "FP32", "shape": [-1, artifact.height, artifact.width, 3]},
        ],
        "outputs": [{"name": OUTPUT, "datatype": "FP32", "shape": [-1, artifact.num_classes]}],
    }
