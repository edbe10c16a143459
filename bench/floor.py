"""The floor: fetch the same listing pages with requests and write JSONL, nothing else.

Usage: floor.py URL KEY STORE CATEGORY_IDS(comma) PAGE_SIZE OUT.jsonl
Prints one JSON line with records, distinct products and requests made.
"""

from __future__ import annotations

import json
import sys

import requests


def main() -> None:
    """Page every category's listing with offset/limit and write the products."""
    url, key, store, categories, page_size, out = sys.argv[1:7]
    session = requests.Session()
    session.headers.update({"X-RapidAPI-Key": key, "X-RapidAPI-Host": "asos2.p.rapidapi.com"})
    limit = int(page_size)
    records = requests_made = 0
    products: set[int] = set()
    with open(out, "w", encoding="utf-8") as sink:  # noqa: PTH123
        for category in categories.split(","):
            offset = 0
            while True:
                response = session.get(
                    f"{url}/products/v2/list",
                    params={
                        "store": store,
                        "categoryId": category,
                        "offset": offset,
                        "limit": limit,
                        "sort": "freshness",
                    },
                    timeout=30,
                )
                requests_made += 1
                response.raise_for_status()
                page = response.json()
                sink.writelines(json.dumps(product) + "\n" for product in page["products"])
                records += len(page["products"])
                products.update(int(product["id"]) for product in page["products"])
                offset += limit
                if offset >= page["itemCount"] or not page["products"]:
                    break
    print(json.dumps({"records": records, "products": len(products), "requests": requests_made}))


if __name__ == "__main__":
    main()
