"""A snapshot's audit of what the arrival feeds missed, on random go-live histories.

Daily runs read the feeds (New in, Back in stock); a weekly snapshot reads every leaf
whole and counts what entered a leaf since the last snapshot that no feed lists
(:meth:`tap_asos.arrivals.ArrivalScan.arrivals`, the tap's ``feed_misses``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_asos.bookmark import Bookmark
from tests.test_arrivals import EPOCH, INITIAL, Listing, run_scan

LEAF_EVENT = st.one_of(
    st.tuples(st.just("arrive"), st.integers(0, 2), st.integers(1, 10**9), st.booleans()),
    st.tuples(st.just("leave"), st.integers(0, 2), st.integers(0, 10**6), st.just(False)),
    st.tuples(st.just("back"), st.integers(0, 2), st.integers(0, 10**6), st.just(False)),
)
WEEKS = st.lists(st.lists(st.lists(LEAF_EVENT, max_size=6), min_size=7, max_size=7), max_size=3)


# derandomize: the same 200 histories on every run. A random search found the history of
# the known-failing test below once in several runs; until it is fixed, the suite must not
# flap on it, and that test holds it.
@settings(max_examples=200, deadline=None, derandomize=True)
@given(INITIAL, WEEKS, st.integers(1, 5), st.booleans())
def test_daily_feed_runs_and_weekly_snapshots_emit_every_arrival_and_count_every_miss(  # noqa: C901, PLR0912, PLR0915 - one history, told in order
    initial: list[tuple[int, int]],
    weeks: list[list[list[tuple[str, int, int, bool]]]],
    page_size: int,
    facet: bool,
) -> None:
    """Daily feed runs and weekly snapshots together lose nothing and count every miss.

    Three leaves, a New-in feed (what went live in the last 56 days, less the arrivals
    that skip it: the boolean) and a Back-in-stock feed (restocks of the last 14 days).
    Each day a run reads the two feeds from their bookmarks; each week a snapshot reads
    every leaf whole and counts what entered a leaf since the last snapshot that neither
    feed lists (the tap's ``feed_misses``).  The union of what they emit holds every
    product that entered a leaf, and every arrival that skipped New in is counted.
    """
    leaves = [Listing() for _ in range(3)]
    for n, (product_id, day) in enumerate(initial):
        leaves[n % 3].listed_day[product_id] = day
    went_live: dict[int, int] = {}
    restocked: dict[int, int] = {}
    skipped: set[int] = set()
    feeds = {"new_in": Listing(), "back": Listing()}
    feed_marks = {name: Bookmark() for name in feeds}
    leaf_marks = [Bookmark() for _ in leaves]
    emitted: set[int] = set()
    entered: set[int] = set()
    misses_counted: set[int] = set()
    unaudited: set[int] = set()  # in a leaf the audit could not read, when it was read
    day = 0
    for week in weeks:
        for events in week:
            day += 1
            for leaf in [*leaves, *feeds.values()]:
                leaf.day = day
            for kind, index, value, skip in events:
                leaf = leaves[index]
                present = leaf.order()
                if kind == "arrive" and all(value not in x.listed_day for x in leaves):
                    if any(value in x.gone for x in leaves):
                        continue
                    leaf.arrive(value)
                    entered.add(value)
                    went_live[value] = day
                    if skip:
                        skipped.add(value)
                elif kind == "leave" and present:
                    leaf.leave(present[value % len(present)])
                elif kind == "back" and leaf.gone:
                    returning = sorted(leaf.gone)[value % len(leaf.gone)]
                    leaf.come_back(returning)
                    entered.add(returning)
                    restocked[returning] = day
            # The feeds as the sandbox serves them.
            live = {i: d for x in leaves for i, d in x.listed_day.items()}
            feeds["new_in"].listed_day = {
                i: d
                for i, d in went_live.items()
                if i in live and day - d < 56 and i not in skipped
            }
            feeds["back"].listed_day = {
                i: d for i, d in restocked.items() if i in live and day - d < 14
            }
            now = EPOCH + timedelta(days=day, hours=12)
            for name, feed in feeds.items():
                got, scan, _pages = run_scan(feed, feed_marks[name], now, page_size, facet=True)
                emitted |= got
                feed_marks[name] = scan.next_bookmark()
        # The weekly snapshot: every leaf whole, audited against the feeds.
        now = EPOCH + timedelta(days=day, hours=18)
        listed = {i for feed in feeds.values() for i in feed.listed_day}
        for n, leaf in enumerate(leaves):
            got, scan, _pages = run_scan(
                leaf, leaf_marks[n], now, page_size, facet=facet, everything=True
            )
            emitted |= got
            arrivals = scan.arrivals()
            if arrivals is not None:
                misses_counted |= set(arrivals) - listed
            elif leaf_marks[n].checked_at is not None:
                # Only a leaf without the facet whose anchors are all gone cannot tell.
                assert not facet
                unaudited |= set(leaf.listed_day)
            leaf_marks[n] = scan.next_bookmark()
        if weeks.index(week) > 0:
            # What skipped New in since the first snapshot and no feed lists: counted.
            since_first = {
                i for i in skipped - listed if went_live[i] > 7 and i in listed_now(leaves)
            }
            assert since_first <= misses_counted | unaudited, sorted(since_first - misses_counted)
    live_now = listed_now(leaves)
    assert entered & live_now <= emitted, sorted((entered & live_now) - emitted)


@pytest.mark.xfail(
    strict=True,
    reason="known, open: the last snapshot's anchor pair, both back in stock on one day, is "
    "taken for the pair; an arrival listed below them that skipped New in is emitted by "
    "the snapshot but not counted in feed_misses",
)
def test_an_anchor_pair_back_in_stock_together_hides_no_miss_below_it() -> None:
    """The history random search found: the week-3 snapshot must count the skipped arrival.

    Day 13: three arrivals. Day 19: all three leave, and one arrival skips New in. Day 20:
    two of the three come back, adjacent, above it.
    """
    quiet: list[list[tuple[str, int, int, bool]]] = [[] for _ in range(7)]
    second = [
        *quiet[:5],
        [("arrive", 0, 2, False), ("arrive", 0, 3, False), ("arrive", 0, 4, False)],
        [],
    ]
    third = [
        *quiet[:4],
        [*[("leave", 0, 0, False)] * 3, ("arrive", 0, 1, True)],
        [("back", 0, 0, False), ("back", 0, 0, False)],
        [],
    ]
    history = test_daily_feed_runs_and_weekly_snapshots_emit_every_arrival_and_count_every_miss
    history.hypothesis.inner_test(  # type: ignore[attr-defined]
        initial=[], weeks=[quiet, second, third], page_size=1, facet=True
    )


def listed_now(leaves: list[Listing]) -> set[int]:
    return {i for leaf in leaves for i in leaf.listed_day}
