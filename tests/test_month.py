"""A month of the default schedules, each job with its own streams (no request)."""

from __future__ import annotations

import math
from pathlib import Path

import yaml

from tap_asos.cover import Cover
from tap_asos.month import (
    DAILY_JOB,
    SNAPSHOT_JOB,
    StoreFacts,
    month_of_default_schedules,
)
from tap_asos.settings import Settings
from tap_asos.tap import STREAM_TYPES

SETTINGS = Settings.from_config({"api_key": "not-used", "page_size": 48})
FEEDS = [("gb", {"3": 140}), ("gb", {"3": 70})]  # 20 and 10 arrivals a day
MELTANO = yaml.safe_load((Path(__file__).resolve().parents[1] / "meltano.yml").read_text())


def _streams_of(plugin: str) -> set[str]:
    """The streams a plugin selects (none listed: every stream of the tap)."""
    extractor = next(e for e in MELTANO["plugins"]["extractors"] if e["name"] == plugin)
    rules = extractor.get("select") or [f"{s.name}.*" for s in STREAM_TYPES]
    return {rule.split(".", 1)[0] for rule in rules}


def test_the_jobs_streams_are_the_scheduled_jobs_selections_in_meltano_yml() -> None:
    jobs = {job["name"]: job["tasks"][0].split()[0] for job in MELTANO["jobs"]}
    scheduled = {jobs[s["job"]] for s in MELTANO["schedules"]}
    assert scheduled == {"tap-asos", "tap-asos--snapshot"}
    assert _streams_of("tap-asos") == DAILY_JOB
    assert _streams_of("tap-asos--snapshot") == SNAPSHOT_JOB


def test_the_daily_run_pays_a_detail_per_arrival_whatever_the_plans_own_streams() -> None:
    cover = Cover((1, 2), frozenset({1, 2, 3}), "2026-12-07T00:00:00+00:00", 4600, pages=110)
    month = month_of_default_schedules(
        FEEDS, [StoreFacts("gb", 573, cover=cover)], SETTINGS, quota_limit=200_000
    )
    per_day = (20, 10)
    pages = sum(max(1, math.ceil((2 * n + 2) / 48)) for n in per_day)
    daily = 2 + 2 + pages + sum(per_day) + math.ceil(sum(per_day) / 50)  # countries, tree x 2
    assert month["daily_run"] == daily == 4 + 2 + 30 + 1
    snapshot = 2 + 2 + 110 + math.ceil(4600 / 50)  # the cover's pages, a stock call per 50
    assert month["weekly_snapshot"] == snapshot
    assert month["weekly_snapshot_priced_from"] == {"gb": "cover"}
    assert month["requests_per_month"] == round(30 * daily + 52 / 12 * snapshot)
    assert month["fits_quota"] is True


def test_without_a_cover_the_snapshot_is_priced_from_the_stores_products() -> None:
    month = month_of_default_schedules(
        FEEDS, [StoreFacts("gb", 573, products=4600.0)], SETTINGS, quota_limit=None
    )
    pages = math.ceil(4600 / 48 + 573 / 10)  # a page per 48, a part-filled one per 10 leaves
    assert month["weekly_snapshot"] == 4 + pages + 92
    assert month["weekly_snapshot_priced_from"] == {"gb": "products"}
    assert month["fits_quota"] is None


def test_a_store_whose_products_are_not_known_leaves_the_snapshot_open() -> None:
    month = month_of_default_schedules(FEEDS, [StoreFacts("gb", 573)], SETTINGS, quota_limit=10)
    assert month["weekly_snapshot"] is None
    assert month["requests_per_month"] is None
    assert month["fits_quota"] is None
    assert month["daily_run"] is not None
    assert month_of_default_schedules([], [], SETTINGS, quota_limit=None)["daily_run"] is None
