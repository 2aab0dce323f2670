"""The Host header RFC 9112 requires: an HTTP/1.1 request without one, or with more than one or
an invalid one, is a 400 (gunicorn passes all of them on)."""

import re

from flask import Flask, request

from service.errors import ApiError, shown

# RFC 3986's host [":" port]: an IP literal, or a reg-name without ",", the character gunicorn
# joins repeated Host lines with (no real host name has one).
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+;=]*)(:[0-9]*)?")


def require_host(app: Flask) -> None:
    """Refuse requests whose Host header HTTP/1.1 forbids, before any other work."""

    @app.before_request
    def check_host() -> None:
        host = request.environ.get("HTTP_HOST")
        if host is None:
            if request.environ.get("SERVER_PROTOCOL") == "HTTP/1.1":
                raise ApiError(400, "an HTTP/1.1 request needs a Host header")
        elif not _HOST.fullmatch(host):
            raise ApiError(400, f"invalid Host header {shown(host)}: one host[:port] expected")
