"""A small HTTP server that answers with the real ASOS responses in tests/fixtures/real.

Not the sandbox: nothing is generated. ``/countries/list`` and ``/categories/list`` return the
real files byte for byte; ``/products/v2/list`` returns a real listing page per category id
(``PAGES``) at offset 0 and, deeper, the same envelope with no products, ``itemCount`` the
products served (the listing is that page, so the tap stops there); ``/products/v3/detail``
returns the one real detail with ``id`` set to the id asked (the only change). Anything else
is 404 with a RapidAPI-style message.
"""

from __future__ import annotations

import json
import threading
import typing as t
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from tests.sandbox_shapes import FIXTURES, load

if t.TYPE_CHECKING:
    from typing_extensions import Self

CATEGORY_PAGE = "products-v2-list-category-2023.json"
SEARCH_PAGE = "products-v2-list-search-2023.json"
PRODUCTS_2024 = "products-v2-list.products.json"


def _pages() -> dict[int, dict[str, t.Any]]:
    """Listing body per real leaf category id of categories-list-2022.json."""
    category = load(CATEGORY_PAGE)
    # The 2024 fragment holds only products: it is served in the 2023 page's envelope.
    newer = {**category, "products": load(PRODUCTS_2024), "itemCount": 2}
    return {
        4209: category,  # Men > Shoes, the category the page was taken from
        7616: load(SEARCH_PAGE),  # Men > T-Shirts: a real search page stands in
        4172: newer,  # Women > Shoes
    }


class ReplayServer:
    """The real responses on 127.0.0.1 (a free port), served from a thread."""

    def __init__(self) -> None:
        """Load the samples; listen on a free port."""
        self.pages = _pages()
        self.detail = load("products-v3-detail-2023.json")
        self.raw = {
            "/countries/list": (FIXTURES / "countries-list.json").read_bytes(),
            "/categories/list": (FIXTURES / "categories-list-2022.json").read_bytes(),
        }
        self.requests: list[str] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
                del format, args

            def do_GET(self) -> None:
                url = urlparse(self.path)
                replay.requests.append(url.path)
                status, body = replay.answer(url.path, parse_qs(url.query))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:PORT."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        """Status and body for one GET."""
        if path in self.raw:
            return HTTPStatus.OK, self.raw[path]
        if path == "/products/v2/list":
            page = self.pages.get(int(query.get("categoryId", ["0"])[0]))
            if page is None:
                return HTTPStatus.BAD_REQUEST, b'{"message": "no real page for this category"}'
            offset = int(query.get("offset", ["0"])[0])
            # The listing served is the real page and no more: its itemCount says so (the
            # real page's own counts the whole category, which no deeper page would hold).
            served = len(page["products"])
            page = {**page, "products": [] if offset else page["products"], "itemCount": served}
            return HTTPStatus.OK, json.dumps(page).encode()
        if path == "/products/v3/detail":
            return HTTPStatus.OK, json.dumps({**self.detail, "id": int(query["id"][0])}).encode()
        return HTTPStatus.NOT_FOUND, json.dumps(
            {"message": f"Endpoint '{path}' does not exist"}
        ).encode()

    def __enter__(self) -> Self:
        """Start serving."""
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
