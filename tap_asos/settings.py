"""The tap's settings: the config schema ``tap-asos --about`` prints and Meltano reads."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_asos.client import MAX_STOCK_PRICE_IDS
from tap_asos.logs import METRICS_LOG_LEVELS

REAL_API_URL = "https://asos2.p.rapidapi.com"
REAL_API_HOST = "asos2.p.rapidapi.com"

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
        "not what the tree holds. A first run and a snapshot read every leaf. False: read "
        "every leaf daily.",
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
        default=48,
        title="Page size",
        description="Products per listing page (limit), 1 to 200; the site uses 48.",
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
    th.Property(
        "requests_per_second",
        th.NumberType(minimum=0),
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
    th.Property(
        "backoff_factor",
        th.NumberType(minimum=0),
        default=1.0,
        title="Backoff factor",
        description="First retry waits this many seconds, doubling each retry "
        "(a 429 waits Retry-After, or 1 s).",
    ),
    th.Property(
        "backoff_max_seconds",
        th.NumberType(minimum=0),
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
    th.Property(
        "progress_interval_seconds",
        th.NumberType(minimum=0),
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
