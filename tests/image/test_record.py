"""The image record's one schema: what imagebuild writes is exactly what infra/ reads back."""

import json
from pathlib import Path

import pytest

from imagebuild.push import PushError, push_image
from imagebuild.record import RecordError, load_record
from tests.fixtures.image_record import sample_image, write_image_record

pytestmark = pytest.mark.unit


def test_written_record_reads_back_with_typed_fields(tmp_path: Path) -> None:
    record = load_record(write_image_record(tmp_path, model_version=12))
    assert record.image == sample_image(model_version=12)
    assert record.slim == sample_image(model_version=12, backend="litert")
    assert record.image.model_version == 12


@pytest.mark.parametrize(
    ("backend", "int8_accuracy", "served"),
    [
        ("", 0.97, "litert"),  # 0.2 point below float32's 0.972: as accurate, and faster
        ("", 0.967, "litert"),  # 0.5 point below: still within the tolerance
        ("", 0.96, "tensorflow"),  # 1.2 points below: not as accurate
        ("litert", 0.96, "litert"),
        ("openvino", 0.96, "litert"),  # the same int8 file as litert, in the slim image
        ("tensorflow", 0.97, "tensorflow"),
        ("tensorflow-bf16", 0.97, "tensorflow"),
    ],
)
def test_the_image_to_release_follows_the_backend_and_the_int8_accuracy(
    backend: str, int8_accuracy: float, served: str, tmp_path: Path
) -> None:
    record = load_record(write_image_record(tmp_path, int8_accuracy=int8_accuracy))
    assert record.serving(backend).backend == served


def test_an_unknown_backend_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    record = load_record(write_image_record(tmp_path))
    known = "'tensorflow', 'tensorflow-bf16', 'litert', 'openvino'"
    with pytest.raises(ValueError, match=f"unknown model backend 'onnx'; one of {known}"):
        record.serving("onnx")


def test_reference_must_be_repository_and_tag(tmp_path: Path) -> None:
    path = write_image_record(tmp_path)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "tag": "other"}))
    with pytest.raises(RecordError, match=r"(?s)image\.json: not a valid.*not repository:tag"):
        load_record(path)


def test_missing_record_names_its_path(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="no image record at .*nowhere.json"):
        load_record(tmp_path / "nowhere.json")


def test_a_failed_push_says_what_skopeo_said_and_never_the_credentials(tmp_path: Path) -> None:
    image = sample_image().model_copy(update={"archive": str(tmp_path / "missing.oci.tar")})
    with pytest.raises(PushError) as failure:
        push_image(image, "127.0.0.1:1", insecure=True, credentials="pusher:s3cret-pass")
    message = str(failure.value)
    assert message.startswith("`skopeo copy` failed with exit 1:")
    assert "missing.oci.tar" in message  # skopeo's own words name the archive it could not read
    assert "s3cret-pass" not in message
