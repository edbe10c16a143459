"""Offset paging of ``/products/v2/list`` with the tap's early-exit rules."""

from __future__ import annotations

import typing as t

from singer_sdk.pagination import OffsetPaginator
from typing_extensions import override

if t.TYPE_CHECKING:
    import requests


def listing_payload(response: requests.Response) -> dict[str, t.Any]:
    """Return the decoded listing body stashed by the base stream's validation."""
    payload = vars(response).get("asos_payload")
    if not isinstance(payload, dict):
        msg = "listing response was not validated before paging"
        raise TypeError(msg)
    return payload


class ListingPaginator(OffsetPaginator):
    """Pages ``offset``/``limit`` until ``itemCount`` is reached, or earlier.

    Stops early when a page reaches a product id at or below ``stop_at_id`` (the
    incremental bookmark: the listing is sorted newest first, so the rest of the
    category is older), or when ``max_records`` products of the partition were read.
    """

    def __init__(
        self,
        page_size: int,
        *,
        stop_at_id: int | None = None,
        max_records: int | None = None,
    ) -> None:
        """Start at offset 0."""
        super().__init__(start_value=0, page_size=page_size)
        self.stop_at_id = stop_at_id
        self.max_records = max_records

    @override
    def has_more(self, response: requests.Response) -> bool:
        payload = listing_payload(response)
        products = payload.get("products") or []
        if not products:
            return False
        if self.stop_at_id is not None and any(int(p["id"]) <= self.stop_at_id for p in products):
            return False
        next_offset = self.current_value + self.page_size
        if self.max_records and next_offset >= self.max_records:
            return False
        return next_offset < int(payload.get("itemCount") or 0)
