"""Pure logic: settings parsing and the CPU budget read from cgroup files."""

import os
from pathlib import Path

import pytest

from service.cpu import (
    available_cpus,
    bf16_flags,
    threads_per_worker,
    worker_count,
    worker_cpus,
)
from service.settings import Backend, Settings, SettingsError

pytestmark = pytest.mark.unit


def test_defaults_match_the_documented_contract() -> None:
    settings = Settings.from_env({})
    assert (settings.port, settings.model_base_path, settings.model_name) == (
        8080,
        Path("/models"),
        "image-classifier",
    )
    assert settings.model_version is None and settings.model_backend is Backend.TENSORFLOW
    assert (settings.batch_max_size, settings.batch_timeout_ms, settings.batch_queue_capacity) == (
        16,
        5,
        256,
    )
    assert settings.max_request_bytes == 10_485_760 and settings.auth_token_file is None
    assert (settings.gunicorn_workers, settings.gunicorn_threads) == (None, 8)
    assert settings.graceful_timeout_seconds == 20


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "0"),
        ("MODEL_BACKEND", "onnx"),
        ("MODEL_BACKEND", "bf16"),
        ("MODEL_BACKEND", "tensorflow_bf16"),
        ("BATCH_TIMEOUT_MS", "soon"),
        ("MODEL_VERSION", "-1"),
    ],
)
def test_bad_value_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"{variable}='{value}'"):
        Settings.from_env({variable: value})


def test_values_are_parsed_case_insensitively_where_it_helps() -> None:
    settings = Settings.from_env(
        {"MODEL_BACKEND": "LiteRT", "LOG_LEVEL": "DEBUG", "MODEL_VERSION": "3"}
    )
    assert settings.model_backend is Backend.LITERT and settings.model_version == 3


@pytest.mark.parametrize(
    ("value", "backend"),
    [
        ("tensorflow", Backend.TENSORFLOW),
        ("tensorflow-bf16", Backend.TENSORFLOW_BF16),
        ("TensorFlow-BF16", Backend.TENSORFLOW_BF16),
        ("litert", Backend.LITERT),
        ("OpenVINO", Backend.OPENVINO),
    ],
)
def test_every_backend_is_accepted_by_name(value: str, backend: Backend) -> None:
    assert Settings.from_env({"MODEL_BACKEND": value}).model_backend is backend


@pytest.mark.parametrize(
    ("flags", "native"),
    [
        ("fpu sse2 avx2 avx512f avx512_bf16 amx_bf16 amx_tile", ["avx512_bf16", "amx_bf16"]),
        ("fpu sse2 avx2 avx512f amx_tile amx_bf16", ["amx_bf16"]),
        ("fpu sse2 avx2 avx512f avx512_vnni", []),
    ],
)
def test_native_bf16_is_read_from_the_cpu_flags(
    tmp_path: Path, flags: str, native: list[str]
) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: a CPU\nflags\t\t: {flags}\n\n")
    assert bf16_flags(cpuinfo) == native


def test_no_cpuinfo_means_no_native_bf16(tmp_path: Path) -> None:
    assert bf16_flags(tmp_path / "missing") == []


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"METRICS_PORT": "8080"}, "METRICS_PORT=8080 is PORT too"),
        ({"MAX_JSON_BYTES": "20000000"}, "MAX_JSON_BYTES=20000000 exceeds MAX_REQUEST_BYTES"),
    ],
)
def test_rules_across_variables_name_them(environ: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        Settings.from_env(environ)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"cpu.max": "150000 100000\n"}, 2),
        ({"cpu.max": "50000 100000\n"}, 1),
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({}, None),
    ],
)
def test_cpu_budget_follows_the_cgroup_quota(
    tmp_path: Path, files: dict[str, str], expected: int | None
) -> None:
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    online = available_cpus(tmp_path / "absent")
    assert available_cpus(tmp_path) == (online if expected is None else min(expected, online))
    assert threads_per_worker(online + 1, tmp_path) == 1


def test_workers_are_pinned_only_when_the_container_has_one_cpu_per_worker(
    tmp_path: Path,
) -> None:
    allowed = sorted(os.sched_getaffinity(0))
    count, no_quota = len(allowed), tmp_path / "absent"
    assert worker_cpus(count, no_quota) == (allowed if count > 1 else None)
    assert worker_cpus(count + 1, no_quota) is None
    assert worker_cpus(1, no_quota) is None
    if count > 1:  # a CFS quota below the CPU set: the CPUs are shared, so no pinning
        (tmp_path / "cpu.max").write_text(f"{(count - 1) * 100_000} 100000\n")
        assert worker_cpus(count, tmp_path) is None


def test_worker_count_defaults_to_the_cpus_the_process_may_use(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("100000 100000\n")  # a 1-CPU quota
    assert worker_count(None, tmp_path) == 1
    assert worker_count(None, tmp_path / "absent") == len(os.sched_getaffinity(0))
    assert worker_count(3, tmp_path) == 3  # GUNICORN_WORKERS wins
    assert Settings.from_env({"GUNICORN_WORKERS": ""}).gunicorn_workers is None
