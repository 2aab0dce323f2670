"""Issue 15's part of the report: peers' correctness gate, the targets' verdicts, the tables."""

from pathlib import Path

import pytest

from ops.bench.backends_eval import CANDIDATES, BackendResult
from ops.bench.comparison import Comparison, ServiceFigures, render, targets
from ops.bench.load import LoadResult
from ops.bench.peers import PEERS, PeerRun, correctness

pytestmark = pytest.mark.unit

CLASSES = tuple("0123456789")
FLOPS = 944_018_688
CANDIDATE = {c.name: c for c in CANDIDATES}


def _curve(top: float) -> list[LoadResult]:
    return [LoadResult(c, top * c / 16, 10.0, 20.0, 0) for c in (1, 4, 16)]


def _comparison(tf: float, litert: float, peer_top: float, onnx_rate: float) -> Comparison:
    comparison = Comparison(FLOPS, peaks={"fp32": 200e9, "bf16": 400e9, "int8": 600e9})
    comparison.service = [
        ServiceFigures("TF SavedModel", "tf-float", "fp32", tf / 0.95, _curve(tf)[-1], _curve(tf)),
        ServiceFigures(
            "LiteRT int8", "litert-int8", "int8", litert / 0.8, _curve(litert)[-1], _curve(litert)
        ),
    ]
    comparison.service_label = "7"
    comparison.peers = [
        PeerRun(PEERS[0], _curve(peer_top), "7", 5.0),
        PeerRun(PEERS[1], _curve(peer_top / 2), "7", 5.0),
        PeerRun(PEERS[2], [], excluded="its top class '1' is not the service's '7'"),
    ]
    comparison.backends = [
        BackendResult(CANDIDATE["tf-float"], 0.98, 100.0),
        BackendResult(CANDIDATE["litert-int8"], 0.978, 250.0),
        BackendResult(CANDIDATE["onnxruntime-int8"], 0.96, onnx_rate),  # 2 points worse
        BackendResult(CANDIDATE["openvino-int8"], excluded="could not be installed: no wheel"),
    ]
    return comparison


def _verdicts(comparison: Comparison) -> list[str]:
    return [t.verdict for t in targets(comparison)]


def test_targets_are_judged_from_the_run_s_figures() -> None:
    # LiteRT through the service 400 >= 2 x best peer 190; TF 190 >= 190; LiteRT in-process
    # 250 img/s x 0.944 GFLOP = 236 GFLOP/s < 40 % of 600: that one is missed.
    comparison = _comparison(tf=190.0, litert=400.0, peer_top=190.0, onnx_rate=5000.0)
    [tf, litert, fastest, on_par, peak] = targets(comparison)
    assert (tf.verdict, litert.verdict) == ("met", "NOT met")
    assert fastest.verdict == "met" and "LiteRT int8 400.0 vs KServe 190.0" in fastest.detail
    assert on_par.verdict == "met"
    # The much faster ONNX Runtime is 2 points less accurate: it does not count.
    assert peak.verdict == "NOT met" and peak.detail.startswith("litert-int8: 236 of 600")


def test_targets_missed_against_a_faster_peer() -> None:
    assert _verdicts(_comparison(190.0, 300.0, 200.0, 50.0))[2:4] == ["NOT met", "NOT met"]


def test_targets_without_peers_are_not_measured_never_met() -> None:
    comparison = _comparison(190.0, 400.0, 190.0, 50.0)
    comparison.peers = []
    assert _verdicts(comparison)[2:4] == ["not measured", "not measured"]


@pytest.mark.parametrize(
    ("bf16_accuracy", "fastest"),
    [(0.98, "TF bfloat16 500.0"), (0.97, "LiteRT int8 300.0")],
)
def test_the_served_bf16_backend_is_the_fastest_accurate_one_only_when_accurate(
    bf16_accuracy: float, fastest: str
) -> None:
    comparison = _comparison(tf=190.0, litert=300.0, peer_top=190.0, onnx_rate=50.0)
    comparison.service.append(
        ServiceFigures("TF bfloat16", "tf-bf16", "bf16", 520.0, _curve(500.0)[-1], _curve(500.0))
    )
    comparison.backends.append(BackendResult(CANDIDATE["tf-bf16"], bf16_accuracy, 503.0))
    [target] = [t for t in targets(comparison) if "(through the service)" in t.name]
    assert target.detail == f"{fastest} vs KServe 190.0 images/s"


@pytest.mark.parametrize(
    ("peer", "answer", "excluded"),
    [
        (PEERS[0], {"predictions": [[0.0] * 7 + [1.0, 0.0, 0.0]]}, None),
        (PEERS[0], {"predictions": [[1.0] + [0.0] * 9]}, "its top class '0' is not the service's"),
        (PEERS[1], {"outputs": [{"data": [0.1] * 7 + [0.9, 0.0, 0.0]}]}, None),
        (PEERS[2], [[0.5, 0.5]], "it answered 2 scores for 10 classes"),
        (PEERS[3], {"error": "boom"}, "its answer has no scores where LitServe puts them"),
    ],
)
def test_a_peer_counts_only_with_the_services_top_class(
    peer: object, answer: object, excluded: str | None
) -> None:
    label, why = correctness(peer, answer, CLASSES, "7")  # type: ignore[arg-type]
    if excluded is None:
        assert (label, why) == ("7", None)
    else:
        assert why is not None and why.startswith(excluded)


def test_peers_are_pinned_and_serve_on_loopback_with_the_services_shape() -> None:
    from ops.bench.peers import ServingShape, server_environment

    for peer in PEERS:
        requirements = peer.env().requirements
        assert all("==" in pin for pin in requirements), requirements
        assert "tensorflow_cpu==2.20.0" in requirements  # the project's own TF pin
        assert peer.env().path.name == f"{peer.package}-{peer.version}"
        assert str(Path.home()) in str(peer.env().path)
    variables = server_environment(Path("/m/1"), 8123, ServingShape(2, 1, 16, 5), Path("/v"))
    assert {k: variables[k] for k in ("MODEL_DIR", "PORT", "WORKERS", "THREADS")} == {
        "MODEL_DIR": "/m/1",
        "PORT": "8123",
        "WORKERS": "2",
        "THREADS": "1",
    }
    assert (variables["BATCH_MAX_SIZE"], variables["BATCH_TIMEOUT_MS"]) == ("16", "5")
    bentoml = next(p for p in PEERS if p.package == "bentoml")
    assert bentoml.command(8123)[-4:] == ["--host", "127.0.0.1", "--port", "8123"]


def test_report_sections_show_peers_roofline_and_backends(tmp_path: Path) -> None:
    comparison = _comparison(190.0, 400.0, 190.0, 500.0)
    text = "\n".join(render(comparison, tmp_path / "peers.png", (1, 4, 16)))
    assert (tmp_path / "peers.png").is_file()
    assert "| KServe | 0.21.0 |" in text and "| 11.9 | 47.5 | 190.0 | 20.0 | measured" in text
    assert "| BentoML | 1.4.40 |" in text and "excluded: its top class '1'" in text
    assert "0.944 GFLOP per image" in text
    assert "| int8 | 600 |" in text
    # 400 images/s x 0.944 GFLOP = 377.6 GFLOP/s of the 600 int8 peak.
    assert "| LiteRT int8 | through the service, c=16 | 400.0 | 377.6 | 62.9% |" in text
    assert "| onnxruntime-int8 |" in text and "| 96.00% | 500.0 | 5.00 | no |" in text
    assert "not measured: could not be installed: no wheel" in text
    assert "Fastest at equal accuracy: **litert-int8**." in text
    assert "(target >= 2: met)" in text
