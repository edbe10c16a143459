"""A local gateway in front of the sandbox for the promise tests.

It answers what a rule says (a ``Retry-After`` of one's choosing, a 404 for one product
id: faults the sandbox cannot inject per request), forwards everything else, and notes
when it saw each request and how many were in flight.  The ``gateway`` fixture
(tests/conftest.py) makes them and stops them after the test.
"""

from __future__ import annotations

import json
import threading
import time
import typing as t
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# A rule's answer: status, headers, JSON body; None lets the request through.
Answer = tuple[int, dict[str, str], dict[str, t.Any]]
Rule = t.Callable[[str, dict[str, list[str]]], "Answer | None"]
FORWARDED = ("X-RapidAPI-Key", "X-RapidAPI-Host", "Accept", "User-Agent")


class Gateway:
    """A local gateway in front of ``upstream``: ``rule`` answers or lets a request through."""

    def __init__(self, upstream: str, rule: Rule) -> None:
        """Listen on a free port of 127.0.0.1 (see :meth:`running`)."""
        self.upstream = upstream
        self.rule = rule
        self.seen: list[tuple[float, str]] = []  # (time.monotonic(), path) per request
        self.in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}  # most requests of a path in flight at once
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
                """Quiet."""

            def do_GET(self) -> None:
                gateway.handle(self)

            def do_POST(self) -> None:  # a webhook: answered by the rule only
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                gateway.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer by the rule, or forward to the upstream and relay its answer."""
        url = urlsplit(handler.path)
        with self._lock:
            self.seen.append((time.monotonic(), url.path))
            answer = self.rule(url.path, parse_qs(url.query))
            now = self.in_flight[url.path] = self.in_flight.get(url.path, 0) + 1
            self.peak[url.path] = max(self.peak.get(url.path, 0), now)
        try:
            status, extra, body = self._reply(handler, answer)
        finally:
            # Out of flight before the reply is written: a client can send its next
            # request only once it has the whole reply, so it is never counted twice.
            with self._lock:
                self.in_flight[url.path] -= 1
        handler.send_response(status)
        for name, value in {"Content-Type": "application/json", **extra}.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _reply(
        self, handler: BaseHTTPRequestHandler, answer: Answer | None
    ) -> tuple[int, dict[str, str], bytes]:
        """The rule's answer, or the upstream's: status, extra headers, body."""
        if answer is None:
            headers = {k: v for k in FORWARDED if (v := handler.headers.get(k)) is not None}
            request = urllib.request.Request(self.upstream + handler.path, headers=headers)  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    return response.status, {}, response.read()
            except urllib.error.HTTPError as exc:
                return exc.code, {}, exc.read()
        status, extra, payload = answer
        return status, extra, json.dumps(payload).encode()

    def times(self, path: str) -> list[float]:
        """When the gateway saw each request of ``path``, in order."""
        with self._lock:
            return [at for at, seen in self.seen if seen == path]
