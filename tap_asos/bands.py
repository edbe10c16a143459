"""The ``freshness_band`` facet: how deep a listing holds what arrived since a day.

What the real API shows (``../shared/asos-api``; ``tests/fixtures/real``): some listings
carry a ``freshness_band`` facet ("New in date") whose values are 1 Today, 2 Yesterday,
3 Last 7 Days, 4 Last 14 Days and 5 Last 28 Days, with **cumulative** counts; a band
with no product may be left out.  Under ``sort=freshness`` the first ``count`` products
of a band are exactly those it covers (the day blocks, :mod:`tap_asos.arrivals`).  The
API's day may not be UTC's, so a span is widened (a limit) or narrowed (a floor) by
:data:`DAY_MARGIN` days.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from datetime import datetime

FRESHNESS_FACET = "freshness_band"
# Value id of each band and the days it covers, today included (counts are cumulative).
BANDS = (("1", 1), ("2", 2), ("3", 7), ("4", 14), ("5", 28))
# The API's day may differ from UTC's by up to one at either end of a span.
DAY_MARGIN = 2


def band_counts(payload: dict[str, t.Any]) -> dict[str, int] | None:
    """The cumulative counts of a listing's ``freshness_band`` facet; None without it."""
    for facet in payload.get("facets") or []:
        if isinstance(facet, dict) and facet.get("id") == FRESHNESS_FACET:
            counts = {
                str(v.get("id")): int(v.get("count") or 0)
                for v in facet.get("facetValues") or []
                if isinstance(v, dict)
            }
            # A band with no product may be left out; it holds what the band before holds.
            filled: dict[str, int] = {}
            last = 0
            for value, _days in BANDS:
                last = max(last, counts.get(value, last))
                filled[value] = last
            return filled
    return None


def band_limit(bands: dict[str, int] | None, since: datetime | None, now: datetime) -> int | None:
    """How deep a listing holds every product listed since ``since``; None: unknown."""
    if bands is None or since is None:
        return None
    needed = (now.date() - since.date()).days + 1 + DAY_MARGIN
    for value, days in BANDS:
        if days >= needed:
            return bands[value]
    return None


def band_floor(bands: dict[str, int] | None, since: datetime | None, now: datetime) -> int:
    """How many products lead a listing that were surely listed on ``since``'s day or later.

    They lie above every block older than that day: 0 when the bands cannot tell.
    """
    if bands is None or since is None:
        return 0
    surely = (now.date() - since.date()).days + 1 - DAY_MARGIN
    return max((bands[value] for value, days in BANDS if days <= surely), default=0)
