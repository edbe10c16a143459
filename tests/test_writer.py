"""The buffered Singer writer: records reach stdout even when no STATE follows them."""

from __future__ import annotations

import typing as t
from collections import Counter
from datetime import datetime, timezone

from singer_sdk.singerlib import RecordMessage

from tap_asos.tap import TapAsos
from tests.helpers import SyncResult, catalog_for, run_command_here, run_tap, tap_config

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
    monkeypatch.setattr(TapAsos, "reads_started_at", property(lambda _self: started))
    # Two partitions: the first one's end writes a STATE (at most one every few
    # seconds), the second one's records come after it and no STATE follows them.
    config = tap_config(sandbox.url, sandbox.api_key, category_ids=[8799, 4169])
    catalog = catalog_for(config, select=["products"])
    first = _as_the_command(config, catalog, None)
    # The first steady run adds its cost to the state; the next one changes nothing.
    steady = _as_the_command(config, catalog, first.final_state)
    second = _as_the_command(config, catalog, steady.final_state)
    assert second.final_state == steady.final_state
    # The partition's STATE, written at its end, comes after its records, and they were
    # written out (not left in the buffer).
    types = [m["type"] for m in second.messages]
    assert types[-1] == "STATE"
    assert "RECORD" in types
    emitted = second.records.get("products", [])
    # The top of each listing, read again up to the anchors, both partitions.
    assert {r["categoryId"] for r in emitted} == {8799, 4169}
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


def test_records_no_state_follows_reach_stdout_when_the_command_ends(
    sandbox: SandboxServer,
) -> None:
    # Whatever the SDK does about a final STATE, the command flushes its writer where the
    # sync ends: a record written last, with no STATE after it, is on stdout.
    class Trailing(TapAsos):
        def sync_all(self) -> None:  # type: ignore[misc]
            super().sync_all()
            self.write_message(RecordMessage(stream="countries", record={"country": "ZZ"}))

    config = tap_config(sandbox.url, sandbox.api_key, category_ids=[8799])
    result = _as_the_command(config, catalog_for(config, select=["countries"]), None, Trailing)
    last = result.messages[-1]
    assert (last["type"], last["record"]) == ("RECORD", {"country": "ZZ"})


def _as_the_command(
    config: dict[str, t.Any],
    catalog: dict[str, t.Any],
    state: dict[str, t.Any] | None,
    factory: t.Any = TapAsos,
) -> SyncResult:
    """The tap-asos command's run (tap_asos.run), in this process: its writer, its flush."""
    code, result = run_command_here(config, catalog=catalog, state=state, factory=factory)
    assert code == 0, result.stderr[-2000:]
    return result
