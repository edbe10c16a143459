"""Run a SQL file statement by statement on fakesnow; print which ones it accepted (JSON)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import fakesnow
import snowflake.connector


def main() -> None:
    """Execute each statement, recording success or the error's first line."""
    text = "\n".join(
        line
        for line in Path(sys.argv[1]).read_text().splitlines()
        if not line.lstrip().startswith("--")
    )
    statements = [s.strip() for s in text.split(";") if s.strip()]
    results = []
    with fakesnow.patch(db_path=os.environ["FAKESNOW_DB_PATH"]):
        conn = snowflake.connector.connect()
        cursor = conn.cursor()
        for statement in statements:
            try:
                cursor.execute(statement)
                results.append({"sql": statement.split("\n")[0], "ok": True})
            except Exception as exc:  # noqa: BLE001, PERF203 - recorded, the test decides
                results.append(
                    {
                        "sql": statement.split("\n")[0],
                        "ok": False,
                        "error": str(exc).splitlines()[0][:200],
                    }
                )
    sys.stdout.write(json.dumps(results) + "\n")


if __name__ == "__main__":
    main()
