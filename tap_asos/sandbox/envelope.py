"""The /products/v2/list body around a page of items: facets, diagnostics, search passes."""

from __future__ import annotations

import typing as t

from tap_asos.sandbox.config import BRANDS, COLOURS

if t.TYPE_CHECKING:
    from tap_asos.sandbox.listings import FacetCounts

Json = dict[str, t.Any]


def facets(counts: FacetCounts, *, freshness: bool) -> list[Json]:
    """Facets of a listing: value counts over all its matches.

    ``freshness``: with the "New in date" facet, whose counts are cumulative (seen in
    real category pages: Today 17, Yesterday 31, Last 7 Days 48, ...).
    """

    def facet(fid: str, name: str, values: list[Json]) -> Json:
        return {
            "id": fid,
            "name": name,
            "facetValues": values,
            "displayStyle": "Single-Column",
            "facetType": "TextMultiSelect",
            "hasSelectedValues": False,
        }

    found = [
        facet(
            "brand",
            "Brand",
            [
                {"count": n, "id": str(BRANDS[b][1]), "name": BRANDS[b][0], "isSelected": False}
                for b, n in counts.brands
            ],
        ),
        facet(
            "base_colour",
            "Colour",
            [
                {"count": n, "id": str(c + 1), "name": COLOURS[c], "isSelected": False}
                for c, n in counts.colours
            ],
        ),
    ]
    # A facet counts matches: an empty listing (a Back in stock before any restock) has no
    # brand or colour facet; the freshness facet of a feed is there, at zero.
    found = [f for f in found if f["facetValues"]]
    if freshness:
        values = [
            {"count": n, "id": value, "name": name, "isSelected": False}
            for value, name, n in counts.bands
        ]
        found.insert(0, facet("freshness_band", "New in date", values))
    return found


def listing_envelope(
    category_name: str | None,
    search_term: str,
    item_count: int,
    products: list[Json],
    facet_list: list[Json],
    req_id: str,
) -> Json:
    """The whole /products/v2/list body around one page of products."""
    return {
        "searchTerm": search_term,
        "categoryName": category_name,
        "itemCount": item_count,
        "redirectUrl": "",
        "products": products,
        "facets": facet_list,
        "diagnostics": {
            "requestId": req_id,
            "processingTime": 12,
            "queryTime": 5,
            "recommendationsEnabled": False,
            "recommendationsAnalytics": {
                "personalisationStatus": 0,
                "numberOfItems": 0,
                "numberOfRecs": 0,
                "personalisationType": "",
                "experimentTrackerkey": "",
                "items": [],
            },
            "advertisementsEnabled": False,
            "advertisementsAnalytics": {
                "status": 0,
                "customerOptIn": False,
                "numberOfItemsFromPartner": 0,
                "items": [],
                "itemsFromPartner": [],
                "placementBeacons": {"onLoadBeacon": None, "onViewBeacon": None},
            },
        },
        "searchPassMeta": {
            "isPartial": False,
            "isSpellcheck": False,
            # A search names the passes that matched it; a category listing has none.
            "searchPass": [
                {"name": name, "numberOfResults": item_count} for name in ("PHRASE PASS", "EXACT")
            ]
            if search_term
            else [],
            "alternateSearchTerms": [],
        },
        "queryId": None,
        "discoverSearchProductTypes": [],
        "campaigns": {"imageTiles": [], "promoBanners": [], "sponsoredProducts": []},
    }
