"""Response bodies of the sandbox, shaped like the real API's (see docs/sandbox.md)."""

from __future__ import annotations

import hashlib
import re
import typing as t
from datetime import date, timedelta

from tap_asos.sandbox.catalog import Catalog, mix
from tap_asos.sandbox.config import (
    BRANDS,
    COLOURS,
    LANGUAGES,
    SIZE_RUNS,
    SIZE_SCHEMAS,
    WORDS,
    Currency,
)

Json = dict[str, t.Any]
EPOCH = date(2026, 1, 1)  # catalog day 0; no wall clock anywhere


def slugify(text: str) -> str:
    """Lower-case, dash-separated form of a text (URL paths, aliases)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def guid(*parts: int | str) -> str:
    """A stable GUID-shaped id derived from its parts."""
    h = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def request_id(path: str, query: str) -> str:
    """A request id derived from the request, so bodies stay byte-for-byte repeatable."""
    return guid(path, query)


def brand_category_id(brand: int) -> int:
    """The category id of a brand's A-Z page (``brands`` section, detail ``plpIds``)."""
    return 20_000 + BRANDS[brand][1] % 10_000


# --- prices -----------------------------------------------------------------------------


def _money(cur: Currency, value: float | None) -> Json:
    return {"value": value, "text": cur.text(value) if value is not None else ""}


def list_price(catalog: Catalog, k: int, cur: Currency) -> Json:
    """The ``price`` object of a listing item."""
    base = round(catalog.product(k).base_price * cur.rate, 2)
    off = catalog.markdown(k)
    return {
        "current": _money(cur, round(base * (1 - off), 2)),
        "previous": _money(cur, base if off else None),
        "rrp": _money(cur, None),
        "isMarkedDown": bool(off),
        "isOutletPrice": False,
        "currency": cur.code,
    }


def _detail_money(cur: Currency, value: float | None, version: str) -> Json:
    return {
        "value": value,
        "text": cur.text(value) if value is not None else None,
        "versionId": version,
        "conversionId": None if cur.code == "GBP" else "1",
    }


def detail_price(catalog: Catalog, k: int, cur: Currency, *, extra: bool = False) -> Json:
    """The price object ``P`` of detail and stock-price bodies."""
    base = round(catalog.product(k).base_price * cur.rate, 2)
    off = catalog.markdown(k)
    version = f"{catalog.product_id(k)}-{catalog.day // 2}"
    price: Json = {
        "current": _detail_money(cur, round(base * (1 - off), 2), version),
        "previous": _detail_money(cur, base if off else None, version),
        # The real detail of a marked-down outlet product gives rrp = previous.
        "rrp": _detail_money(cur, base if off else None, version),
        "xrp": _detail_money(cur, base, version),
        "currency": cur.code,
        "isMarkedDown": bool(off),
        "isOutletPrice": False,
        "startDateTime": f"{EPOCH + timedelta(days=catalog.day // 2 * 2)}T00:00:00Z",
        # Null in every real detail seen (2023), markdowns included.
        "previousEndDate": None,
        "lowestPriceInLast30DaysValue": None,
        "lowestPriceInLast30DaysText": None,
        "lowestPriceInLast30DaysEndDate": None,
        "lowestPriceInLast30DaysPercentage": None,
        "wasPriceStartDate": None,
    }
    if extra:
        price["discountPercentage"] = round(off * 100)
    return price


# --- products ----------------------------------------------------------------------------


def _paths(catalog: Catalog, k: int) -> tuple[str, str]:
    p = catalog.product(k)
    brand = slugify(BRANDS[p.brand][0])
    return brand, slugify(catalog.name(k))


def list_item(catalog: Catalog, k: int, cur: Currency) -> Json:
    """One product of a listing page (2024 shape, as in samples/)."""
    p = catalog.product(k)
    brand, slug = _paths(catalog, k)
    colour_way = p.id + 1 + p.colour
    h = mix(catalog.seed, k, 10)
    image = f"images.asos-media.com/products/{slug}/{p.id}"
    return {
        "id": p.id,
        "name": catalog.name(k),
        "price": list_price(catalog, k, cur),
        "colour": COLOURS[p.colour],
        "colourWayId": colour_way,
        "brandName": BRANDS[p.brand][0],
        "hasVariantColours": h % 5 == 0,
        "hasMultiplePrices": False,
        "groupId": None,
        "productCode": 100_000_000 + k * 7 + h % 7,
        "productType": "Product",
        "url": f"{brand}/{slug}/prd/{p.id}#colourWayId-{colour_way}",
        "imageUrl": f"{image}-1-{slugify(COLOURS[p.colour])}",
        "additionalImageUrls": [f"{image}-{n}" for n in (2, 3, 4)],
        "videoUrl": None,
        "showVideo": False,
        "isSellingFast": h % 11 == 0,
        "isRestockingSoon": False,
        "isPromotion": False,
        "sponsoredCampaignId": None,
        "facetGroupings": facet_groupings(catalog, k),
        "advertisement": None,
    }


def facet_groupings(catalog: Catalog, k: int) -> list[Json]:
    """The product's colour siblings, as real listings group them (about a third of items).

    Real items carry ``[{"type": "SupplierColour", "products": [{"productId": ...}]}]``
    naming the product itself and 1-5 other colourways of it; here the neighbours in
    arrival order stand in for the other colourways.
    """
    h = mix(catalog.seed, k, 13)
    if h % 3 or catalog.count < 2:  # noqa: PLR2004
        return []
    others = [x for x in range(k - 3, k + 4) if x != k and 0 <= x < catalog.count]
    siblings = sorted([k, *others[: 1 + h % min(5, len(others))]])
    return [
        {
            "type": "SupplierColour",
            "products": [{"productId": catalog.product_id(x)} for x in siblings],
        }
    ]


def _sizes(catalog: Catalog, k: int, size_schema: str) -> list[str]:
    p = catalog.product(k)
    run = SIZE_RUNS[p.leaf.kind][size_schema if size_schema in SIZE_SCHEMAS else "UK"]
    start = mix(catalog.seed, k, 11) % max(1, len(run) - p.variants + 1)
    return run[start : start + p.variants]


def _variant_base(catalog: Catalog, k: int, i: int) -> tuple[int, str, bool, bool]:
    variant_id = 300_000_000 + k * 10 + i
    in_stock, low = catalog.in_stock(k, i)
    return variant_id, f"{catalog.product_id(k)}-{i + 1}", in_stock, low


# Share of products with reviews: not known (the one real detail, an outlet product, has
# none); those without carry `rating: null`, as it does.
RATED_PERCENT = 60
_RATING_SALT = 29  # mix() salt of ratings: 1-16 are taken


def _rating(catalog: Catalog, k: int) -> Json | None:
    """The detail ``rating``: the reference's three fields, or null (no reviews).

    A function of (seed, product) only.  ``totalReviewCount`` runs 1-2,047 (log-uniform);
    ``averageOverallRating`` is the average of that many whole-star reviews (their mean
    1-4.9, 4.4 for the median product) to one decimal, ``averageOverallStarRating`` that
    average to the nearest half star.  The reference gives only their JSON types (number,
    number, integer): the roundings are assumed.
    """
    h = mix(catalog.seed, k, _RATING_SALT)
    if h % 100 >= RATED_PERCENT:
        return None
    e = (h >> 8) % 11
    count = (1 << e) + (h >> 12) % (1 << e)
    r = (h >> 24) % 1001 / 1000
    stars = min(5 * count, max(count, round(count * (4.9 - 3.9 * r**3))))
    average = round(stars / count, 1)
    return {
        "averageOverallRating": average,
        "averageOverallStarRating": int(average * 2 + 0.5) / 2,
        "totalReviewCount": count,
    }


def plp_ids(catalog: Catalog, k: int, store: str) -> list[Json]:
    """Every listing the product is on in the store today, and its brand page, by id.

    The real detail's 14 entries come in ascending id order, its Brand entry among them.
    Navigation listings and feeds are ``Standard``; a product sold out today (away) or not
    sold in the store is on none of them there.
    """
    pages = [(cid, "Standard") for cid in catalog.listings_of(k, store)]
    pages.append((brand_category_id(catalog.product(k).brand), "Brand"))
    return [{"id": cid, "type": kind} for cid, kind in sorted(pages)]


def detail(
    catalog: Catalog,
    k: int,
    cur: Currency,
    size_schema: str,
    lang: str,
    *,
    store: str,
    v4: bool = False,
) -> Json:
    """Body of /products/v3/detail (v4 adds the stock-price fields per variant)."""
    p = catalog.product(k)
    brand, slug = _paths(catalog, k)
    colour_way = p.id + 1 + p.colour
    colour = COLOURS[p.colour]
    price = detail_price(catalog, k, cur)
    variants = []
    for i, size in enumerate(_sizes(catalog, k, size_schema)):
        vid, sku, in_stock, low = _variant_base(catalog, k, i)
        variant: Json = {
            "id": vid,
            "name": f"{catalog.name(k)} - {size}",
            "sizeId": 1000 + i,
            "brandSize": size,
            "sizeDescription": size,
            "displaySizeText": size,
            "sizeOrder": i + 1,
            "sku": sku,
            "isLowInStock": low,
            "isInStock": in_stock,
            "isAvailable": in_stock,
            "colourWayId": colour_way,
            "colourCode": colour[:2].upper(),
            "colour": colour,
            "isPrimary": i == 0,
            "isProp65Risk": False,
            "ean": None,
            "seller": None,
            "price": price,
        }
        if v4:
            variant.update(_stock_extras(catalog, k, i, in_stock))
        variants.append(variant)
    image = f"images.asos-media.com/products/{slug}/{p.id}"
    return {
        "id": p.id,
        "name": catalog.name(k),
        "description": f"<ul><li>{p.leaf.title} by {BRANDS[p.brand][0]}</li></ul>",
        "gender": p.leaf.gender,
        "productCode": str(100_000_000 + k * 7 + mix(catalog.seed, k, 10) % 7),
        "pdpLayout": "Default",
        "alternateNames": [{"locale": lang, "title": catalog.name(k)}],
        "badges": [],
        "baseUrl": f"https://www.asos.com/{brand}/{slug}/prd/{p.id}",
        "brand": {
            "brandId": BRANDS[p.brand][1],
            "name": BRANDS[p.brand][0],
            "description": f"<p>{BRANDS[p.brand][0]}</p>",
        },
        "countryOfManufacture": None,
        "info": {
            "aboutMe": "<br>Main: 100% Cotton",
            "sizeAndFit": "<br>Model wears: UK S" if p.leaf.kind == "clothing" else None,
            "careInfo": "Machine wash according to instructions on care label",
        },
        "isDeadProduct": False,
        "isInStock": any(v["isInStock"] for v in variants),
        "isNoSize": p.leaf.kind == "onesize",
        "isOneSize": p.leaf.kind == "onesize",
        "localisedData": [
            {
                "locale": locale,
                "title": catalog.name(k),
                "pdpUrl": f"https://www.asos.com/{locale[-2:].lower()}/{brand}/{slug}/prd/{p.id}",
            }
            for locale in LANGUAGES
            if locale != lang
        ][:3],
        "hasVariantsWithProp65Risk": False,
        "plpIds": plp_ids(catalog, k, store),
        "productType": {
            "id": 8400 + 10 * sorted(WORDS).index(p.leaf.kind) + p.word,
            "name": WORDS[p.leaf.kind][p.word].capitalize(),
        },
        "rating": _rating(catalog, k),
        "shippingRestriction": None,
        "sizeGuide": f"https://www.asos.com/size-guide/{p.leaf.kind}",
        "sizeGuideApiUrl": None,
        "webCategories": [{"id": cid} for cid in catalog.web_categories(k)],
        "media": {
            "images": [
                {
                    "url": f"{image}-{n}",
                    "type": f"Standard{n}",
                    # Only the primary image names its colourway; the others carry
                    # null and empty strings, as in the real detail.
                    "colourWayId": colour_way if n == 1 else None,
                    "colourCode": colour[:2].upper() if n == 1 else "",
                    "colour": colour if n == 1 else "",
                    "isPrimary": n == 1,
                }
                for n in (1, 2, 3, 4)
            ],
            "catwalk": [
                {"url": f"video.asos-media.com/products/{slug}/{p.id}-catwalk-AVS", **way}
                for way in [{"colourWayId": colour_way, "colourCode": colour[:2].upper()}]
                if p.leaf.kind == "clothing"
            ],
            "spinset": [],
            "swatchSprite": [],
        },
        "price": price,
        "variants": variants,
    }


def _stock_extras(catalog: Catalog, k: int, i: int, in_stock: bool) -> Json:  # noqa: FBT001
    day = EPOCH + timedelta(days=catalog.day)
    return {
        "stockLastUpdatedDate": f"{day}T0{i % 10}:00:00Z" if in_stock else None,
        "warehouse": "ASOS UK" if mix(catalog.seed, k, 12) % 2 else "ASOS US",
        "source": {"id": "PRIMARY", "description": "Primary"},
        "seller": None,
        "discountPercentage": round(catalog.markdown(k) * 100),
    }


def stock_price(catalog: Catalog, k: int, cur: Currency, size_schema: str) -> Json:
    """One item of /products/v3/get-stock-price."""
    price = detail_price(catalog, k, cur, extra=True)
    variants = []
    for i, _size in enumerate(_sizes(catalog, k, size_schema)):
        vid, sku, in_stock, low = _variant_base(catalog, k, i)
        variant_price = {**price, "wasPriceStartDate": None}
        variants.append(
            {
                "id": vid,
                "variantId": vid,
                "sku": sku,
                "isInStock": in_stock,
                "isLowInStock": low,
                **_stock_extras(catalog, k, i, in_stock),
                "price": variant_price,
            }
        )
    if not any(v["isInStock"] for v in variants):
        variants = []  # a product with no stock at all comes back with no variants
    return {
        "productId": catalog.product_id(k),
        "productPrice": price,
        "hasMultiplePricesInStock": False,
        "isInStock": any(v["isInStock"] for v in variants),
        "variants": variants,
    }


def auto_complete(catalog: Catalog, q: str) -> Json:
    """Body of /v2/auto-complete (shape likely, see docs)."""
    words = q.lower()
    names: dict[str, int] = {}
    for k in range(min(catalog.count, 3000)):
        name = catalog.name(k)
        if words and words in name.lower():
            names[name] = names.get(name, 0) + 1
    suggestions = [
        {"searchTerm": name.lower(), "numberOfResults": n}
        for name, n in sorted(names.items(), key=lambda x: (-x[1], x[0]))[:10]
    ]
    return {
        "suggestionGroups": [
            {"indexName": "Departments", "indexTitle": "Departments", "suggestions": suggestions}
        ]
    }


def drift(payload: Json) -> None:
    """Schema drift: a field the API starts sending, one nested, and one it drops."""
    for product in payload.get("products", []):
        product["sustainabilityScore"] = 7
        product["price"]["lowestPriceInLast30Days"] = {"value": None, "text": ""}
        product["price"]["unitPrice"] = {"value": 1.0, "text": "1.00"}
        product.pop("colour", None)
