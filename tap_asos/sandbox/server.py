"""The sandbox HTTP server: request handling, faults on the wire, lifecycle."""

from __future__ import annotations

import socket
import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import msgspec
from typing_extensions import Self

from tap_asos.sandbox import payloads
from tap_asos.sandbox.api import CONTROL, BadRequestError, Params, Sandbox
from tap_asos.sandbox.config import SandboxConfig

Json = t.Any
_ENCODE = msgspec.json.encode


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Without this, keep-alive requests wait ~40 ms on Nagle + delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
        """Quiet: the stats endpoint counts requests instead."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _send(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, method: str) -> None:
        sandbox = self.server.sandbox
        split = urlsplit(self.path)
        path, query = split.path, split.query
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        params = Params(query)
        if path.startswith(CONTROL):
            status, payload = sandbox.control(method, path, params, body)
            self._send(status, _ENCODE(payload))
            return
        route = sandbox.routes.get(path)
        if route is None or method != "GET":
            self._send(404, _ENCODE({"message": f"Endpoint '{path}' does not exist"}))
            return
        status, payload_bytes, headers, ctype = self._api(sandbox, route, path, query, params)
        sandbox.gateway.count(path, status)
        self._send(status, payload_bytes, headers, ctype)

    def _api(
        self,
        sandbox: Sandbox,
        route: t.Callable[[Params, str], Json],
        path: str,
        query: str,
        params: Params,
    ) -> tuple[int, bytes, dict[str, str], str]:
        denial = sandbox.gateway.admit(dict(self.headers.items()))
        headers = sandbox.gateway.quota_headers()
        fault = None
        if denial is None:
            sandbox.sleep_latency()
            fault = sandbox.gateway.pick_fault(path)
            if fault is not None and fault.kind in {"timeout", "latency"}:
                time.sleep(fault.seconds)
            if fault is not None and fault.kind.isdigit():
                denial = fault.denial()
        if denial is not None:
            return (
                denial.status,
                _ENCODE({"message": denial.message}),
                {**headers, **denial.headers},
                "application/json",
            )
        try:
            kind = fault.kind if fault is not None else ""
            if kind in {"empty_page", "ignore_filters"} and path == "/products/v2/list":
                payload = sandbox.listing(
                    params, query, empty=kind == "empty_page", filters=kind != "ignore_filters"
                )
            else:
                payload = route(params, query)
        except BadRequestError as exc:
            return (
                exc.status,
                _ENCODE({"message": str(exc), "errorCode": exc.status}),
                headers,
                "application/json",
            )
        return 200, _encode(payload, fault.kind if fault else ""), headers, "application/json"


def _encode(payload: Json, fault: str) -> bytes:
    """The body of a 200 answer, spoilt as a fault kind says."""
    if fault == "drift" and isinstance(payload, dict):
        payloads.drift(payload)
    if fault == "unsorted" and isinstance(payload, dict):
        payload["products"].reverse()  # ids fall inside a day: the order clients rely on
    data = _ENCODE(payload)
    if fault == "malformed":
        return b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    if fault == "truncated":
        return data[: len(data) // 2]
    return data


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: Sandbox


class SandboxServer:
    """A sandbox listening on ``host:port`` (port 0: a free one), served from a thread."""

    def __init__(
        self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        """Build the catalog now; listen on ``start()``."""
        self.config = config or SandboxConfig()
        self.sandbox = Sandbox(self.config)
        self._address = (host, port)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def api_key(self) -> str:
        """A key the sandbox accepts."""
        return self.config.api_keys[0]

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:PORT (valid after start)."""
        if self._httpd is None:
            msg = "sandbox not started"
            raise RuntimeError(msg)
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Bind, serve in a daemon thread, return once accepting connections."""
        self._httpd = _HTTPServer(self._address, _Handler)
        self._httpd.sandbox = self.sandbox
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="asos-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Bind and serve in the calling thread until ``stop()`` (for the CLI)."""
        self._httpd = _HTTPServer(self._address, _Handler)
        self._httpd.sandbox = self.sandbox
        self._httpd.serve_forever(poll_interval=0.1)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> Self:
        """Start on entry."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop on exit."""
        self.stop()

    def advance(self, days: int = 1, arrivals: int = 0) -> dict[str, t.Any]:
        """Move the catalog ``days`` on, then add ``arrivals`` today (POST /_sandbox/advance)."""
        return self.sandbox.advance(days, arrivals)

    def set_faults(self, spec: dict[str, t.Any]) -> None:
        """Replace the fault rules (as POST /_sandbox/faults)."""
        self.sandbox.gateway.set_faults(spec)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.sandbox.gateway.set_faults({})

    def stats(self) -> dict[str, t.Any]:
        """Request counts (as GET /_sandbox/stats)."""
        return {**self.sandbox.gateway.stats(), "day": self.sandbox.catalog.day}

    def reset(self) -> None:
        """Back to day 0, counters and faults cleared."""
        self.sandbox.catalog.reset()
        self.sandbox.gateway.reset()
