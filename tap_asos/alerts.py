"""End-of-run summary (log line + SDK metrics) and Slack-compatible webhook alerts.

Alerts fire on a failed run, on an API quota below ``alert_quota_threshold``, on a run
that extracted nothing, on API drift (top-level fields no schema declares) and on a
snapshot that found arrivals the daily runs' feeds missed (``feed_misses``) or products its
cover did not hold (``cover_misses``). Their JSON
carries the run's figures only: never a setting, never the key.
"""

from __future__ import annotations

import enum
import json
import logging
import typing as t

import requests
from singer_sdk import metrics

if t.TYPE_CHECKING:
    from collections.abc import Mapping

logger = logging.getLogger("tap-asos")


class RunMetric(str, enum.Enum):
    """Names of the per-stream counters in the run summary (SDK metric points)."""

    RECORDS = "tap_asos_records"
    REQUESTS = "tap_asos_requests"
    RETRIES = "tap_asos_retries"
    RATE_LIMITED_429 = "tap_asos_rate_limited_429"
    PAGES = "tap_asos_pages"
    SPLIT_LISTINGS = "tap_asos_split_listings"
    UNREACHABLE_PRODUCTS = "tap_asos_unreachable_products"
    DRIFTED_RECORDS = "tap_asos_drifted_records"
    EARLIER_DAYS = "tap_asos_earlier_days"
    BOOKMARKS_LOST = "tap_asos_bookmarks_lost"
    ORDER_BREAKS = "tap_asos_order_breaks"
    FEED_MISSES = "tap_asos_feed_misses"
    COVER_MISSES = "tap_asos_cover_misses"


# Stream counters that alert when above zero (summed over every stream), with why.
COUNTER_ALERTS = {
    "unreachable_products": "{} products lie deeper than max_listing_offset and outside "
    "every facet slice: narrow category_ids or raise max_listing_offset",
    "order_breaks": "{} breaks of the listing order incremental runs rely on (ids ascending "
    "inside a day, anchors in place): new arrivals may be missed; take a snapshot",
    "feed_misses": "{} products entered a leaf category since the last snapshot but are in "
    "no arrival feed: daily runs missed them (this snapshot emitted them); see feed_misses "
    "in the docs",
    "cover_misses": "{} products were on no listing of the store's snapshot cover, only on "
    "listings the tree gained since (this snapshot emitted them, the listings join the "
    "cover); see cover_misses in docs/cost.md",
}


def emit_summary(summary: Mapping[str, t.Any]) -> None:
    """Log the summary as one JSON line and as SDK metric points (one per stream)."""
    logger.info("Run summary: %s", json.dumps(summary, sort_keys=True))
    metrics_logger = metrics.get_metrics_logger()
    for stream, figures in summary.get("streams", {}).items():
        for metric in RunMetric:
            point = metrics.Point(
                "counter",
                metric=metric,  # type: ignore[arg-type]
                value=int(figures.get(metric.value.removeprefix("tap_asos_"), 0)),
                tags={"stream": stream},
            )
            metrics.log(metrics_logger, point)


def alert_reasons(
    summary: Mapping[str, t.Any], *, failed: str | None, quota_threshold: int
) -> list[str]:
    """Why this run deserves an alert (empty: it does not)."""
    reasons = []
    if failed:
        reasons.append(f"run failed: {failed}")
    remaining = summary.get("quota_remaining")
    if remaining is not None and quota_threshold and remaining < quota_threshold:
        reasons.append(f"API quota low: {remaining} requests left (< {quota_threshold})")
    if not failed and not summary.get("budget_exhausted") and summary.get("records") == 0:
        reasons.append("run extracted no records")
    for counter, reason in COUNTER_ALERTS.items():
        total = sum(int(f.get(counter, 0)) for f in summary.get("streams", {}).values())
        if total:
            reasons.append(reason.format(total))
    for stream, fields in sorted((summary.get("unknown_fields") or {}).items()):
        named = ", ".join(f"{name} ({count} records)" for name, count in sorted(fields.items()))
        reasons.append(
            f"API drift: {stream} records carry fields the schema does not declare, "
            f"dropped: {named}"
        )
    return reasons


def send_alert(url: str, reasons: list[str], summary: Mapping[str, t.Any]) -> bool:
    """POST a Slack-compatible message; report (never raise) delivery problems."""
    text = "tap-asos: " + "; ".join(reasons)
    body = {"text": text, "source": "tap-asos", "reasons": reasons, "summary": dict(summary)}
    try:
        response = requests.post(url, json=body, timeout=10)
        response.raise_for_status()
    except requests.RequestException as exc:
        # The URL itself may embed a token (Slack hooks do): name the error type only.
        logger.warning("Alert webhook delivery failed: %s", type(exc).__name__)
        return False
    logger.info("Alert sent: %s", text)
    return True
