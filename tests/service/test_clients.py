"""The clients file and its CLI: a token is printed once and only its hash is stored; the file
is validated with messages naming the field; any document either loads or is refused so."""

import json
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from service.clients import ENDPOINTS, load_clients, main, parse_clients, token_sha256
from service.settings import SettingsError

pytestmark = pytest.mark.unit
HASH = "0" * 64


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_prints_the_token_once_and_stores_only_its_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clients.yaml"
    code, out, err = run(capsys, "add", "partner-a", "--file", str(path), "--model", "m:3,4")
    token = out.strip()
    assert code == 0 and len(token) >= 32 and "only once" in err
    assert token not in path.read_text()
    (client,) = load_clients(path).clients
    assert client.tokenSha256 == (token_sha256(token.encode()),)
    assert client.allows_model("m", 4) and not client.allows_model("m", 5)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_rotate_keeps_the_current_token_until_retired(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "clients.yaml")
    first = run(capsys, "add", "p", "--file", path)[1].strip()
    second = run(capsys, "rotate", "p", "--file", path)[1].strip()
    hashes = [token_sha256(t.encode()) for t in (first, second)]
    assert list(load_clients(Path(path)).clients[0].tokenSha256) == hashes
    third = run(capsys, "rotate", "p", "--file", path)[1].strip()  # at most two at a time
    assert load_clients(Path(path)).clients[0].tokenSha256 == (
        hashes[1],
        token_sha256(third.encode()),
    )
    assert run(capsys, "retire", "p", "--file", path)[0] == 0
    assert load_clients(Path(path)).clients[0].tokenSha256 == (token_sha256(third.encode()),)


def test_revoke_removes_the_client_and_export_gives_pulumi_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "clients.yaml")
    for name in ("a", "b"):
        run(capsys, "add", name, "--file", path, "--endpoint", "v2.infer")
    assert run(capsys, "revoke", "a", "--file", path)[0] == 0
    exported = json.loads(run(capsys, "export", "--file", path)[1])
    assert [entry["name"] for entry in exported] == ["b"]
    assert (
        parse_clients({"clients": exported}, "export").clients == load_clients(Path(path)).clients
    )


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["add", "a"], "client 'a' exists; use `rotate`"),
        (["rotate", "nobody"], "no client named 'nobody'"),
        (["add", "unknown"], "name 'unknown' is reserved"),
        (["add", "Bad Name"], "clients.1.name: String should match pattern"),
        (["add", "c", "--model", "m:x"], "clients.1.models.0.versions.0: Input should be a valid"),
    ],
)
def test_cli_errors_name_the_problem_and_leave_the_file_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    path = tmp_path / "clients.yaml"
    run(capsys, "add", "a", "--file", str(path))
    before = path.read_text()
    code, out, err = run(capsys, *argv, "--file", str(path))
    assert (code, out) == (1, "")
    assert words in err
    assert path.read_text() == before


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"clients": [{"name": "a", "tokenSha256": [HASH]}] * 2}, "a appear twice"),
        (
            {"clients": [{"name": n, "tokenSha256": [HASH]} for n in ("a", "b")]},
            "clients 'a' and 'b' share a token hash",
        ),
        ({"clients": [{"name": "a", "tokenSha256": [HASH], "endpoints": ["v2.x"]}]}, "'v2.infer'"),
        ({"clients": [{"name": "a", "tokenSha256": [HASH], "token": "x"}]}, "clients.0.token:"),
        ({"clients": [{"name": "a", "tokenSha256": [HASH] * 3}]}, "at most 2"),
        ({"clients": [{"name": "a", "tokenSha256": []}]}, "clients.0.tokenSha256: "),
        ([], "clients: Input should be a valid dictionary"),
    ],
)
def test_a_bad_clients_file_is_refused_naming_the_field(document: Any, words: str) -> None:
    with pytest.raises(SettingsError, match="^F: .*" + words.replace("(", r"\(")):
        parse_clients(document, "F")


def test_an_empty_list_revokes_everyone_rather_than_being_an_error() -> None:
    assert parse_clients({"clients": []}, "F").by_token_hash() == {}


VALID: dict[str, Any] = {
    "name": "partner",
    "tokenSha256": [HASH],
    "models": [{"name": "image-classifier", "versions": [1]}],
    "endpoints": sorted(ENDPOINTS),
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(key=st.sampled_from(sorted(VALID)), value=json_values, as_text=st.booleans())
# JSON that YAML cannot read: a key over 1024 characters (hypothesis found it).
@example(key="endpoints", value={"k" * 1100: None}, as_text=False)
def test_any_field_replaced_by_any_value_loads_or_is_refused_by_name(
    tmp_path_factory: pytest.TempPathFactory, key: str, value: Any, as_text: bool
) -> None:
    document = {"clients": [{**VALID, key: value}]}
    path = tmp_path_factory.mktemp("clients") / "clients.yaml"
    path.write_text(yaml.safe_dump(document) if as_text else json.dumps(document))
    try:
        clients = load_clients(path)
    except SettingsError as error:
        assert str(error).startswith(f"AUTH_CLIENTS_FILE={path}: clients")
    else:
        assert clients.clients[0].name == "partner"
