"""A month of the default schedules, from a plan's figures (no request)."""

from __future__ import annotations

import math

from tap_asos.estimate import PartitionPlan, Plan
from tap_asos.month import month_of_default_schedules
from tap_asos.settings import Settings

SETTINGS = Settings.from_config({"api_key": "not-used", "page_size": 48})
BOTH = {"products", "product_details", "stock_prices"}


def _snapshot_plan() -> Plan:
    feeds = [
        PartitionPlan("gb", 27110, 900, 19, 900, bands={"3": 140}, feed=True),
        PartitionPlan("gb", 27111, 700, 15, 700, bands={"3": 70}, feed=True),
    ]
    leaf = PartitionPlan("gb", 4209, 3000, 63, 3000)
    return Plan(
        requests={"countries": 1, "categories": 1, "products": 97, "product_details": 4600},
        partitions=[*feeds, leaf],
    )


def test_a_snapshot_plan_prices_the_daily_run_from_the_feeds_last_7_days_band() -> None:
    month = month_of_default_schedules(
        _snapshot_plan(), SETTINGS, full=True, selected=BOTH, quota_limit=200_000
    )
    per_day = (20, 10)  # 140 and 70 in the Last 7 Days band
    pages = sum(max(1, math.ceil((2 * n + 2) / 48)) for n in per_day)
    expected = 2 + pages + sum(per_day) + math.ceil(sum(per_day) / 50)
    assert month["daily_run"] == expected == 2 + 2 + 30 + 1
    assert month["weekly_snapshot"] == 1 + 1 + 97 + 4600
    assert month["requests_per_month"] == round(30 * expected + 52 / 12 * 4699)
    assert month["fits_quota"] is True


def test_without_details_a_daily_run_pays_no_call_per_arrival() -> None:
    month = month_of_default_schedules(
        _snapshot_plan(), SETTINGS, full=True, selected={"products"}, quota_limit=None
    )
    assert month["daily_run"] == 2 + 2
    assert month["fits_quota"] is None


def test_an_incremental_plan_on_the_feeds_is_the_daily_run_and_leaves_the_snapshot_open() -> None:
    plan = Plan(
        requests={"countries": 1, "categories": 1, "products": 2},
        partitions=[PartitionPlan("gb", 27110, 900, 1, 20, feed=True)],
    )
    month = month_of_default_schedules(plan, SETTINGS, full=False, selected=BOTH, quota_limit=10)
    assert month == {
        "daily_run": 4,
        "weekly_snapshot": None,
        "requests_per_month": None,
        "quota_limit": 10,
        "fits_quota": None,
    }
