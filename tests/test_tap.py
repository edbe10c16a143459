"""The SDK's standard tap tests, run offline against the sandbox."""

from __future__ import annotations

import typing as t

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_asos.tap import TapAsos
from tests.helpers import tap_config

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
