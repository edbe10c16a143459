"""A month of the default schedules (daily runs, weekly snapshots), against the quota.

From a plan (:mod:`tap_asos.plan`), no request of its own: an incremental plan is the
daily run; a snapshot plan is the weekly snapshot, whose feeds' ``Last 7 Days`` band
(:mod:`tap_asos.bands`) gives the arrivals a day a daily run would read.
"""

from __future__ import annotations

import math
import typing as t

if t.TYPE_CHECKING:
    from tap_asos.estimate import Plan
    from tap_asos.settings import Settings

DAILY_RUNS_A_MONTH = 30
SNAPSHOTS_A_MONTH = 52 / 12
DAYS_IN_LAST_7_DAYS_BAND = 7


def month_of_default_schedules(
    plan: Plan,
    settings: Settings,
    *,
    full: bool,
    selected: set[str],
    quota_limit: int | None,
) -> dict[str, t.Any]:
    """A month of the default schedules for these stores, against the plan's quota.

    An incremental plan is the daily run; a snapshot plan (FULL_TABLE) is the weekly
    snapshot, and it reads the feeds' first pages too, whose ``Last 7 Days`` band gives
    the arrivals a day a daily run would read: ``ceil((2 x arrivals + 2) / page_size)``
    pages a feed (the day's arrivals, yesterday's re-read, the stop pair), one detail
    call per arrival, ``ceil(arrivals / 50)`` stock calls a store.  The other half is
    left null: plan the other job to get it (``meltano invoke tap-asos--snapshot --plan``).
    """
    daily: int | None = None
    snapshot: int | None = None
    if full:
        snapshot = plan.total
        daily = daily_from_feeds(plan, settings, selected)
    elif plan.partitions and all(p.feed for p in plan.partitions):
        daily = plan.total  # a daily run on the feeds (not a first run over every leaf)
    month = (
        None
        if daily is None or snapshot is None
        else round(DAILY_RUNS_A_MONTH * daily + SNAPSHOTS_A_MONTH * snapshot)
    )
    return {
        "daily_run": daily,
        "weekly_snapshot": snapshot,
        "requests_per_month": month,
        "quota_limit": quota_limit,  # x-ratelimit-requests-limit: the plan's monthly quota
        "fits_quota": None if month is None or quota_limit is None else month <= quota_limit,
    }


def daily_from_feeds(plan: Plan, settings: Settings, selected: set[str]) -> int | None:
    """A daily run's requests, from the feeds' freshness bands (see above)."""
    feeds = [p for p in plan.partitions if p.feed and p.bands]
    if not feeds:
        return None
    arrivals: dict[str, float] = {}
    total = plan.fixed
    for part in feeds:
        bands = part.bands or {}
        per_day = bands.get("3", 0) / DAYS_IN_LAST_7_DAYS_BAND
        total += max(1, math.ceil((2 * per_day + 2) / settings.page_size))
        arrivals[part.store] = arrivals.get(part.store, 0.0) + per_day
    if "product_details" in selected:
        total += round(sum(arrivals.values()))
    if "stock_prices" in selected:
        total += sum(math.ceil(n / settings.stock_batch_size) for n in arrivals.values())
    return total
