"""The report's comparison sections: peers, roofline, backends evaluated, and their targets.

Pure functions of what the run measured, so the verdicts are tested without timing anything.
"""

from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from modelartifact import ACCURACY_TOLERANCE
from ops.bench.backends_eval import BackendResult, accurate
from ops.bench.load import LoadResult
from ops.bench.peers import PeerRun

PRECISIONS = ("fp32", "bf16", "int8")
SERVICE_TO_IN_PROCESS = 0.9  # the service within 0.9 of in-process, each backend, at c=16
FASTEST_OVER_BEST_PEER = 2.0
FLOAT_OVER_BEST_PEER = 1.0
FRACTION_OF_INT8_PEAK = 0.4


@dataclass(frozen=True)
class ServiceFigures:
    """One service backend at the top concurrency: (a) in-process and (b) through HTTP."""

    name: str
    candidate: str  # its name in backends_eval.CANDIDATES
    precision: str
    in_process: float
    service: LoadResult
    curve: list[LoadResult]


@dataclass
class Comparison:
    """What issue 15's part of the bench measured."""

    flops_per_image: int
    peaks: dict[str, float] = field(default_factory=dict)  # FLOP/s by precision
    peak_methods: dict[str, str] = field(default_factory=dict)
    service: list[ServiceFigures] = field(default_factory=list)
    service_label: str | None = None
    peers: list[PeerRun] = field(default_factory=list)
    backends: list[BackendResult] = field(default_factory=list)
    not_run: dict[str, str] = field(default_factory=dict)  # section -> why it did not run


@dataclass(frozen=True)
class Target:
    """One target: what was compared, the measured value, the threshold and the verdict."""

    name: str
    value: float | None
    threshold: float
    detail: str

    @property
    def verdict(self) -> str:
        """met / NOT met / not measured (a missing figure is never called met)."""
        if self.value is None:
            return "not measured"
        return "met" if self.value >= self.threshold else "NOT met"


def _top(run: PeerRun) -> float:
    return run.sweep[-1].requests_per_second


def best_peer(c: Comparison) -> PeerRun | None:
    """The measured peer with the highest images/s at the top concurrency."""
    measured = [run for run in c.peers if run.sweep]
    return max(measured, key=_top, default=None)


def float_accuracy(c: Comparison) -> float | None:
    """The TF float model's held-out accuracy, the reference for "equal accuracy"."""
    return next(
        (r.accuracy for r in c.backends if r.candidate.name == "tf-float" and r.accuracy), None
    )


def accurate_backends(c: Comparison) -> list[BackendResult]:
    """Candidates measured within the tolerance of the float model, fastest first."""
    reference = float_accuracy(c)
    if reference is None:
        return []
    fit = [r for r in c.backends if r.images_per_second and accurate(r, reference)]
    return sorted(fit, key=lambda r: r.images_per_second or 0.0, reverse=True)


def gflops(images_per_second: float, flops_per_image: int) -> float:
    """Achieved GFLOP/s at that image rate."""
    return images_per_second * flops_per_image / 1e9


def targets(c: Comparison) -> list[Target]:
    """Issue 15's four targets, judged from this run's figures."""
    result = [
        Target(
            f"service / in-process at c=16, {s.name}",
            s.service.requests_per_second / s.in_process if s.in_process else None,
            SERVICE_TO_IN_PROCESS,
            f"{s.service.requests_per_second:.1f} / {s.in_process:.1f} images/s",
        )
        for s in c.service
    ]
    peer = best_peer(c)
    reference = float_accuracy(c)
    served = [
        s
        for s in c.service
        if reference is not None
        and any(r.candidate.name == s.candidate and accurate(r, reference) for r in c.backends)
    ]
    fastest = max(served, key=lambda s: s.service.requests_per_second, default=None)
    if peer is None or fastest is None:
        missing = "no peer was measured" if peer is None else "no served backend is accurate"
        result.append(Target("fastest accurate backend / best peer", None, 2.0, missing))
    else:
        result.append(
            Target(
                "fastest accurate backend (through the service) / best peer, c=16",
                fastest.service.requests_per_second / _top(peer),
                FASTEST_OVER_BEST_PEER,
                f"{fastest.name} {fastest.service.requests_per_second:.1f} vs "
                f"{peer.peer.name} {_top(peer):.1f} images/s",
            )
        )
    tf_float = next((s for s in c.service if s.candidate == "tf-float"), None)
    result.append(
        Target(
            "TF float through the service / best peer, c=16",
            None
            if peer is None or tf_float is None
            else tf_float.service.requests_per_second / _top(peer),
            FLOAT_OVER_BEST_PEER,
            "no peer was measured"
            if peer is None or tf_float is None
            else f"{tf_float.service.requests_per_second:.1f} vs {peer.peer.name} "
            f"{_top(peer):.1f} images/s",
        )
    )
    quick = accurate_backends(c)
    peak = c.peaks.get("int8")
    if not quick or not peak:
        result.append(
            Target("fastest backend / int8 peak", None, FRACTION_OF_INT8_PEAK, "not measured")
        )
    else:
        best = quick[0]
        achieved = gflops(best.images_per_second or 0.0, c.flops_per_image)
        result.append(
            Target(
                "fastest accurate backend (in-process, model only) / measured int8 peak",
                achieved * 1e9 / peak,
                FRACTION_OF_INT8_PEAK,
                f"{best.candidate.name}: {achieved:.0f} of {peak / 1e9:.0f} GFLOP/s",
            )
        )
    return result


def _peer_rows(c: Comparison) -> list[str]:
    rows = []
    for s in c.service:
        rates = " | ".join(f"{r.requests_per_second:.1f}" for r in s.curve)
        rows.append(
            f"| this service, {s.name} | (repo) | dynamic batching | {rates} | "
            f"{s.curve[-1].p99_ms:.1f} | measured |"
        )
    for run in c.peers:
        head = f"| {run.peer.name} | {run.peer.version} | {run.peer.batching} |"
        if run.sweep:
            rates = " | ".join(f"{r.requests_per_second:.1f}" for r in run.sweep)
            failed = sum(r.failed for r in run.sweep)
            status = f"measured (top class {run.top_label})" + (
                f", {failed} failed requests" if failed else ""
            )
            rows.append(f"{head} {rates} | {run.sweep[-1].p99_ms:.1f} | {status} |")
        else:
            rows.append(f"{head} - | - | - | - | excluded: {run.excluded} |")
    return rows


def plot_peers(c: Comparison, path: Path) -> None:
    """Images/s against connections for the service's backends and every measured peer."""
    figure, axis = plt.subplots(figsize=(7, 4.2))
    series = [(f"service, {s.name}", s.curve) for s in c.service]
    series += [(run.peer.name, run.sweep) for run in c.peers if run.sweep]
    for label, results in series:
        axis.plot(
            [r.concurrency for r in results],
            [r.requests_per_second for r in results],
            marker="o",
            label=label,
        )
    axis.set_xscale("log", base=2)
    axis.set_xlabel("concurrent connections")
    axis.set_ylabel("images/s")
    axis.set_title("the service and its peers, same model and JPEG")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def render(c: Comparison, plot: Path, levels: tuple[int, ...]) -> list[str]:
    """The markdown lines of the peers, roofline, backends and targets sections."""
    lines = ["", "## Peers: the same model in the servers a user would pick instead", ""]
    if "peers" in c.not_run:
        lines += [f"Not run: {c.not_run['peers']}.", ""]
    else:
        plot_peers(c, plot)
        lines += [
            "Each peer runs from its own pinned virtualenv under "
            "`~/.cache/image-classifier/bench-peers/` (the project's TensorFlow), serves the "
            "SavedModel's `serving_default` on the same JPEG (base64 in its JSON protocol) with "
            "the same worker processes and intra-op threads and its own batching at the "
            "service's limits, on 127.0.0.1, loaded by the same wrk. Its top class must equal "
            f"the service's ({c.service_label!r}) before its timing counts "
            "(`ops/bench/peers.py`, `ops/bench/peer_apps/`).",
            "",
            "| server | version | batching | "
            + " | ".join(f"images/s c={level}" for level in levels)
            + f" | p99 ms c={levels[-1]} | status |",
            "|---|---|---|" + "---|" * len(levels) + "---|---|",
            *_peer_rows(c),
            "",
            f"![the service and its peers]({plot.name})",
            "",
        ]
    lines += ["## Roofline: the machine's measured peak and what each backend reaches", ""]
    if c.peaks:
        lines += [
            f"The design CNN costs {c.flops_per_image / 1e9:.3f} GFLOP per image at this input "
            "size (2 x the multiply-accumulates of its Conv2D and Dense layers, counted from "
            "the Keras model: `ops/bench/flops.py`). Peaks: `python -m ops.bench.roofline`, "
            "all CPUs, best of 10 trials, at the start and at the end of the run (the higher "
            "kept).",
            "",
            "| precision | measured peak GFLOP/s | how |",
            "|---|---|---|",
            *(
                f"| {p} | {c.peaks[p] / 1e9:.0f} | {c.peak_methods.get(p, '')} |"
                for p in PRECISIONS
                if p in c.peaks
            ),
            "",
            "| backend | where | images/s | GFLOP/s | fraction of its precision's peak |",
            "|---|---|---|---|---|",
        ]
        for s in c.service:
            for where, rate in (
                ("in-process (a), with decoding", s.in_process),
                ("through the service, c=16", s.service.requests_per_second),
            ):
                achieved = gflops(rate, c.flops_per_image)
                fraction = achieved * 1e9 / c.peaks[s.precision]
                lines.append(
                    f"| {s.name} | {where} | {rate:.1f} | {achieved:.1f} | {fraction:.1%} |"
                )
        for r in c.backends:
            if r.images_per_second:
                achieved = gflops(r.images_per_second, c.flops_per_image)
                fraction = achieved * 1e9 / c.peaks[r.candidate.precision]
                lines.append(
                    f"| {r.candidate.name} | in-process, model only | "
                    f"{r.images_per_second:.1f} | {achieved:.1f} | {fraction:.1%} |"
                )
        lines.append("")
    else:
        lines += [f"Not run: {c.not_run.get('roofline', 'no peak was measured')}.", ""]
    lines += ["## Backends evaluated in-process", ""]
    reference = float_accuracy(c)
    if c.backends:
        lines += [
            "Accuracy on the held-out split (training's preprocessing and "
            "`training.evaluate.accuracy`); images/s of the model alone, batch 16, in as many "
            "processes as the service has workers, each with the workers' threads and pinning "
            "(`ops/bench/backends_eval.py`). Equal accuracy: within "
            f"{ACCURACY_TOLERANCE * 100:.1f} point of TF float.",
            "",
            "| backend | how | held-out accuracy | images/s | x TF float | equal accuracy |",
            "|---|---|---|---|---|---|",
        ]
        base = next(
            (r.images_per_second for r in c.backends if r.candidate.name == "tf-float"), None
        )
        for r in c.backends:
            if r.excluded is not None:
                lines.append(
                    f"| {r.candidate.name} | {r.candidate.label} | - | - | - | "
                    f"not measured: {r.excluded} |"
                )
                continue
            speedup = f"{(r.images_per_second or 0) / base:.2f}" if base else "-"
            verdict = "-" if reference is None else ("yes" if accurate(r, reference) else "no")
            lines.append(
                f"| {r.candidate.name} | {r.candidate.label} | {r.accuracy:.2%} | "
                f"{r.images_per_second:.1f} | {speedup} | {verdict} |"
            )
        quick = accurate_backends(c)
        if quick:
            lines += ["", f"Fastest at equal accuracy: **{quick[0].candidate.name}**."]
        lines.append("")
    else:
        lines += [f"Not run: {c.not_run.get('backends', 'nothing was evaluated')}.", ""]
    lines += ["## Targets of issue 15", ""]
    for t in targets(c):
        value = "-" if t.value is None else f"{t.value:.3f}"
        lines.append(f"- {t.name}: {value} (target >= {t.threshold:g}: {t.verdict}); {t.detail}.")
    lines.append("")
    return lines
