"""The benchmark report's verdicts: which targets it calls met, missed or inconclusive."""

from pathlib import Path

import pytest

from bench.load import LoadResult
from bench.report import Measurements, ServiceRun, write_report
from service.model_store import ModelArtifact
from service.settings import Backend

pytestmark = pytest.mark.unit


def _sweep(top: float) -> list[LoadResult]:
    return [LoadResult(c, top * c / 16, 10.0, 20.0, 0) for c in (1, 4, 16)]


def _measurements(size: int, service_top: float, steady_rate: float) -> Measurements:
    artifact = ModelArtifact(
        "image-classifier", 1, Path("."), tuple("0123456789"), size, size, "model_int8.tflite"
    )
    measurements = Measurements(
        env="staging", artifact=artifact, seconds=1, load_average=(0, 0, 0), workers=2
    )
    for kind in (Backend.TENSORFLOW, Backend.LITERT):
        measurements.in_process[kind] = 100.0
        measurements.service[kind] = ServiceRun(
            startup_seconds=3.0,
            sweep=_sweep(service_top),
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
    assert "(b)/(a) at c=16 = 0.90 (target >= 0.8: met)" in text
    assert "(b)/(c) at c=16 = 18.0 (target >= 15: met)" in text
    assert "p99/p50 = 2.5 (target <= 3 at 70 %: met)" in text
    assert "startup 3.0 s (target <= 8: met)" in text
    assert "design's 224x224" not in text


def test_misses_and_an_off_target_load_are_reported(tmp_path: Path) -> None:
    markdown, _ = write_report(_measurements(32, 50.0, 20.0), tmp_path)
    text = markdown.read_text()
    assert "(b)/(a) at c=16 = 0.50 (target >= 0.8: NOT met)" in text
    assert "(b)/(c) at c=16 = 10.0 (target >= 15: NOT met)" in text
    assert "inconclusive, the run reached 40% of max, not ~70 %" in text
    assert "The targets are set for the design's 224x224 model" in text
