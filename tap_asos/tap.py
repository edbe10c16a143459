"""The tap-asos Tap: stream list, preflight, and the run around a sync (plan, progress, summary)."""

from __future__ import annotations

import contextlib
import contextvars
import copy
import logging
import time
import typing as t
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from urllib.parse import urlparse

import click
import requests
from requests.adapters import HTTPAdapter
from singer_sdk import Tap
from typing_extensions import override

from tap_asos import streams
from tap_asos.alerts import alert_reasons, emit_summary, send_alert
from tap_asos.budget import announce_budget
from tap_asos.categories import flatten_tree
from tap_asos.failures import EXIT_CONFIG, EXIT_UNEXPECTED, ConfigurationError, classify_failure
from tap_asos.inputs import InputError, check_config_files, check_input_files
from tap_asos.logs import set_metrics_log_level
from tap_asos.plan import print_plan
from tap_asos.progress import ProgressReporter
from tap_asos.runtime import RequestPolicy, RunStats
from tap_asos.sdk_internals import FILTERED_MESSAGES
from tap_asos.settings import CONFIG_SCHEMA, REAL_API_URL
from tap_asos.stores import StoreResolver, UnknownStoreError
from tap_asos.writer import BufferedMsgSpecWriter

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
    message_writer_class = BufferedMsgSpecWriter

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up the tap; see the SDK's Tap for the arguments."""
        super().__init__(*args, **kwargs)
        _ = self._monotonic_start
        # The SDK warns once per partition that newest-first listings are "unsorted";
        # that is by design here (bookmarks move at partition end, see Products).
        logging.getLogger("singer_sdk").addFilter(_UNSORTED_WARNING)  # once: the same object
        set_metrics_log_level(str(self.config["metrics_log_level"]))
        run = _COMMAND_RUN.get()
        if run is not None and run.tap is None:
            run.tap = self
            self.begin(plan=run.plan)

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # Numbers set from the environment arrive as strings: the SDK's own env parsing
        # converts integers only, and meltano.yml declares these settings `kind: string`
        # because Meltano 4.4 cannot write a `kind: decimal` value taken from the
        # environment ("Object of type Decimal is not JSON serializable").
        for name, prop in CONFIG_SCHEMA["properties"].items():
            value = self._config.get(name)
            if isinstance(value, str) and "number" in prop.get("type", ()):
                with contextlib.suppress(ValueError):  # validation then names the setting
                    self._config[name] = float(value)
        return super()._validate_config(raise_errors=raise_errors)

    def begin(self, *, plan: bool = False) -> None:
        """Set up a command-line sync before it writes anything.

        Check the settings with the fewest calls, print the plan (``--plan``, then
        raise ``PlanPrintedError``) or announce a budgeted run's plan, and start the
        progress lines.
        """
        if not any(s.selected or s.has_selected_descendents for s in self.streams.values()):
            # The SDK's convention: nothing selected is a successful, empty run.
            run = _COMMAND_RUN.get()
            self.logger.warning(
                "The catalog%s selects no stream: nothing will be extracted and the run "
                'exits 0. Select streams in it (metadata "selected": true; '
                "tap-asos --discover writes every stream), or run without --catalog.",
                f" file {run.catalog}" if run and run.catalog else "",
            )
            return
        self.preflight()
        if plan:
            print_plan(self)
            raise PlanPrintedError
        if int(self.config["max_requests"]):
            announce_budget(self)
        # Ctrl-C or SIGTERM (an Airflow kill, a CI cancel): no new request; finished
        # partitions keep their state, which is written before the tap exits.
        self.request_policy.stop_on_signals()
        self.progress.start()

    def end(self, failure: str | None) -> None:
        """After a command-line sync, failed or not: stop the progress, log the summary."""
        self.progress.stop()
        self.finish(failure)

    @cached_property
    def progress(self) -> ProgressReporter:
        """Progress lines every ``progress_interval_seconds`` and at partition ends."""
        return ProgressReporter(self.stats, float(self.config["progress_interval_seconds"]))

    def flush_output(self) -> None:
        """Write out the records the buffered writer holds (see ``AsosStream.log_sync_costs``)."""
        if isinstance(self.message_writer, BufferedMsgSpecWriter):
            self.message_writer.flush()

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

    @override
    def discover_streams(self) -> list[AsosStream]:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    @cached_property
    def _monotonic_start(self) -> float:
        return time.monotonic()

    @cached_property
    def run_started_at(self) -> datetime:
        """UTC start of this run: the snapshot time stamped on records."""
        return datetime.now(tz=timezone.utc).replace(microsecond=0)

    @cached_property
    def stats(self) -> RunStats:
        """The run's counters: requests, responses, retries, records, partitions."""
        return RunStats()

    @cached_property
    def request_policy(self) -> RequestPolicy:
        """The run-wide rate limit and request budget."""
        return RequestPolicy(
            self.stats,
            requests_per_second=float(self.config["requests_per_second"]),
            max_requests=int(self.config["max_requests"]),
        )

    @cached_property
    def session(self) -> requests.Session:
        """One pooled HTTP session for every stream and worker thread."""
        session = requests.Session()
        # Proxy settings are read once here instead of from the environment on
        # every request (measurable on fast local runs).
        session.trust_env = False
        session.proxies.update(requests.utils.get_environ_proxies(self.config["api_url"]))
        pool = max(10, int(self.config["max_concurrency"]) + 2)
        adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    @cached_property
    def stores(self) -> StoreResolver:
        """Configured stores, resolved through /countries/list on first use."""
        countries = t.cast("streams.Countries", self.streams["countries"])
        return StoreResolver(
            self.config["stores"],
            lambda: list(
                countries.fetch(countries.path, countries.get_url_params(None, None), None)
            ),
            {k: self.config.get(k) for k in ("currency", "lang", "size_schema")},
        )

    def preflight(self) -> None:
        """Check key, URL, stores and category ids with the fewest calls, before any output.

        Raises:
            ConfigurationError: when a setting is wrong, with what to change.
        """
        url = urlparse(str(self.config["api_url"]))
        if url.scheme not in {"http", "https"} or not url.netloc:
            msg = (
                f"api_url {self.config['api_url']!r} is not an http(s) URL. Use "
                f"{REAL_API_URL} for the real API or the URL asos-sandbox prints."
            )
            raise ConfigurationError(msg)
        try:
            stores = self.stores.resolve_all()
        except UnknownStoreError as exc:
            raise ConfigurationError(str(exc)) from exc
        wanted = {int(c) for c in self.config.get("category_ids") or []}
        products = t.cast("streams.Products", self.streams["products"])
        if not (products.selected or products.has_selected_descendents):
            return
        if not wanted:
            if self.config["read_feeds"] and not products.full_table:
                for store in stores.values():
                    products.feeds(store)  # a feed the tree lacks: exit 2 now, not mid-run
            return
        categories = t.cast("streams.Categories", self.streams["categories"])
        for store in stores.values():
            tree = categories.fetch(
                categories.path, {"country": store.country, "lang": store.lang}, None
            )
            known = {r["categoryId"] for r in flatten_tree(tree) if r["categoryId"] is not None}
            if unknown := sorted(wanted - known):
                msg = (
                    f"Unknown category_ids for store {store.store}: "
                    f"{', '.join(map(str, unknown))}. Leave category_ids empty to read every "
                    "leaf category, or pick ids from the categories stream (categoryId)."
                )
                raise ConfigurationError(msg)

    def finish(self, failure: str | None) -> None:
        """Log the run summary (line + metrics) and send the alerts it calls for."""
        summary = {
            "run_started_at": self.run_started_at.isoformat(),
            "duration_seconds": round(time.monotonic() - self._monotonic_start, 3),
            "status": self._status(failure),
            **self.stats.summary(),
            "budget_exhausted": self.request_policy.budget_exhausted,
        }
        emit_summary(summary)
        if self.request_policy.budget_exhausted and self.request_policy.stop_signal is None:
            self.logger.warning(
                "Stopped early: max_requests=%s reached. State is saved; the next run "
                "resumes the unfinished partitions.",
                self.config["max_requests"],
            )
        url = self.config.get("alert_webhook_url")
        reasons = alert_reasons(
            summary, failed=failure, quota_threshold=int(self.config["alert_quota_threshold"])
        )
        if url and reasons:
            send_alert(str(url), reasons, summary)

    def _status(self, failure: str | None) -> str:
        """The run's status in the summary."""
        if self.request_policy.stop_signal is not None:
            return "interrupted"  # by SIGINT or SIGTERM; finished partitions kept
        if failure:
            return "failed"
        return "stopped_at_budget" if self.request_policy.budget_exhausted else "succeeded"

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
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> t.Any:
        # Click reads --config while parsing, before invoke: a broken file would end in
        # the SDK's traceback, so each file is checked here first.
        try:
            check_config_files(value)
        except InputError as exc:
            cls.logger.error("%s", exc)  # noqa: TRY400
            raise SystemExit(EXIT_CONFIG) from None
        return super().cb_config(ctx, param, value)

    @override
    @classmethod
    def invoke(cls, *, plan: bool = False, **kwargs: t.Any) -> None:
        # Tap.invoke builds the tap (whose __init__ calls begin, see _CommandRun) and
        # syncs; a known failure then ends in one line and its exit code, no traceback.
        run = _CommandRun(plan=plan)
        token = _COMMAND_RUN.set(run)
        failure = None
        try:
            run.catalog = check_input_files(kwargs)
            super().invoke(**kwargs)
        except PlanPrintedError:
            return
        except Exception as exc:
            failure = classify_failure(exc)
            if failure.code == EXIT_UNEXPECTED:
                cls.logger.exception("Unexpected failure")
            else:
                cls.logger.error("%s", failure.message)  # noqa: TRY400
        finally:
            _COMMAND_RUN.reset(token)
        if run.tap is not None:
            stopped = run.tap.request_policy.exit_code
            if stopped is not None:
                failure = None  # what the stop interrupted is not a failure of its own
            run.tap.end(failure.message if failure else None)
            if stopped is not None:
                if isinstance(run.tap.message_writer, BufferedMsgSpecWriter):
                    run.tap.message_writer.wait_until_read()
                raise SystemExit(stopped)
        if failure:
            raise SystemExit(failure.code)


@dataclass
class _CommandRun:
    """The ``tap-asos`` sync under way: the tap ``Tap.invoke`` builds takes it up.

    ``Tap.invoke`` builds the tap, then calls ``sync_all`` (final): the tap's
    ``__init__`` is the one public place between the two, so the first tap built
    while this is set calls ``begin`` there.  A tap built in-process, or for
    ``--discover``, does not.
    """

    plan: bool
    tap: TapAsos | None = None
    catalog: str | None = None  # the --catalog file's name, for messages


_COMMAND_RUN: contextvars.ContextVar[_CommandRun | None] = contextvars.ContextVar(
    "tap_asos_command_run", default=None
)


class PlanPrintedError(Exception):
    """``--plan`` printed its estimate; the sync does not run."""


class _UnsortedWarningFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(text in message for text in FILTERED_MESSAGES)


_UNSORTED_WARNING = _UnsortedWarningFilter()


if __name__ == "__main__":
    TapAsos.cli()
