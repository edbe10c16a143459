"""Base stream owning the HTTP policy for the ASOS API on RapidAPI.

Every request of the tap goes through :class:`AsosStream`: base URL, RapidAPI
headers, the API key, the shared rate limiter and request budget, response
validation, retries with backoff (honouring ``Retry-After``), JSON decoding and
error messages that never carry the key.  Settings come typed from the tap
(:class:`tap_asos.settings.Settings`).
"""

from __future__ import annotations

import logging
import random
import typing as t
from datetime import datetime, timezone
from functools import cached_property
from http import HTTPStatus
from urllib.parse import urlparse

import msgspec
import requests
from singer_sdk import metrics
from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import RecordMessage
from singer_sdk.streams import RESTStream
from typing_extensions import override

from tap_asos import __version__

if t.TYPE_CHECKING:
    from collections.abc import Generator, Iterable

    from backoff.types import Details
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context, RequestFunc
    from singer_sdk.pagination import BaseAPIPaginator
    from singer_sdk.streams import Stream

    from tap_asos.runtime import RequestPolicy, RunStats
    from tap_asos.settings import Settings
    from tap_asos.stores import StoreInfo, StoreResolver

_DECODER = msgspec.json.Decoder()
# The category tree: a stream of its own, and where products discovers its partitions.
CATEGORIES_PATH = "/categories/list"
# RapidAPI's per-second 429 carries no Retry-After in any quote found: wait ~1 s.
DEFAULT_RETRY_AFTER = 1.0
MAX_RETRY_AFTER = 120.0
# The gateway says "MONTHLY quota" when the plan's quota is used up: retrying is futile.
_QUOTA_MARKER = "quota"


# Where validate_response keeps a response's decoded body (see decoded_body).
_PAYLOAD = "asos_payload"


def stash_body(response: requests.Response, payload: t.Any) -> None:  # noqa: ANN401
    """Keep a response's decoded body with it, so that it is decoded once."""
    vars(response)[_PAYLOAD] = payload


def decoded_body(response: requests.Response) -> t.Any:  # noqa: ANN401
    """The JSON body ``validate_response`` decoded; TypeError if it did not see it."""
    if _PAYLOAD not in vars(response):
        msg = "the response was not validated before use"
        raise TypeError(msg)
    return vars(response)[_PAYLOAD]


class AsosAPIError(FatalAPIError):
    """A non-retriable answer of the API, with a message safe to log."""

    def __init__(self, message: str, status: int | None = None) -> None:
        """Keep the HTTP status (if any) beside the message."""
        super().__init__(message)
        self.status = status


class AsosStream(RESTStream[t.Any]):
    """Base class of every ASOS stream: one place for all HTTP policy."""

    records_jsonpath = "$[*]"
    # The API's JSON is already typed as the schemas say, so the SDK's per-value type
    # conformance (a third of the tap's CPU per record) is skipped; post_process drops
    # top-level fields the schema does not declare and names them in a warning once, and
    # nested fields the schema does not know yet (API drift) pass through.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: Tap, *args: t.Any, **kwargs: t.Any) -> None:
        """Keep the tap as the run's shared runtime (session, limits, counters, stores)."""
        super().__init__(tap, *args, **kwargs)
        self._runtime = t.cast("_TapRuntime", tap)

    @override
    @property
    def url_base(self) -> str:
        return self.settings.api_url.rstrip("/")

    @override
    @property
    def authenticator(self) -> APIKeyAuthenticator:
        return APIKeyAuthenticator(
            key="X-RapidAPI-Key",
            value=self.settings.api_key,
            location="header",
        )

    @override
    @property
    def http_headers(self) -> dict[str, str]:
        return {
            "X-RapidAPI-Host": self.settings.rapidapi_host,
            "Accept": "application/json",
        }

    @override
    @property
    def user_agent(self) -> str:
        return self.settings.user_agent or f"tap-asos/{__version__}"

    @override
    @property
    def timeout(self) -> int:
        return self.settings.timeout

    @override
    @property
    def requests_session(self) -> requests.Session:
        # One pooled session per tap run, shared by every stream and worker thread.
        return self.tap_runtime.session

    @property
    def settings(self) -> Settings:
        """The run's settings, typed."""
        return self.tap_runtime.settings

    @property
    def stats(self) -> RunStats:
        """The run's counters (summary, progress, alerts)."""
        return self.tap_runtime.stats

    @property
    def request_policy(self) -> RequestPolicy:
        """The run-wide rate limit and request budget."""
        return self.tap_runtime.request_policy

    @property
    def stores(self) -> StoreResolver:
        """Resolves configured store codes to their country, currency and language."""
        return self.tap_runtime.stores

    @property
    def tap_runtime(self) -> _TapRuntime:
        """The tap's shared runtime (session, run state, store resolver)."""
        return self._runtime

    def store_info(self, context: Context | None) -> StoreInfo:
        """Return the store of a partition context."""
        if not context or "store" not in context:
            msg = f"stream {self.name} needs a 'store' in its context"
            raise ValueError(msg)
        return self.stores.get(str(context["store"]))

    def locale_params(self, store: StoreInfo) -> dict[str, t.Any]:
        """Query parameters that pick a store's market, currency, sizes and language."""
        return {
            "store": store.store,
            "country": store.country,
            "currency": store.currency,
            "sizeSchema": store.size_schema,
            "lang": store.lang,
        }

    # --- requests ------------------------------------------------------------

    @override
    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        # Every attempt, retries included, first takes a slot of the run-wide rate limit
        # and request budget: the slot goes inside the SDK's retry loop.
        def with_slot(
            prepared_request: requests.PreparedRequest, context: Context | None
        ) -> requests.Response:
            self.request_policy.take_request_slot(self.name)
            return func(prepared_request, context)

        return super().request_decorator(with_slot)

    def fetch(self, path: str, params: dict[str, t.Any], context: Context | None) -> t.Any:  # noqa: ANN401
        """GET one path with the full policy (limit, retries, validation); return JSON.

        Used for per-product fan-out calls that do not fit the paginated flow.
        Safe to call from worker threads.
        """
        request = self.get_request(f"{self.url_base}{path}", params)
        send = self.request_decorator(self.send_request)
        return self.payload(send(request, context))

    def send_request(
        self, request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """Send one prepared request and validate the answer, as the SDK's own loop does.

        Retries, the rate limit and the budget come from wrapping it in
        :meth:`request_decorator`.  The SDK's per-request metric point is logged here.
        """
        response = self.requests_session.send(
            self.fit_request(request), timeout=self.timeout, allow_redirects=self.allow_redirects
        )
        metrics.log(
            self.metrics_logger,
            metrics.Point(
                "timer",
                metric=metrics.Metric.HTTP_REQUEST_DURATION,
                value=response.elapsed.total_seconds(),
                tags={
                    metrics.Tag.STREAM: self.name,
                    metrics.Tag.ENDPOINT: self.path,
                    metrics.Tag.HTTP_STATUS_CODE: response.status_code,
                    metrics.Tag.STATUS: metrics.Status.SUCCEEDED
                    if response.status_code < HTTPStatus.BAD_REQUEST
                    else metrics.Status.FAILED,
                    **({metrics.Tag.CONTEXT: context} if context else {}),
                },
            ),
        )
        self.validate_response(response)
        return response

    def get_request(self, url: str, params: dict[str, t.Any] | str) -> requests.PreparedRequest:
        """A GET of ``url`` with the stream's headers and auth, as the SDK builds its own."""
        return self.build_prepared_request(
            method="GET", url=url, params=params, headers=self.http_headers
        )

    def payload(self, response: requests.Response) -> t.Any:  # noqa: ANN401
        """Return the decoded JSON body of a validated response."""
        if _PAYLOAD in vars(response):
            return decoded_body(response)
        return _DECODER.decode(response.content)

    @override
    def validate_response(self, response: requests.Response) -> None:
        self.stats.record_response(response.status_code, response.headers, self.name)
        status = response.status_code
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            message = self._api_message(response)
            if _QUOTA_MARKER in message.lower():
                raise AsosAPIError(self._error_text(response, message), status)
            self.request_policy.pause(
                min(self._retry_after(response), self.settings.backoff_max_seconds)
            )
            raise RetriableAPIError(self._error_text(response, message), response)
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise RetriableAPIError(
                self._error_text(response, self._api_message(response)), response
            )
        if status >= HTTPStatus.BAD_REQUEST:
            if self.retry_refused(response):
                raise RetriableAPIError(
                    self._error_text(response, self._api_message(response)), response
                )
            raise AsosAPIError(self._error_text(response, self._api_message(response)), status)
        try:
            payload = _DECODER.decode(response.content)
        except msgspec.DecodeError as exc:
            # A truncated or garbled body is a transport fault: retry it.
            msg = (
                f"Malformed JSON from {self._path_of(response)} "
                f"({len(response.content)} bytes): {exc}"
            )
            raise RetriableAPIError(msg, response) from exc
        self.check_payload(response, payload)
        stash_body(response, payload)  # parse_response and the paginator decode nothing

    def check_payload(self, response: requests.Response, payload: t.Any) -> None:  # noqa: ANN401
        """Hook for streams to reject a well-formed but unusable body (retriable)."""

    def error_hint(self, response: requests.Response) -> str:  # noqa: ARG002
        """Hook for streams to add advice to an API error message ("" for none)."""
        return ""

    def fit_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Hook for streams to adjust a request as it leaves (a retry's included)."""
        return request

    def retry_refused(self, response: requests.Response) -> bool:  # noqa: ARG002
        """Hook: whether a 4xx is worth one retry (after :meth:`fit_request` changed it)."""
        return False

    @staticmethod
    def _path_of(response: requests.Response) -> str:
        return urlparse(response.url).path or "?"

    @staticmethod
    def _api_message(response: requests.Response) -> str:
        try:
            body = _DECODER.decode(response.content)
        except msgspec.DecodeError:
            return response.text[:200]
        if isinstance(body, dict):
            for key in ("message", "Message", "errorMessage", "error"):
                if isinstance(body.get(key), str):
                    return str(body[key])
        return response.text[:200]

    def _error_text(self, response: requests.Response, message: str) -> str:
        hint = ""
        if response.status_code in {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}:
            hint = (
                " Check TAP_ASOS_API_KEY (RapidAPI key) and that it is subscribed to "
                f"the API at host {self.settings.rapidapi_host}."
            )
        elif response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
            hint = " Lower requests_per_second or raise the RapidAPI plan's quota."
        else:
            hint = self.error_hint(response)
        return (
            f"{response.status_code} {response.reason} for {self._path_of(response)}: "
            f"{message}.{hint}"
        )

    @override
    def response_error_message(self, response: requests.Response) -> str:
        return self._error_text(response, self._api_message(response))

    # --- retries ---------------------------------------------------------------

    @override
    def backoff_wait_generator(self) -> Generator[float, t.Any, None]:
        # backoff sends each caught exception in; a 429 waits what the gateway asks
        # (or ~1 s), anything else waits backoff_factor * 2**attempt; both capped at
        # backoff_max_seconds ("the longest wait between two retries").
        factor = self.settings.backoff_factor
        cap = self.settings.backoff_max_seconds
        attempt = 0
        exception = yield  # type: ignore[misc]
        while True:
            attempt += 1
            response = getattr(exception, "response", None)
            if (
                isinstance(response, requests.Response)
                and response.status_code == HTTPStatus.TOO_MANY_REQUESTS
            ):
                wait = min(self._retry_after(response), cap)
            else:
                wait = min(factor * 2 ** min(attempt - 1, 16), cap)
            exception = yield wait

    @staticmethod
    def _retry_after(response: requests.Response) -> float:
        value = response.headers.get("Retry-After", "")
        try:
            seconds = float(value)
        except ValueError:
            return DEFAULT_RETRY_AFTER
        return min(max(seconds, 0.0), MAX_RETRY_AFTER)

    @override
    def backoff_jitter(self, value: float) -> float:
        # Up to +25 %: spreads retries of concurrent workers without the SDK's
        # default extra second, which would dwarf short backoffs; never past the cap.
        cap = max(value, self.settings.backoff_max_seconds)
        return min(value * (1 + random.random() / 4), cap)  # noqa: S311

    @override
    def backoff_max_tries(self) -> int:
        return self.settings.max_retries + 1

    @override
    def backoff_handler(self, details: Details) -> None:
        self.stats.record_retry(self.name)
        exc = details.get("exception")
        self.log(
            "Retrying %s in %.2fs (attempt %d of %d): %s",
            self.path,
            details.get("wait") or 0.0,
            details.get("tries", 0),
            self.backoff_max_tries(),
            exc if isinstance(exc, RetriableAPIError) else type(exc).__name__,
            level=logging.WARNING,
        )

    # --- records -----------------------------------------------------------------

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        self.stats.count(self.name, "records")
        unknown = row.keys() - self._declared
        if unknown:
            self.stats.count_unknown_fields(self.name, unknown)
            for key in unknown:
                del row[key]
            if new := unknown - self._reported:
                self._reported |= new
                self.logger.warning(
                    "Fields %s of '%s' are not in the schema (API drift?): not emitted. "
                    "Nested new fields are kept.",
                    sorted(new),
                    self.name,
                )
        return row

    @override
    def _generate_record_messages(self, record: dict[str, t.Any]) -> Generator[RecordMessage]:
        # Hot path. The SDK walks every record (nested objects included) against the
        # selection mask even when every property is selected; that walk was the largest
        # per-record cost left (bench/results.md). With a full selection it removes
        # nothing, so skip it; conformance is NONE (see above) and unknown fields were
        # dropped in post_process. Any deselected property takes the SDK's own path.
        if not self._everything_selected:
            yield from super()._generate_record_messages(record)
            return
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=datetime.now(tz=timezone.utc),
                )

    @cached_property
    def _everything_selected(self) -> bool:
        return all(self.mask.values())

    @cached_property
    def _declared(self) -> frozenset[str]:
        return frozenset(self.schema.get("properties", {}))

    @cached_property
    def _reported(self) -> set[str]:
        return set()

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[t.Any] | None:
        return None

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, t.Any]]:
        payload = self.payload(response)
        if isinstance(payload, list):
            yield from payload
        elif isinstance(payload, dict):
            yield payload


class _TapRuntime(t.Protocol):
    """What the streams need from the tap (implemented by ``TapAsos``)."""

    session: requests.Session
    settings: Settings
    streams: dict[str, Stream]
    stats: RunStats
    request_policy: RequestPolicy
    stores: StoreResolver
    run_started_at: datetime
    reads_started_at: datetime

    def write_state_now(self) -> None:
        """Write a STATE message of the tap's state as it stands (after its records)."""
