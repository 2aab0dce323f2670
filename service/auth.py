"""Optional bearer-token auth for the inference routes; health, metrics and OpenAPI stay open.

The token file holds one token per line, so a rotation can list the old and the new token
together for a while. It is re-read whenever it changes (a mounted Secret is updated in place),
so every worker follows a rotation without a restart.
"""

import hmac
import logging
import os
import threading
from pathlib import Path

from flask import Flask, request

from service.errors import ApiError
from service.settings import SettingsError

log = logging.getLogger(__name__)
PROTECTED_BLUEPRINTS = frozenset({"tfserving", "v2", "predict"})
MIN_TOKEN_LENGTH = 32


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


class TokenFile:
    """The valid tokens, re-read when the file's identity, size or mtime change."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._tokens = read_tokens(path)  # at startup a bad file is fatal

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            status = os.stat(self._path)
        except OSError:
            return None
        return status.st_ino, status.st_mtime_ns, status.st_size

    def tokens(self) -> tuple[bytes, ...]:
        """The current tokens; a file broken by a rotation keeps the last good ones (logged)."""
        stamp = self._stat()
        if stamp is None or stamp == self._stamp:
            return self._tokens
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._tokens = read_tokens(self._path)
                    log.info("bearer tokens re-read", extra={"tokens": len(self._tokens)})
                except SettingsError as error:
                    log.error("keeping the previous bearer tokens: %s", error)
                self._stamp = stamp
        return self._tokens


def credentials(authorization: str) -> bytes | None:
    """The token of an `Authorization: Bearer <token>` value; the scheme is case-insensitive."""
    scheme, _, rest = authorization.strip().partition(" ")
    token = rest.strip(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token.encode()


def require_bearer_token(app: Flask, token_file: TokenFile) -> None:
    """Reject requests to protected blueprints without a valid bearer token (401)."""

    @app.before_request
    def check_token() -> None:
        if request.blueprint not in PROTECTED_BLUEPRINTS:
            return
        given = credentials(request.headers.get("Authorization", ""))
        # Compare with every token so the time taken does not tell which one matched.
        matches = [given is not None and hmac.compare_digest(given, t) for t in token_file.tokens()]
        if not any(matches):
            raise ApiError(
                401,
                "missing or wrong bearer token: send 'Authorization: Bearer <token>'",
                {"WWW-Authenticate": 'Bearer realm="inference"'},
            )
