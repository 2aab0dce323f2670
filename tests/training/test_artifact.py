"""The `local` model artifact as its consumers see it: files, signatures, accuracy, LiteRT sizes."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from envconfig import REPO_ROOT
from modelartifact import SIGNATURE_FILE, LiteRTVariant, sha256_file
from modelartifact.openvino import STATIC_BATCH_SIZES, OpenVINOInt8Model, batch_plan, float_input
from modelartifact.quantization import dequantize, quantize
from training.benchmark import benchmark
from training.litert import LiteRTClassifier

pytestmark = pytest.mark.training

SAVED_MODEL_CLI = Path(sys.executable).parent / "saved_model_cli"

# Runs in a fresh interpreter: only TensorFlow and the artifact, nothing of this repo.
CLASSIFY = """
import json, sys
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
batches = json.load(sys.stdin)
print(json.dumps({
    name: [int(i) for i in tf.argmax(
        serve(images=tf.constant([open(p, "rb").read() for p in paths]))["probabilities"], axis=1)]
    for name, paths in batches.items()
}))
"""

# In a fresh interpreter too: the bfloat16 switch would hold for every later test of this one.
BF16_ACCURACY = """
import sys
import numpy as np
import tensorflow as tf
from modelartifact.precision import set_onednn_bfloat16
set_onednn_bfloat16(True)
serve = tf.saved_model.load(sys.argv[1]).signatures["serve_tensor"]
images, labels = np.load(sys.argv[2]), np.load(sys.argv[3])
probabilities = serve(inputs=tf.constant(images))["probabilities"].numpy()
print(float(np.mean(probabilities.argmax(1) == labels)))
"""


@pytest.fixture(scope="module")
def metadata(local_model: Path) -> dict:
    """The local model's metadata.json."""
    return json.loads((local_model / "metadata.json").read_text())


@pytest.fixture(scope="module")
def held_out(local_model: Path, metadata: dict) -> tuple[list[Path], np.ndarray]:
    """The test split's image files and their class indices, as recorded in split.json."""
    names = json.loads((local_model / "split.json").read_text())["test"]
    root = Path(metadata["dataset"]["root"])
    labels = np.array([metadata["classes"].index(Path(name).parent.name) for name in names])
    return [root / name for name in names], labels


def test_metadata_follows_the_artifact_contract(local_model: Path, metadata: dict) -> None:
    assert metadata["name"] == "image-classifier"
    assert metadata["version"] == int(local_model.name)
    assert (
        local_model.parent.name == "image-classifier" and local_model.parent.parent.name == "local"
    )
    assert metadata["classes"] == [str(digit) for digit in range(10)]
    assert metadata["input"] | {"preprocessing": None} == {
        "height": 32,
        "width": 32,
        "channels": 3,
        "preprocessing": None,
    }
    assert metadata["signatures"]["serving_default"]["inputs"] == {
        "images": {"dtype": "string", "shape": [None]}
    }
    assert metadata["signatures"]["serve_tensor"]["outputs"] == {
        "probabilities": {"dtype": "float32", "shape": [None, 10]}
    }
    assert metadata["litert"]["int8"]["file"] == "model_int8.tflite"
    assert metadata["litert"]["float16"]["file"] == "model_float16.tflite"


def test_every_file_is_listed_with_its_sha256(local_model: Path, metadata: dict) -> None:
    on_disk = {
        path.relative_to(local_model).as_posix(): sha256_file(path)
        for path in local_model.rglob("*")
        if path.is_file() and path.name not in ("metadata.json", SIGNATURE_FILE)
    }
    assert metadata["files"] == on_disk
    assert (local_model / SIGNATURE_FILE).is_file()  # the signature covers metadata.json
    for expected in (
        "saved_model.pb",
        "model_int8.tflite",
        "model_float16.tflite",
        "eval/confusion_matrix.png",
        "eval/training_curves.png",
        "split.json",
    ):
        assert expected in on_disk
    for plot in ("eval/confusion_matrix.png", "eval/training_curves.png"):
        assert (local_model / plot).read_bytes().startswith(b"\x89PNG")


def test_test_accuracy_is_at_least_95_percent(metadata: dict) -> None:
    assert metadata["metrics"]["test_accuracy"] >= 0.95
    per_class = metadata["metrics"]["per_class"]
    assert sorted(per_class) == metadata["classes"]
    assert (
        sum(entry["support"] for entry in per_class.values())
        == metadata["dataset"]["split"]["test"]
    )


def test_training_facts_are_recorded(metadata: dict) -> None:
    dataset, training = metadata["dataset"], metadata["training"]
    assert len(dataset["sha256"]) == 64
    assert sum(dataset["split"].values()) == 1797
    assert training["config"]["imageSize"] == 32 and training["config"]["seed"] == 42
    assert training["tensorflow"] == tf.__version__
    assert len(training["git_sha"]) == 40
    assert training["seconds"] > 0
    assert len(training["history"]["loss"]) == training["config"]["epochs"]


def test_saved_model_cli_lists_the_bytes_signature(local_model: Path) -> None:
    shown = subprocess.run(
        [SAVED_MODEL_CLI, "show", "--dir", local_model, "--all"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    serving_default = shown.split("signature_def['serving_default']:")[1].split("signature_def[")[0]
    assert (
        "inputs['images'] tensor_info:\n        dtype: DT_STRING\n        shape: (-1)"
        in serving_default
    )
    assert (
        "outputs['probabilities'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (-1, 10)"
        in serving_default
    )


def test_fresh_process_classifies_png_and_jpeg_bytes(
    local_model: Path, held_out: tuple[list[Path], np.ndarray], tmp_path: Path
) -> None:
    files, labels = held_out
    jpegs = []
    for index, path in enumerate(files):
        buffer = io.BytesIO()
        Image.open(path).convert("RGB").save(buffer, format="JPEG", quality=95)
        jpegs.append(tmp_path / f"{index}.jpg")
        jpegs[-1].write_bytes(buffer.getvalue())
    batches = {"png": [str(p) for p in files], "jpeg": [str(p) for p in jpegs]}
    result = subprocess.run(
        [sys.executable, "-c", CLASSIFY, str(local_model)],
        input=json.dumps(batches),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    predictions = json.loads(result.stdout.strip().splitlines()[-1])
    for name in ("png", "jpeg"):
        assert np.mean(np.array(predictions[name]) == labels) >= 0.95, name


def preprocessed(files: list[Path], size: int) -> np.ndarray:
    """Decode → RGB → resize bilinear → /255 with Pillow, the way a TF-free client does."""
    return np.stack(
        [
            np.asarray(
                Image.open(p).convert("RGB").resize((size, size), Image.Resampling.BILINEAR),
                dtype=np.float32,
            )
            / 255.0
            for p in files
        ]
    )


def float32_weight_bytes(version_dir: Path) -> int:
    """Bytes of the float32 weights as stored in the SavedModel's checkpoint."""
    reader = tf.train.load_checkpoint(str(version_dir / "variables" / "variables"))
    shapes = reader.get_variable_to_shape_map()
    return sum(
        4 * int(np.prod(shape)) for key, shape in shapes.items() if key.startswith("weights/")
    )


@pytest.mark.parametrize("variant", ["int8", "float16", "pruned"])
def test_litert_variant_matches_float_accuracy(
    local_model: Path, metadata: dict, held_out: tuple[list[Path], np.ndarray], variant: str
) -> None:
    entry, float_accuracy = metadata["litert"][variant], metadata["metrics"]["test_accuracy"]
    files, labels = held_out
    model = LiteRTClassifier(local_model / entry["file"])
    measured = float(np.mean(np.argmax(model.predict(preprocessed(files, 32)), axis=1) == labels))
    assert measured == pytest.approx(entry["accuracy"], abs=0.005)
    assert abs(entry["accuracy"] - float_accuracy) <= 0.01
    assert abs(measured - float_accuracy) <= 0.01


def test_bf16_accuracy_is_recorded_beside_the_float_one(
    local_model: Path, metadata: dict, held_out: tuple[list[Path], np.ndarray], tmp_path: Path
) -> None:
    files, labels = held_out
    np.save(tmp_path / "images.npy", preprocessed(files, 32))
    np.save(tmp_path / "labels.npy", labels)
    arguments = [str(local_model), str(tmp_path / "images.npy"), str(tmp_path / "labels.npy")]
    result = subprocess.run(
        [sys.executable, "-c", BF16_ACCURACY, *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    measured = float(result.stdout.strip().splitlines()[-1])
    saved_model = metadata["saved_model"]
    assert measured == pytest.approx(saved_model["bf16_accuracy"], abs=0.005)
    assert saved_model["accuracy"] - saved_model["bf16_accuracy"] <= 0.005


def test_int8_is_full_integer_and_at_least_3x_smaller(local_model: Path, metadata: dict) -> None:
    entry = metadata["litert"]["int8"]
    assert entry["input"]["dtype"] == entry["output"]["dtype"] == "int8"
    size = (local_model / entry["file"]).stat().st_size
    assert size == entry["bytes"]
    assert float32_weight_bytes(local_model) == metadata["saved_model"]["float32_weights_bytes"]
    assert float32_weight_bytes(local_model) / size >= 3


def test_openvino_runs_the_int8_file_as_accurately_as_litert(
    local_model: Path, metadata: dict, held_out: tuple[list[Path], np.ndarray]
) -> None:
    entry = metadata["litert"]["int8"]
    # Training's measurement, repeated: the same file, quantization and test split.
    classifier = LiteRTClassifier(local_model / entry["file"])
    tensors = LiteRTVariant.model_validate(entry)
    openvino = OpenVINOInt8Model(
        local_model / entry["file"], tensors.output.quantization(), threads=1
    )
    files, labels = held_out
    images = preprocessed(files, 32)
    probabilities = openvino.predict(images)
    np.testing.assert_allclose(probabilities, classifier.predict(images), rtol=0, atol=1e-6)
    measured = float(np.mean(probabilities.argmax(1) == labels))
    assert entry["openvino_accuracy"] == pytest.approx(measured, abs=1e-9)
    assert measured == pytest.approx(entry["accuracy"], abs=1e-9)


def test_openvino_rounds_in_its_graph_exactly_as_quantize_does(
    local_model: Path, metadata: dict
) -> None:
    import openvino as ov

    entry = metadata["litert"]["int8"]
    tensors = LiteRTVariant.model_validate(entry)
    source, target = tensors.input.quantization(), tensors.output.quantization()
    path = local_model / entry["file"]
    in_graph = OpenVINOInt8Model(path, target, threads=1)
    # The file's own int8 graph, with the numpy quantization in front.
    plain = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_NUM_THREADS": 1})
    shape = (3, metadata["input"]["height"], metadata["input"]["width"], 3)
    rng = np.random.default_rng(11)
    # Images, and values far outside [0, 1] that clip. Not exact half steps between levels:
    # OpenVINO rounds those up, numpy to even (see float_input).
    for images in (
        rng.random(shape, dtype=np.float32),
        rng.normal(0.5, 2.0, size=shape).astype(np.float32),
    ):
        quantized = quantize(images, source.scale, source.zero_point, np.int8)
        raw = plain.create_infer_request().infer([quantized])[0]
        expected = dequantize(raw, target.scale, target.zero_point)
        np.testing.assert_array_equal(in_graph.predict(images), expected)


def test_openvino_answers_any_batch_size_as_one_call_of_the_dynamic_model_does(
    local_model: Path, metadata: dict
) -> None:
    import openvino as ov

    entry = metadata["litert"]["int8"]
    target = LiteRTVariant.model_validate(entry).output.quantization()
    path = local_model / entry["file"]
    chunked = OpenVINOInt8Model(path, target, threads=1)
    core = ov.Core()
    dynamic = core.compile_model(
        float_input(core.read_model(str(path))), "CPU"
    ).create_infer_request()
    largest = STATIC_BATCH_SIZES[0]
    shape = (2 * largest + largest - 1, metadata["input"]["height"], metadata["input"]["width"], 3)
    images = np.random.default_rng(5).random(shape, dtype=np.float32)
    for size in range(1, len(images) + 1):
        plan = batch_plan(size)
        assert sum(plan) == size and max(plan) <= largest
        raw = dynamic.infer([images[:size]])[0]
        expected = dequantize(raw, target.scale, target.zero_point)
        np.testing.assert_array_equal(chunked.predict(images[:size]), expected, err_msg=f"{size=}")


def test_pruned_variant_is_sparse(metadata: dict) -> None:
    pruned = metadata["litert"]["pruned"]
    assert pruned["sparsity"] == pytest.approx(0.5, abs=0.01)
    assert pruned["gzip_bytes"] < 0.7 * pruned["bytes"]


def test_benchmark_reports_every_variant(local_model: Path) -> None:
    report = benchmark(local_model, min_seconds=0.2)
    rows = [line.split("|")[1:-1] for line in report.splitlines() if line.startswith("| ")]
    assert [row[0].strip() for row in rows[1:]] == [
        "SavedModel (float32)",
        "LiteRT float16",
        "LiteRT int8",
        "LiteRT pruned",
    ]
    for row in rows[1:]:
        assert float(row[1]) >= 0.95 and float(row[3]) > 0
