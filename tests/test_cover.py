"""The cover: which listings a snapshot reads, learned from what a full read found."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tap_asos.cover import Cover, Memberships, StoreCover, is_cover_value, usable

# A store: two sections, each a View all over two leaves; a sale list across them; a
# small edit holding the one product on nothing else; a New-in list of recent ones.
WOMEN_VIEW_ALL, WOMEN_DRESSES, WOMEN_TOPS = 100, 101, 102
MEN_VIEW_ALL, MEN_SHOES = 200, 201
SALE, SMALL_EDIT, NEW_IN = 300, 400, 500
ON_SALE = {3, 40, 77}


def store_read(page_size: int = 10) -> tuple[Memberships, dict[int, set[int]]]:
    held = {
        WOMEN_DRESSES: set(range(40)),
        WOMEN_TOPS: set(range(40, 70)),
        WOMEN_VIEW_ALL: set(range(70)),
        MEN_SHOES: set(range(70, 100)),
        MEN_VIEW_ALL: set(range(70, 100)),
        SALE: ON_SALE,
        SMALL_EDIT: {1000},
        NEW_IN: set(range(60, 80)),
    }
    memberships = Memberships()
    for cid, products in held.items():
        for pid in sorted(products):
            memberships.add(cid, pid, marked_down=pid in ON_SALE)
    assert page_size
    return memberships, held


def covered(ids: tuple[int, ...], held: dict[int, set[int]]) -> set[int]:
    return set().union(*(held[c] for c in ids))


def test_the_cover_holds_every_product_and_no_listing_of_it_could_go() -> None:
    memberships, held = store_read()
    cover = memberships.cover(page_size=10)
    everything = set().union(*held.values())
    assert covered(cover, held) == everything
    assert SALE not in cover  # its products are on listings of their own
    assert NEW_IN not in cover  # the leaves hold its products
    assert SMALL_EDIT in cover  # the one product on nothing else
    for cid in cover:  # none of it could go
        assert covered(tuple(c for c in cover if c != cid), held) != everything, cid
    read_all = sum(-(-len(p) // 10) for p in held.values())
    assert memberships.cost(cover, 10) * 2 < read_all


def test_the_costliest_listing_the_others_hold_goes_first() -> None:
    """A View all read by slices costs more than its leaves: the leaves stay."""
    memberships = Memberships()
    for pid in range(100):
        memberships.add(WOMEN_VIEW_ALL, pid)
        memberships.add(WOMEN_DRESSES if pid < 50 else WOMEN_TOPS, pid)
    memberships.listed(WOMEN_VIEW_ALL, pages=30)  # what its read took (facet slices)
    memberships.listed(WOMEN_DRESSES, pages=5)
    memberships.listed(WOMEN_TOPS, pages=5)
    assert sorted(memberships.cover(page_size=10)) == [WOMEN_DRESSES, WOMEN_TOPS]
    assert memberships.cost([WOMEN_DRESSES, WOMEN_TOPS], 10) == 10
    # Read in fewer pages than its leaves, the View all stays and they go.
    cheaper = Memberships()
    for pid in range(100):
        cheaper.add(WOMEN_VIEW_ALL, pid)
        cheaper.add(WOMEN_DRESSES if pid < 50 else WOMEN_TOPS, pid)
    cheaper.listed(WOMEN_VIEW_ALL, pages=10)
    cheaper.listed(WOMEN_DRESSES, pages=11)
    cheaper.listed(WOMEN_TOPS, pages=11)
    assert cheaper.cover(page_size=10) == (WOMEN_VIEW_ALL,)


def test_a_sale_list_never_covers_a_product_that_has_a_listing_of_its_own() -> None:
    memberships = Memberships()
    # Pages tie, and the sale list (the smallest id) would win: but its products leave
    # it when their markdown ends, so the leaf that holds them covers them.
    sale, view_all, leaf = 50, 100, 101
    for pid in range(5):
        memberships.add(sale, pid, marked_down=True)
    for pid in range(10, 30):
        memberships.add(view_all, pid)
    for pid in [*range(5), *range(10, 15)]:
        memberships.add(leaf, pid)
    assert sorted(memberships.cover(page_size=10)) == [view_all, leaf]


def test_a_product_on_sale_lists_only_is_covered_by_one() -> None:
    memberships = Memberships()
    memberships.add(WOMEN_DRESSES, 1)
    memberships.add(SALE, 2, marked_down=True)
    assert set(memberships.cover(page_size=10)) == {WOMEN_DRESSES, SALE}


def test_a_listing_found_empty_stays_in_the_cover_at_a_page_a_snapshot() -> None:
    memberships, _ = store_read()
    memberships.listed(600)  # read whole, nothing in it yet: a new edit may fill it
    assert memberships.cover(page_size=10)[-1] == 600


def test_the_same_read_learns_the_same_cover() -> None:
    first, _ = store_read()
    second, _ = store_read()
    assert first.cover(10) == second.cover(10)


NOW = datetime(2026, 12, 7, tzinfo=timezone.utc)


def a_cover(learned: datetime = NOW) -> Cover:
    return Cover(
        (WOMEN_VIEW_ALL, MEN_VIEW_ALL), frozenset({WOMEN_VIEW_ALL, MEN_VIEW_ALL, SALE}),
        learned.isoformat(), 100,
    )  # fmt: skip


def test_a_cover_is_usable_while_its_listings_are_in_the_tree_and_it_is_young() -> None:
    tree = [WOMEN_VIEW_ALL, MEN_VIEW_ALL, SALE]
    assert usable(a_cover(), tree, NOW + timedelta(days=90), 91) == (True, "")
    ok, why = usable(a_cover(), tree, NOW + timedelta(days=92), 91)
    assert not ok
    assert "91 days" in why
    ok, why = usable(a_cover(), [WOMEN_VIEW_ALL, SALE], NOW, 91)
    assert not ok
    assert str(MEN_VIEW_ALL) in why
    assert usable(None, tree, NOW, 91) == (False, "no cover learned yet")
    assert usable(a_cover(), tree, NOW, 0) == (False, "cover_max_age_days is 0")


def test_a_cover_goes_through_the_state_unchanged() -> None:
    cover = a_cover()
    value = cover.to_value()
    assert is_cover_value(value)
    assert Cover.from_value(value) == cover


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        {"ids": [1], "known": "x", "learned_at": "2026-01-01T00:00:00+00:00"},  # no products
        {"ids": ["a"], "known": "", "learned_at": "2026-01-01T00:00:00+00:00", "products": 1},
        {"ids": [1], "known": "", "learned_at": "yesterday", "products": 1},
    ],
)
def test_a_value_without_a_covers_shape_is_refused(value: object) -> None:
    assert not is_cover_value(value)


def test_a_cover_snapshot_counts_what_only_new_listings_hold_and_they_join_the_cover() -> None:
    tree = [WOMEN_VIEW_ALL, MEN_VIEW_ALL, SALE, SMALL_EDIT, NEW_IN]
    plan, why = StoreCover.plan("US", a_cover(), tree, NOW.isoformat(), 91)
    assert why == ""
    assert plan.new == {SMALL_EDIT, NEW_IN}
    assert plan.listings == (WOMEN_VIEW_ALL, MEN_VIEW_ALL, SMALL_EDIT, NEW_IN)
    plan.saw(WOMEN_VIEW_ALL, 1, first=True)
    plan.saw(NEW_IN, 1, first=False)  # the cover held it
    plan.saw(SMALL_EDIT, 1000, first=True)  # only a new listing holds it
    assert plan.missed == {SMALL_EDIT: 1}
    grown = plan.learned(10, complete=True)
    assert grown is not None
    assert grown.ids == (WOMEN_VIEW_ALL, MEN_VIEW_ALL, SMALL_EDIT)
    assert grown.known == frozenset(tree)
    assert plan.learned(10, complete=False) is None


def test_a_snapshot_learns_a_cover_only_from_listings_it_read_whole_itself() -> None:
    plan, why = StoreCover.plan("US", None, [WOMEN_DRESSES, SALE], NOW.isoformat(), 91)
    assert why == "no cover learned yet"
    plan.saw(WOMEN_DRESSES, 1, first=True)
    plan.read_whole(WOMEN_DRESSES, from_top=True)
    plan.saw(SALE, 1, first=False, marked_down=True)
    plan.read_whole(SALE, from_top=True)
    learned = plan.learned(10, complete=True)
    assert learned is not None
    assert learned.ids == (WOMEN_DRESSES,)
    assert learned.known == {WOMEN_DRESSES, SALE}
    assert learned.learned_at == NOW.isoformat()
    plan.read_whole(SALE, from_top=False)  # resumed from an earlier run's backlog
    assert plan.learned(10, complete=True) is None
