"""The incremental scan on bare listings: a model of the real API's order, and real pages.

The model follows what real pages show (``tap_asos/arrivals.py``): day blocks newest
first, ids ascending inside a day, ids given at creation (any value), restocked
products back in today's block with their old id, products leaving.  Hypothesis
draws the history; every run must emit every product that entered the listing since
the run before it.
"""

from __future__ import annotations

import itertools
import json
import math
import typing as t
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tap_asos.arrivals import ANCHORS, ArrivalScan
from tap_asos.bands import DAY_MARGIN, band_counts
from tap_asos.bookmark import Bookmark
from tap_asos.state import bookmark_of, write_bookmark

SAMPLES = Path(__file__).parent / "fixtures" / "real"  # the real samples, see README there
EPOCH = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
BAND_DAYS = (
    ("1", "Today", 1),
    ("2", "Yesterday", 2),
    ("3", "7", 7),
    ("4", "14", 14),
    ("5", "28", 28),
)


@dataclass
class Listing:
    """One store x category as the real API orders it, moved by events."""

    day: int = 0
    listed_day: dict[int, int] = field(default_factory=dict)  # present products
    gone: set[int] = field(default_factory=set)

    def arrive(self, product_id: int) -> None:
        self.listed_day[product_id] = self.day

    def leave(self, product_id: int) -> None:
        self.listed_day.pop(product_id, None)
        self.gone.add(product_id)

    def come_back(self, product_id: int) -> None:
        self.gone.discard(product_id)
        self.listed_day[product_id] = self.day  # back in today's block, old id

    def order(self) -> list[int]:
        return sorted(self.listed_day, key=lambda i: (-self.listed_day[i], i))

    def payload(self, *, facet: bool) -> dict[str, t.Any]:
        if not facet:
            return {"itemCount": len(self.listed_day), "facets": []}
        ages = [self.day - d for d in self.listed_day.values()]
        values = [
            {"id": v, "name": n, "count": sum(a < days for a in ages)} for v, n, days in BAND_DAYS
        ]
        return {
            "itemCount": len(self.listed_day),
            "facets": [{"id": "freshness_band", "facetValues": values}],
        }


def run_scan(  # noqa: PLR0913 - the scan's inputs, all named
    listing: Listing,
    bookmark: Bookmark,
    now: datetime,
    page_size: int,
    *,
    facet: bool,
    everything: bool = False,
    regains: bool = False,
) -> tuple[set[int], ArrivalScan, int]:
    """Page through the listing as the tap does; return emitted ids, the scan, pages read.

    The first page is read even of an empty listing, as the tap does; ``everything``: a
    snapshot's read (every product emitted, what entered since the bookmark audited);
    ``regains``: a New-in list (a product back in stock returns to its old block).
    """
    scan = ArrivalScan(bookmark, now, everything=everything, regains=regains)
    order, payload = listing.order(), listing.payload(facet=facet)
    emitted: set[int] = set()
    pages = 0
    for offset in range(0, max(1, len(order)), page_size):
        page = [{"id": i} for i in order[offset : offset + page_size]]
        pages += 1
        emitted |= {p["id"] for _position, p in scan.feed(page, payload)}
        if scan.done:
            break
    emitted |= {p["id"] for _position, p in scan.finish()}
    return emitted, scan, pages


def restock_two_anchors(listing: Listing, anchors: tuple[int, ...], value: int) -> set[int]:
    """Two of ``anchors`` (``value`` picks which) sell out and come back now; what came back."""
    pairs = list(itertools.combinations(anchors, 2)) or [()]
    back = {i for i in pairs[value % len(pairs)] if i in listing.listed_day or i in listing.gone}
    for product_id in sorted(back):
        listing.leave(product_id)
        listing.come_back(product_id)
    return back


def frozen_tail(listing: Listing, bookmark: Bookmark) -> dict[int, int]:
    """What a finished run's ``bookmark`` calls the frozen part, then: id -> day listed."""
    order = listing.order()
    if bookmark.frozen is None:
        return {}
    return {i: listing.listed_day[i] for i in order[len(order) - bookmark.frozen :]}


def frozen_start(listing: Listing, tail: dict[int, int]) -> int:
    """Where what is left of a bookmark's frozen part (``tail``) starts in the listing now."""
    order = listing.order()
    still = [i for i in order if tail.get(i) == listing.listed_day[i]]
    start = len(order) - len(still)
    assert order[start:] == still  # it only loses products, and stays at the end
    return start


def fooled(  # noqa: PLR0913 - the run's inputs, all named
    listing: Listing,
    bookmark: Bookmark,
    tail: dict[int, int],
    page_size: int,
    *,
    facet: bool,
    everything: bool = False,
) -> bool:
    """Whether a run now can take two anchors back in stock for its stop (it then misses).

    The one case the scan cannot tell (docs/incremental.md), from the history: ``tail``
    is the frozen part when ``bookmark`` was written (:func:`frozen_tail`).  Two anchors
    above what is left of it (so both came back in stock since), next to each other and
    in their old order, below the head block and every band surely listed since the
    last run's day, within as many places of the listing's end as the frozen part can
    still hold, and followed, as far as the run reads (a snapshot: to the end; else to
    the end of the page), by what could follow them there.
    """
    anchors, frozen, since = bookmark.anchors, bookmark.frozen, bookmark.checked_at
    if frozen is None or since is None:
        return False
    order, start = listing.order(), frozen_start(listing, tail)
    if facet:
        head = sum(d == listing.day for d in listing.listed_day.values())
        gap = (EPOCH.date() + timedelta(days=listing.day) - since.date()).days
        surely = max((days for *_, days in BAND_DAYS if days <= gap + 1 - DAY_MARGIN), default=0)
        floor = sum(listing.day - d < surely for d in listing.listed_day.values())
    else:  # the head ends at the first fall in the ids
        head = next((p for p in range(1, len(order)) if order[p] < order[p - 1]), len(order))
        floor = 0
    for p in range(max(head, floor), start - 1):
        if order[p] not in anchors or order[p + 1] not in anchors:
            continue
        first, second = anchors.index(order[p]), anchors.index(order[p + 1])
        cannot_be_in = {k for k, a in enumerate(anchors) if k < second or a in order[:p]} - {
            first,
            second,
        }
        end = len(order) if everything else ((p + 1) // page_size + 1) * page_size  # its page
        if (
            first < second
            and len(order) - p <= frozen - len(cannot_be_in)
            and could_follow(order[p + 2 : end], anchors, second, frozen - len(anchors))
        ):
            return True
    return False


def could_follow(after: list[int], anchors: tuple[int, ...], last: int, others: int) -> bool:
    """Whether ``after`` can follow anchor ``last`` in the frozen part.

    Later anchors in their order, then at most ``others`` products that are not anchors.
    """
    indexes = [anchors.index(i) if i in anchors else None for i in after]
    leading = list(itertools.takewhile(lambda k: k is not None, indexes))
    rest = indexes[len(leading) :]
    return (
        all(a < b for a, b in itertools.pairwise([last, *leading]))  # type: ignore[operator]
        and all(k is None for k in rest)
        and len(rest) <= others
    )


# A history: per day, a list of events; "run" runs the tap at that moment.
EVENT = st.one_of(
    st.tuples(st.just("arrive"), st.integers(1, 10**9)),
    st.tuples(st.just("leave"), st.integers(0, 10**6)),
    st.tuples(st.just("back"), st.integers(0, 10**6)),
    # Two anchors of the last run's bookmark sell out and come back together, now.
    st.tuples(st.just("restock"), st.integers(0, 10**6)),
    st.tuples(st.just("run"), st.just(0)),
)
HISTORY = st.lists(st.lists(EVENT, max_size=14), min_size=1, max_size=7)
INITIAL = st.lists(st.tuples(st.integers(1, 10**9), st.integers(-40, 0)), max_size=60)


@dataclass
class Run:
    """One run of a replayed history, and what the history says of it."""

    emitted: set[int]
    entered: set[int]  # what entered the listing since the last run, still listed
    scan: ArrivalScan
    pages: int
    reach: int  # how many products are listed on the last run's day or later
    fooled: bool  # the one case the scan cannot tell (:func:`fooled`)


def replay(
    initial: list[tuple[int, int]],
    history: list[list[tuple[str, int]]],
    page_size: int,
    *,
    facet: bool,
    upgrade_at: int | None = None,
) -> list[Run]:
    """Play a history; every run, with what entered the listing since the one before."""
    listing = Listing()
    for product_id, day in initial:
        listing.listed_day[product_id] = day
    bookmark = Bookmark()
    tail: dict[int, int] = {}
    entered: set[int] = set(listing.listed_day)
    runs: list[Run] = []
    last_run_day: int | None = None
    for day, events in enumerate(history):
        listing.day = day
        for minute, (kind, value) in enumerate(events):
            present = listing.order()
            if kind == "arrive" and value not in listing.listed_day and value not in listing.gone:
                listing.arrive(value)
                entered.add(value)
            elif kind == "leave" and present:
                listing.leave(present[value % len(present)])
            elif kind == "back" and listing.gone:
                returning = sorted(listing.gone)[value % len(listing.gone)]
                listing.come_back(returning)
                entered.add(returning)
            elif kind == "restock":
                entered |= restock_two_anchors(listing, bookmark.anchors, value)
            elif kind == "run":
                now = EPOCH + timedelta(days=day, minutes=minute)
                if upgrade_at is not None and len(runs) == upgrade_at:
                    bookmark = Bookmark((), bookmark.checked_at)  # state of an older release
                # What a run must read: every block from the last run's day on.
                reach = sum(
                    1
                    for d in listing.listed_day.values()
                    if last_run_day is None or d >= last_run_day
                )
                blind = fooled(listing, bookmark, tail, page_size, facet=facet)
                emitted, scan, pages = run_scan(listing, bookmark, now, page_size, facet=facet)
                listed = entered & set(listing.listed_day)
                runs.append(Run(emitted, listed, scan, pages, reach, blind))
                bookmark = scan.next_bookmark()
                tail = frozen_tail(listing, bookmark)
                entered = set()
                last_run_day = day
    return runs


@settings(max_examples=300, deadline=None)
@given(INITIAL, HISTORY, st.integers(1, 6), st.booleans())
def test_every_run_emits_every_product_that_entered_since_the_last(
    initial: list[tuple[int, int]],
    history: list[list[tuple[str, int]]],
    page_size: int,
    facet: bool,
) -> None:
    for run in replay(initial, history, page_size, facet=facet):
        lost = run.entered - run.emitted
        # The one case it cannot tell, and only that, loses a product: the second anchor.
        assert bool(lost) == run.fooled, f"lost {sorted(lost)} ({run.scan.stopped_by})"
        assert run.scan.counts.order_breaks == 0  # the model keeps the day-block rule


@settings(max_examples=150, deadline=None)
@given(INITIAL, HISTORY, st.integers(1, 6), st.integers(0, 3))
def test_state_of_an_older_release_is_upgraded_without_loss(
    initial: list[tuple[int, int]],
    history: list[list[tuple[str, int]]],
    page_size: int,
    upgrade_at: int,
) -> None:
    for run in replay(initial, history, page_size, facet=True, upgrade_at=upgrade_at):
        assert run.fooled or run.entered <= run.emitted


@settings(max_examples=300, deadline=None)
@given(INITIAL, HISTORY, st.integers(1, 6), st.booleans())
def test_a_run_reads_about_what_is_new_and_no_more(
    initial: list[tuple[int, int]],
    history: list[list[tuple[str, int]]],
    page_size: int,
    facet: bool,
) -> None:
    runs = replay(initial, history, page_size, facet=facet)
    for index, run in enumerate(runs):
        if index == 0 or run.scan.stopped_by != "anchor" or not facet or run.fooled:
            continue
        # The blocks since the last run's day, then the page holding the anchor pair.
        assert run.pages <= math.ceil((run.reach + 2) / page_size) + 1


def _sample_pages(name: str) -> dict[str, t.Any]:
    return t.cast("dict[str, t.Any]", json.loads((SAMPLES / name).read_text()))


def test_real_pages_show_day_blocks_of_ascending_ids_sized_by_the_facet() -> None:
    page = _sample_pages("products-v2-list-category-2023.json")
    ids = [p["id"] for p in page["products"]]
    breaks = [i for i in range(1, len(ids)) if ids[i] < ids[i - 1]]
    bands = band_counts(page)
    assert bands is not None
    assert breaks[:2] == [bands["1"], bands["2"]] == [17, 31]
    # Ids do not grow with go-live: Yesterday's block reaches below and above Today's.
    today, yesterday = ids[:17], ids[17:31]
    assert min(yesterday) < min(today) < max(today) < max(yesterday)
    scan = ArrivalScan(Bookmark(), EPOCH)
    scan.feed(page["products"], page)
    assert scan.counts.order_breaks == 0


def test_real_new_arrivals_replayed_in_their_real_order_are_all_emitted() -> None:
    """Day 1 serves the real page without its Today and Yesterday blocks, day 2 all of it."""
    page = _sample_pages("products-v2-list-category-2023.json")
    products = page["products"]
    for facet in (True, False):
        for page_size in (12, 5, 48):
            day1 = products[31:]
            # The same listing a day earlier, without those 31; its bands are not known.
            body1 = {"itemCount": page["itemCount"] - 31, "facets": []}
            first = ArrivalScan(Bookmark(), EPOCH)
            for offset in range(0, len(day1), page_size):
                first.feed(day1[offset : offset + page_size], body1)
            body2 = page if facet else {"itemCount": page["itemCount"], "facets": []}
            second = ArrivalScan(first.next_bookmark(), EPOCH + timedelta(days=1))
            emitted: set[int] = set()
            for offset in range(0, len(products), page_size):
                emitted |= {
                    p["id"] for _, p in second.feed(products[offset : offset + page_size], body2)
                }
                if second.done:
                    break
            emitted |= {p["id"] for _, p in second.finish()}
            new = {p["id"] for p in products[:31]}
            assert new <= emitted, (facet, page_size, len(new - emitted))
            assert second.stopped_by == "anchor"
            # It stops on the anchors: most of the older part is not emitted again.
            assert len(emitted - new) < len(day1)


def test_the_bookmark_is_a_few_anchors_whatever_the_listing_size() -> None:
    small, large = Listing(), Listing()
    for i in range(30):
        small.listed_day[i * 7919 % 1000] = -(i // 5)
    for i in range(30_000):
        large.listed_day[i * 7919 % 1_000_003] = -(i // 500)
    sizes = []
    for listing in (small, large):
        _, scan, _ = run_scan(listing, Bookmark(), EPOCH, 48, facet=True)
        entry: dict[str, object] = {}
        write_bookmark(entry, scan.next_bookmark())
        state = json.dumps(entry)
        assert len(scan.next_bookmark().anchors) == ANCHORS
        sizes.append(len(state))
    assert max(sizes) < 150


def test_an_anchor_back_on_top_is_a_restock_not_the_stop() -> None:
    listing = Listing(day=0, listed_day={5: 0, 9: 0, 3: -1, 8: -1, 1: -2, 2: -2, 4: -3})
    _, first, _ = run_scan(listing, Bookmark(), EPOCH, 2, facet=True)
    assert first.next_bookmark().anchors == (3, 8, 1, 2, 4)
    listing.day = 1
    listing.leave(3)
    listing.come_back(3)  # restocked: on top today, old id
    listing.arrive(7)
    emitted, second, _ = run_scan(
        listing, first.next_bookmark(), EPOCH + timedelta(days=1), 2, facet=True
    )
    assert {3, 7, 5, 9} <= emitted
    assert second.stopped_by == "anchor"
    assert not {2, 4} & emitted  # the frozen part below the anchor pair 8, 1


def test_a_visible_break_of_the_day_order_is_counted() -> None:
    body = {
        "facets": [
            {
                "id": "freshness_band",
                "facetValues": [{"id": "1", "count": 4}, {"id": "2", "count": 6}],
            }
        ]
    }
    scan = ArrivalScan(Bookmark(), EPOCH)
    scan.feed([{"id": i} for i in (1, 5, 3, 9, 2, 4, 1)], body)
    assert scan.counts.order_breaks == 1  # 5 -> 3 inside Today; 9 -> 2 is the block edge


def test_bookmark_round_trips_and_reads_state_of_an_older_release() -> None:
    bookmark = Bookmark((4, 5, 6), EPOCH)
    entry: dict[str, object] = {}
    write_bookmark(entry, bookmark)
    assert bookmark_of(json.loads(json.dumps(entry))) == bookmark
    old = {
        "replication_key": "id",
        "replication_key_value": 203888938,
        "checked_at": EPOCH.isoformat(),
    }
    assert bookmark_of(old) == Bookmark((), EPOCH)
    assert bookmark_of({}) == Bookmark()


def test_two_anchors_back_on_top_today_are_not_taken_for_the_frozen_part() -> None:
    listing = Listing(day=0, listed_day={9: 0, 3: -1, 8: -1, 1: -2, 2: -2, 4: -3})
    _, first, _ = run_scan(listing, Bookmark(), EPOCH, 3, facet=True)
    listing.day = 1
    for product_id in (3, 8):  # both restocked today: adjacent, in order, in Today
        listing.leave(product_id)
        listing.come_back(product_id)
    listing.leave(2)
    listing.leave(4)  # sold out: the frozen part may have moved up to the top
    listing.arrive(10)
    emitted, second, _ = run_scan(
        listing, first.next_bookmark(), EPOCH + timedelta(days=1), 3, facet=True
    )
    assert listing.order() == [3, 8, 10, 9, 1]
    assert {3, 8, 10, 9} <= emitted
    assert second.stopped_by != "anchor"  # 1 alone: the bands bound the read


def test_two_anchors_back_in_the_last_runs_day_are_not_taken_for_the_frozen_part() -> None:
    # Monday's run sees [9 | 3, 8, 1, 2, 4]; later on Monday 3 and 8 are restocked and
    # 10 arrives; on Tuesday (nothing new yet) the listing is [3, 8, 9, 10 | 1, 2, 4].
    # The frozen part had 5 products and can only have lost some: with 7 listed, it
    # starts at position 2 or lower, so the pair (3, 8) above it is not the stop.
    listing = Listing(day=0, listed_day={9: 0, 3: -1, 8: -1, 1: -2, 2: -2, 4: -3})
    _, first, _ = run_scan(listing, Bookmark(), EPOCH, 3, facet=True)
    assert first.next_bookmark().frozen == 5
    for product_id in (3, 8):
        listing.leave(product_id)
        listing.come_back(product_id)
    listing.arrive(10)
    listing.day = 1
    emitted, second, _ = run_scan(
        listing, first.next_bookmark(), EPOCH + timedelta(days=1), 3, facet=True
    )
    assert listing.order() == [3, 8, 9, 10, 1, 2, 4]
    assert {3, 8, 9, 10} <= emitted
    assert second.stopped_by == "anchor"


def test_anchors_that_cannot_lie_below_a_pair_bound_where_it_can_be() -> None:
    # Monday's run sees [| 10, 20, 30, 40, 50]; later on Monday 50 sells out, 60 arrives,
    # and 30 and 40 sell out and come back: on Tuesday [30, 40, 60 | 10, 20].  The five
    # places from 30 down fit a frozen part of five, but not one without 10 and 20, which
    # would lie above 30 in it: the pair is no stop, however little of the page shows.
    listing = Listing(day=0, listed_day=dict.fromkeys((10, 20, 30, 40, 50), -1))
    _, first, _ = run_scan(listing, Bookmark(), EPOCH, 2, facet=True)
    mark = first.next_bookmark()
    assert (mark.anchors, mark.frozen) == ((10, 20, 30, 40, 50), 5)
    listing.leave(50)
    listing.arrive(60)
    for product_id in (30, 40):
        listing.leave(product_id)
        listing.come_back(product_id)
    listing.day = 1
    assert listing.order() == [30, 40, 60, 10, 20]
    for page_size in (1, 2):
        emitted, scan, _ = run_scan(listing, mark, EPOCH + timedelta(days=1), page_size, facet=True)
        assert {30, 40, 60} <= emitted
        assert scan.stopped_by == "anchor"  # at 10, 20


def test_a_new_in_list_may_regain_a_product_in_its_old_block_and_still_stops() -> None:
    # Monday's run sees [9 | 1, 2, 3, 4, 5, 7, 8] (6 sold out that day); on Tuesday 6 is
    # back in its go-live block, as New in keeps it: [9 | 1, 2, 3, 4, 5, 6, 7, 8].  The
    # frozen part grew: a leaf never does that, so there no pair can be its start.
    listing = Listing(day=0, listed_day={9: 0, **dict.fromkeys((1, 2, 3, 4, 5, 7, 8), -1)})
    _, first, _ = run_scan(listing, Bookmark(), EPOCH, 3, facet=True)
    mark = first.next_bookmark()
    assert (mark.anchors, mark.frozen) == ((1, 2, 3, 4, 5), 7)
    listing.day = 1
    listing.listed_day[6] = -1
    now = EPOCH + timedelta(days=1)
    for page_size in (3, 48):  # 6, 7, 8 below the pair: more than the 2 it held beyond 5
        emitted, new_in, _ = run_scan(listing, mark, now, page_size, facet=True, regains=True)
        assert (emitted, new_in.stopped_by) == ({9, 1, 2}, "anchor")
        emitted, leaf, _ = run_scan(listing, mark, now, page_size, facet=True)
        assert leaf.stopped_by != "anchor"  # read down to the band of its last run


def test_an_anchor_below_a_product_that_is_not_one_shows_the_pair_came_back() -> None:
    # Monday's run sees [9 | 1, 2, 3, 4, 5, 6, 7]; later on Monday 6 and 7 sell out, 1 and
    # 2 sell out and come back, and 10 arrives: on Tuesday [1, 2, 9, 10 | 3, 4, 5].  Below
    # a real pair 1, 2 could come 3, 4, 5 and two more, but no anchor after another product.
    listing = Listing(day=0, listed_day={9: 0, **dict.fromkeys(range(1, 8), -1)})
    _, first, _ = run_scan(listing, Bookmark(), EPOCH, 48, facet=True)
    mark = first.next_bookmark()
    for product_id in (6, 7):
        listing.leave(product_id)
    for product_id in (1, 2):
        listing.leave(product_id)
        listing.come_back(product_id)
    listing.arrive(10)
    listing.day = 1
    assert listing.order() == [1, 2, 9, 10, 3, 4, 5]
    now = EPOCH + timedelta(days=1)
    emitted, scan, _ = run_scan(listing, mark, now, 48, facet=True)
    assert {1, 2, 9, 10} <= emitted
    assert scan.stopped_by == "anchor"  # at 3, 4
    _, audit, _ = run_scan(listing, mark, now, 2, facet=True, everything=True)
    assert audit.arrivals() == [1, 2, 9, 10]
