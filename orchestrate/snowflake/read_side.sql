-- Read side of the lake: a read-only role over the gzip JSONL that target-s3 writes to
-- s3://<bucket>/asos/prod/<stream>/dt=YYYY-MM-DD/<run_id>-<part>.jsonl.gz.
-- Run as a role that may create integrations, databases and roles (e.g. SYSADMIN + SECURITYADMIN).
-- Replace asos-lake and the IAM role ARN; nothing secret lives here.

CREATE DATABASE IF NOT EXISTS ASOS_LAKE;
CREATE SCHEMA IF NOT EXISTS ASOS_LAKE.RAW;

CREATE STORAGE INTEGRATION IF NOT EXISTS ASOS_S3_INTEGRATION
  TYPE = EXTERNAL_STAGE STORAGE_PROVIDER = 'S3' ENABLED = TRUE
  STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/asos-lake-reader'
  STORAGE_ALLOWED_LOCATIONS = ('s3://asos-lake/asos/prod/');

CREATE FILE FORMAT IF NOT EXISTS ASOS_LAKE.RAW.ASOS_JSONL TYPE = JSON COMPRESSION = AUTO;

CREATE STAGE IF NOT EXISTS ASOS_LAKE.RAW.ASOS_LAKE_STAGE
  URL = 's3://asos-lake/asos/prod/'
  STORAGE_INTEGRATION = ASOS_S3_INTEGRATION
  FILE_FORMAT = ASOS_LAKE.RAW.ASOS_JSONL;

-- One view per stream; dt and the file name come from the object key.
CREATE OR REPLACE VIEW ASOS_LAKE.RAW.PRODUCTS AS
SELECT $1:store::VARCHAR AS store, $1:categoryId::NUMBER AS category_id, $1:id::NUMBER AS id,
       $1:name::VARCHAR AS name, $1:brandName::VARCHAR AS brand_name,
       $1:price:current:value::FLOAT AS price, $1:price:previous:value::FLOAT AS previous_price,
       $1:price:currency::VARCHAR AS currency, $1:position::NUMBER AS position,
       $1:snapshotAt::TIMESTAMP_TZ AS snapshot_at, $1 AS raw, METADATA$FILENAME AS source_file
FROM @ASOS_LAKE.RAW.ASOS_LAKE_STAGE/products/;

CREATE OR REPLACE VIEW ASOS_LAKE.RAW.PRODUCT_DETAILS AS
SELECT $1:store::VARCHAR AS store, $1:id::NUMBER AS id, $1:name::VARCHAR AS name,
       $1:brand:name::VARCHAR AS brand, $1:isInStock::BOOLEAN AS is_in_stock,
       $1:variants AS variants, $1:snapshotAt::TIMESTAMP_TZ AS snapshot_at, $1 AS raw,
       METADATA$FILENAME AS source_file
FROM @ASOS_LAKE.RAW.ASOS_LAKE_STAGE/product_details/;

CREATE OR REPLACE VIEW ASOS_LAKE.RAW.STOCK_PRICES AS
SELECT $1:store::VARCHAR AS store, $1:productId::NUMBER AS product_id,
       $1:productPrice:current:value::FLOAT AS price, $1:isInStock::BOOLEAN AS is_in_stock,
       $1:variants AS variants, $1:snapshotAt::TIMESTAMP_TZ AS snapshot_at, $1 AS raw,
       METADATA$FILENAME AS source_file
FROM @ASOS_LAKE.RAW.ASOS_LAKE_STAGE/stock_prices/;

CREATE OR REPLACE VIEW ASOS_LAKE.RAW.CATEGORIES AS
SELECT $1:store::VARCHAR AS store, $1:lang::VARCHAR AS lang, $1:id::VARCHAR AS id,
       $1:parentId::VARCHAR AS parent_id, $1:path::VARCHAR AS path,
       $1:categoryId::NUMBER AS category_id, $1:isLeaf::BOOLEAN AS is_leaf, $1 AS raw,
       METADATA$FILENAME AS source_file
FROM @ASOS_LAKE.RAW.ASOS_LAKE_STAGE/categories/;

CREATE OR REPLACE VIEW ASOS_LAKE.RAW.COUNTRIES AS
SELECT $1:country::VARCHAR AS country, $1:store::VARCHAR AS store, $1:name::VARCHAR AS name,
       $1 AS raw, METADATA$FILENAME AS source_file
FROM @ASOS_LAKE.RAW.ASOS_LAKE_STAGE/countries/;

-- The read-only role.
CREATE ROLE IF NOT EXISTS ASOS_READER;
GRANT USAGE ON DATABASE ASOS_LAKE TO ROLE ASOS_READER;
GRANT USAGE ON SCHEMA ASOS_LAKE.RAW TO ROLE ASOS_READER;
GRANT USAGE ON STAGE ASOS_LAKE.RAW.ASOS_LAKE_STAGE TO ROLE ASOS_READER;
GRANT USAGE ON FILE FORMAT ASOS_LAKE.RAW.ASOS_JSONL TO ROLE ASOS_READER;
GRANT SELECT ON ALL VIEWS IN SCHEMA ASOS_LAKE.RAW TO ROLE ASOS_READER;
GRANT SELECT ON FUTURE VIEWS IN SCHEMA ASOS_LAKE.RAW TO ROLE ASOS_READER;
