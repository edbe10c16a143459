"""The SDK's private members tap-asos uses still exist, or the failure names them."""

from __future__ import annotations

import logging
import typing as t

from singer_sdk.streams.rest import RESTStream

from tap_asos.run import SdkMessageFilter, configure_logging
from tap_asos.sdk_internals import FILTERED_MESSAGES, INTERNALS, missing
from tap_asos.settings import Settings
from tap_asos.tap import TapAsos
from tests.helpers import catalog_for, run_tap, tap_config

if t.TYPE_CHECKING:
    import pytest

    from tap_asos.sandbox import SandboxServer


def _instances(sandbox: SandboxServer) -> dict[str, object]:
    tap = TapAsos(config=tap_config(sandbox.url, sandbox.api_key), parse_env_config=False)
    return {
        "singer_sdk.plugin_base.PluginBase": tap,
        "singer_sdk.streams.core.Stream": tap.streams["products"],
    }


def test_every_sdk_internal_in_use_exists(sandbox: SandboxServer) -> None:
    instances = _instances(sandbox)
    assert {i.owner for i in INTERNALS if i.on_instances} <= set(instances)
    gone = missing(instances)
    assert not gone, "this singer-sdk lacks " + "; ".join(
        f"{i.owner}.{i.name} (used in {i.used_in}: {i.why})" for i in gone
    )


def test_a_missing_member_is_named(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # As a release that renamed it would: gone from the class that defines it.
    owner = next(c for c in RESTStream.__mro__ if "_generate_record_messages" in vars(c))
    monkeypatch.delattr(owner, "_generate_record_messages")
    assert [i.name for i in missing(_instances(sandbox))] == ["_generate_record_messages"]


def test_the_sdk_still_logs_the_messages_the_tap_filters(sandbox: SandboxServer) -> None:
    # Matched on text: a release that rewords one would let it through unnoticed.
    config = tap_config(sandbox.url, sandbox.api_key, category_ids=[8799])
    catalog = catalog_for(config, select=["products"])
    seen: list[str] = []
    handler = _Collect(seen)
    sdk = logging.getLogger("singer_sdk")
    sdk.addHandler(handler)
    filters = list(sdk.filters)
    try:
        run_tap(config, catalog=catalog)  # in-process: the SDK's logging as it is
        unfiltered = list(seen)
        seen.clear()
        configure_logging(Settings.from_config(config))  # as tap-asos sets it up
        assert any(isinstance(f, SdkMessageFilter) for f in sdk.filters)
        run_tap(config, catalog=catalog)
    finally:
        sdk.removeHandler(handler)
        for added in [f for f in sdk.filters if f not in filters]:
            sdk.removeFilter(added)
    for text in FILTERED_MESSAGES:
        assert any(text in line for line in unfiltered), f"the SDK no longer logs {text!r}"
        assert not any(text in line for line in seen)
    assert seen  # the SDK's other messages still pass


class _Collect(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
