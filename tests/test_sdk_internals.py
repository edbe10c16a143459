"""The SDK's private members tap-asos uses still exist, or the failure names them."""

from __future__ import annotations

import typing as t

from singer_sdk.streams.rest import RESTStream

from tap_asos.sdk_internals import INTERNALS, missing
from tap_asos.tap import TapAsos
from tests.helpers import tap_config

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
    owner = next(c for c in RESTStream.__mro__ if "_prepare_request" in vars(c))
    monkeypatch.delattr(owner, "_prepare_request")
    assert [i.name for i in missing(_instances(sandbox))] == ["_prepare_request"]
