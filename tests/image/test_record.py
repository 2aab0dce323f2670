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
