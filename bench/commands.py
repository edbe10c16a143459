"""Benchmark contenders: the command line of each (tap-asos, its peers, the floor)."""

from __future__ import annotations

import json
import subprocess
import time
import typing as t

# bench/: the script's folder is on sys.path
from harness import HERE, KEY, PY, Sandbox, peer_python

if t.TYPE_CHECKING:
    from pathlib import Path


def tap_asos(
    sandbox: Sandbox,
    tmp: Path,
    streams: list[str],
    method: str,
    rate: float = 0,
    state: Path | None = None,
) -> list[str]:
    """tap-asos command line for a scenario."""
    config = {
        "api_key": KEY,
        "api_url": sandbox.url,
        "stores": ["US"],
        "requests_per_second": rate,
        "max_concurrency": 8,
    }
    (tmp / "tap.json").write_text(json.dumps(config))
    tap = str(PY.with_name("tap-asos"))
    catalog = json.loads(
        subprocess.run(
            [tap, "--config", str(tmp / "tap.json"), "--discover"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in streams
                if entry["tap_stream_id"] == "products":
                    meta["metadata"]["forced-replication-method"] = method
    (tmp / "catalog.json").write_text(json.dumps(catalog))
    command = [tap, "--config", str(tmp / "tap.json"), "--catalog", str(tmp / "catalog.json")]
    return [*command, "--state", str(state)] if state else command


# tap-asos as the SDK would run it out of the box: recursive type conformance and the
# standard library JSON writer (the "before" of the two per-record optimisations).
SDK_DEFAULTS = (
    "import sys; from singer_sdk.helpers.conform import TypeConformanceLevel; "
    "from singer_sdk.io_base import SingerWriter; "
    "from tap_asos.client import AsosStream; from tap_asos.tap import TapAsos; "
    "AsosStream.TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.RECURSIVE; "
    "TapAsos.message_writer_class = SingerWriter; sys.argv[0] = 'tap-asos'; TapAsos.cli()"
)


def msdk(sandbox: Sandbox, tmp: Path, categories: list[int]) -> list[str]:
    """tap-rest-api-msdk configured for the same listing endpoint, one stream per category."""
    schema = tmp / "products.schema.json"
    schema.write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {"id": {"type": "integer"}},
                "additionalProperties": True,
            }
        )
    )
    config = {
        "api_url": sandbox.url,
        "headers": {"X-RapidAPI-Key": KEY, "X-RapidAPI-Host": "asos2.p.rapidapi.com"},
        "pagination_request_style": "simple_offset_paginator",
        "pagination_response_style": "offset",
        "pagination_page_size": 48,
        "pagination_initial_offset": 0,
        "offset_records_jsonpath": "$.products",
        "streams": [
            {
                "name": f"products_{c}",
                "path": "/products/v2/list",
                "params": {"store": "US", "categoryId": c, "sort": "freshness"},
                "records_path": "$.products[*]",
                "primary_keys": ["id"],
                "schema": str(schema),
            }
            for c in categories
        ],
    }
    (tmp / "msdk.json").write_text(json.dumps(config))
    return [
        str(peer_python("msdk").with_name("tap-rest-api-msdk")),
        "--config",
        str(tmp / "msdk.json"),
    ]


def dlt(sandbox: Sandbox, tmp: Path, categories: list[int], *, details: bool = False) -> list[str]:
    """Command of dlt's rest_api source, to local JSONL files."""
    out = tmp / f"dlt-{time.monotonic_ns()}"
    return [
        str(peer_python("dlt")),
        str(HERE / "contenders" / "dlt_rest_api.py"),
        sandbox.url,
        KEY,
        "US",
        ",".join(map(str, categories)),
        "48",
        str(out),
        *(["details"] if details else []),
    ]


def floor(sandbox: Sandbox, tmp: Path, categories: list[int]) -> list[str]:
    """The floor: requests + json + JSONL, nothing else."""
    return [
        str(PY),
        str(HERE / "floor.py"),
        sandbox.url,
        KEY,
        "US",
        ",".join(map(str, categories)),
        "48",
        str(tmp / "floor.jsonl"),
    ]
