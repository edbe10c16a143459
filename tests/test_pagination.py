"""Unit tests of the listing paginator on bare responses."""

from __future__ import annotations

import typing as t

import pytest
import requests

from tap_asos.pagination import ListingPaginator


def _page(ids: list[int], item_count: int) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    vars(response)["asos_payload"] = {
        "itemCount": item_count,
        "products": [{"id": i} for i in ids],
    }
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


def test_stops_at_bookmark() -> None:
    paginator = ListingPaginator(3, stop_at_id=7)
    pages = [_page([10, 9, 8], 9), _page([7, 6, 5], 9), _page([4, 3, 2], 9)]
    assert _walk(paginator, pages) == [0, 3]


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
