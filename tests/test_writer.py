"""The buffered Singer writer: records reach stdout even when no STATE follows them."""

from __future__ import annotations

import typing as t
from collections import Counter
from datetime import datetime, timezone

from tap_asos.tap import TapAsos
from tests.helpers import catalog_for, run_tap, tap_config

if t.TYPE_CHECKING:
    import pytest

    from tap_asos.sandbox import SandboxServer


def test_a_run_whose_state_does_not_change_still_writes_its_records(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Incremental runs in the same second, nothing new in between: the last one
    # ends with the state it started from, so the SDK writes no STATE of its own after
    # its records, and the writer must not keep them buffered waiting for one.
    started = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(TapAsos, "run_started_at", property(lambda _self: started))
    config = tap_config(sandbox.url, sandbox.api_key, category_ids=[8799])
    catalog = catalog_for(config, select=["products"])
    first = run_tap(config, catalog=catalog)
    # The first steady run adds its cost to the state; the next one changes nothing.
    steady = run_tap(config, catalog=catalog, state=first.final_state)
    second = run_tap(config, catalog=catalog, state=steady.final_state)
    assert second.final_state == steady.final_state
    # The partition's STATE, written at its end, comes after its records, and they were
    # written out (not left in the buffer).
    types = [m["type"] for m in second.messages]
    assert types[-1] == "STATE"
    assert "RECORD" in types
    emitted = second.records.get("products", [])
    assert emitted  # the top of the listing, read again up to the anchors
    assert {r["id"] for r in emitted} <= {r["id"] for r in first.records["products"]}


def test_each_stream_sends_its_schema_once_however_many_batches(sandbox: SandboxServer) -> None:
    # The SDK re-sends a child stream's SCHEMA at every child sync (once per batch of ids).
    config = tap_config(
        sandbox.url,
        sandbox.api_key,
        category_ids=[8799],
        id_batch_size=10,
        max_products_per_partition=35,
    )
    catalog = catalog_for(config, select=["products", "product_details", "stock_prices"])
    result = run_tap(config, catalog=catalog)
    schemas = Counter(m["stream"] for m in result.messages if m["type"] == "SCHEMA")
    assert schemas == {"products": 1, "product_details": 1, "stock_prices": 1}
    assert len(result.records["product_details"]) == 35  # four batches of ids
    first_record = {
        s: next(i for i, m in enumerate(result.messages) if m.get("stream") == s) for s in schemas
    }
    for stream, index in first_record.items():
        assert result.messages[index]["type"] == "SCHEMA", f"{stream}: a record came first"
