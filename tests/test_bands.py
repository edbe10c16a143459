"""The ``freshness_band`` facet: counts read from real pages, limits and floors by day."""

from __future__ import annotations

import json
import typing as t
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tap_asos.bands import band_counts, band_floor, band_limit

SAMPLES = Path(__file__).parent / "fixtures" / "real"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
BANDS = {"1": 3, "2": 5, "3": 20, "4": 40, "5": 90}


def test_band_counts_reads_the_real_facet_cumulatively() -> None:
    page = t.cast(
        "dict[str, t.Any]",
        json.loads((SAMPLES / "products-v2-list-category-2023.json").read_text()),
    )
    bands = band_counts(page)
    assert bands is not None
    assert list(bands) == ["1", "2", "3", "4", "5"]
    assert bands["1"] == 17
    assert bands["2"] == 31
    assert list(bands.values()) == sorted(bands.values())  # cumulative


def test_a_band_left_out_holds_what_the_band_before_holds() -> None:
    body = {
        "facets": [
            {
                "id": "freshness_band",
                "facetValues": [{"id": "1", "count": 4}, {"id": "3", "count": 9}],
            }
        ]
    }
    assert band_counts(body) == {"1": 4, "2": 4, "3": 9, "4": 9, "5": 9}
    assert band_counts({"facets": [{"id": "brand", "facetValues": []}]}) is None


def test_band_limit_covers_the_last_run_with_two_days_to_spare() -> None:
    assert band_limit(BANDS, NOW, NOW) == 20  # same day: 3 days with the margin
    assert band_limit(BANDS, NOW - timedelta(days=4), NOW) == 20
    assert band_limit(BANDS, NOW - timedelta(days=5), NOW) == 40
    assert band_limit(BANDS, NOW - timedelta(days=25), NOW) == 90
    assert band_limit(BANDS, NOW - timedelta(days=26), NOW) is None
    assert band_limit(None, NOW, NOW) is None
    assert band_limit(BANDS, None, NOW) is None


def test_band_floor_counts_only_what_surely_arrived_since_the_day() -> None:
    # Same day or the day before: the margin leaves no band that surely covers it.
    assert band_floor(BANDS, NOW, NOW) == 0
    assert band_floor(BANDS, NOW - timedelta(days=2), NOW) == 3  # Today surely
    assert band_floor(BANDS, NOW - timedelta(days=3), NOW) == 5  # and Yesterday
    assert band_floor(BANDS, NOW - timedelta(days=8), NOW) == 20
    assert band_floor(BANDS, NOW - timedelta(days=40), NOW) == 90
    assert band_floor(None, NOW, NOW) == 0
    assert band_floor(BANDS, None, NOW) == 0
