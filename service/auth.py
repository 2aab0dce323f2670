"""Optional bearer-token auth for the inference routes; health, metrics and OpenAPI stay open."""

import hmac

from flask import Flask, request

from service.errors import ApiError

PROTECTED_BLUEPRINTS = frozenset({"tfserving", "v2", "predict"})


def require_bearer_token(app: Flask, token: str) -> None:
    """Reject requests to protected blueprints without `Authorization: Bearer <token>` (401)."""
    expected = f"Bearer {token}".encode()

    @app.before_request
    def check_token() -> None:
        if request.blueprint not in PROTECTED_BLUEPRINTS:
            return
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise ApiError(
                401,
                "missing or wrong bearer token: send 'Authorization: Bearer <token>'",
                {"WWW-Authenticate": 'Bearer realm="inference"'},
            )
