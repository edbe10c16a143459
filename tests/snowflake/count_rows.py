"""Print row counts and product ids of the fakesnow database the loader wrote (JSON)."""

from __future__ import annotations

import json
import os
import sys

import fakesnow
import snowflake.connector


def main() -> None:
    """Query each table named on the command line."""
    out: dict[str, object] = {}
    with fakesnow.patch(db_path=os.environ["FAKESNOW_DB_PATH"]):
        conn = snowflake.connector.connect(database="ASOS", schema="RAW")
        cursor = conn.cursor()
        for table in sys.argv[1:]:
            cursor.execute(f"select count(*) from {table}")  # noqa: S608 - test tables
            out[table] = cursor.fetchall()[0][0]
        cursor.execute('select id, store, "categoryId", price:current:value from products')
        out["products_rows"] = [[r[0], r[1], r[2], float(r[3])] for r in cursor.fetchall()]
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
