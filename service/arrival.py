"""The bytes of a request as they arrive, and when enough have come to hand it to a thread.

The worker's event loop reads each connection without blocking until its request is whole:
the head, and a Content-Length body small enough for the loop to hold. A slow or silent client
then costs a buffer, never one of the few request threads. A request whose body the loop does
not hold (chunked, `Expect: 100-continue`, or over the byte budget) is handed over once its head
is in; the thread then reads the body under the connection's deadline.
"""

import re
import string
import threading
import time
from dataclasses import dataclass, field

HEAD_END = b"\r\n\r\n"
# Over this the head is handed on as it is: gunicorn's parser answers 400 or 431 for it.
MAX_HEAD_BYTES = 64 * 1024
_CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*([0-9]{1,15})[ \t]*\r?$", re.I | re.M)
_HOLD_BODY_IN_THREAD = re.compile(rb"^(transfer-encoding|expect):", re.I | re.M)
PROBE_PREFIX = b"GET /v2/health/"
# RFC 9110's token characters: what a request's method may be made of.
TOKEN_BYTES = frozenset((string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~").encode())
_METHOD_CHECKED_BYTES = 32
_arrived = threading.local()


def note_arrival(at: float) -> None:
    """Record, in the thread about to run a request, when (time.monotonic()) it had arrived."""
    _arrived.at = at


def take_arrival() -> float:
    """When the request this thread now runs had arrived (now, if no worker noted it)."""
    at: float | None = getattr(_arrived, "at", None)
    _arrived.at = None
    return time.monotonic() if at is None else at


@dataclass
class Arrival:
    """One request's bytes so far; `body_budget` is how many body bytes the loop may hold."""

    body_budget: int
    data: bytearray = field(default_factory=bytearray)
    head_length: int | None = None  # bytes up to and including the blank line, once seen
    body_length: int | None = None  # body bytes the loop waits for (0: none or not in the loop)

    def feed(self, chunk: bytes) -> None:
        """Add received bytes. Empty lines before the request line are dropped, as RFC 9112
        asks (some clients send CRLF after a body): gunicorn would answer them with a 400."""
        self.data += chunk
        if self.head_length is None:
            while self.data.startswith((b"\r\n", b"\n")):
                del self.data[: 1 if self.data[0] == ord("\n") else 2]
            end = self.data.find(HEAD_END)
            if end >= 0:
                self.head_length = end + len(HEAD_END)
                self.body_length = self._body_to_hold(bytes(self.data[: self.head_length]))
            elif len(self.data) > MAX_HEAD_BYTES:
                self.head_length, self.body_length = len(self.data), 0

    def _body_to_hold(self, head: bytes) -> int:
        if _HOLD_BODY_IN_THREAD.search(head):
            return 0
        lengths = {int(value) for value in _CONTENT_LENGTH.findall(head)}
        if len(lengths) != 1:  # none (no body) or conflicting ones (gunicorn refuses those)
            return 0
        (length,) = lengths
        return length if length <= self.body_budget else 0

    @property
    def head_complete(self) -> bool:
        """The whole head is in."""
        return self.head_length is not None

    @property
    def whole(self) -> bool:
        """Enough is in for a thread to run the request without waiting for the client."""
        if self.head_length is None or self.body_length is None:
            return False
        return len(self.data) >= self.head_length + self.body_length

    @property
    def held_bytes(self) -> int:
        """Body bytes this arrival counts against the worker's budget."""
        return self.body_length or 0

    @property
    def refusal(self) -> str | None:
        """Why the bytes so far cannot become an HTTP/1.x request, known before its head is
        whole (the loop answers at once instead of waiting for a blank line that may never
        come): a method with a byte no token has (a TLS handshake sent to this plain-HTTP
        port, or any binary), or lines ended by a bare LF."""
        method = bytes(self.data[:_METHOD_CHECKED_BYTES]).split(b" ", 1)[0]
        if method != b"\r" and any(byte not in TOKEN_BYTES for byte in method):
            return "not HTTP/1.x (TLS to this plain-HTTP port?)"
        if self.head_length is None and b"\n\n" in self.data:
            return "lines must end in CRLF, not a bare LF"
        return None

    @property
    def probe(self) -> bool:
        """A health probe with nothing pipelined behind it: the loop answers it itself, so it
        never queues behind requests (what follows a probe goes to a request thread)."""
        alone = len(self.data) == self.head_length
        return alone and self.data.startswith(PROBE_PREFIX)
