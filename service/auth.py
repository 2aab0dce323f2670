"""Bearer-token auth for the inference routes; health, metrics and OpenAPI stay open.

Two sources of valid tokens, each re-read whenever its file changes (a mounted Secret is
updated in place), so every worker follows a rotation or a revocation without a restart:
- AUTH_TOKEN_FILE: shared tokens, one per line (the old and the new one during a rotation);
  every caller is `shared-token`, with no scope limits.
- AUTH_CLIENTS_FILE: named clients (service.clients), each with its own token and scope.
A request without a valid token gets 401; a known client outside its scope gets 403. The
verdict is left in the WSGI environ for the audit record (service.audit).
"""

import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from flask import Flask, request

from service.clients import ANONYMOUS, SHARED_TOKEN, UNKNOWN, Client, read_clients, token_sha256
from service.errors import ApiError
from service.settings import Settings, SettingsError
from service.watched_file import WatchedFile

PROTECTED_BLUEPRINTS = frozenset({"tfserving", "v2", "predict"})
MIN_TOKEN_LENGTH = 32
CALLER_KEY = "service.caller"
REFUSAL_KEY = "service.refusal"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="inference"'}


def read_tokens(path: Path) -> tuple[bytes, ...]:
    """The tokens in `path`, one per non-empty line; SettingsError if none or one is too short."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"AUTH_TOKEN_FILE={path}: cannot read: {error}") from None
    tokens = [line.strip() for line in lines if line.strip()]
    if not tokens:
        raise SettingsError(f"AUTH_TOKEN_FILE={path}: the file holds no token")
    for number, token in enumerate(tokens, start=1):
        if len(token) < MIN_TOKEN_LENGTH or not token.isascii() or " " in token:
            raise SettingsError(
                f"AUTH_TOKEN_FILE={path}: token {number} must be at least {MIN_TOKEN_LENGTH}"
                " ASCII characters without spaces (e.g. `openssl rand -hex 32`)"
            )
    return tuple(token.encode() for token in tokens)


@dataclass(frozen=True)
class Caller:
    """Who made a request: a name for the audit, and a named client's scope if it has one."""

    name: str
    client: Client | None = None

    def allows_endpoint(self, endpoint: str) -> bool:
        """Whether the caller may call the Flask endpoint `endpoint`."""
        return self.client is None or self.client.allows_endpoint(endpoint)

    def allows_model(self, name: str, version: int) -> bool:
        """Whether the caller may use version `version` of model `name`."""
        return self.client is None or self.client.allows_model(name, version)


class Authenticator:
    """Tells which caller a bearer token belongs to, from the files as they are now."""

    def __init__(self, token_file: Path | None, clients_file: Path | None) -> None:
        self._tokens = None if token_file is None else WatchedFile(token_file, read_tokens)
        self._clients = None if clients_file is None else WatchedFile(clients_file, read_clients)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Authenticator | None":
        """The authenticator `settings` ask for, or None when auth is off."""
        if settings.auth_token_file is None and settings.auth_clients_file is None:
            return None
        return cls(settings.auth_token_file, settings.auth_clients_file)

    def identify(self, token: bytes) -> Caller | None:
        """The caller `token` belongs to, or None."""
        if self._clients is not None:
            # A hash lookup: its timing can at most reveal the hash of the token sent.
            client = self._clients.current().get(token_sha256(token))
            if client is not None:
                return Caller(client.name, client)
        if self._tokens is not None:
            # Compare with every token so the time taken does not tell which one matched.
            matches = [hmac.compare_digest(token, t) for t in self._tokens.current()]
            if any(matches):
                return Caller(SHARED_TOKEN)
        return None


def credentials(authorization: str) -> bytes | None:
    """The token of an `Authorization: Bearer <token>` value; the scheme is case-insensitive."""
    scheme, _, rest = authorization.strip().partition(" ")
    token = rest.strip(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token.encode()


def refuse(status: int, caller: Caller, reason: str, message: str) -> NoReturn:
    """Answer `status` with `message`, noting who was refused and why for the audit record."""
    request.environ[CALLER_KEY] = caller
    request.environ[REFUSAL_KEY] = reason
    raise ApiError(status, message, _CHALLENGE if status == 401 else None)


def require_bearer_token(app: Flask, authenticator: Authenticator | None) -> None:
    """Identify the caller of every protected request: 401 without a valid token, 403 for an
    endpoint outside the client's scope; with auth off every caller is `anonymous`."""

    @app.before_request
    def check_token() -> None:
        if request.blueprint not in PROTECTED_BLUEPRINTS:
            return
        if authenticator is None:
            request.environ[CALLER_KEY] = Caller(ANONYMOUS)
            return
        given = credentials(request.headers.get("Authorization", ""))
        caller = None if given is None else authenticator.identify(given)
        if caller is None:
            refuse(
                401,
                Caller(UNKNOWN),
                "missing_token" if given is None else "unknown_token",
                "missing or wrong bearer token: send 'Authorization: Bearer <token>'",
            )
        endpoint = request.endpoint or ""
        if not caller.allows_endpoint(endpoint):
            refuse(
                403,
                caller,
                "endpoint_not_allowed",
                f"client {caller.name!r} may not call {endpoint}",
            )
        request.environ[CALLER_KEY] = caller


def authorize_model(name: str, version: int) -> None:
    """403 unless this request's caller may use version `version` of model `name`."""
    caller: Caller | None = request.environ.get(CALLER_KEY)
    if caller is not None and not caller.allows_model(name, version):
        refuse(
            403,
            caller,
            "model_not_allowed",
            f"client {caller.name!r} may not use version {version} of model {name!r}",
        )
