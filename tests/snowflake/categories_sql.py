"""Run docs/feeds.md's query of a product's categories on fakesnow; print its rows (JSON).

The query is read from the page itself (the sql block under "Joining products to their
categories"), so the documented SQL is the SQL that runs.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import fakesnow
import snowflake.connector

SECTION = "## Joining products to their categories"


def documented_query(page: Path) -> str:
    """The first sql block after the section's heading."""
    text = page.read_text()
    section = text[text.index(SECTION) :]
    match = re.search(r"```sql\n(.*?)```", section, re.DOTALL)
    if match is None:
        msg = f"no sql block under {SECTION!r} in {page}"
        raise SystemExit(msg)
    return match.group(1).strip().rstrip(";")


def main() -> None:
    """Query the tables the loader wrote; print [store, product_id, category_id] rows."""
    query = documented_query(Path(sys.argv[1]))
    with fakesnow.patch(db_path=os.environ["FAKESNOW_DB_PATH"]):
        conn = snowflake.connector.connect(database="ASOS", schema="RAW")
        cursor = conn.cursor()
        cursor.execute(query)
        rows = [[str(r[0]), int(r[1]), int(r[2])] for r in cursor.fetchall()]
    sys.stdout.write(json.dumps(rows) + "\n")


if __name__ == "__main__":
    main()
