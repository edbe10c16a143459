"""How a failed run ends: one clear line and an exit code an orchestrator can act on.

Exit codes (``orchestrate/elt_run.py``, Airflow and Autosys read them):

- ``EXIT_CONFIG`` (2): a setting or an input file is wrong (validation, a config, state
  or catalog file that is not JSON or has the wrong shape, unknown store or category, a
  key the API refuses, a budget too small to start). Retrying will not help.
- ``EXIT_API`` (3): the API failed after every retry (5xx, 429, timeouts, the
  monthly quota). Retry later: the state is saved up to the last finished partition.
- ``EXIT_UNEXPECTED`` (1): a bug; the traceback is logged.
"""

from __future__ import annotations

import typing as t

import requests
from singer_sdk.exceptions import ConfigValidationError, RetriableAPIError

from tap_asos.client import AsosAPIError
from tap_asos.inputs import InputError
from tap_asos.runtime import RequestBudgetExhaustedError

EXIT_UNEXPECTED = 1
EXIT_CONFIG = 2
EXIT_API = 3
# Answers that no retry will change: the request or the key is wrong.
_CONFIG_STATUSES = frozenset({400, 401, 403, 404})


class ConfigurationError(ValueError):
    """A setting is wrong in a way the API revealed (unknown store or category)."""


class Failure(t.NamedTuple):
    """An exit code and the one line that says what to do."""

    code: int
    message: str


def classify_failure(exc: BaseException) -> Failure:
    """The exit code and message for an exception that ended a run.

    Messages carry what the exception says, which never holds the API key (see
    ``AsosStream._error_text``), plus what to change.
    """
    if isinstance(exc, ConfigValidationError):
        return Failure(EXIT_CONFIG, "Config validation failed: " + "; ".join(exc.errors))
    if isinstance(exc, (ConfigurationError, InputError)):
        return Failure(EXIT_CONFIG, str(exc))
    if isinstance(exc, AsosAPIError):
        code = EXIT_CONFIG if exc.status in _CONFIG_STATUSES else EXIT_API
        return Failure(code, str(exc))
    if isinstance(exc, (RetriableAPIError, requests.exceptions.RequestException)):
        return Failure(
            EXIT_API,
            f"Giving up after retries: {exc}. Check api_url and the API's status, then "
            "rerun (state is saved up to the last finished partition).",
        )
    if isinstance(exc, RequestBudgetExhaustedError):
        # Streams stop cleanly at the budget; only the preflight can hit it here.
        return Failure(
            EXIT_CONFIG,
            f"max_requests too small to start: {exc} (the preflight needs 1 request, "
            "plus 1 per store when category_ids is set)",
        )
    return Failure(EXIT_UNEXPECTED, f"{type(exc).__name__}: {exc}")
