"""Contender: dlt's rest_api source, listings (+ optional details) to local JSONL files.

Runs in its own virtualenv (dlt from PyPI). Usage:
  dlt_rest_api.py URL KEY STORE CATEGORY_IDS(comma) PAGE_SIZE OUT_DIR [details]
Prints {"records": N} on stdout.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    """Configure a rest_api source like the tap's listing and run it once."""
    url, key, store, categories, page_size, out_dir = sys.argv[1:7]
    with_details = len(sys.argv) > 7 and sys.argv[7] == "details"
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    os.environ["DLT_DATA_DIR"] = os.path.join(out_dir, "dlt-data")
    import dlt
    from dlt.sources.rest_api import rest_api_source

    resources: list[dict[str, object]] = [
        {
            "name": f"products_{cid}",
            "table_name": "products",
            "endpoint": {
                "path": "/products/v2/list",
                "params": {"store": store, "categoryId": int(cid), "sort": "freshness"},
                "data_selector": "products",
                "paginator": {"type": "offset", "limit": int(page_size), "total_path": "itemCount"},
            },
        }
        for cid in categories.split(",")
    ]
    if with_details:
        # dlt resolves one child request per parent record, sequentially; it has no way
        # to batch ids into one get-stock-price call.
        for cid in categories.split(","):
            for name, path, param in (
                ("details", "/products/v3/detail", "id"),
                ("stock", "/products/v3/get-stock-price", "productIds"),
            ):
                resources.append(
                    {
                        "name": f"{name}_{cid}",
                        "table_name": name,
                        "endpoint": {
                            "path": path,
                            "params": {param: f"{{resources.products_{cid}.id}}", "store": store},
                            "paginator": "single_page",
                        },
                    }
                )
    source = rest_api_source(
        {
            "client": {
                "base_url": url,
                "headers": {"X-RapidAPI-Key": key, "X-RapidAPI-Host": "asos2.p.rapidapi.com"},
            },
            "resources": resources,
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="asos_bench",
        pipelines_dir=os.path.join(out_dir, "pipelines"),
        destination=dlt.destinations.filesystem(bucket_url=os.path.join(out_dir, "lake")),
        dataset_name="asos",
    )
    info = pipeline.run(source, loader_file_format="jsonl")
    counts = pipeline.last_trace.last_normalize_info.row_counts
    # Nested lists become child tables (products__additional_image_urls...): count the
    # top-level tables only, one row per API record.
    records = sum(v for k, v in counts.items() if "__" not in k and not k.startswith("_dlt"))
    print(json.dumps({"records": records, "loads": len(info.loads_ids)}))


if __name__ == "__main__":
    main()
