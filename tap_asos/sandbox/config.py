"""Settings of the sandbox and the fixed reference data it serves (stores, categories)."""

from __future__ import annotations

from dataclasses import dataclass

RAPIDAPI_HOST = "asos2.p.rapidapi.com"
ARRIVALS_PER_10000 = 27  # new products a day per 10,000 in the catalog (real: 181 / 2,434 / 28)
DEFAULT_LISTINGS_PER_PRODUCT = {"real": 8.0, "small": 1.2}
OVER_LIMIT = ("clamp", "error")


@dataclass(frozen=True)
class SandboxConfig:
    """Knobs of one sandbox instance; the catalog is a pure function of these and the day."""

    seed: int = 42
    products: int = 5000
    api_keys: tuple[str, ...] = ("sandbox-key",)
    unsubscribed_keys: tuple[str, ...] = ("unsubscribed-key",)
    rapidapi_host: str = RAPIDAPI_HOST
    rate_limit_per_second: float = 0.0
    quota: int = 0
    latency_ms: tuple[int, int] = (0, 0)
    # Largest page served, and what a larger ``limit`` gets: "clamp" (a page of
    # ``max_limit`` products, ``itemCount`` unchanged; likely what the real API does) or
    # "error" (400 naming limit).
    max_limit: int = 200
    over_limit: str = "clamp"
    # Deepest listing position served: ``offset + limit`` beyond it gets the items up to
    # it and no more, while ``itemCount`` still gives the full total (0 = no cap).
    max_offset: int = 5000
    new_per_day: int | None = None
    # Ids are given at creation, up to this many days of arrivals before going live: a
    # day's arrivals carry ids below earlier days' (0: ids grow with go-live order).
    id_spread_days: float = 5.0
    # Products that sell out each day and come back on top the next (None: ~5 % of a
    # day's arrivals, at least 0.1 % of the catalog).
    restocks_per_day: int | None = None
    # Share of category listings that carry the freshness_band facet (real pages show
    # it on some listings and not others).
    freshness_facet_percent: int = 75
    # Category tree: "small" (53 navigation nodes, 18 leaf categories and 10 feeds) or "real"
    # (the real API's size and depth: about 1,020 navigation nodes, 573 leaf category ids
    # feeds included, 1,316 brand nodes).
    tree: str = "small"
    # Which year's New-in section the tree carries (see feeds.py): 2022 (View all, department
    # New-in lists, Back in stock), 2023 (no Back in stock, brand drops linking View all) or
    # 2025 (other titles and ids, the same aliases).
    tree_year: int = 2022
    # A product is in its gender's New in (View all, department list) this many days from
    # the day it goes live (a real New-in listing held about 8 weeks of arrivals).
    new_in_days: int = 56
    # Share of arrivals that never enter New in (chosen per product, deterministically).
    new_in_skip_percent: int = 0
    # A restocked product is in its gender's Back in stock this many days from its restock.
    back_in_stock_days: int = 14
    # Mean number of navigation listings a product is on (membership.py); None: 8 on the
    # real-size tree (real details: 6 to 10 of their plpIds in the year's tree), 1.2 on the
    # small one (its leaf, and a second of its kind for one in five: it has no other lists).
    listings_per_product: float | None = None

    @property
    def listings_mean(self) -> float:
        """``listings_per_product``, or the tree's default."""
        if self.listings_per_product is not None:
            return self.listings_per_product
        return DEFAULT_LISTINGS_PER_PRODUCT.get(self.tree, 1.2)

    @property
    def arrivals_per_day(self) -> int:
        """New products per advanced day: ``new_per_day`` or about 0.27 % of the catalog.

        A real Shoes leaf had 181 of its 2,434 products go live in the last 28 days:
        7.4 % in four weeks, 0.27 % a day.
        """
        if self.new_per_day is not None:
            return self.new_per_day
        return max(1, self.products * ARRIVALS_PER_10000 // 10_000)

    @property
    def restocks(self) -> int:
        """Products restocked per day: ``restocks_per_day``, or ~5 % of a day's arrivals.

        At least 0.1 % of the catalog: no real figure is known, and that is the rate the
        sandbox had when arrivals were 2 % of the catalog a day (Back in stock stays as
        full as it was).
        """
        if self.restocks_per_day is not None:
            return self.restocks_per_day
        return max(self.arrivals_per_day // 20, self.products // 1000)


@dataclass(frozen=True)
class Currency:
    """A currency, its rate from GBP and how ASOS writes amounts in it."""

    code: str
    symbol: str
    rate: float
    currency_id: int
    suffix: bool = False  # "52,99 €" rather than "$52.99"

    def text(self, value: float) -> str:
        """Format an amount the way the API's ``text`` fields do."""
        if self.suffix:
            return f"{value:.2f}".replace(".", ",") + f" {self.symbol}"
        return f"{self.symbol}{value:,.2f}"


CURRENCIES = {
    c.code: c
    for c in (
        Currency("GBP", "£", 1.0, 1),
        Currency("USD", "$", 1.27, 2),
        Currency("EUR", "€", 1.17, 19, suffix=True),
        Currency("AUD", "$", 1.93, 10),
        Currency("SEK", "kr", 13.4, 23, suffix=True),
    )
}

LANGUAGES = {
    "en-GB": ("British English", "en"),
    "en-US": ("American English", "en"),
    "en-AU": ("Australian English", "en"),
    "de-DE": ("Deutsch", "de"),
    "fr-FR": ("Français", "fr"),
    "es-ES": ("Español", "es"),
    "it-IT": ("Italiano", "it"),
    "sv-SE": ("Svenska", "sv"),
}


@dataclass(frozen=True)
class Country:
    """One row of ``/countries/list``."""

    country: str
    store: str
    name: str
    site_id: int
    site_url: str
    languages: tuple[str, ...]
    currencies: tuple[str, ...]
    size_schema: str  # the primary one


COUNTRIES = (
    Country("GB", "COM", "United Kingdom", 1, "www.asos.com", ("en-GB",), ("GBP",), "UK"),
    Country("US", "US", "United States", 2, "www.asos.com/us", ("en-US",), ("USD",), "US"),
    Country("DE", "DE", "Germany", 4, "www.asos.de", ("de-DE",), ("EUR",), "EU"),
    Country("FR", "FR", "France", 3, "www.asos.fr", ("fr-FR",), ("EUR",), "EU"),
    Country("AU", "AU", "Australia", 5, "www.asos.com/au", ("en-AU",), ("AUD",), "UK"),
    Country("ES", "ES", "Spain", 8, "www.asos.com/es", ("es-ES",), ("EUR",), "EU"),
    Country("IT", "IT", "Italy", 9, "www.asos.com/it", ("it-IT",), ("EUR",), "EU"),
    Country("SE", "SE", "Sweden", 16, "www.asos.com/se", ("sv-SE",), ("SEK",), "EU"),
    Country("IN", "ROW", "India", 24, "www.asos.com", ("en-GB",), ("GBP", "USD"), "UK"),
    Country(
        "AE", "ROW", "United Arab Emirates", 24, "www.asos.com", ("en-GB",), ("GBP", "USD"), "UK"
    ),
    Country("JP", "ROW", "Japan", 24, "www.asos.com", ("en-GB",), ("GBP", "USD"), "UK"),
)
STORES = {c.store for c in COUNTRIES}
SIZE_SCHEMAS = ("UK", "EU", "US")

# Navigation: (title, children) for containers, (title, categoryId, kind) for leaves.
# kind picks the size run and product words; ids are real ASOS category ids.
NAVIGATION: dict[str, list[tuple[str, list[tuple[str, int, str]]]]] = {
    "Women": [
        (
            "Shoes",
            [("Boots", 6455, "shoes"), ("Trainers", 6456, "shoes"), ("Heels", 6461, "shoes")],
        ),
        (
            "Clothing",
            [
                ("Dresses", 8799, "clothing"),
                ("Tops", 4169, "clothing"),
                ("Jeans", 3630, "clothing"),
                ("Coats & Jackets", 2641, "clothing"),
                ("Jumpers & Cardigans", 2637, "clothing"),
            ],
        ),
        ("Accessories", [("Bags", 8730, "onesize"), ("Jewellery", 4175, "onesize")]),
    ],
    "Men": [
        ("Shoes", [("Boots", 5774, "shoes"), ("Trainers", 5775, "shoes")]),
        (
            "Clothing",
            [
                ("T-Shirts", 7616, "clothing"),
                ("Jeans", 4208, "clothing"),
                ("Jackets & Coats", 3606, "clothing"),
                ("Hoodies", 5668, "clothing"),
            ],
        ),
        ("Accessories", [("Watches", 19855, "onesize"), ("Caps & Hats", 4210, "onesize")]),
    ],
}

BRANDS = (
    ("ASOS DESIGN", 53),
    ("Nike", 2986),
    ("adidas Originals", 15325),
    ("Topshop", 11004),
    ("Timberland", 3155),
    ("Dr Martens", 2985),
    ("Levi's", 2958),
    ("Monki", 14983),
    ("Vans", 3082),
    ("New Look", 3025),
    ("Mango", 12543),
    ("The North Face", 3154),
    ("Converse", 2888),
    ("Weekday", 15067),
    ("Reclaimed Vintage", 13539),
    ("Calvin Klein", 3089),
)
COLOURS = (
    "Black",
    "White",
    "Navy",
    "Beige",
    "Red",
    "Green",
    "Grey",
    "Brown",
    "Pink",
    "Blue",
    "Multi",
    "Cream",
)
SIZE_RUNS = {
    "shoes": {
        "UK": [f"UK {n}" for n in range(3, 12)],
        "EU": [f"EU {n}" for n in range(36, 45)],
        "US": [f"US {n}" for n in range(5, 14)],
    },
    "clothing": {
        "UK": [f"UK {n}" for n in range(4, 22, 2)],
        "EU": [f"EU {n}" for n in range(32, 50, 2)],
        "US": [f"US {n}" for n in range(0, 18, 2)],
    },
    "onesize": {"UK": ["No Size"], "EU": ["No Size"], "US": ["No Size"]},
}
WORDS = {
    "shoes": (
        "chunky lace up shoes",
        "premium 6inch boots",
        "chelsea boots",
        "trainers",
        "platform heels",
        "loafers",
    ),
    "clothing": (
        "oversized t-shirt",
        "midi dress",
        "straight leg jeans",
        "puffer jacket",
        "knitted jumper",
        "relaxed hoodie",
    ),
    "onesize": ("tote bag", "chain necklace", "digital watch", "bucket hat", "cross body bag"),
}
