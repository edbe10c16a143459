"""Progress of a long run: one line at a steady interval and at each partition's end.

A line carries the run's figures only (partitions done / total, requests, retries,
429s, records per stream, the measured request rate, the API quota left and an ETA),
never a setting or the key.  It is logged as ``Progress: {json}`` (one JSON object,
like the ``Run summary`` line), so it is a JSON log line under
``orchestrate/logging-json.yaml``.  When stderr is a terminal (the tap run by hand)
the same figures are redrawn as a single live line instead.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import typing as t

if t.TYPE_CHECKING:
    from tap_asos.runtime import RunStats

logger = logging.getLogger("tap-asos")


class ProgressReporter:
    """Reports progress every ``interval`` seconds (0: never) and on :meth:`partition_done`."""

    def __init__(self, stats: RunStats, interval: float, *, live: bool | None = None) -> None:
        """Nothing is reported until :meth:`start`."""
        self.stats = stats
        self.interval = interval
        self.live = sys.stderr.isatty() if live is None else live
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the clock, and the interval thread when an interval is set."""
        self._started = time.monotonic()
        self.stats.on_partition_done = self.partition_done
        if self.interval > 0:
            self._thread = threading.Thread(
                target=self._every_interval, name="asos-progress", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the interval thread; end the live line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.stats.on_partition_done = None
        if self.live:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def partition_done(self) -> None:
        """A partition has finished: report."""
        self.report("partition")

    def _every_interval(self) -> None:
        while not self._stop.wait(self.interval):
            self.report("interval")

    def figures(self, reason: str) -> dict[str, t.Any]:
        """The progress figures now (JSON-serialisable)."""
        elapsed = max(time.monotonic() - self._started, 1e-9)
        summary = self.stats.summary()
        done = int(summary["partitions_done"])  # type: ignore[call-overload]
        left = int(summary["partitions_left"])  # type: ignore[call-overload]
        requests = int(summary["requests"])  # type: ignore[call-overload]
        streams = t.cast("dict[str, dict[str, int]]", summary["streams"])
        # Time per finished partition so far, times the partitions left: the
        # partitions are of one kind (a store x category), so the mean holds.
        eta = round(elapsed / done * left, 1) if done else None
        return {
            "reason": reason,
            "elapsed_seconds": round(elapsed, 1),
            "partitions_done": done,
            "partitions_total": self.stats.partitions_total,
            "requests": requests,
            "retries": summary["retries"],
            "rate_limited_429": summary["rate_limited_429"],
            "requests_per_second": round(requests / elapsed, 2),
            "quota_remaining": summary["quota_remaining"],
            "eta_seconds": eta,
            "records": {name: figures.get("records", 0) for name, figures in streams.items()},
        }

    def report(self, reason: str) -> None:
        """Write one progress line."""
        figures = self.figures(reason)
        with self._lock:
            if self.live:
                sys.stderr.write("\r\x1b[K" + _one_line(figures))
                sys.stderr.flush()
            else:
                logger.info("Progress: %s", json.dumps(figures, sort_keys=True))


def _one_line(figures: dict[str, t.Any]) -> str:
    """The figures as a short human line, for a terminal."""
    eta = figures["eta_seconds"]
    quota = figures["quota_remaining"]
    records = " ".join(f"{k}={v}" for k, v in sorted(figures["records"].items()))
    return (
        f"partitions {figures['partitions_done']}/{figures['partitions_total']}  "
        f"requests {figures['requests']} ({figures['requests_per_second']}/s)  "
        f"retries {figures['retries']}  429s {figures['rate_limited_429']}  "
        f"quota left {'?' if quota is None else quota}"
        f"  ETA {'?' if eta is None else f'{eta:.0f}s'}  {records}"
    )
