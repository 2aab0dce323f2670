"""What the worst request each limit admits costs: CPU seconds and peak memory, one request.

`python -m ops.bench.limits [--env ENV]` runs each case in a fresh process (the app in-process, the
request through Flask's test client, so only the service's own work is measured) and prints
a table: the limit, the request, its status, CPU seconds and the growth of the peak RSS.
"""

import argparse
import base64
import io
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from service.settings import Backend, Settings
from training.ensure import MODELS_DIR, trained_or_exit

PREDICT = "/v1/models/image-classifier:predict"
INFER = "/v2/models/image-classifier/infer"
DEFAULTS = Settings()
LOAD_TIMEOUT_SECONDS = 120


def _png(pixels: int) -> bytes:
    side = int(pixels**0.5)
    out = io.BytesIO()
    Image.effect_noise((side, side), 64).convert("RGB").save(out, "PNG", compress_level=1)
    return out.getvalue()


def _flat_png(pixels: int) -> bytes:
    """A uniform PNG: tiny to send, as expensive to decode as any of its size."""
    side = int(pixels**0.5)
    out = io.BytesIO()
    Image.new("RGB", (side, side), "white").save(out, "PNG")
    return out.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _json_numbers(size: int) -> bytes:
    """A serve_tensor request of `size` bytes of short numbers: the most values per byte."""
    count = (size - 64) // 2
    return b'{"signature_name": "serve_tensor", "instances": [' + b"0," * (count - 1) + b"0]}"


# name -> (limit it probes, builder of test-client kwargs for path)
CASES: dict[str, tuple[str, Callable[[], tuple[str, dict[str, Any]]]]] = {
    "one-image-at-the-pixel-cap": (
        f"MAX_IMAGE_PIXELS={DEFAULTS.max_image_pixels}",
        lambda: (
            "/predict",
            {
                "data": _flat_png(DEFAULTS.max_image_pixels),
                "headers": {"Content-Type": "image/png"},
            },
        ),
    ),
    "images-up-to-the-request-budget": (
        f"MAX_REQUEST_PIXELS={DEFAULTS.max_request_pixels}",
        lambda: (
            PREDICT,
            {
                "json": {
                    "instances": [{"b64": _b64(_flat_png(DEFAULTS.max_image_pixels))}]
                    * (DEFAULTS.max_request_pixels // DEFAULTS.max_image_pixels)
                }
            },
        ),
    ),
    "64-noisy-images-in-the-json-cap": (
        f"64 images, MAX_JSON_BYTES={DEFAULTS.max_json_bytes}",
        lambda: (
            PREDICT,
            {"json": {"instances": [{"b64": _b64(_png(DEFAULTS.max_json_bytes // 64 // 4))}] * 64}},
        ),
    ),
    "json-cap-of-numbers": (
        f"MAX_JSON_BYTES={DEFAULTS.max_json_bytes}",
        lambda: (
            PREDICT,
            {
                "data": _json_numbers(DEFAULTS.max_json_bytes),
                "headers": {"Content-Type": "application/json"},
            },
        ),
    ),
    "json-cap-of-empty-objects": (
        f"MAX_JSON_BYTES={DEFAULTS.max_json_bytes}",
        lambda: (
            PREDICT,
            {
                "data": b'{"instances": ['
                + b"{}," * ((DEFAULTS.max_json_bytes - 64) // 3)
                + b"{}]}",
                "headers": {"Content-Type": "application/json"},
            },
        ),
    ),
    "binary-cap-of-fp32": (
        f"MAX_REQUEST_BYTES={DEFAULTS.max_request_bytes}",
        lambda: _binary_fp32(DEFAULTS.max_request_bytes),
    ),
    "binary-cap-of-noise-as-one-png": (
        f"MAX_REQUEST_BYTES={DEFAULTS.max_request_bytes}",
        lambda: (
            "/predict",
            {
                "data": _png(DEFAULTS.max_request_bytes // 3)[: DEFAULTS.max_request_bytes],
                "headers": {"Content-Type": "image/png"},
            },
        ),
    ),
}


def _binary_fp32(size: int) -> tuple[str, dict[str, Any]]:
    count = (size - 512) // (32 * 32 * 3 * 4)
    raw = b"\0" * (count * 32 * 32 * 3 * 4)
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "inputs",
                    "datatype": "FP32",
                    "shape": [count, 32, 32, 3],
                    "parameters": {"binary_data_size": len(raw)},
                }
            ]
        }
    ).encode()
    return INFER, {
        "data": header + raw,
        "headers": {"Inference-Header-Content-Length": str(len(header))},
    }


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(case: str, base: Path) -> dict[str, Any]:
    """Run one case in this process: app ready, one warm request, then the worst one."""
    from service.app import create_app, runtime_of

    app = create_app(Settings(model_base_path=base, model_backend=Backend.LITERT))
    runtime = runtime_of(app)
    runtime.start()
    if not runtime.wait_until_settled(LOAD_TIMEOUT_SECONDS):
        raise SystemExit(f"the model did not load within {LOAD_TIMEOUT_SECONDS} s")
    client = app.test_client()
    client.post("/predict", data=_png(1024), headers={"Content-Type": "image/png"})
    limit, build = CASES[case]
    path, kwargs = build()
    sent = len(kwargs.get("data", b"")) or len(json.dumps(kwargs.get("json", {})))
    before_mib, before_cpu = _peak_mib(), time.process_time()
    response = client.post(path, **kwargs)
    return {
        "case": case,
        "limit": limit,
        "bytes": sent,
        "status": response.status_code,
        "cpu_s": round(time.process_time() - before_cpu, 3),
        "peak_mib": round(_peak_mib() - before_mib, 1),
    }


def main(argv: list[str]) -> int:
    """Each case in its own process; print one line per case."""
    parser = argparse.ArgumentParser(prog="python -m ops.bench.limits", description=__doc__)
    parser.add_argument("--env", default="local", help="whose model: models/<env>/")
    parser.add_argument("--case", choices=CASES, help="run only this case, in this process")
    args = parser.parse_args(argv)
    base = MODELS_DIR / args.env
    if args.case:
        print(json.dumps(measure(args.case, base)))
        return 0
    trained_or_exit(args.env)
    print(f"{'case':34} {'limit':40} {'bytes':>9} {'status':>6} {'CPU s':>6} {'+peak MiB':>9}")
    for case in CASES:
        command = [sys.executable, "-m", "ops.bench.limits", "--env", args.env, "--case", case]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        row = json.loads(output.strip().splitlines()[-1])
        print(
            f"{row['case']:34} {row['limit']:40} {row['bytes']:>9} {row['status']:>6} "
            f"{row['cpu_s']:>6} {row['peak_mib']:>9}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
