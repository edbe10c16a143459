"""A local HTTP proxy in front of an S3 endpoint that answers what a busy bucket does.

It sits between the loader and a moto server (both on 127.0.0.1) and, on a share of the
S3 calls it relays, injects one of four faults instead of the answer:

- ``slowdown``: 503 with S3's ``SlowDown`` XML error body (the request is not relayed);
- ``internal``: 500 with S3's ``InternalError`` XML error body (not relayed);
- ``reset``: half of the request's body is read, then the connection is reset (RST) in
  the middle of the upload (not relayed);
- ``slow``: the request *is* relayed (S3 did the work), but the answer is held back past
  the client's read timeout: the client gives up on a call that succeeded.

Which calls fail is deterministic from a seed: the decision for the n-th attempt of a
call is drawn from ``(seed, call, n)``, where a call is its method, path and query
without the upload id (moto's are random). So a run makes the same decisions whatever
the order in which its threads reach the proxy, and a retry is a new draw. The kinds
take turns (from a seeded start), so a storm of four faults or more has every kind.

The proxy counts what it saw and injected, by kind and by S3 operation.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import random
import secrets
import socket
import struct
import threading
import time
import typing as t
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from typing_extensions import Self

if t.TYPE_CHECKING:
    from types import TracebackType

KINDS = ("slowdown", "internal", "reset", "slow")
# Headers of one hop only: not relayed (the proxy frames each message itself).
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)
_ERRORS = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "internal": (500, "InternalError", "We encountered an internal error. Please try again."),
}


def operation(method: str, target: str) -> str:
    """The S3 operation a request is (enough of them to tell the loader's calls apart)."""
    parts = urlsplit(target)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    has_key = "/" in parts.path.strip("/")
    named = {
        ("POST", "uploads"): "CreateMultipartUpload",
        ("POST", "uploadId"): "CompleteMultipartUpload",
        ("PUT", "partNumber"): "UploadPart",
        ("DELETE", "uploadId"): "AbortMultipartUpload",
        ("GET", "uploads"): "ListMultipartUploads",
        ("GET", "uploadId"): "ListParts",
    }
    for (verb, parameter), name in named.items():
        if method == verb and parameter in query:
            return name
    plain = {
        ("HEAD", False): "HeadBucket",
        ("HEAD", True): "HeadObject",
        ("PUT", True): "PutObject",
        ("PUT", False): "CreateBucket",
        ("GET", True): "GetObject",
        ("GET", False): "ListObjects",
        ("DELETE", True): "DeleteObject",
    }
    return plain.get((method, has_key), f"{method} other")


@dataclass(frozen=True)
class FaultPlan:
    """Which attempts fail and how: ``rate`` of them, the ``kinds`` taking turns.

    ``script`` overrides the draw for named operations: the faults of their first,
    second, ... attempts (``None``: answer). ``slow_seconds`` must exceed the client's
    read timeout.
    """

    seed: int = 0
    rate: float = 0.3
    kinds: tuple[str, ...] = KINDS
    slow_seconds: float = 1.0
    script: dict[str, tuple[str | None, ...]] = field(default_factory=dict)

    def fault(self, op: str, call: str, attempt: int, injected: int) -> str | None:
        """The fault of the ``attempt``-th (0-based) attempt of ``call``, if any.

        ``injected``: how many faults were injected before (the kinds take turns).
        """
        if op in self.script:
            faults = self.script[op]
            return faults[attempt] if attempt < len(faults) else None
        draw = random.Random(f"{self.seed}|{call}|{attempt}")  # noqa: S311 - not crypto
        if draw.random() >= self.rate:
            return None
        return self.kinds[(self.seed + injected) % len(self.kinds)]


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, proxy: FaultProxy) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.proxy = proxy


class _Handler(http.server.BaseHTTPRequestHandler):
    """One client connection: relay each request, or inject its fault."""

    protocol_version = "HTTP/1.1"  # keep-alive, and "100 Continue" for botocore's Expect
    disable_nagle_algorithm = True  # TCP_NODELAY: no 40 ms Nagle/delayed-ACK stalls
    server: _Server

    def do_request(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            self._send(501, {"Content-Type": "text/plain"}, b"chunked bodies are not relayed")
            return
        op, fault = proxy.decide(self.command, self.path)
        if fault == "reset":
            self.rfile.read(length // 2)
            self._reset()
            return
        body = self.rfile.read(length) if length else b""
        if fault in _ERRORS:
            status, code, message = _ERRORS[fault]
            self._send(status, *_s3_error(code, message, self.path))
            return
        status, headers, payload = proxy.relay(self.command, self.path, self.headers.items(), body)
        if fault == "slow":
            time.sleep(proxy.plan.slow_seconds)
            self.close_connection = True  # the client has given up on this connection
        with contextlib.suppress(OSError):
            self._send(status, headers, payload, head=op.startswith("Head"))

    def do_GET(self) -> None:
        self.do_request()

    def do_HEAD(self) -> None:
        self.do_request()

    def do_PUT(self) -> None:
        self.do_request()

    def do_POST(self) -> None:
        self.do_request()

    def do_DELETE(self) -> None:
        self.do_request()

    def _send(
        self, status: int, headers: dict[str, str], payload: bytes, *, head: bool = False
    ) -> None:
        self.send_response_only(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if not head or "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    def _reset(self) -> None:
        # Linger 0: closing sends RST, the peer sees a reset, not an orderly end.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def finish(self) -> None:
        """The client's connection ends: so does this thread's to the upstream."""
        super().finish()
        self.server.proxy.release()

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002 - the base's name
        """Quiet: the counters say what happened."""


def _s3_error(code: str, message: str, resource: str) -> tuple[dict[str, str], bytes]:
    request_id = secrets.token_hex(8).upper()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<Resource>{urlsplit(resource).path}</Resource><RequestId>{request_id}</RequestId>"
        f"<HostId>{secrets.token_hex(16)}</HostId></Error>"
    ).encode()
    return {"Content-Type": "application/xml", "x-amz-request-id": request_id}, body


class FaultProxy:
    """The proxy: ``start()`` binds 127.0.0.1 on a free port; ``url`` is the endpoint."""

    def __init__(self, upstream: str, plan: FaultPlan) -> None:
        """Relay to ``upstream`` (``http://host:port``) under ``plan``."""
        target = urlsplit(upstream)
        self.upstream = (target.hostname or "127.0.0.1", target.port or 80)
        self.plan = plan
        self.requests: Counter[str] = Counter()  # attempts seen, by S3 operation
        self.injected: Counter[str] = Counter()  # faults injected, by kind
        self.injected_by_operation: Counter[tuple[str, str]] = Counter()
        self._attempts: Counter[str] = Counter()
        self._last_fault: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._server: _Server | None = None
        self.url = ""

    def decide(self, method: str, target: str) -> tuple[str, str | None]:
        """Count an attempt; its operation and the fault to inject (None: relay it)."""
        parts = urlsplit(target)
        query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True))
        call = f"{method} {parts.path}?" + "&".join(f"{k}={v}" for k, v in query if k != "uploadId")
        op = operation(method, target)
        with self._lock:
            attempt = self._attempts[call]
            self._attempts[call] += 1
            self.requests[op] += 1
            fault = self.plan.fault(op, call, attempt, sum(self.injected.values()))
            self._last_fault[call] = fault
            if fault is not None:
                self.injected[fault] += 1
                self.injected_by_operation[op, fault] += 1
        return op, fault

    def relay(
        self, method: str, target: str, headers: t.Iterable[tuple[str, str]], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Send a request upstream on this thread's connection; the whole answer."""
        headers = list(headers)
        for fresh in (False, True):
            connection = self._connection(fresh=fresh)
            try:
                connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                        connection.putheader(name, value)
                connection.putheader("Content-Length", str(len(body)))
                connection.endheaders(body)
                answer = connection.getresponse()
                payload = answer.read()
            except (http.client.HTTPException, OSError):
                if fresh:
                    raise
                continue  # the upstream closed an idle keep-alive connection: once more
            kept = {
                name: value
                for name, value in answer.getheaders()
                if name.lower() not in _HOP_BY_HOP
                and (method == "HEAD" or name.lower() != "content-length")
            }
            return answer.status, kept, payload
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def _connection(self, *, fresh: bool) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None or fresh:
            if connection is not None:
                connection.close()
            connection = http.client.HTTPConnection(*self.upstream, timeout=60)
            self._local.connection = connection
        return connection

    def release(self) -> None:
        """Close this thread's upstream connection, if any."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def start(self) -> Self:
        """Listen on 127.0.0.1, a free port, in a daemon thread."""
        self._server = _Server(self)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # A short poll: stop() waits for the loop to see it.
        threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="s3-fault-proxy", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop listening (a held-back answer's thread ends on its own)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        """Start it."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop it."""
        self.stop()

    def summary(self) -> dict[str, t.Any]:
        """What the proxy saw and did, as plain data."""
        with self._lock:
            return {
                "requests": dict(self.requests),
                "attempts": sum(self.requests.values()),
                "injected": dict(self.injected),
                "injected_by_operation": {
                    f"{op} {kind}": n for (op, kind), n in self.injected_by_operation.items()
                },
                "retries": sum(n - 1 for n in self._attempts.values()),
                # Calls whose last attempt met a fault (the client gave up): their attempts.
                "given_up": {
                    call: self._attempts[call]
                    for call, fault in self._last_fault.items()
                    if fault is not None
                },
            }
