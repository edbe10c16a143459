"""The tap-asos Tap: its settings, its streams and the runtime they share.

``tap-asos`` runs :func:`tap_asos.run.run_command` (inputs, preflight, plan or budget,
sync, summary); a tap built in-process syncs as any SDK tap does.
"""

from __future__ import annotations

import copy
import time
import typing as t
from datetime import datetime, timezone
from functools import cached_property

import click
import requests
from requests.adapters import HTTPAdapter
from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from typing_extensions import override

from tap_asos import streams
from tap_asos.failures import EXIT_CONFIG
from tap_asos.inputs import ConfigInput, InputError, read_config_files
from tap_asos.run import run_command
from tap_asos.runtime import RequestPolicy, RunStats
from tap_asos.settings import CONFIG_SCHEMA, Settings
from tap_asos.state import upgrade_tap_state
from tap_asos.stores import StoreResolver

if t.TYPE_CHECKING:
    from tap_asos.client import AsosStream

STREAM_TYPES: tuple[type[AsosStream], ...] = (
    streams.Countries,
    streams.Categories,
    streams.Products,
    streams.ProductDetails,
    streams.StockPrices,
)


# A finished partition's STATE leaves at most this often (the loader completes its objects
# and echoes the state every max_batch_age_seconds: 60 in meltano.yml).
STATE_INTERVAL_SECONDS = 5.0


class TapAsos(Tap):
    """Singer tap for the ASOS catalog API on RapidAPI.

    Streams: countries, categories, products (store x category listings), product_details
    and stock_prices (for the products emitted). products is FULL_TABLE (a snapshot) or
    INCREMENTAL (default): what entered each listing since the partition's last finished
    run, new arrivals and restocks alike, at least once. ASOS ids do not grow with arrival
    (they are given at creation), so the bookmark is a place in the listing: under
    sort=freshness (day blocks, newest first, ids ascending inside a day) a run reads from
    the top down to two adjacent ids of the part older than the last run's Today block.
    Cost per partition: ceil((new + last run's Today block + 2) / page_size) listing
    requests, one when nothing is new; state: about 250 bytes per partition (the bookmark,
    and the last run's cost, from which a run with max_requests says at start which
    partitions it will leave).
    """

    name = "tap-asos"
    package_name = "tap-asos"
    # A copy: the SDK appends its own capability settings to this dict in place.
    config_jsonschema = copy.deepcopy(CONFIG_SCHEMA)
    # In-process taps write with the SDK's msgspec writer; tap-asos buffers (run.py).
    message_writer_class = MsgSpecWriter

    @cached_property
    def settings(self) -> Settings:
        """The run's settings, typed, read once from the validated config."""
        return Settings.from_config(self.config)

    @override
    def load_state(self, state: dict[str, t.Any]) -> None:
        super().load_state(state)
        # Earlier releases' products state is upgraded before the first STATE is written.
        upgrade_tap_state(t.cast("dict[str, t.Any]", self.state))

    @override
    def discover_streams(self) -> list[AsosStream]:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    def write_state_now(self) -> None:
        """Write a STATE message of the tap's state, unless one left in the last seconds.

        A finished partition's bookmark then reaches the loader (and Meltano) soon, not
        only with the next 500 records or the stream's end, so an interrupted run keeps
        it (Meltano keeps only the state echoed before a stop).  At most one every
        ``STATE_INTERVAL_SECONDS``: each STATE holds every partition's bookmark, so one
        per partition grew with the square of the partitions (a first run of the real
        tree wrote 609 STATEs, 51 MB of its 128 MB of output).  The writer keeps message
        order: the records it covers were written before.
        """
        now = time.monotonic()
        if now - self._state_written_at < STATE_INTERVAL_SECONDS:
            return
        self._state_written_at = now
        self.state_writer.write_state(self.state)

    _state_written_at = float("-inf")

    # --- the runtime the streams share ---------------------------------------------

    @cached_property
    def run_started_at(self) -> datetime:
        """UTC start of this run: the snapshot time stamped on records."""
        return self.reads_started_at.replace(microsecond=0)

    @cached_property
    def reads_started_at(self) -> datetime:
        """UTC start of this run to the microsecond: the reads it starts are known by it.

        A suspended read is told from another of its partition by its start, and two
        runs may start in one second (a retry, a test): seconds would mix their reads.
        """
        return datetime.now(tz=timezone.utc)

    @cached_property
    def stats(self) -> RunStats:
        """The run's counters: requests, responses, retries, records, partitions."""
        return RunStats()

    @cached_property
    def request_policy(self) -> RequestPolicy:
        """The run-wide rate limit and request budget."""
        return RequestPolicy(
            self.stats,
            requests_per_second=self.settings.requests_per_second,
            max_requests=self.settings.max_requests,
        )

    @cached_property
    def session(self) -> requests.Session:
        """One pooled HTTP session for every stream and worker thread."""
        session = requests.Session()
        # Proxy settings are read once here instead of from the environment on
        # every request (measurable on fast local runs).
        session.trust_env = False
        session.proxies.update(requests.utils.get_environ_proxies(self.settings.api_url))
        pool = max(10, self.settings.max_concurrency + 2)
        adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    @cached_property
    def stores(self) -> StoreResolver:
        """Configured stores, resolved through /countries/list on first use."""
        countries = t.cast("streams.Countries", self.streams["countries"])
        return StoreResolver(
            self.settings.stores,
            lambda: list(
                countries.fetch(countries.path, countries.get_url_params(None, None), None)
            ),
            self.settings.locale_overrides,
        )

    # --- the command line ------------------------------------------------------------

    @override
    @classmethod
    def get_singer_command(cls) -> click.Command:
        command = super().get_singer_command()
        command.params.append(
            click.Option(
                ["--plan"],
                is_flag=True,
                help="Print the requests a run with this config, catalog and state would "
                "make, per stream, its duration and whether it fits the quota left; "
                "write no records and no state.",
            )
        )
        return command

    @override
    @classmethod
    def cb_config(  # type: ignore[override]  # the SDK's is typed with its private class
        cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]
    ) -> ConfigInput:
        # Click reads --config while parsing, before invoke: a broken file ends in one
        # line and exit 2 here, not in the SDK's traceback.
        try:
            return read_config_files(value)
        except InputError as exc:
            cls.logger.error("%s", exc)  # noqa: TRY400
            raise SystemExit(EXIT_CONFIG) from None

    @override
    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        plan: bool = False,
        about: bool = False,
        about_format: str | None = None,
        config: ConfigInput | None = None,
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
    ) -> None:
        if about:
            cls.print_about(about_format)
            return
        code = run_command(cls, config or ConfigInput(), state, catalog, plan=plan)
        if code:
            raise SystemExit(code)


if __name__ == "__main__":
    TapAsos.cli()
