"""Offset paging of ``/products/v2/list``: when to stop, and the next page in advance.

:class:`ListingPaginator` holds the early-exit and depth rules; :func:`prefetch_pages`
requests the next page while this one is processed; :func:`check_listing_page` refuses a
page that would silently lose the rest of a listing.
"""

from __future__ import annotations

import typing as t
from concurrent.futures import Future, ThreadPoolExecutor
from http import HTTPStatus
from urllib.parse import parse_qs, parse_qsl, urlencode, urlparse, urlsplit, urlunsplit

from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.pagination import OffsetPaginator
from typing_extensions import override

from tap_asos.client import AsosAPIError, decoded_body

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterator

    import requests

    from tap_asos.client import AsosStream

R = t.TypeVar("R")

# Facets whose values split a listing into disjoint parts: a product has one brand and
# one base colour.  Ids and value ids are those of the listing's own ``facets``.
SLICE_FACETS = ("brand", "base_colour")


def listing_payload(response: requests.Response) -> dict[str, t.Any]:
    """Return the decoded listing body stashed by the base stream's validation."""
    payload = decoded_body(response)
    if not isinstance(payload, dict):
        msg = "a listing body is a JSON object"
        raise TypeError(msg)
    return payload


def check_listing_page(response: requests.Response, payload: object) -> None:
    """Refuse a listing body without its ``products``, or empty before the listing's end.

    Raises:
        AsosAPIError: no ``products`` list (the response shape changed).
        RetriableAPIError: an empty page before ``itemCount``, retried.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("products"), list):
        msg = (
            f"Unexpected listing body from {urlparse(response.url).path}: "
            "no 'products' list. The API's response shape may have changed."
        )
        raise AsosAPIError(msg)
    offset = _offset_of(response)
    item_count = int(payload.get("itemCount") or 0)
    if not payload["products"] and offset < item_count:
        # An empty page before the end of the listing is an upstream glitch;
        # accepting it would silently drop the rest of the category.
        msg = (
            f"Empty listing page at offset {offset} of {item_count} products. If it "
            "repeats at this depth, the API serves listings only so deep: set "
            f"max_listing_offset to {offset} or less."
        )
        raise RetriableAPIError(msg, response)


def listing_error_hint(response: requests.Response) -> str:
    """What to set when the API refuses a deep offset (a 4xx on a page past the first)."""
    offset = _offset_of(response)
    if offset and response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR:
        return f" If the API refuses offsets this deep, set max_listing_offset to {offset} or less."
    return ""


def _query_int(url: str, name: str) -> int | None:
    """An integer query parameter of a URL (None: absent or not an integer)."""
    values = parse_qs(urlsplit(url).query).get(name) or [""]
    return int(values[0]) if values[0].isdigit() else None


def _offset_of(response: requests.Response) -> int:
    return _query_int(response.url, "offset") or 0


def facet_values(payload: dict[str, t.Any], facet_id: str) -> list[tuple[str, int]]:
    """``(value id, count)`` of one facet of a listing body, values with no match left out."""
    for facet in payload.get("facets") or []:
        if isinstance(facet, dict) and facet.get("id") == facet_id:
            return [
                (str(v["id"]), int(v.get("count") or 0))
                for v in facet.get("facetValues") or []
                if isinstance(v, dict) and v.get("id") is not None and v.get("count") != 0
            ]
    return []


def slice_plan(payload: dict[str, t.Any], depth: int) -> tuple[int, str, list[tuple[str, int]]]:
    """How to split a capped listing (``payload``: its first page) from facet ``depth`` on.

    Returns the depth and id of the first facet with values that narrow the listing, and
    those values; a value as long as the whole listing (a one-brand category) would only
    re-read it, so such a facet is passed over.  ``(len(SLICE_FACETS), "", [])``: none.
    """
    total = int(payload.get("itemCount") or 0)
    for level in range(depth, len(SLICE_FACETS)):
        values = [(v, n) for v, n in facet_values(payload, SLICE_FACETS[level]) if n < total]
        if values:
            return level, SLICE_FACETS[level], values
    return len(SLICE_FACETS), "", []


# The web site's page, asked by every public client: the size the tap falls back to when
# the API refuses a larger ``limit``.
FALLBACK_LIMIT = 48
REFUSED_LIMIT_STATUSES = frozenset({HTTPStatus.BAD_REQUEST, HTTPStatus.UNPROCESSABLE_ENTITY})


class PageSize:
    """The ``limit`` listing pages ask: ``page_size``, as large as the API serves.

    The real maximum is not known (the site asks 72; public code asks 48, 100, 200).  A
    page shorter than asked before the listing's end is how an API that clamps shows it:
    paging goes by what each page holds, so nothing is skipped; it is logged once.  A 4xx
    answering a ``limit`` above :data:`FALLBACK_LIMIT` is how an API that refuses shows
    it: the request is retried once at that size, and every later page asks it (logged
    once, with the setting that saves the refused request).
    """

    def __init__(self, asked: int, logger: logging.Logger) -> None:
        """Ask ``asked`` products a page until the API refuses."""
        self.asked = asked
        self.logger = logger
        self.served: int | None = None  # the largest page a clamping API served

    def limit(self, offset: int, max_offset: int | None) -> int:
        """The ``limit`` of the page at ``offset``."""
        return page_limit(offset, self.asked, max_offset)

    @property
    def effective(self) -> int:
        """Products a page holds, for estimates: what is asked, or what the API serves."""
        return min(self.asked, self.served or self.asked)

    def fit(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """``request`` asking no more than :attr:`asked` (a retry after a refusal)."""
        limit = _query_int(request.url or "", "limit")
        if limit is None or limit <= self.asked:
            return request
        parts = urlsplit(request.url or "")
        query = [
            (k, str(self.asked) if k == "limit" else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ]
        fitted = request.copy()
        fitted.url = urlunsplit(parts._replace(query=urlencode(query)))
        return fitted

    def refused(self, response: requests.Response) -> bool:
        """Whether a 4xx refused a ``limit`` above the fallback: then ask the fallback."""
        limit = _query_int(response.url, "limit")
        if (
            response.status_code not in REFUSED_LIMIT_STATUSES
            or limit is None
            or limit <= FALLBACK_LIMIT
            or self.asked <= FALLBACK_LIMIT
        ):
            return False
        self.logger.warning(
            "The API refused limit=%d (HTTP %d): listing pages ask %d from now on, the "
            "request retried once. Set page_size to %d to save that request.",
            limit,
            response.status_code,
            FALLBACK_LIMIT,
            FALLBACK_LIMIT,
        )
        self.asked = FALLBACK_LIMIT
        return True

    def saw(self, response: requests.Response, payload: dict[str, t.Any]) -> None:
        """A listing page came: note (once) an API that serves fewer than asked."""
        asked = _query_int(response.url, "limit")
        got = len(payload.get("products") or [])
        more = _offset_of(response) + got < int(payload.get("itemCount") or 0)
        if asked is None or not got or got >= asked or not more or got <= (self.served or 0):
            return
        if self.served is None:
            self.logger.info(
                "The API serves at most %d products a listing page (asked %d): paging by "
                "what each page holds.",
                got,
                asked,
            )
        self.served = got


def page_head(payload: dict[str, t.Any]) -> dict[str, t.Any]:
    """A listing page without its products: its ``itemCount`` and ``facets``.

    What a read keeps of a listing's first page (to plan its slices): a page of 200
    products kept for each of a store's 573 listings held 160 MB more at 80,000 products.
    """
    return {k: v for k, v in payload.items() if k != "products"}


def page_limit(offset: int, page_size: int, max_offset: int | None) -> int:
    """The ``limit`` to ask at ``offset``: a page never reaches past ``max_offset``."""
    if max_offset:
        return max(1, min(page_size, max_offset - offset))
    return page_size


class ListingPaginator(OffsetPaginator):
    """Pages ``offset``/``limit`` until ``itemCount`` is reached, or earlier.

    Stops early when ``stop()`` says so (the reader has what it needs: the incremental
    scan met its bookmark), when ``max_records`` products of the partition were read,
    or at ``max_offset``, the deepest position the API serves; then ``capped`` tells
    that products remain beyond it.  ``first_payload`` keeps the first page's body
    (its ``itemCount`` and ``facets`` plan a split of a capped listing).
    """

    def __init__(
        self,
        page_size: int,
        *,
        stop: t.Callable[[], bool] | None = None,
        max_records: int | None = None,
        max_offset: int | None = None,
        start: int = 0,
    ) -> None:
        """Start at offset ``start`` (a resumed read), 0 by default."""
        super().__init__(start_value=start, page_size=page_size)
        self.stop = stop
        self.max_records = max_records
        self.max_offset = max_offset
        self.capped = False
        self.next_offset = start  # where the page after the last one read starts
        self.first_payload: dict[str, t.Any] | None = None
        # Set by the reader of a resumed listing whose first page shows the resume point
        # elsewhere: paging ends here, and the reader starts again at that offset.
        self.restart_at: int | None = None

    @override
    def has_more(self, response: requests.Response) -> bool:
        payload = listing_payload(response)
        if self.first_payload is None:
            self.first_payload = page_head(payload)
        products = payload.get("products") or []
        if self.restart_at is not None or not products:
            return False
        next_offset = self.next_offset = self.current_value + len(products)
        if self.max_records and next_offset >= self.max_records:
            return False
        # Asked only when another page of this listing would follow.
        more = next_offset < int(payload.get("itemCount") or 0)
        if not more or (self.stop is not None and self.stop()):
            return False
        if self.max_offset and next_offset >= self.max_offset:
            self.capped = True
            return False
        return True

    @override
    def get_next(self, response: requests.Response) -> int | None:
        # Advance by what the page held: the last page before the cap is a short one.
        return self.current_value + len(listing_payload(response).get("products") or [])


def prefetch_pages(
    stream: AsosStream,
    context: dict[str, t.Any],
    paginator: ListingPaginator,
    on_page: Callable[[dict[str, t.Any]], R],
    *,
    ahead: bool = True,
) -> Iterator[R]:
    """Yield ``on_page(body)`` for each listing page of ``context``, prefetching the next.

    As the SDK's loop, but the next page is requested (in a worker thread) as soon as
    the paginator knows it, while this page's records are being processed: the API's
    latency overlaps the tap's own work instead of adding to it.  ``on_page`` sees each
    page first, so it can end the paging before the next request.  ``ahead=False``
    requests the next page only once this one's records went (a budgeted run: the
    page and the child calls of its records then take the budget in one order, so a
    run spends it the same way each time).
    """
    send = stream.request_decorator(stream.send_request)

    def request(offset: int) -> requests.PreparedRequest:
        return stream.get_request(stream.get_url(context), stream.get_url_params(context, offset))

    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="asos-page") as pool,
        stream.get_http_request_counter() as request_counter,
    ):
        request_counter.with_context(context)
        prepared = request(paginator.current_value)
        pending: Future[requests.Response] | None = pool.submit(send, prepared, context)
        while pending is not None:
            response = pending.result()
            request_counter.increment()
            stream.update_sync_costs(prepared, response, context)
            stream.stats.count(stream.name, "pages")
            result = on_page(stream.payload(response))
            paginator.advance(response)
            pending = None
            more = not paginator.finished
            if more and ahead:
                prepared = request(paginator.current_value)
                pending = pool.submit(send, prepared, context)
            yield result
            if more and not ahead:
                prepared = request(paginator.current_value)
                pending = pool.submit(send, prepared, context)
