"""Unit tests of the listing paginator on bare responses."""

from __future__ import annotations

import logging
import typing as t

import pytest
import requests

from tap_asos.client import decoded_body, stash_body
from tap_asos.pagination import (
    FALLBACK_LIMIT,
    ListingPaginator,
    PageSize,
    facet_values,
    page_limit,
    slice_plan,
)


def _page(ids: list[int], item_count: int) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    stash_body(response, {"itemCount": item_count, "products": [{"id": i} for i in ids]})
    return response


def _walk(paginator: ListingPaginator, pages: list[requests.Response]) -> list[int]:
    offsets = []
    for page in pages:
        offsets.append(paginator.current_value)
        paginator.advance(page)
        if paginator.finished:
            break
    return offsets


def test_pages_until_item_count() -> None:
    paginator = ListingPaginator(2)
    pages = [_page([9, 8], 5), _page([7, 6], 5), _page([5], 5), _page([], 5)]
    assert _walk(paginator, pages) == [0, 2, 4]
    assert paginator.finished


def test_stops_when_the_reader_says_so() -> None:
    seen: list[int] = []
    paginator = ListingPaginator(3, stop=lambda: 6 in seen)
    pages = [_page([10, 9, 8], 9), _page([7, 6, 5], 9), _page([4, 3, 2], 9)]
    offsets = []
    for page in pages:
        offsets.append(paginator.current_value)
        seen.extend(p["id"] for p in decoded_body(page)["products"])
        paginator.advance(page)
        if paginator.finished:
            break
    assert offsets == [0, 3]


def test_stops_after_max_records() -> None:
    paginator = ListingPaginator(2, max_records=3)
    pages = [_page([9, 8], 10), _page([7, 6], 10), _page([5, 4], 10)]
    assert _walk(paginator, pages) == [0, 2]


def test_empty_page_stops() -> None:
    paginator = ListingPaginator(2)
    assert _walk(paginator, [_page([], 0), _page([1], 0)]) == [0]


def test_unvalidated_response_is_an_error() -> None:
    paginator = ListingPaginator(2)
    response: t.Any = requests.Response()
    with pytest.raises(TypeError):
        paginator.advance(response)


def test_stops_at_max_offset_and_says_the_listing_is_capped() -> None:
    paginator = ListingPaginator(4, max_offset=10)
    pages = [_page([20, 19, 18, 17], 20), _page([16, 15, 14, 13], 20), _page([12, 11], 20)]
    assert _walk(paginator, pages) == [0, 4, 8]
    assert paginator.finished
    assert paginator.capped
    assert paginator.first_payload is not None
    assert paginator.first_payload["itemCount"] == 20


def test_a_listing_that_ends_before_max_offset_is_not_capped() -> None:
    paginator = ListingPaginator(4, max_offset=10)
    assert _walk(paginator, [_page([5, 4, 3, 2], 5), _page([1], 5)]) == [0, 4]
    assert not paginator.capped


def test_a_stop_before_max_offset_needs_no_split() -> None:
    paginator = ListingPaginator(4, stop=lambda: paginator.current_value >= 4, max_offset=8)
    pages = [_page([20, 19, 18, 17], 20), _page([16, 15, 14, 13], 20)]
    assert _walk(paginator, pages) == [0, 4]
    assert not paginator.capped


def test_short_pages_advance_by_what_they_held() -> None:
    paginator = ListingPaginator(4)
    pages = [_page([9, 8, 7], 7), _page([6, 5, 4, 3], 7)]
    assert _walk(paginator, pages) == [0, 3]


@pytest.mark.parametrize(
    ("offset", "max_offset", "expected"),
    [(0, None, 48), (0, 100, 48), (96, 100, 4), (100, 100, 1), (0, 10, 10)],
)
def test_page_limit_never_reaches_past_max_offset(
    offset: int, max_offset: int | None, expected: int
) -> None:
    assert page_limit(offset, 48, max_offset) == expected


def test_facet_values_of_a_listing_body() -> None:
    body = {
        "facets": [
            {"id": "size", "facetValues": [{"id": "1", "count": 3}]},
            {
                "id": "brand",
                "facetValues": [
                    {"id": 12, "count": 4},
                    {"id": "13", "count": 0},
                    {"id": "14", "count": 2},
                ],
            },
        ]
    }
    assert facet_values(body, "brand") == [("12", 4), ("14", 2)]
    assert facet_values(body, "base_colour") == []
    assert facet_values({}, "brand") == []


def _facets(total: int, brands: list[int], colours: list[int]) -> dict[str, t.Any]:
    return {
        "itemCount": total,
        "facets": [
            {
                "id": "brand",
                "facetValues": [{"id": str(i), "count": n} for i, n in enumerate(brands)],
            },
            {
                "id": "base_colour",
                "facetValues": [{"id": str(i), "count": n} for i, n in enumerate(colours)],
            },
        ],
    }


def test_slice_plan_takes_the_first_facet_that_narrows() -> None:
    assert slice_plan(_facets(10, [6, 4], [5, 5]), 0) == (0, "brand", [("0", 6), ("1", 4)])
    # Below a brand slice, the colours.
    assert slice_plan(_facets(6, [6], [3, 3]), 1) == (1, "base_colour", [("0", 3), ("1", 3)])


def test_slice_plan_passes_over_a_facet_that_does_not_narrow() -> None:
    # A one-brand category: slicing by brand would re-read it; colours split it.
    assert slice_plan(_facets(10, [10], [7, 3]), 0) == (1, "base_colour", [("0", 7), ("1", 3)])
    assert slice_plan(_facets(10, [10], [10]), 0) == (2, "", [])
    assert slice_plan({"itemCount": 10}, 0) == (2, "", [])


LISTING = "https://api.test/products/v2/list"
LOG = logging.getLogger("tests.pagination")


def _answer(status: int, limit: int, offset: int = 0) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.url = f"{LISTING}?store=US&categoryId=1&offset={offset}&limit={limit}"
    return response


def _request(limit: int) -> requests.PreparedRequest:
    params = {"store": "US", "offset": 96, "limit": limit, "sort": "freshness"}
    return requests.Request("GET", LISTING, params=params).prepare()


def test_a_4xx_for_a_limit_above_48_is_retried_once_at_48(caplog: pytest.LogCaptureFixture) -> None:
    page = PageSize(200, LOG)
    assert page.limit(0, None) == 200
    assert page.refused(_answer(400, 200))
    assert page.limit(0, None) == FALLBACK_LIMIT == 48
    fitted = page.fit(_request(200))
    assert fitted.url == f"{LISTING}?store=US&offset=96&limit=48&sort=freshness"
    assert not page.refused(_answer(400, 48))  # 48 refused too: the error stands
    assert caplog.text.count("The API refused limit=200 (HTTP 400)") == 1


@pytest.mark.parametrize(
    ("status", "limit", "asked"), [(404, 200, 200), (400, 48, 200), (400, 30, 30)]
)
def test_other_4xx_are_not_taken_for_a_refused_limit(status: int, limit: int, asked: int) -> None:
    page = PageSize(asked, LOG)
    assert not page.refused(_answer(status, limit))
    assert page.asked == asked
    assert page.fit(_request(asked)).url == _request(asked).url


def test_a_page_shorter_than_asked_before_the_end_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOG.name)
    page = PageSize(200, LOG)
    full = {"itemCount": 500, "products": [{"id": i} for i in range(72)]}
    page.saw(_answer(200, 200), {"itemCount": 50, "products": full["products"][:50]})  # the end
    assert page.served is None
    page.saw(_answer(200, 200), full)
    page.saw(_answer(200, 200, offset=72), full)
    assert page.served == 72
    assert page.effective == 72
    assert caplog.text.count("The API serves at most 72 products a listing page") == 1
