"""Named API clients: the clients file (AUTH_CLIENTS_FILE), its schema, and a CLI to manage it.

A client is a name, the sha256 of each of its tokens (two while it rotates) and an optional
scope: models (and versions) and endpoints. Only hashes are stored. A plain sha256 suffices
because every token is 32 random bytes made by this CLI: salts and slow hashes defend guessable
passwords, and nobody can guess 2^256 values, so a leaked file yields no token. It also keeps
the check at one hash and one dictionary lookup per request, whatever the number of clients.

    python -m service.clients add NAME --file clients.yaml [--model M[:V,...]] [--endpoint E]
    python -m service.clients rotate|retire|revoke NAME --file clients.yaml
    python -m service.clients export --file clients.yaml   # JSON, for Pulumi secret config
"""

import argparse
import hashlib
import json
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from service.settings import SettingsError

# The protected routes by Flask endpoint name (blueprint.view), as a client's scope names them.
Endpoint = Literal[
    "tfserving.status",
    "tfserving.metadata",
    "tfserving.predict",
    "v2.server_metadata",
    "v2.model_metadata",
    "v2.model_ready",
    "v2.infer",
    "predict.predict",
]
ENDPOINTS = frozenset(get_args(Endpoint))
# Names the service itself gives callers in audit records and metric labels.
ANONYMOUS = "anonymous"  # auth is off
SHARED_TOKEN = "shared-token"  # a token of AUTH_TOKEN_FILE
UNKNOWN = "unknown"  # no valid token: one label value, never the name a caller presents
RESERVED_NAMES = frozenset({ANONYMOUS, SHARED_TOKEN, UNKNOWN})
MAX_TOKENS_PER_CLIENT = 2

ClientName = Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$")]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
PositiveInt = Annotated[int, Field(ge=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelScope(_Strict):
    """One model a client may use; `versions` omitted means every version."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")]
    versions: tuple[PositiveInt, ...] | None = Field(default=None, min_length=1)


class Client(_Strict):
    """One named caller: its token hashes and scope (`models`/`endpoints` omitted: all)."""

    name: ClientName
    tokenSha256: Annotated[tuple[Sha256Hex, ...], Field(min_length=1)]
    models: tuple[ModelScope, ...] | None = Field(default=None, min_length=1)
    endpoints: tuple[Endpoint, ...] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _not_reserved(self) -> "Client":
        if self.name in RESERVED_NAMES:
            raise ValueError(f"name {self.name!r} is reserved: the service uses it for callers")
        if len(self.tokenSha256) > MAX_TOKENS_PER_CLIENT:
            raise ValueError(
                f"client {self.name!r} has {len(self.tokenSha256)} tokens: at most "
                f"{MAX_TOKENS_PER_CLIENT} (the current one and the next, while rotating)"
            )
        return self

    def allows_endpoint(self, endpoint: str) -> bool:
        """Whether the client may call the Flask endpoint `endpoint`."""
        return self.endpoints is None or endpoint in self.endpoints

    def allows_model(self, name: str, version: int) -> bool:
        """Whether the client may use version `version` of model `name`."""
        return self.models is None or any(
            scope.name == name and (scope.versions is None or version in scope.versions)
            for scope in self.models
        )


class ClientsFile(_Strict):
    """The clients file: `clients:` a list, possibly empty (every client revoked)."""

    clients: tuple[Client, ...]

    @model_validator(mode="after")
    def _unique(self) -> "ClientsFile":
        names = [client.name for client in self.clients]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"client names must be unique: {', '.join(twice)} appear twice")
        owners: dict[str, str] = {}
        for client in self.clients:
            for digest in client.tokenSha256:
                if digest in owners:
                    raise ValueError(
                        f"clients {owners[digest]!r} and {client.name!r} share a token hash"
                    )
                owners[digest] = client.name
        return self

    def entries(self) -> list[dict[str, Any]]:
        """The clients as plain data, as the file, the chart and Pulumi config hold them."""
        return [client.model_dump(mode="json", exclude_none=True) for client in self.clients]

    def by_token_hash(self) -> dict[str, Client]:
        """Every token hash mapped to its client."""
        return {digest: client for client in self.clients for digest in client.tokenSha256}


def token_sha256(token: bytes) -> str:
    """The hex sha256 of a token, as the clients file stores it."""
    return hashlib.sha256(token).hexdigest()


def parse_clients(document: object, where: str) -> ClientsFile:
    """Validate a parsed clients document; SettingsError naming `where` and each bad field."""
    try:
        return ClientsFile.model_validate(document)
    except ValidationError as error:
        errors = error.errors()
        # A bad item also fails its list's length check: name only the innermost problem.
        locations = [e["loc"] for e in errors]
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or 'clients'}: "
            + e["msg"].removeprefix("Value error, ")
            for e in errors
            if not any(len(o) > len(e["loc"]) and o[: len(e["loc"])] == e["loc"] for o in locations)
        )
        raise SettingsError(f"{where}: {problems}") from None


def load_clients(path: Path) -> ClientsFile:
    """The clients file at `path` (YAML or JSON); SettingsError naming the file and field."""
    where = f"AUTH_CLIENTS_FILE={path}"
    try:
        text = path.read_text()
        # JSON first: YAML reads most JSON, but not a key longer than 1024 characters.
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            document = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise SettingsError(f"{where}: cannot read: {error}") from None
    return parse_clients(document, where)


def read_clients(path: Path) -> dict[str, Client]:
    """The clients of the file at `path`, keyed by token hash."""
    return load_clients(path).by_token_hash()


# --- Command line --------------------------------------------------------------------------
def _entries(path: Path) -> list[dict[str, Any]]:
    return load_clients(path).entries() if path.exists() else []


def _entry(entries: list[dict[str, Any]], name: str, path: Path) -> dict[str, Any]:
    for entry in entries:
        if entry["name"] == name:
            return entry
    raise SettingsError(f"{path}: no client named {name!r}")


def _save(path: Path, entries: list[dict[str, Any]]) -> None:
    """Validate, then write the file in one step, readable by its owner only."""
    document = {"clients": parse_clients({"clients": entries}, str(path)).entries()}
    staged = path.with_name(f".{path.name}.new")
    with os.fdopen(os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        yaml.safe_dump(document, out, sort_keys=False)
    os.replace(staged, path)


def new_token() -> str:
    """A fresh token: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def add(path: Path, name: str, models: Sequence[str], endpoints: Sequence[str]) -> str:
    """Add client `name` with a new token to the file; return the token (never stored)."""
    entries = _entries(path)
    if any(entry["name"] == name for entry in entries):
        raise SettingsError(f"{path}: client {name!r} exists; use `rotate` for a new token")
    token = new_token()
    entry: dict[str, Any] = {"name": name, "tokenSha256": [token_sha256(token.encode())]}
    if models:
        entry["models"] = [_model_scope(text) for text in models]
    if endpoints:
        entry["endpoints"] = list(endpoints)
    _save(path, [*entries, entry])
    return token


def _model_scope(text: str) -> dict[str, Any]:
    """`NAME` or `NAME:V1,V2` from the command line, as a `models` item."""
    name, _, versions = text.partition(":")
    return {"name": name, "versions": versions.split(",")} if versions else {"name": name}


def rotate(path: Path, name: str) -> str:
    """Give client `name` a new token beside its current one; return the new token."""
    entries = _entries(path)
    entry = _entry(entries, name, path)
    token = new_token()
    kept = entry["tokenSha256"][-(MAX_TOKENS_PER_CLIENT - 1) :]
    entry["tokenSha256"] = [*kept, token_sha256(token.encode())]
    _save(path, entries)
    return token


def retire(path: Path, name: str) -> None:
    """Keep only client `name`'s newest token: the end of a rotation."""
    entries = _entries(path)
    entry = _entry(entries, name, path)
    entry["tokenSha256"] = entry["tokenSha256"][-1:]
    _save(path, entries)


def revoke(path: Path, name: str) -> None:
    """Remove client `name`: every service reading the file refuses it on its next request."""
    entries = _entries(path)
    _entry(entries, name, path)
    _save(path, [entry for entry in entries if entry["name"] != name])


def export(path: Path) -> str:
    """The clients as one line of JSON (for `pulumi config set --secret authClients`)."""
    return json.dumps(_entries(path))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m service.clients", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for command, text in (
        ("add", "add a client with a new token (printed once)"),
        ("rotate", "give a client a new token (printed once) beside its current one"),
        ("retire", "keep only a client's newest token"),
        ("revoke", "remove a client"),
        ("export", "print the clients as JSON"),
    ):
        sub = commands.add_parser(command, help=text)
        if command != "export":
            sub.add_argument("name")
        sub.add_argument("--file", type=Path, required=True, help="the clients file")
        if command == "add":
            sub.add_argument("--model", action="append", default=[], help="NAME or NAME:V1,V2")
            sub.add_argument("--endpoint", action="append", default=[], choices=sorted(ENDPOINTS))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the token alone goes to stdout, so `$(...)` captures it."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "add":
            print(add(args.file, args.name, args.model, args.endpoint))
        elif args.command == "rotate":
            print(rotate(args.file, args.name))
        elif args.command == "retire":
            retire(args.file, args.name)
        elif args.command == "revoke":
            revoke(args.file, args.name)
        else:
            print(export(args.file))
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.command in ("add", "rotate"):
        print(f"{args.file}: the token above is shown only once; store it now", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
