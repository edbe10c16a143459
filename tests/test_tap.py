"""The SDK's standard tap tests, run offline against the sandbox."""

from __future__ import annotations

import logging
import typing as t

import pytest
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.testing import get_tap_test_class

from tap_asos.tap import TapAsos
from tests.helpers import catalog_for, run_tap, tap_config

if t.TYPE_CHECKING:
    from tap_asos.sandbox import SandboxServer

# The runner reads this dict when the class's tests run; the fixture below points it
# at the session's sandbox first (its port is only known once it listens).
SAMPLE_CONFIG = tap_config("http://127.0.0.1:9", "set-by-fixture", max_products_per_partition=60)

_StandardTests = get_tap_test_class(TapAsos, config=SAMPLE_CONFIG)


class TestTapAsos(_StandardTests):  # type: ignore[misc,valid-type]
    """Standard discovery, sync and stream attribute tests for every stream."""

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _use_sandbox(cls, sandbox: SandboxServer) -> None:
        SAMPLE_CONFIG.update(api_url=sandbox.url, api_key=sandbox.api_key)


def test_numbers_given_as_strings_are_read_as_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    # As Meltano passes them (`kind: string` settings) and as the SDK's env parsing does.
    tap = TapAsos(config={"api_key": "k", "requests_per_second": "0.5"}, parse_env_config=False)
    assert tap.settings.requests_per_second == 0.5
    monkeypatch.setenv("TAP_ASOS_API_KEY", "k")
    monkeypatch.setenv("TAP_ASOS_BACKOFF_FACTOR", "0.25")
    from_env = TapAsos(config={}, parse_env_config=True)
    assert from_env.settings.backoff_factor == 0.25


def test_a_number_setting_that_is_not_a_number_is_a_config_error() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        TapAsos(config={"api_key": "k", "requests_per_second": "fast"}, parse_env_config=False)
    assert any("requests_per_second" in error for error in caught.value.errors)


def test_taps_do_not_pile_up_log_filters(sandbox: SandboxServer) -> None:
    config = tap_config(sandbox.url, sandbox.api_key)
    TapAsos(config=config, parse_env_config=False)
    before = len(logging.getLogger("singer_sdk").filters)
    for _ in range(3):
        TapAsos(config=config, parse_env_config=False)
    assert len(logging.getLogger("singer_sdk").filters) == before


def test_finished_partitions_write_a_state_at_most_every_few_seconds(
    sandbox: SandboxServer,
) -> None:
    # Each STATE holds every partition's bookmark: one per partition grows with the square
    # of the partitions. A fast run over every leaf writes a few, not one per partition.
    from tap_asos.tap import STATE_INTERVAL_SECONDS

    config = tap_config(sandbox.url, sandbox.api_key)
    result = run_tap(config, catalog=catalog_for(config, select=["products"]))
    partitions = result.final_state["bookmarks"]["products"]["partitions"]
    records = len(result.records["products"])
    assert len(partitions) > 20
    assert STATE_INTERVAL_SECONDS > 0
    # The SDK's own every 500 records and at the end, and a few of the tap's.
    assert len(result.states) <= records // 500 + 5 < len(partitions)
