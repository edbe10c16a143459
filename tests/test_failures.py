"""Exit-code mapping: each failure a run can end with gets its code and a clear line."""

from __future__ import annotations

import pytest
import requests
from singer_sdk.exceptions import ConfigValidationError, RetriableAPIError

from tap_asos.client import AsosAPIError
from tap_asos.failures import (
    EXIT_API,
    EXIT_CONFIG,
    EXIT_UNEXPECTED,
    ConfigurationError,
    classify_failure,
)
from tap_asos.inputs import InputError
from tap_asos.runtime import RequestBudgetExhaustedError


@pytest.mark.parametrize(
    ("exc", "code", "needle"),
    [
        (
            ConfigValidationError("failed", errors=["'api_key' is a required property"]),
            EXIT_CONFIG,
            "Config validation failed: 'api_key' is a required property",
        ),
        (ConfigurationError("Unknown store 'XX'"), EXIT_CONFIG, "Unknown store 'XX'"),
        (InputError("State file s.json is empty."), EXIT_CONFIG, "State file s.json is empty."),
        (AsosAPIError("401 Unauthorized for /x", 401), EXIT_CONFIG, "401 Unauthorized"),
        (AsosAPIError("404 Not Found for /x", 404), EXIT_CONFIG, "404 Not Found"),
        (AsosAPIError("429 MONTHLY quota", 429), EXIT_API, "MONTHLY quota"),
        (AsosAPIError("Unexpected listing body", None), EXIT_API, "Unexpected listing body"),
        (RetriableAPIError("503 for /x"), EXIT_API, "Giving up after retries: 503 for /x"),
        (
            requests.exceptions.ConnectionError("refused"),
            EXIT_API,
            "Check api_url and the API's status",
        ),
        (
            RequestBudgetExhaustedError("request budget of 1 requests reached"),
            EXIT_CONFIG,
            "max_requests too small to start",
        ),
        (KeyError("id"), EXIT_UNEXPECTED, "KeyError: 'id'"),
    ],
)
def test_each_failure_gets_its_exit_code_and_says_what_to_do(
    exc: BaseException, code: int, needle: str
) -> None:
    failure = classify_failure(exc)
    assert failure.code == code
    assert needle in failure.message
