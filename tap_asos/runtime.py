"""What a run may send and what it did: :class:`RequestPolicy` and :class:`RunStats`.

Both belong to the tap and are shared by every stream and worker thread: the policy
holds the client-side rate limit, the request budget and the stop on SIGINT/SIGTERM
across all streams of a run (not per stream), the stats count what the run did for its
summary, progress lines and alerts.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from types import FrameType

logger = logging.getLogger("tap-asos")


class RequestBudgetExhaustedError(Exception):
    """Raised before a request that would exceed the configured ``max_requests``."""


class RunStoppedError(RequestBudgetExhaustedError):
    """Raised before a request once the run was told to stop (SIGINT, SIGTERM).

    A budget of its own kind: every place that ends a partition cleanly at the budget
    (its bookmark kept, so it is read again next run) ends it the same way here.
    """


class RateLimiter:
    """Token bucket: at most ``rate`` requests per second, bursts up to ``burst``.

    The default burst of 1 paces requests evenly (one every 1/rate s): a gateway that
    counts requests per one-second window never sees more than ``rate`` in a window,
    which a bucket refilled to ``rate`` tokens after a quiet moment would exceed.
    Thread-safe; ``rate <= 0`` disables limiting.
    """

    def __init__(self, rate: float, burst: float = 1.0) -> None:
        """Create a limiter allowing ``rate`` requests per second."""
        self.rate = rate
        self.capacity = max(1.0, burst)
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._lock = threading.Lock()
        self._woken = threading.Event()

    def wake(self) -> None:
        """End every wait now and from now on (the run is stopping)."""
        self._woken.set()

    def acquire(self) -> float:
        """Block until a request may be sent, or :meth:`wake`; return the seconds waited."""
        if self.rate <= 0:
            return 0.0
        waited = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return waited
                delay = (1 - self._tokens) / self.rate
            if self._woken.wait(delay):
                return waited
            waited += delay

    def pause(self, seconds: float) -> None:
        """Empty the bucket so that no request leaves for ``seconds`` (after a 429)."""
        if self.rate <= 0:
            return
        with self._lock:
            self._tokens = min(self._tokens, 0.0) - seconds * self.rate
            self._updated = time.monotonic()


@dataclass
class QuotaInfo:
    """Latest values of the gateway's ``x-ratelimit-requests-*`` headers."""

    limit: int | None = None
    remaining: int | None = None
    reset_seconds: int | None = None


@dataclass
class RunStats:
    """What one run of the tap did: requests, responses, retries, records, partitions.

    Counters only (not Singer state): they feed the run summary, progress lines and
    alerts.  Thread-safe: worker threads count into it.
    """

    requests: int = 0
    retries: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    quota: QuotaInfo = field(default_factory=QuotaInfo)
    per_stream: dict[str, Counter[str]] = field(default_factory=dict)
    partitions_total: int = 0
    partitions_done: int = 0
    # Top-level fields the API sent that no schema declares (API drift): stream ->
    # field -> records that carried it. They are dropped from records, so counted here.
    unknown_fields: dict[str, Counter[str]] = field(default_factory=dict)
    # Called after each finished partition (the progress line); None: nothing.
    on_partition_done: Callable[[], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, stream: str, name: str, n: int = 1) -> None:
        """Add to one of a stream's counters (records, pages, ...)."""
        with self._lock:
            self.per_stream.setdefault(stream, Counter())[name] += n

    def count_request(self, stream: str = "") -> None:
        """Count one request sent (retries included)."""
        with self._lock:
            self.requests += 1
            self.per_stream.setdefault(stream, Counter())["requests"] += 1

    def finish_partition(self) -> None:
        """Count one finished partition, then tell the progress reporter."""
        with self._lock:
            self.partitions_done += 1
        if self.on_partition_done is not None:
            self.on_partition_done()

    def count_unknown_fields(self, stream: str, names: Iterable[str]) -> None:
        """Count one record of ``stream`` carrying the undeclared top-level ``names``."""
        with self._lock:
            self.unknown_fields.setdefault(stream, Counter()).update(names)
            self.per_stream.setdefault(stream, Counter())["drifted_records"] += 1

    def record_response(self, status: int, headers: Mapping[str, str], stream: str = "") -> None:
        """Count a response status and keep the quota the gateway reports."""
        with self._lock:
            self.statuses[status] += 1
            if status == 429:  # noqa: PLR2004
                self.per_stream.setdefault(stream, Counter())["rate_limited_429"] += 1
            for attr, header in (
                ("limit", "x-ratelimit-requests-limit"),
                ("remaining", "x-ratelimit-requests-remaining"),
                ("reset_seconds", "x-ratelimit-requests-reset"),
            ):
                value = headers.get(header)
                if value is not None and value.strip().lstrip("-").isdigit():
                    setattr(self.quota, attr, int(value))

    def record_retry(self, stream: str = "") -> None:
        """Count one retried request."""
        with self._lock:
            self.retries += 1
            self.per_stream.setdefault(stream, Counter())["retries"] += 1

    def summary(self) -> dict[str, object]:
        """Return the run's figures as a JSON-serialisable dict."""
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "responses_by_status": {str(k): v for k, v in sorted(self.statuses.items())},
                "rate_limited_429": self.statuses.get(429, 0),
                "quota_limit": self.quota.limit,
                "quota_remaining": self.quota.remaining,
                "quota_reset_seconds": self.quota.reset_seconds,
                "records": sum(c["records"] for c in self.per_stream.values()),
                "partitions_done": self.partitions_done,
                "partitions_left": max(0, self.partitions_total - self.partitions_done),
                "unknown_fields": {
                    name: dict(sorted(counts.items()))
                    for name, counts in sorted(self.unknown_fields.items())
                },
                "streams": {
                    name: dict(sorted(counts.items()))
                    for name, counts in sorted(self.per_stream.items())
                    if name
                },
            }


class RequestPolicy:
    """The run-wide limits every request obeys: the rate limit and the request budget.

    One belongs to the tap; streams and their worker threads take a slot from it
    before each attempt, so ``requests_per_second`` and ``max_requests`` hold across
    all streams of a run.  Each slot is counted in ``stats``.
    """

    def __init__(
        self, stats: RunStats, requests_per_second: float = 0.0, max_requests: int = 0
    ) -> None:
        """Limit to ``requests_per_second`` (0: none) and ``max_requests`` (0: none)."""
        self.stats = stats
        self.max_requests = max_requests
        self.limiter = RateLimiter(requests_per_second)
        # True once no request may leave: the budget is spent, or the run was stopped.
        self.budget_exhausted = False
        self.stop_signal: int | None = None
        self._lock = threading.Lock()

    @property
    def exit_code(self) -> int | None:
        """128 + the stop signal's number (130 SIGINT, 143 SIGTERM); None: not stopped."""
        return None if self.stop_signal is None else 128 + self.stop_signal

    def stop(self, signum: int) -> None:
        """Send no further request: the run ends as at its budget, its state emitted."""
        with self._lock:
            if self.stop_signal is None:
                self.stop_signal = signum
            self.budget_exhausted = True
        self.limiter.wake()

    def stop_on_signals(self) -> None:
        """Make SIGINT and SIGTERM stop the run gracefully (main thread only).

        Replaces the SDK's handler, which writes the state and exits 0 from inside the
        handler, i.e. at any point of the sync: in the middle of writing a record
        whose write the signal interrupted, or of the buffered writer's flush.
        """
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.stop_signal is None:
            logger.warning(
                "%s received: stopping. No new request is sent; the requests in flight "
                "end, then the state of every finished partition is emitted and the run "
                "exits %d. The next run reads the unfinished partitions again.",
                name,
                128 + signum,
            )
        self.stop(signum)

    def take_request_slot(self, stream: str = "") -> None:
        """Count one request against the budget, then wait for the rate limiter.

        Raises:
            RequestBudgetExhaustedError: if ``max_requests`` requests were already sent.
            RunStoppedError: once the run was stopped (before or during the wait).
        """
        with self._lock:
            if self.stop_signal is not None:
                msg = f"the run was stopped by {signal.Signals(self.stop_signal).name}"
                raise RunStoppedError(msg)
            if self.max_requests and self.stats.requests >= self.max_requests:
                self.budget_exhausted = True
                msg = f"request budget of {self.max_requests} requests reached"
                raise RequestBudgetExhaustedError(msg)
            self.stats.count_request(stream)
        self.limiter.acquire()
        if self.stop_signal is not None:
            msg = f"the run was stopped by {signal.Signals(self.stop_signal).name}"
            raise RunStoppedError(msg)

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (the gateway said 429)."""
        self.limiter.pause(seconds)

    @property
    def remaining(self) -> int | None:
        """Requests the budget still allows (None: no budget)."""
        if not self.max_requests:
            return None
        return max(0, self.max_requests - self.stats.requests)

    def exhaust(self) -> None:
        """Send no further request: the budget cannot pay for what comes next."""
        with self._lock:
            self.budget_exhausted = True

    def reach(self) -> None:
        """The run leaves work for the next one: what is left costs more than the budget.

        Requests may still go (the children of what was read); the run's status says
        ``stopped_at_budget``.
        """
        self.budget_reached = True

    budget_reached = False

    @property
    def stopped_at_budget(self) -> bool:
        """Whether the budget ended the run before its work was done."""
        return self.budget_exhausted or self.budget_reached
