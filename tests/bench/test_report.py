"""The benchmark report's verdicts: which targets it calls met, missed or inconclusive."""

from pathlib import Path

import pytest

from modelartifact.quantization import Quantization
from ops.bench.load import LoadResult
from ops.bench.report import NAMES, Measurements, Round, ServiceRun, write_report
from ops.bench.run import BACKENDS
from service.model_store import ModelArtifact
from service.settings import Backend

pytestmark = pytest.mark.unit


def _sweep(top: float) -> list[LoadResult]:
    return [LoadResult(c, top * c / 16, 10.0, 20.0, 0) for c in (1, 4, 16)]


def _rounds(service_top: float) -> list[Round]:
    # Ratios 0.1 above, at and 0.2 below service_top / 100: the median is the middle one.
    rates = (service_top + 10, service_top, service_top - 20)
    return [Round(100.0, LoadResult(16, rate, 40.0, 80.0, 0)) for rate in rates]


def _measurements(size: int, service_top: float, steady_rate: float) -> Measurements:
    artifact = ModelArtifact(
        "image-classifier",
        1,
        Path("."),
        tuple("0123456789"),
        size,
        size,
        "model_int8.tflite",
        int8_output=Quantization(1 / 256, -128),
        accuracy=0.98,
        bf16_accuracy=0.98,
        int8_accuracy=0.98,
        openvino_int8_accuracy=0.98,
    )
    measurements = Measurements(
        env="staging", artifact=artifact, seconds=1, load_average=(0, 0, 0), workers=2
    )
    for kind in BACKENDS:
        measurements.service[kind] = ServiceRun(
            startup_seconds=3.0,
            sweep=_sweep(service_top)[:-1],
            rounds=_rounds(service_top),
            steady=LoadResult(16, steady_rate, 40.0, 100.0, 0),
            mean_batch=5.0,
            worker_rss_mib=300.0,
        )
    measurements.baseline = _sweep(5.0)
    return measurements


def test_targets_met_at_the_design_size(tmp_path: Path) -> None:
    markdown, plot = write_report(_measurements(224, 90.0, 63.0), tmp_path)
    text = markdown.read_text()
    assert markdown.name == "service-benchmark-staging.md" and plot.is_file()
    assert "(b)/(a) at c=16 = 0.90, median of 3 back-to-back rounds (1.00, 0.90, 0.70)" in text
    assert "(target >= 0.8: met)" in text
    assert "| (b) service, TF SavedModel | 16 | 90.0 | 40.0 | 80.0 | 0 |" in text
    assert "(b)/(c) at c=16 = 18.0 (target >= 15: met)" in text
    assert "p99/p50 = 2.5 (target <= 3 at 70 %: met)" in text
    assert "startup 3.0 s (target <= 8: met)" in text
    assert "design's 224x224" not in text


def test_misses_and_an_off_target_load_are_reported(tmp_path: Path) -> None:
    markdown, _ = write_report(_measurements(32, 50.0, 20.0), tmp_path)
    text = markdown.read_text()
    assert "(b)/(a) at c=16 = 0.50, median of 3 back-to-back rounds (0.60, 0.50, 0.30)" in text
    assert "(target >= 0.8: NOT met)" in text
    assert "(b)/(c) at c=16 = 10.0 (target >= 15: NOT met)" in text
    assert "inconclusive, the run reached 40% of max, not ~70 %" in text
    assert "The targets are set for the design's 224x224 model" in text


def test_every_backend_the_bench_serves_has_its_rows_and_targets(tmp_path: Path) -> None:
    assert Backend.TENSORFLOW_BF16 in BACKENDS
    markdown, _ = write_report(_measurements(224, 90.0, 63.0), tmp_path)
    text = markdown.read_text()
    for kind in BACKENDS:
        assert f"| (b) service, {NAMES[kind]} | 16 | 90.0 | 40.0 | 80.0 | 0 |" in text
        assert f"- {NAMES[kind]}: (b)/(a) at c=16 = 0.90" in text
    # The baseline is TF float: only the float backend's ratio to it is a target.
    assert text.count("(target >= 15") == 1
