"""JSON schemas of the tap's streams, built from shared fragments.

Field names and nesting follow the real ASOS API on RapidAPI (see the README's
"Streams" section); the fields the tap adds to every record (``store``,
``categoryId``, ``snapshotAt``, ...) are declared first in each schema.  Fields
the API omits or nulls are nullable; primary-key fields are required.
"""

from __future__ import annotations

from singer_sdk import typing as th

# --- shared fragments -------------------------------------------------------

# `value` is null and `text` is "" when a previous/rrp price does not apply.
MONEY = th.ObjectType(
    th.Property("value", th.NumberType, description="Amount in the response currency."),
    th.Property("text", th.StringType, description="Amount formatted for display."),
    th.Property("versionId", th.StringType),
    th.Property("conversionId", th.StringType),
)

PRICE = th.ObjectType(
    th.Property("current", MONEY, description="Price the product sells at now."),
    th.Property("previous", MONEY, description="Price before a markdown, if any."),
    th.Property("rrp", MONEY, description="Recommended retail price, if any."),
    th.Property("xrp", MONEY),
    th.Property("lowestPriceInLast30Days", MONEY),
    th.Property("isMarkedDown", th.BooleanType),
    th.Property("isOutletPrice", th.BooleanType),
    th.Property("currency", th.StringType),
    th.Property("startDateTime", th.StringType),
    th.Property("wasPriceStartDate", th.StringType),
    th.Property("discountPercentage", th.NumberType),
    # Detail prices (2023): flat fields beside the listing's lowestPriceInLast30Days object,
    # null in every real response seen; types from their names.
    th.Property("previousEndDate", th.StringType),
    th.Property("lowestPriceInLast30DaysValue", th.NumberType),
    th.Property("lowestPriceInLast30DaysText", th.StringType),
    th.Property("lowestPriceInLast30DaysEndDate", th.StringType),
    th.Property("lowestPriceInLast30DaysPercentage", th.NumberType),
)

ANY_OBJECT = th.ObjectType(additional_properties=True)
# Fields seen only as null so far: any JSON value is accepted.
ANY = th.CustomType({"type": ["null", "string", "number", "boolean", "object", "array"]})
ANY_ARRAY = th.ArrayType(ANY)

# --- countries ---------------------------------------------------------------

COUNTRIES = th.PropertiesList(
    th.Property("country", th.StringType, required=True, description="ISO country code."),
    th.Property("store", th.StringType, description="Store code used by the listing API."),
    th.Property("name", th.StringType),
    th.Property("imageUrl", th.StringType),
    th.Property("siteUrl", th.StringType),
    th.Property("siteId", th.IntegerType),
    th.Property("majorCountry", ANY),
    th.Property("isDefaultCountry", th.BooleanType),
    th.Property("region", ANY),
    th.Property("legalEntity", ANY),
    th.Property(
        "languages",
        th.ArrayType(
            th.ObjectType(
                th.Property("language", th.StringType),
                th.Property("name", th.StringType),
                th.Property("text", th.StringType),
                th.Property("languageShort", th.StringType),
                th.Property("isPrimary", th.BooleanType),
            )
        ),
    ),
    th.Property(
        "currencies",
        th.ArrayType(
            th.ObjectType(
                th.Property("currency", th.StringType),
                th.Property("symbol", th.StringType),
                th.Property("text", th.StringType),
                th.Property("isPrimary", th.BooleanType),
                th.Property("currencyId", th.IntegerType),
            )
        ),
    ),
    th.Property(
        "sizeSchemas",
        th.ArrayType(
            th.ObjectType(
                th.Property("sizeSchema", th.StringType),
                th.Property("text", th.StringType),
                th.Property("isPrimary", th.BooleanType),
            )
        ),
    ),
).to_dict()

# --- categories ----------------------------------------------------------------

CATEGORIES = th.PropertiesList(
    th.Property("country", th.StringType, required=True, description="Country requested."),
    th.Property("lang", th.StringType, required=True, description="Language requested."),
    th.Property("id", th.StringType, required=True, description="Navigation node GUID."),
    th.Property("store", th.StringType, description="Store the country belongs to."),
    th.Property(
        "section",
        th.StringType,
        description="Tree the node comes from: navigation, brands or footer.",
    ),
    th.Property("parentId", th.StringType, description="GUID of the parent node."),
    th.Property("depth", th.IntegerType, description="0 for a top-level node."),
    th.Property("path", th.StringType, description="Titles from the root, joined by ' > '."),
    th.Property(
        "categoryId",
        th.IntegerType,
        description="link.categoryId: the id /products/v2/list accepts, when a category.",
    ),
    th.Property("isLeaf", th.BooleanType, description="True when the node has no children."),
    th.Property("alias", th.StringType),
    th.Property("type", th.StringType),
    th.Property("channelExclusions", th.ArrayType(th.StringType)),
    th.Property("webLargePriority", th.IntegerType),
    th.Property(
        "content",
        th.ObjectType(
            th.Property("title", th.StringType),
            th.Property("subTitle", th.StringType),
            th.Property("webLargeImageUrl", th.StringType),
            th.Property("mobileImageUrl", th.StringType),
        ),
    ),
    th.Property(
        "display",
        th.ObjectType(
            th.Property("webLargeTemplateId", th.IntegerType),
            th.Property("webLargeTemplateName", th.StringType),
            th.Property("webLargeColumnSpan", th.IntegerType),
            th.Property("mobileTemplateId", th.IntegerType),
            th.Property("mobileTemplateName", th.StringType),
            th.Property("mobileDisplayLayout", th.StringType),
        ),
    ),
    th.Property(
        "style",
        th.ObjectType(
            th.Property("webLargeStyleType", th.StringType),
            th.Property("mobileStyleType", th.StringType),
        ),
    ),
    th.Property(
        "link",
        th.ObjectType(
            th.Property("linkType", th.StringType),
            th.Property("brandSectionAlias", th.StringType),
            th.Property("categoryId", th.IntegerType),
            th.Property("webUrl", th.StringType),
            th.Property("appUrl", th.StringType),
        ),
    ),
    th.Property("childCount", th.IntegerType, description="Number of direct children."),
).to_dict()

# --- products (listing) ----------------------------------------------------------

PRODUCTS = th.PropertiesList(
    th.Property("store", th.StringType, required=True, description="Store code listed."),
    th.Property("categoryId", th.IntegerType, required=True, description="Category listed."),
    th.Property("id", th.IntegerType, required=True, description="Product id."),
    th.Property(
        "snapshotAt",
        th.DateTimeType,
        description="UTC time of the snapshot (full table) or extraction (incremental).",
    ),
    th.Property("position", th.IntegerType, description="0-based rank in the listing."),
    th.Property("name", th.StringType),
    th.Property("price", PRICE),
    th.Property("colour", th.StringType),
    th.Property("colourWayId", th.IntegerType),
    th.Property("brandName", th.StringType),
    th.Property("hasVariantColours", th.BooleanType),
    th.Property("hasMultiplePrices", th.BooleanType),
    th.Property("groupId", th.IntegerType),
    th.Property("productCode", th.IntegerType),
    th.Property("productType", th.StringType),
    th.Property("url", th.StringType, description="Relative product page URL."),
    th.Property("imageUrl", th.StringType, description="Image URL without a scheme."),
    th.Property("additionalImageUrls", th.ArrayType(th.StringType)),
    th.Property("videoUrl", th.StringType),
    th.Property("showVideo", th.BooleanType),
    th.Property("isSellingFast", th.BooleanType),
    th.Property("isRestockingSoon", th.BooleanType),
    th.Property("isPromotion", th.BooleanType),
    th.Property("sponsoredCampaignId", th.IntegerType),
    th.Property(
        "facetGroupings",
        th.ArrayType(
            th.ObjectType(
                th.Property("type", th.StringType),
                th.Property(
                    "products",
                    th.ArrayType(th.ObjectType(th.Property("productId", th.IntegerType))),
                ),
            )
        ),
    ),
    th.Property("advertisement", ANY_OBJECT),
    th.Property("earlyAccess", ANY_OBJECT),
).to_dict()

# --- product details ---------------------------------------------------------------

IMAGE = th.ObjectType(
    th.Property("url", th.StringType),
    th.Property("type", th.StringType),
    th.Property("colourWayId", th.IntegerType),
    th.Property("colourCode", th.StringType),
    th.Property("colour", th.StringType),
    th.Property("isPrimary", th.BooleanType),
)

SOURCE = th.ObjectType(
    th.Property("id", th.StringType),
    th.Property("description", th.StringType),
)

DETAIL_VARIANT = th.ObjectType(
    th.Property("id", th.IntegerType),
    th.Property("name", th.StringType),
    th.Property("sizeId", th.IntegerType),
    th.Property("brandSize", th.StringType),
    th.Property("sizeDescription", th.StringType),
    th.Property("displaySizeText", th.StringType),
    th.Property("sizeOrder", th.IntegerType),
    th.Property("sku", th.StringType),
    th.Property("isLowInStock", th.BooleanType),
    th.Property("isInStock", th.BooleanType),
    th.Property("isAvailable", th.BooleanType),
    th.Property("colourWayId", th.IntegerType),
    th.Property("colourCode", th.StringType),
    th.Property("colour", th.StringType),
    th.Property("isPrimary", th.BooleanType),
    th.Property("price", PRICE),
    th.Property("isProp65Risk", th.BooleanType),
    th.Property("ean", th.StringType, description="Barcode; null in the real responses seen."),
    th.Property("stockLastUpdatedDate", th.StringType),
    th.Property("warehouse", th.StringType),
    th.Property("source", SOURCE),
    th.Property("seller", ANY),
    th.Property("discountPercentage", th.NumberType),
)

PRODUCT_DETAILS = th.PropertiesList(
    th.Property("store", th.StringType, required=True, description="Store code requested."),
    th.Property("id", th.IntegerType, required=True, description="Product id."),
    th.Property("snapshotAt", th.DateTimeType, description="UTC time of extraction."),
    th.Property("name", th.StringType),
    th.Property("description", th.StringType, description="HTML."),
    th.Property("gender", th.StringType),
    th.Property("productCode", th.StringType, description="A string here, an int in listings."),
    th.Property("pdpLayout", th.StringType),
    th.Property(
        "alternateNames",
        th.ArrayType(
            th.ObjectType(
                th.Property("locale", th.StringType),
                th.Property("title", th.StringType),
            )
        ),
    ),
    th.Property("badges", ANY_ARRAY),
    th.Property("baseUrl", th.StringType),
    th.Property(
        "brand",
        th.ObjectType(
            th.Property("brandId", th.IntegerType),
            th.Property("name", th.StringType),
            th.Property("description", th.StringType),
        ),
    ),
    th.Property("countryOfManufacture", th.StringType),
    th.Property(
        "info",
        th.ObjectType(
            th.Property("aboutMe", th.StringType),
            th.Property("sizeAndFit", th.StringType),
            th.Property("careInfo", th.StringType),
        ),
    ),
    th.Property("isDeadProduct", th.BooleanType),
    th.Property("isInStock", th.BooleanType),
    th.Property("isNoSize", th.BooleanType),
    th.Property("isOneSize", th.BooleanType),
    th.Property(
        "localisedData",
        th.ArrayType(
            th.ObjectType(
                th.Property("locale", th.StringType),
                th.Property("title", th.StringType),
                th.Property("pdpUrl", th.StringType),
            )
        ),
        description="Title and page URL of the product in the other locales.",
    ),
    th.Property("hasVariantsWithProp65Risk", th.BooleanType),
    th.Property(
        "plpIds",
        th.ArrayType(
            th.ObjectType(
                th.Property("id", th.IntegerType, description="A category id."),
                th.Property("type", th.StringType, description="Standard or Brand."),
            )
        ),
        description="Listing pages (categories) the product appears on.",
    ),
    th.Property(
        "productType",
        th.ObjectType(th.Property("id", th.IntegerType), th.Property("name", th.StringType)),
        description="An object here, a string in listings.",
    ),
    th.Property(
        "rating",
        th.ObjectType(
            th.Property(
                "averageOverallRating", th.NumberType, description="Average review rating, 1-5."
            ),
            th.Property(
                "averageOverallStarRating",
                th.NumberType,
                description="The average as the product page's stars show it.",
            ),
            th.Property("totalReviewCount", th.IntegerType, description="Number of reviews."),
        ),
        description="Customer reviews; null for a product without any.",
    ),
    th.Property("shippingRestriction", ANY),
    th.Property("sizeGuide", th.StringType),
    th.Property("sizeGuideApiUrl", th.StringType),
    th.Property("webCategories", th.ArrayType(th.ObjectType(th.Property("id", th.IntegerType)))),
    th.Property(
        "media",
        th.ObjectType(
            th.Property("images", th.ArrayType(IMAGE)),
            th.Property(
                "catwalk",
                th.ArrayType(
                    th.ObjectType(
                        th.Property("url", th.StringType, description="Video URL, no scheme."),
                        th.Property("colourWayId", th.IntegerType),
                        th.Property("colourCode", th.StringType),
                    )
                ),
            ),
            th.Property("spinset", ANY_ARRAY),
            th.Property("swatchSprite", ANY_ARRAY),
        ),
    ),
    th.Property("price", PRICE),
    th.Property("variants", th.ArrayType(DETAIL_VARIANT)),
).to_dict()

# --- stock and prices ----------------------------------------------------------------

STOCK_VARIANT = th.ObjectType(
    th.Property("id", th.IntegerType),
    th.Property("variantId", th.IntegerType),
    th.Property("sku", th.StringType),
    th.Property("isInStock", th.BooleanType),
    th.Property("isLowInStock", th.BooleanType),
    th.Property("stockLastUpdatedDate", th.StringType),
    th.Property("warehouse", th.StringType),
    th.Property("source", SOURCE),
    th.Property("seller", ANY),
    th.Property("price", PRICE),
    th.Property("discountPercentage", th.NumberType),
)

STOCK_PRICES = th.PropertiesList(
    th.Property("store", th.StringType, required=True, description="Store code requested."),
    th.Property("productId", th.IntegerType, required=True, description="Product id."),
    th.Property(
        "snapshotAt",
        th.DateTimeType,
        required=True,
        description="UTC time of the snapshot; part of the key, one record per run.",
    ),
    th.Property("productPrice", PRICE),
    th.Property("hasMultiplePricesInStock", th.BooleanType),
    th.Property("isInStock", th.BooleanType),
    th.Property("variants", th.ArrayType(STOCK_VARIANT)),
).to_dict()
