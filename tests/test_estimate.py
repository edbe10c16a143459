"""The cost model from the state alone: what a budgeted run leaves, and the store's size."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta, timezone

from tap_asos.bookmark import Backlog, Bookmark, Cursor, Frame, ScanState
from tap_asos.estimate import distinct_products, estimate_backlog, left_after
from tap_asos.settings import Settings
from tap_asos.state import PartitionState

SETTINGS = Settings.from_config({"api_key": "not-used", "page_size": 48})
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=timezone.utc)
DETAILS = float  # a detail call a product: child_calls(n) = n


def _backlog(unread: int, *, sent: int = 0, everything: bool = True) -> Backlog:
    bookmark = Bookmark() if everything else Bookmark((1, 2), NOW - timedelta(days=1), 100)
    return Backlog(
        started_at=NOW - timedelta(hours=1),
        mode="incremental",
        scan=ScanState(bookmark, everything=everything, item_count=unread + 10),
        frames=(Frame(cursor=Cursor(10, unread)),),
        sent=tuple(range(sent)),
    )


def _partition(category: int, **fields: object) -> PartitionState:
    return PartitionState("US", category, **fields)  # type: ignore[arg-type]


def test_a_backlog_leaves_what_its_cursor_had_unread_and_a_page_to_find_its_place() -> None:
    rest = estimate_backlog(_partition(1), _backlog(100, sent=5), SETTINGS)
    assert rest.pages == 1 + 3  # 100 products: 3 pages, and the page it resumes in
    assert rest.products == 95  # those of its page that went are not sent again


def test_a_read_from_the_top_leaves_only_what_is_above_the_frozen_part() -> None:
    rest = estimate_backlog(_partition(1), _backlog(130, everything=False), SETTINGS)
    assert rest.products == 130 - 100 + 2  # down to the anchors, the stop pair


def _left_after(partitions: list[PartitionState]) -> dict[str, object]:
    """An incremental run started at NOW, 50 requests a run for the partitions."""
    return left_after(
        partitions,
        "incremental",
        SETTINGS,
        DETAILS,
        done=lambda p: p.finished_once,
        started_at=NOW,
        budget_per_run=50,
    )


def test_left_after_counts_backlogs_and_the_partitions_not_reached_per_day() -> None:
    reached = _partition(2, bookmark=Bookmark((1, 2), NOW + timedelta(seconds=1), 50))
    behind = _partition(
        3, bookmark=Bookmark((1, 2), NOW - timedelta(days=3), 50), costs={"incremental": 10}
    )
    left = _left_after([_partition(1, backlogs=(_backlog(96),)), reached, behind])
    assert left == {
        "requests_left": (1 + 2 + 96) + 3 * 10,
        "runs_left_at_this_budget": 3,  # 129 at 50 a run
        "partitions_with_reads_left": 1,
        "partitions_not_started": 0,
    }


def test_left_after_does_not_guess_a_partition_no_read_started() -> None:
    left = _left_after([_partition(1, backlogs=(_backlog(96),)), _partition(4)])
    assert left["requests_left"] is None
    assert left["runs_left_at_this_budget"] is None
    assert left["partitions_not_started"] == 1


def test_distinct_products_grows_with_the_ids_seen_once_chao1() -> None:
    twice = Counter(dict.fromkeys(range(10), 2))
    assert distinct_products(twice) == 10  # every id seen twice: nothing unseen
    mixed = Counter({**dict.fromkeys(range(20), 1), **dict.fromkeys(range(20, 30), 2)})
    assert distinct_products(mixed) == 30 + 20 * 19 / (2 * 11)


def test_first_pages_that_never_repeat_an_id_tell_of_no_overlap() -> None:
    assert distinct_products(Counter(dict.fromkeys(range(16), 1))) == math.inf
