"""A month of the default schedules, each job priced with its own selection.

``meltano.yml`` schedules two jobs: the daily ``asos-to-s3`` (``tap-asos``: every stream,
products incremental: the feeds' arrivals, a detail each, a stock call per 50) and the
weekly ``asos-snapshot-to-s3`` (``tap-asos--snapshot``: products as a snapshot and
stock_prices: the store's cover, a stock call per 50).  Whichever job's ``--plan`` is run,
both are priced, each with its job's streams (:data:`DAILY_JOB`, :data:`SNAPSHOT_JOB`),
from the plan's first pages and the state, with no request of its own:

- the daily run from the feeds' first pages, whose ``Last 7 Days`` band
  (:mod:`tap_asos.bands`) gives the arrivals a day: ``ceil((2 x arrivals + 2) /
  page_size)`` pages a feed (the day's arrivals, yesterday's re-read, the stop pair), a
  detail call per arrival, ``ceil(arrivals / 50)`` stock calls a store;
- the weekly snapshot from the store's cover (what reading it cost when it was learned,
  and a stock call per 50 of its products), else from the store's products (counted by
  a run that read every listing, or estimated by a plan that reads them all) at
  ``page_size`` a page, a part-filled page per ten leaves of the tree (the cover's
  listings), a page per listing found empty and a stock call per 50.
"""

from __future__ import annotations

import math
import typing as t
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from tap_asos.cover import Cover
    from tap_asos.settings import Settings

DAILY_RUNS_A_MONTH = 30
SNAPSHOTS_A_MONTH = 52 / 12
DAYS_IN_LAST_7_DAYS_BAND = 7
# The streams of meltano.yml's scheduled jobs (tests/test_month.py reads meltano.yml).
DAILY_JOB = frozenset({"countries", "categories", "products", "product_details", "stock_prices"})
SNAPSHOT_JOB = frozenset({"countries", "categories", "products", "stock_prices"})
# A cover is about a listing per ten leaves of the tree, each with a part-filled page
# (133 listings for 573 leaves at 80,000 products on the sandbox's real tree).
LEAVES_PER_COVER_LISTING = 10


@dataclass(frozen=True)
class StoreFacts:
    """What prices a store's weekly snapshot: its cover, else its products."""

    store: str
    leaves: int  # listings of its tree a full read reads
    cover: Cover | None = None
    products: float | None = None  # counted by a full read, or estimated by the plan
    empty: int = 0  # listings found empty (a cover keeps them, a page each)


def fixed_requests(jobs: frozenset[str], stores: int) -> int:
    """A run's requests before its first partition: countries, and a tree per store."""
    countries = 1 + int("countries" in jobs)  # the stores' check, and the stream
    return countries + stores * (1 + int("categories" in jobs))


def month_of_default_schedules(
    feed_bands: Sequence[tuple[str, Mapping[str, int]]],
    stores: Sequence[StoreFacts],
    settings: Settings,
    *,
    quota_limit: int | None,
) -> dict[str, t.Any]:
    """A month of the default schedules for these stores, against the plan's quota.

    ``feed_bands``: each feed's store and first-page freshness bands.
    """
    daily = daily_run(feed_bands, settings, len(stores))
    snapshot = weekly_snapshot(stores, settings)
    month = (
        None
        if daily is None or snapshot is None
        else round(DAILY_RUNS_A_MONTH * daily + SNAPSHOTS_A_MONTH * snapshot)
    )
    return {
        "daily_run": daily,
        "weekly_snapshot": snapshot,
        "weekly_snapshot_priced_from": {s.store: _source(s) for s in stores},
        "requests_per_month": month,
        "quota_limit": quota_limit,  # x-ratelimit-requests-limit: the plan's monthly quota
        "fits_quota": None if month is None or quota_limit is None else month <= quota_limit,
    }


def _source(store: StoreFacts) -> str | None:
    if store.cover is not None:
        return "cover"
    return None if store.products is None else "products"


def daily_run(
    feed_bands: Sequence[tuple[str, Mapping[str, int]]], settings: Settings, stores: int
) -> int | None:
    """The daily job's requests, from the feeds' freshness bands (see above)."""
    if not feed_bands:
        return None
    arrivals: dict[str, float] = {}
    total = fixed_requests(DAILY_JOB, stores)
    for store, bands in feed_bands:
        per_day = bands.get("3", 0) / DAYS_IN_LAST_7_DAYS_BAND
        total += max(1, math.ceil((2 * per_day + 2) / settings.page_size))
        arrivals[store] = arrivals.get(store, 0.0) + per_day
    total += round(sum(arrivals.values()))  # product_details: one call per arrival
    total += sum(math.ceil(n / settings.stock_batch_size) for n in arrivals.values())
    return total


def weekly_snapshot(stores: Sequence[StoreFacts], settings: Settings) -> int | None:
    """The snapshot job's requests (None: a store whose products are not known yet)."""
    total = fixed_requests(SNAPSHOT_JOB, len(stores))
    for store in stores:
        if store.cover is not None:
            pages, products = float(store.cover.pages), float(store.cover.products)
        elif store.products is not None:
            products = store.products
            pages = (
                products / settings.page_size
                + store.leaves / LEAVES_PER_COVER_LISTING
                + store.empty
            )
        else:
            return None
        total += math.ceil(pages) + math.ceil(products / settings.stock_batch_size)
    return total


__all__ = [
    "DAILY_JOB",
    "SNAPSHOT_JOB",
    "StoreFacts",
    "daily_run",
    "month_of_default_schedules",
    "weekly_snapshot",
]
