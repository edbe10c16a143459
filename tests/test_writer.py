"""The buffered Singer writer: records reach stdout even when no STATE follows them."""

from __future__ import annotations

import typing as t
from datetime import datetime, timezone

from tap_asos.tap import TapAsos
from tests.helpers import catalog_for, run_tap, tap_config

if t.TYPE_CHECKING:
    import pytest

    from tap_asos.sandbox import SandboxServer


def test_a_run_whose_state_does_not_change_still_writes_its_records(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two incremental runs in the same second, nothing new in between: the second
    # ends with the state it started from, so the SDK writes no STATE after its
    # records, and the writer must not keep them buffered waiting for one.
    started = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(TapAsos, "run_started_at", property(lambda _self: started))
    config = tap_config(sandbox.url, sandbox.api_key, category_ids=[8799])
    catalog = catalog_for(config, select=["products"])
    first = run_tap(config, catalog=catalog)
    second = run_tap(config, catalog=catalog, state=first.final_state)
    assert second.final_state == first.final_state
    assert second.messages[-1]["type"] == "RECORD"
    emitted = second.records.get("products", [])
    assert emitted  # the top of the listing, read again up to the anchors
    assert {r["id"] for r in emitted} <= {r["id"] for r in first.records["products"]}
