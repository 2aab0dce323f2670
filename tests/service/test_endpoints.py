"""Every endpoint: TF-Serving REST, v2, /predict, health, metrics, in-process; the official
Triton client and the access log over real HTTP under gunicorn."""

import base64
import io
import json
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import requests
import tritonclient.http as triton
from flask.testing import FlaskClient

from ops.bench.server import Server
from service.imaging import preprocess
from service.settings import Backend, Settings
from tests.service.conftest import PNG, Reference, ready_app

pytestmark = [pytest.mark.service, pytest.mark.realtime]
MODEL = "image-classifier"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_health_probes_answer(client: FlaskClient) -> None:
    assert client.get("/v2/health/live").get_json() == {"live": True}
    ready = client.get("/v2/health/ready")
    assert ready.status_code == 200 and ready.get_json()["ready"] is True


def test_tfserving_model_status(client: FlaskClient, local_model: Path) -> None:
    for path in (f"/v1/models/{MODEL}", f"/v1/models/{MODEL}/versions/{local_model.name}"):
        assert client.get(path).get_json() == {
            "model_version_status": [
                {
                    "version": local_model.name,
                    "state": "AVAILABLE",
                    "status": {"error_code": "OK", "error_message": ""},
                }
            ]
        }


def test_tfserving_metadata_describes_both_signatures(
    client: FlaskClient, local_model: Path
) -> None:
    body = client.get(f"/v1/models/{MODEL}/metadata").get_json()
    assert body["model_spec"] == {"name": MODEL, "signature_name": "", "version": local_model.name}
    signatures = body["metadata"]["signature_def"]["signature_def"]
    assert signatures["serving_default"]["inputs"]["images"]["dtype"] == "DT_STRING"
    dims = signatures["serve_tensor"]["inputs"]["inputs"]["tensor_shape"]["dim"]
    assert [d["size"] for d in dims] == ["-1", "32", "32", "3"]
    assert client.get(f"/v1/models/{MODEL}/versions/{local_model.name}/metadata").get_json() == body


def test_tfserving_predict_row_format_matches_the_saved_model(
    client: FlaskClient, digit_images: dict[str, bytes], reference: Reference
) -> None:
    images = list(digit_images.values())
    response = client.post(
        f"/v1/models/{MODEL}:predict", json={"instances": [{"b64": b64(i)} for i in images]}
    )
    assert response.status_code == 200, response.text
    predictions = np.array(response.get_json()["predictions"])
    np.testing.assert_allclose(predictions, reference.images(images), atol=1e-5)
    assert (predictions.argmax(1) == np.arange(10)).sum() >= 8


def test_tfserving_predict_columnar_named_input_and_version(
    client: FlaskClient, local_model: Path, digit_images: dict[str, bytes], reference: Reference
) -> None:
    image = digit_images["3"]
    response = client.post(
        f"/v1/models/{MODEL}/versions/{local_model.name}:predict",
        json={"signature_name": "serving_default", "inputs": {"images": [{"b64": b64(image)}]}},
    )
    assert response.status_code == 200, response.text
    np.testing.assert_allclose(response.get_json()["outputs"], reference.images([image]), atol=1e-5)


def test_tfserving_predict_serve_tensor_with_float_lists(
    client: FlaskClient, digit_images: dict[str, bytes], reference: Reference
) -> None:
    rows = np.stack([preprocess(digit_images[d], 32, 32) for d in ("1", "2")])
    response = client.post(
        f"/v1/models/{MODEL}:predict",
        json={"signature_name": "serve_tensor", "instances": rows.tolist()},
    )
    assert response.status_code == 200, response.text
    np.testing.assert_allclose(
        response.get_json()["predictions"], reference.tensor(rows), atol=1e-5
    )


def test_v2_server_and_model_metadata(client: FlaskClient, local_model: Path) -> None:
    server = client.get("/v2").get_json()
    assert server["name"] and "binary_tensor_data" in server["extensions"]
    model = client.get(f"/v2/models/{MODEL}").get_json()
    assert model["name"] == MODEL and model["versions"] == [local_model.name]
    assert {"name": "images", "datatype": "BYTES", "shape": [-1]} in model["inputs"]
    assert model["outputs"] == [{"name": "probabilities", "datatype": "FP32", "shape": [-1, 10]}]
    assert client.get(f"/v2/models/{MODEL}/versions/{local_model.name}").get_json() == model
    ready = client.get(f"/v2/models/{MODEL}/versions/{local_model.name}/ready")
    assert ready.status_code == 200 and ready.get_json()["ready"] is True


def test_v2_infer_json_bytes_and_fp32(
    client: FlaskClient, digit_images: dict[str, bytes], reference: Reference
) -> None:
    image = digit_images["5"]
    by_bytes = client.post(
        f"/v2/models/{MODEL}/infer",
        json={
            "id": "req-1",
            "inputs": [{"name": "images", "datatype": "BYTES", "shape": [1], "data": [b64(image)]}],
        },
    )
    assert by_bytes.status_code == 200, by_bytes.text
    body = by_bytes.get_json()
    assert body["id"] == "req-1" and body["model_name"] == MODEL
    output = body["outputs"][0]
    assert output["name"] == "probabilities" and output["shape"] == [1, 10]
    np.testing.assert_allclose(output["data"], reference.images([image])[0], atol=1e-5)
    rows = preprocess(image, 32, 32)[None]
    by_fp32 = client.post(
        f"/v2/models/{MODEL}/infer",
        json={
            "inputs": [
                {
                    "name": "inputs",
                    "datatype": "FP32",
                    "shape": [1, 32, 32, 3],
                    "data": rows.ravel().tolist(),
                }
            ]
        },
    )
    assert by_fp32.status_code == 200, by_fp32.text
    np.testing.assert_allclose(by_fp32.get_json()["outputs"][0]["data"], output["data"], atol=1e-5)


@pytest.mark.parametrize("binary_output", [True, False])
def test_tritonclient_http_infers_unchanged(
    tf_server: Server,
    local_model: Path,
    digit_images: dict[str, bytes],
    reference: Reference,
    binary_output: bool,
) -> None:
    client = triton.InferenceServerClient(tf_server.url.removeprefix("http://"))
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready(MODEL) and client.is_model_ready(MODEL, local_model.name)
    assert client.get_model_metadata(MODEL)["versions"] == [local_model.name]
    images = [digit_images[d] for d in ("0", "4", "9")]
    encoded = triton.InferInput("images", [3], "BYTES")
    encoded.set_data_from_numpy(np.array(images, dtype=np.object_), binary_data=True)
    output = triton.InferRequestedOutput("probabilities", binary_data=binary_output)
    result = client.infer(MODEL, [encoded], outputs=[output], model_version=local_model.name)
    np.testing.assert_allclose(
        result.as_numpy("probabilities"), reference.images(images), atol=1e-5
    )
    rows = np.stack([preprocess(i, 32, 32) for i in images])
    tensor = triton.InferInput("inputs", list(rows.shape), "FP32")
    tensor.set_data_from_numpy(rows, binary_data=True)
    result = client.infer(MODEL, [tensor])
    np.testing.assert_allclose(result.as_numpy("probabilities"), reference.tensor(rows), atol=1e-5)


def test_predict_raw_and_multipart_give_top_k(
    client: FlaskClient, digit_images: dict[str, bytes], digit_jpeg: bytes
) -> None:
    raw = client.post(
        "/predict?top_k=3", data=digit_images["2"], headers={"Content-Type": "image/png"}
    )
    assert raw.status_code == 200, raw.text
    predictions = raw.get_json()["predictions"]
    assert len(predictions) == 3 and predictions[0]["label"] == "2"
    assert (
        predictions[0]["probability"]
        >= predictions[1]["probability"]
        >= predictions[2]["probability"]
    )
    upload = client.post(
        "/predict",
        data={"image": (io.BytesIO(digit_jpeg), "seven.jpg", "image/jpeg")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 200, upload.text
    assert (
        len(upload.get_json()["predictions"]) == 5
        and upload.get_json()["predictions"][0]["label"] == "7"
    )


def test_predict_takes_raw_bytes_declared_as_bytes_or_undeclared(
    tf_server: Server, digit_images: dict[str, bytes]
) -> None:
    url = tf_server.url + "/predict"
    declared = requests.post(url, data=digit_images["2"], headers=PNG, timeout=30)
    assert declared.status_code == 200, declared.text
    # What standard clients send by default: requests names no type; urllib (and curl
    # --data-binary) say form-urlencoded.
    with urllib.request.urlopen(url, data=digit_images["2"], timeout=30) as answer:
        assert json.load(answer) == declared.json()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for headers in ({"Content-Type": "application/octet-stream"}, form, {}):
        answer = requests.post(url, data=digit_images["2"], headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json() == declared.json()
    # Only the decoders decide what an image is: other bytes stay a JSON 400.
    text = requests.post(url, data=b"GIF89a" + b"\0" * 64, timeout=30)
    assert text.status_code == 400 and "JPEG or PNG" in text.json()["error"]


def test_litert_backend_agrees_with_the_float_model(
    model_base: Path, digit_images: dict[str, bytes], reference: Reference
) -> None:
    litert = ready_app(Settings(model_base_path=model_base, model_backend=Backend.LITERT))
    client = litert.test_client()
    images = list(digit_images.values())
    response = client.post(
        f"/v1/models/{MODEL}:predict", json={"instances": [{"b64": b64(i)} for i in images]}
    )
    assert response.status_code == 200, response.text
    predictions = np.array(response.get_json()["predictions"])
    expected = reference.images(images)
    np.testing.assert_allclose(predictions, expected, atol=0.08)
    assert (predictions.argmax(1) == expected.argmax(1)).mean() >= 0.9
    platform = client.get(f"/v2/models/{MODEL}").get_json()["platform"]
    assert platform == "tensorflow_lite"


def test_request_id_is_echoed_or_generated_and_logged(tf_server: Server) -> None:
    given = tf_server.get("/v2/health/live", headers={"X-Request-ID": "trace-42"})
    assert given.headers["X-Request-ID"] == "trace-42"
    generated = tf_server.get("/v2/health/live").headers["X-Request-ID"]
    assert len(generated) == 32
    logged = [
        json.loads(line) for line in tf_server.log.read_text().splitlines() if line.startswith("{")
    ]
    assert any(e.get("request_id") == "trace-42" and e.get("status") == 200 for e in logged)


def test_metrics_expose_requests_latency_batches_and_model(
    client: FlaskClient, local_model: Path
) -> None:
    client.get(f"/v1/models/{MODEL}")
    text = client.get("/metrics").text
    assert (
        'inference_requests_total{endpoint="/v1/models/<segment:name>",model="image-classifier",'
        f'status="200",version="{local_model.name}"}}'
    ) in text
    for name in (
        "inference_request_duration_seconds_bucket",
        "inference_queue_duration_seconds_count",
        "inference_model_duration_seconds_count",
        "inference_batch_size_bucket",
        "inference_requests_in_flight",
        "inference_model_ready 1.0",
    ):
        assert name in text
    assert 'inference_model_info{backend="tensorflow",model="image-classifier"' in text


def test_openapi_document_lists_every_route(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in (
        "/v1/models/{name}:predict",
        "/v1/models/{name}/versions/{version}/metadata",
        "/v2/models/{name}/versions/{version}/infer",
        "/v2/health/ready",
        "/predict",
        "/metrics",
    ):
        assert path in paths
