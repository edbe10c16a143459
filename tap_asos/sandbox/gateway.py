"""RapidAPI gateway behaviour (auth, rate limit, quota headers) and fault injection."""

from __future__ import annotations

import random
import threading
import time
import typing as t
from collections import Counter, deque
from dataclasses import dataclass, field
from http import HTTPStatus

if t.TYPE_CHECKING:
    from tap_asos.sandbox.config import SandboxConfig

INVALID_KEY = "Invalid API key. Go to https://docs.rapidapi.com/docs/keys for more info."
NOT_SUBSCRIBED = "You are not subscribed to this API."
PER_SECOND = "You have exceeded the rate limit per second for your plan, BASIC, by the API provider"
MONTHLY = (
    "You have exceeded the MONTHLY quota for Requests on your current plan, BASIC. "
    "Upgrade your plan at https://rapidapi.com/apidojo/api/asos2"
)
MISSING_HOST = "Missing RapidAPI host header. Send X-RapidAPI-Host: asos2.p.rapidapi.com"
UNLIMITED_QUOTA = 500_000
QUOTA_RESET_SECONDS = 2_592_000  # a 30-day plan period; constant, no wall clock
FAULT_KINDS = frozenset(
    {
        "400",
        "429",
        "500",
        "502",
        "503",
        "504",
        "timeout",
        "malformed",
        "truncated",
        "empty_page",
        "ignore_filters",
        "unsorted",
        "latency",
        "drift",
    }
)


@dataclass
class Denial:
    """A gateway answer that replaces the API's: status, message, extra headers."""

    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FaultRule:
    """One fault-injection rule (the JSON spec is in the README's sandbox section)."""

    kind: str
    path: str = ""
    times: int | None = None
    rate: float | None = None
    after: int = 0
    seconds: float = 30.0
    retry_after: float | None = None
    seen: int = 0

    @classmethod
    def from_json(cls, spec: dict[str, t.Any]) -> FaultRule:
        """Validate and build a rule; raise ValueError on a bad spec."""
        kind = str(spec.get("kind", ""))
        if kind not in FAULT_KINDS:
            msg = f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}"
            raise ValueError(msg)
        unknown = set(spec) - {"kind", "path", "times", "rate", "after", "seconds", "retry_after"}
        if unknown:
            msg = f"unknown fault fields {sorted(unknown)}"
            raise ValueError(msg)
        return cls(
            kind=kind,
            path=str(spec.get("path") or ""),
            times=None if spec.get("times") is None else int(spec["times"]),
            rate=None if spec.get("rate") is None else float(spec["rate"]),
            after=int(spec.get("after") or 0),
            seconds=float(spec.get("seconds", 30.0)),
            retry_after=None if spec.get("retry_after") is None else float(spec["retry_after"]),
        )

    def denial(self) -> Denial:
        """The answer of a status fault (kind "400", "429", "500", ...)."""
        status = int(self.kind)
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            headers = {} if self.retry_after is None else {"Retry-After": f"{self.retry_after:g}"}
            return Denial(429, PER_SECOND, headers)
        return Denial(status, HTTPStatus(status).phrase)


class Gateway:
    """Thread-safe request accounting shared by every handler thread of a server."""

    def __init__(self, config: SandboxConfig) -> None:
        """Start with no requests counted and no faults."""
        self.config = config
        self._lock = threading.Lock()
        self._window: deque[float] = deque()
        self._rng = random.Random(config.seed)  # noqa: S311 - reproducible faults
        self.rules: list[FaultRule] = []
        self.reset()

    def reset(self) -> None:
        """Forget counted requests, quota use and faults."""
        with self._lock:
            self.used = 0
            self.stats_total = 0
            self.by_path: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.faults_injected = 0
            self.rules = []
            self._window.clear()
            self._rng.seed(self.config.seed)

    # --- gateway -------------------------------------------------------------

    def admit(self, headers: t.Mapping[str, str]) -> Denial | None:  # noqa: PLR0911
        """Check key, host, per-second rate and quota; count the request if admitted."""
        # Header names are case-insensitive (urllib sends "X-Rapidapi-Key"), as at RapidAPI.
        headers = {name.lower(): value for name, value in headers.items()}
        key = headers.get("x-rapidapi-key")
        if not key or (
            key not in self.config.api_keys and key not in self.config.unsubscribed_keys
        ):
            return Denial(401, INVALID_KEY)
        if key in self.config.unsubscribed_keys:
            return Denial(403, NOT_SUBSCRIBED)
        host = headers.get("x-rapidapi-host")
        if not host:
            return Denial(400, MISSING_HOST)
        if host != self.config.rapidapi_host:
            return Denial(403, NOT_SUBSCRIBED)
        with self._lock:
            if self.config.quota and self.used >= self.config.quota:
                return Denial(429, MONTHLY)
            rate = self.config.rate_limit_per_second
            if rate > 0:
                now = time.monotonic()
                while self._window and now - self._window[0] >= 1.0:
                    self._window.popleft()
                if len(self._window) >= rate:
                    return Denial(429, PER_SECOND, {"Retry-After": "1"})
                self._window.append(now)
            self.used += 1
        return None

    def quota_headers(self) -> dict[str, str]:
        """The x-ratelimit-requests-* headers every API response carries."""
        limit = self.config.quota or UNLIMITED_QUOTA
        with self._lock:
            remaining = max(0, limit - self.used)
        return {
            "x-ratelimit-requests-limit": str(limit),
            "x-ratelimit-requests-remaining": str(remaining),
            "x-ratelimit-requests-reset": str(QUOTA_RESET_SECONDS),
        }

    def count(self, path: str, status: int) -> None:
        """Record one answered request in the stats."""
        with self._lock:
            self.stats_total += 1
            self.by_path[path] += 1
            self.by_status[str(status)] += 1

    def stats(self) -> dict[str, t.Any]:
        """Request counts so far."""
        with self._lock:
            return {
                "requests_total": self.stats_total,
                "by_path": dict(sorted(self.by_path.items())),
                "by_status": dict(sorted(self.by_status.items())),
                "faults_injected": self.faults_injected,
                "quota_used": self.used,
            }

    # --- faults ------------------------------------------------------------------

    def set_faults(self, spec: dict[str, t.Any]) -> None:
        """Replace the fault rules; raise ValueError on a bad spec."""
        rules = [FaultRule.from_json(rule) for rule in spec.get("rules", [])]
        with self._lock:
            self.rules = rules

    def pick_fault(self, path: str) -> FaultRule | None:
        """The first rule that fires for this request, if any (consumes a use of it)."""
        with self._lock:
            for rule in self.rules:
                if not path.startswith(rule.path or "/"):
                    continue
                if rule.times is not None and rule.times <= 0:
                    continue
                rule.seen += 1
                if rule.seen <= rule.after:
                    continue
                if rule.rate is not None and self._rng.random() >= rule.rate:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                self.faults_injected += 1
                return rule
        return None
