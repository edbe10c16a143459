"""The tap's settings: the config schema, and the typed object every module reads.

``CONFIG_SCHEMA`` is what ``tap-asos --about`` prints and Meltano reads; :class:`Settings`
is built once from the validated config, and read instead of the raw config dict.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field, fields

from singer_sdk import typing as th

if t.TYPE_CHECKING:
    from collections.abc import Mapping

REAL_API_URL = "https://asos2.p.rapidapi.com"
REAL_API_HOST = "asos2.p.rapidapi.com"
# The API takes at most this many ids per get-stock-price call (the site batches ~50).
MAX_STOCK_PRICE_IDS = 50
METRICS_LOG_LEVELS = ("DEBUG", "INFO")
# Fractional settings may come as strings: Meltano 4.4 cannot pass a `kind: decimal` value
# taken from the environment ("Object of type Decimal is not JSON serializable"), so
# meltano.yml declares them `kind: string`, and the SDK's env parsing converts integers
# only. The schema takes a number or a string holding one; Settings reads both.
_DECIMAL_TEXT = r"^\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*$"


def _decimal(name: str, *, default: float, title: str, description: str) -> th.Property[t.Any]:
    """A fractional setting >= 0: a JSON number, or a string holding one ("0.5")."""
    return th.Property(
        name,
        th.CustomType({"type": ["number", "string"], "minimum": 0, "pattern": _DECIMAL_TEXT}),
        default=default,
        title=title,
        description=description,
    )


CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "api_key",
        th.StringType(min_length=1),
        required=True,
        secret=True,
        title="RapidAPI key",
        description="Your RapidAPI key for the ASOS API, sent as X-RapidAPI-Key. "
        "Set it with the TAP_ASOS_API_KEY environment variable; it is never logged.",
    ),
    th.Property(
        "api_url",
        th.URIType,
        default=REAL_API_URL,
        title="API base URL",
        description="Base URL of the ASOS API. Point it at a local sandbox "
        "(asos-sandbox) for development and tests.",
    ),
    th.Property(
        "rapidapi_host",
        th.StringType,
        default=REAL_API_HOST,
        title="RapidAPI host",
        description="Value of the X-RapidAPI-Host header.",
    ),
    th.Property(
        "stores",
        th.ArrayType(th.StringType),
        default=["US"],
        title="Stores",
        description="Store codes (US, COM, ROW, DE, ...) or country codes (GB, IN, ...) "
        "to extract, as listed by /countries/list.",
    ),
    th.Property(
        "category_ids",
        th.ArrayType(th.IntegerType),
        default=[],
        title="Category ids",
        description="Category ids to list products from. Empty: every leaf category of "
        "each store's navigation tree.",
    ),
    th.Property(
        "read_feeds",
        th.BooleanType,
        default=True,
        title="Read arrival feeds",
        description="Incremental runs read each store's arrival feeds (each gender's New in "
        "'View all', and Back in stock where the tree has it) instead of every leaf "
        "category, once a run has bookmarked them: a daily run then costs what is new, "
        "not what the tree holds. A first run reads every leaf; a snapshot its cover "
        "(cover_max_age_days). False: read "
        "every leaf daily.",
    ),
    th.Property(
        "cover_max_age_days",
        th.IntegerType(minimum=0),
        default=91,
        title="Cover max age (days)",
        description="A snapshot that read every listing of a store learns its cover: "
        "listings that together hold every product it found, none of which could go, for "
        "few pages. Later snapshots read only the cover, and whole each listing the "
        "tree gained since (what it holds outside the cover is counted as cover_misses and "
        "joins the cover), until the cover is this many days old or one of its listings "
        "leaves the tree; then a snapshot reads every listing again. 0: every snapshot "
        "reads every listing.",
    ),
    th.Property(
        "feed_category_ids",
        th.ArrayType(th.IntegerType),
        default=[],
        title="Feed category ids",
        description="Category ids of the arrival feeds, instead of those found in each "
        "store's tree (New in 'View all' by its alias or title, Back in stock by title).",
    ),
    th.Property(
        "currency",
        th.StringType,
        title="Currency",
        description="Currency of prices (e.g. USD, GBP). Default: each store's primary.",
    ),
    th.Property(
        "lang",
        th.StringType,
        title="Language",
        description="Language of texts (e.g. en-US). Default: each store's primary.",
    ),
    th.Property(
        "size_schema",
        th.StringType,
        title="Size schema",
        description="Size labels (US, UK, EU). Default: each store's primary.",
    ),
    th.Property(
        "page_size",
        th.IntegerType(minimum=1, maximum=200),
        default=200,
        title="Page size",
        description="Products asked per listing page (limit), 1 to 200. The API's largest "
        "page is not known (the site asks 48 or 72): pages are read by what each holds, so "
        "an API that serves fewer is paged right (logged once), and a 4xx for a limit above "
        "48 is retried once at 48, which later pages ask (logged once).",
    ),
    th.Property(
        "max_products_per_partition",
        th.IntegerType(minimum=0),
        default=0,
        title="Max products per partition",
        description="Stop listing a store x category after this many products "
        "(0: no cap). For samples and development.",
    ),
    th.Property(
        "max_listing_offset",
        th.IntegerType(minimum=0),
        default=5000,
        title="Max listing offset",
        description="Deepest position one listing is paged to (0: no limit). ASOS caps "
        "deep offsets, so a store x category with more products is read by brand, then "
        "brand x colour, filters instead: every product is still reached once.",
    ),
    _decimal(
        "requests_per_second",
        default=1.0,
        title="Requests per second",
        description="Client-side rate limit across all streams and threads (0: none). "
        "RapidAPI's BASIC plan allows about 1 per second.",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType(minimum=1, maximum=64),
        default=8,
        title="Max concurrency",
        description="Product detail requests in flight at once (still within requests_per_second).",
    ),
    th.Property(
        "id_batch_size",
        th.IntegerType(minimum=1, maximum=MAX_STOCK_PRICE_IDS),
        default=MAX_STOCK_PRICE_IDS,
        title="Id batch size",
        description="Product ids per get-stock-price call "
        f"(the API takes up to {MAX_STOCK_PRICE_IDS}).",
    ),
    th.Property(
        "max_requests",
        th.IntegerType(minimum=0),
        default=0,
        title="Max requests",
        description="Request budget for one run (0: none). When reached the run stops "
        "cleanly with its state saved, and the next run resumes.",
    ),
    th.Property(
        "timeout",
        th.IntegerType(minimum=1),
        default=30,
        title="Timeout",
        description="Seconds to wait for a response before retrying.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0),
        default=5,
        title="Max retries",
        description="Retries of a request after 429, 5xx, timeouts or malformed bodies.",
    ),
    _decimal(
        "backoff_factor",
        default=1.0,
        title="Backoff factor",
        description="First retry waits this many seconds, doubling each retry "
        "(a 429 waits Retry-After, or 1 s).",
    ),
    _decimal(
        "backoff_max_seconds",
        default=60.0,
        title="Backoff max seconds",
        description="Longest wait between two retries.",
    ),
    th.Property(
        "plan_before_run",
        th.BooleanType,
        default=False,
        title="Plan before a budgeted run",
        description="With max_requests set, estimate the run by planning it (as --plan "
        "does: one listing request per partition, counted against the budget) instead of "
        "from each partition's cost in its last run, before logging which partitions it "
        "will leave for the next run.",
    ),
    _decimal(
        "progress_interval_seconds",
        default=30,
        title="Progress interval seconds",
        description="Log a progress line (partitions done / total, requests, retries, "
        "429s, records, request rate, quota left, ETA) this often, and at each "
        "partition's end (0: at partition ends only).",
    ),
    th.Property(
        "metrics_log_level",
        th.StringType(allowed_values=list(METRICS_LOG_LEVELS)),
        default="DEBUG",
        title="Metrics log level",
        description="Level of the SDK's METRIC log lines (one per HTTP request, and record "
        "counts and durations per partition). DEBUG keeps them out of a run at the usual "
        "INFO level (LOGLEVEL=DEBUG shows them); INFO logs them as the SDK does. The run "
        "summary's tap_asos_* metrics are logged at INFO either way.",
    ),
    th.Property(
        "alert_webhook_url",
        th.StringType,
        secret=True,
        title="Alert webhook URL",
        description="Slack-compatible webhook: a JSON POST when a run fails, extracts "
        "nothing, meets fields no schema declares (API drift), finds a listing out of the "
        "day order incremental runs rely on, or leaves less API quota than "
        "alert_quota_threshold. Unset: no alerts.",
    ),
    th.Property(
        "alert_quota_threshold",
        th.IntegerType(minimum=0),
        default=0,
        title="Alert quota threshold",
        description="Alert when x-ratelimit-requests-remaining ends below this (0: never).",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        title="User agent",
        description="User-Agent header. Default: tap-asos/<version>.",
    ),
).to_dict()


@dataclass(frozen=True)
class Settings:
    """The settings of one run, typed, built once from the validated config.

    Secrets (``api_key``, ``alert_webhook_url``) are left out of the ``repr``.
    """

    api_key: str = field(repr=False)
    api_url: str = REAL_API_URL
    rapidapi_host: str = REAL_API_HOST
    stores: tuple[str, ...] = ("US",)
    category_ids: tuple[int, ...] = ()
    read_feeds: bool = True
    feed_category_ids: tuple[int, ...] = ()
    cover_max_age_days: int = 91
    currency: str | None = None
    lang: str | None = None
    size_schema: str | None = None
    page_size: int = 200
    max_products_per_partition: int = 0
    max_listing_offset: int = 5000
    requests_per_second: float = 1.0
    max_concurrency: int = 8
    id_batch_size: int = MAX_STOCK_PRICE_IDS
    max_requests: int = 0
    timeout: int = 30
    max_retries: int = 5
    backoff_factor: float = 1.0
    backoff_max_seconds: float = 60.0
    plan_before_run: bool = False
    progress_interval_seconds: float = 30.0
    metrics_log_level: str = "DEBUG"
    alert_webhook_url: str | None = field(default=None, repr=False)
    alert_quota_threshold: int = 0
    user_agent: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, t.Any]) -> Settings:
        """Read the validated config (the schema's defaults applied by the SDK)."""
        values: dict[str, t.Any] = {}
        for spec in fields(cls):
            if spec.name not in config or config[spec.name] is None:
                continue
            value = config[spec.name]
            kind = spec.type if isinstance(spec.type, str) else spec.type.__name__
            if kind.startswith("tuple[int"):
                value = tuple(int(v) for v in value)
            elif kind.startswith("tuple[str"):
                value = tuple(str(v) for v in value)
            elif kind == "float":
                value = float(value)  # a number, or a string the schema's pattern let in
            elif kind == "int":
                value = int(value)
            values[spec.name] = value
        return cls(**values)

    @property
    def max_records(self) -> int | None:
        """Products per partition, for samples (None: no cap)."""
        return self.max_products_per_partition or None

    @property
    def max_offset(self) -> int | None:
        """Deepest listing position paged to (None: no limit)."""
        return self.max_listing_offset or None

    @property
    def stock_batch_size(self) -> int:
        """Product ids per get-stock-price call."""
        return min(self.id_batch_size, MAX_STOCK_PRICE_IDS)

    @property
    def locale_overrides(self) -> dict[str, str | None]:
        """The settings that override each store's primary currency, language, sizes."""
        return {"currency": self.currency, "lang": self.lang, "size_schema": self.size_schema}
