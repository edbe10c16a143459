"""The command-line run, top to bottom: inputs, preflight, plan or budget, sync, summary.

``tap-asos`` (``TapAsos.invoke``) calls :func:`run_command`, which reads as the run
goes:

1. **inputs**: the ``--state`` and ``--catalog`` files are checked (one line and exit 2
   for a bad one, before any request: :mod:`tap_asos.inputs`), then the tap is built,
   its config validated;
2. **preflight**: key, URL, stores, category ids and feeds checked with the fewest
   calls (:func:`preflight`);
3. **plan or budget**: ``--plan`` prints what the run would spend and returns; with
   ``max_requests``, the run says at start what it will leave for the next one;
4. **sync**: Ctrl-C and SIGTERM stop it gracefully; the buffered writer is flushed
   where the sync ends;
5. **summary**: the run summary line, its metrics, alerts; the exit code.

A tap built in-process (tests, the SDK's test suite) runs ``sync_all`` alone, with the
SDK's own writer: none of these steps.
"""

from __future__ import annotations

import logging
import time
import typing as t
from urllib.parse import urlparse

from tap_asos.alerts import alert_reasons, emit_summary, send_alert
from tap_asos.budget import announce_budget
from tap_asos.categories import flatten_tree
from tap_asos.failures import EXIT_UNEXPECTED, ConfigurationError, Failure, classify_failure
from tap_asos.inputs import read_input_files
from tap_asos.logs import set_metrics_log_level
from tap_asos.plan import PlanningTap, print_plan, selected_streams
from tap_asos.progress import ProgressReporter
from tap_asos.sdk_internals import FILTERED_MESSAGES
from tap_asos.settings import REAL_API_URL
from tap_asos.stores import UnknownStoreError
from tap_asos.writer import BufferedMsgSpecWriter

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from tap_asos.inputs import ConfigInput
    from tap_asos.products import Products
    from tap_asos.runtime import RequestPolicy
    from tap_asos.settings import Settings
    from tap_asos.streams import Categories

logger = logging.getLogger("tap-asos")


class RunningTap(PlanningTap, t.Protocol):
    """What the run needs of the tap (``TapAsos``), beyond what the plan reads."""

    @property
    def request_policy(self) -> RequestPolicy:
        """The run-wide rate limit, budget and stop on signals."""

    @property
    def run_started_at(self) -> datetime:
        """UTC start of the run."""

    def sync_all(self) -> None:
        """The SDK's sync of every selected stream."""


class TapFactory(t.Protocol):
    """Builds the tap from the command line's inputs (``TapAsos`` itself)."""

    def __call__(  # noqa: PLR0913 - Tap.__init__'s own keywords
        self,
        *,
        config: dict[str, t.Any],
        state: dict[str, t.Any] | None,
        catalog: dict[str, t.Any] | None,
        parse_env_config: bool,
        validate_config: bool,
        message_writer: BufferedMsgSpecWriter,
    ) -> RunningTap:
        """A tap ready to sync."""

    def print_version(self, print_fn: Callable[[str], t.Any]) -> None:
        """Log the tap's and the SDK's versions."""


def run_command(
    make_tap: TapFactory,
    config: ConfigInput,
    state_file: t.IO[str] | None,
    catalog_file: t.IO[str] | None,
    *,
    plan: bool,
) -> int:
    """Run the tap as ``tap-asos`` does; the exit code (0 for a run stopped at its budget)."""
    started = time.monotonic()
    writer = BufferedMsgSpecWriter()
    try:  # 1. inputs
        inputs = read_input_files(state_file, catalog_file)
        make_tap.print_version(print_fn=logger.info)
        tap = make_tap(
            config=config.config,
            state=inputs.state,
            catalog=inputs.catalog,
            parse_env_config=config.parse_env,
            validate_config=True,
            message_writer=writer,
        )
    except Exception as exc:  # noqa: BLE001 - every failure ends in one line and its code
        return _report(classify_failure(exc), exc)
    configure_logging(tap.settings)
    if not selected_streams(tap):
        # The SDK's convention: nothing selected is a successful, empty run.
        logger.warning(
            "The catalog%s selects no stream: nothing will be extracted and the run "
            'exits 0. Select streams in it (metadata "selected": true; '
            "tap-asos --discover writes every stream), or run without --catalog.",
            f" file {inputs.catalog_name}" if inputs.catalog_name else "",
        )
        _summary(tap, started, None)
        return 0
    progress = ProgressReporter(tap.stats, tap.settings.progress_interval_seconds)
    failure: Failure | None = None
    try:
        preflight(tap)  # 2. preflight
        if plan:  # 3. plan ...
            # The plan's own first pages are not the run's: max_requests is what it plans.
            tap.request_policy.max_requests = 0
            print_plan(tap)
            return 0
        if tap.settings.max_requests:  # ... or budget
            announce_budget(tap)
        # 4. sync: Ctrl-C or SIGTERM (an Airflow kill, a CI cancel) sends no new request;
        # finished partitions keep their state, written before the tap exits.
        tap.request_policy.stop_on_signals()
        progress.start()
        try:
            tap.sync_all()
        finally:
            progress.stop()
            writer.flush()  # the SDK writes no final STATE when the state did not change
    except Exception as exc:  # noqa: BLE001 - classified, then summarised
        failure = classify_failure(exc)
        if tap.request_policy.exit_code is None:
            _report(failure, exc)
    if tap.request_policy.exit_code is not None:
        failure = None  # what the stop interrupted is not a failure of its own
    stopped = tap.request_policy.exit_code
    _summary(tap, started, failure.message if failure else None)  # 5. summary
    if stopped is not None:
        # meltano run stops forwarding the tap's output the moment it exits.
        writer.wait_until_read()
        return stopped
    return failure.code if failure else 0


def preflight(tap: RunningTap) -> None:
    """Check key, URL, stores and category ids with the fewest calls, before any output.

    Raises:
        ConfigurationError: when a setting is wrong, with what to change.
    """
    settings = tap.settings
    url = urlparse(settings.api_url)
    if url.scheme not in {"http", "https"} or not url.netloc:
        msg = (
            f"api_url {settings.api_url!r} is not an http(s) URL. Use "
            f"{REAL_API_URL} for the real API or the URL asos-sandbox prints."
        )
        raise ConfigurationError(msg)
    try:
        stores = tap.stores.resolve_all()
    except UnknownStoreError as exc:
        raise ConfigurationError(str(exc)) from exc
    products = t.cast("Products", tap.streams["products"])
    if not (products.selected or products.has_selected_descendents):
        return
    wanted = set(settings.category_ids)
    if not wanted:
        if settings.read_feeds and not products.full_table:
            for store in stores.values():
                products.stores_read.listings(
                    store
                )  # a feed the tree lacks: exit 2 now, not mid-run
        return
    categories = t.cast("Categories", tap.streams["categories"])
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


def _report(failure: Failure, exc: BaseException) -> int:
    """One line for a failure (a traceback for a bug); its exit code."""
    if failure.code == EXIT_UNEXPECTED:
        logger.error("Unexpected failure", exc_info=exc)
    else:
        logger.error("%s", failure.message)
    return failure.code


def _what_is_left(left: dict[str, t.Any]) -> str:
    if left.get("requests_left") is not None:
        return (
            f"about {left['requests_left']} requests left: "
            f"{left['runs_left_at_this_budget']} runs at this budget"
        )
    return (
        f"{left.get('partitions_not_started', '?')} partitions not started yet: "
        "tap-asos --plan prices what is left"
    )


def _summary(tap: RunningTap, started: float, failure: str | None) -> None:
    """Log the run summary (line + metrics) and send the alerts it calls for."""
    policy = tap.request_policy
    products = t.cast("Products", tap.streams["products"])
    left = {}
    if policy.stopped_at_budget and (products.selected or products.has_selected_descendents):
        left = products.left_after_run()
    summary = {
        "run_started_at": tap.run_started_at.isoformat(),
        "duration_seconds": round(time.monotonic() - started, 3),
        "status": _status(policy, failure),
        **tap.stats.summary(),
        "budget_exhausted": policy.stopped_at_budget,
        **left,
    }
    emit_summary(summary)
    if policy.stopped_at_budget and policy.stop_signal is None:
        logger.warning(
            "Stopped early: max_requests=%s reached. State is saved; the next run goes on "
            "where this one stood (%s).",
            tap.settings.max_requests,
            _what_is_left(left),
        )
    url = tap.settings.alert_webhook_url
    reasons = alert_reasons(
        summary, failed=failure, quota_threshold=tap.settings.alert_quota_threshold
    )
    if url and reasons:
        send_alert(url, reasons, summary)


def _status(policy: RequestPolicy, failure: str | None) -> str:
    """The run's status in the summary."""
    if policy.stop_signal is not None:
        return "interrupted"  # by SIGINT or SIGTERM; finished partitions kept
    if failure:
        return "failed"
    return "stopped_at_budget" if policy.stopped_at_budget else "succeeded"


def configure_logging(settings: Settings) -> None:
    """The run's log levels: the SDK's metric points, and its messages the tap filters."""
    set_metrics_log_level(settings.metrics_log_level)
    sdk = logging.getLogger("singer_sdk")
    if not any(isinstance(f, SdkMessageFilter) for f in sdk.filters):
        sdk.addFilter(SdkMessageFilter())


class SdkMessageFilter(logging.Filter):
    """Leaves out the SDK messages that say nothing here (``FILTERED_MESSAGES``).

    The SDK warns once per partition that newest-first listings are "unsorted": that is
    by design (bookmarks move at partition end, see ``Products``).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Pass every record but those messages."""
        message = record.getMessage()
        return not any(text in message for text in FILTERED_MESSAGES)
