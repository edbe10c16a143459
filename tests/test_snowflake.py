"""Prod's Snowflake loader end to end: tap-asos -> meltanolabs-target-snowflake -> fakesnow.

The loader and fakesnow run in their own virtualenv (.venv-snowflake, built on first use);
tests/snowflake/fakesnow_target.py holds the small, documented shim fakesnow needs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import typing as t
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers import (
    listed_ids,
    meltano_env,
    run_meltano,
    side_venv,
    tap_config,
    with_plugins,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_asos.sandbox import SandboxServer

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-snowflake"
PACKAGES = ["meltanolabs-target-snowflake==0.20.4", "fakesnow==0.12.1"]
HERE = Path(__file__).resolve().parent / "snowflake"
pytestmark = pytest.mark.e2e
TABLES = ["COUNTRIES", "CATEGORIES", "PRODUCTS", "PRODUCT_DETAILS", "STOCK_PRICES"]


def _python() -> Path:
    return side_venv(VENV, *PACKAGES)


def test_tap_to_target_snowflake_on_fakesnow(
    make_sandbox: Callable[..., SandboxServer],
    tmp_path: Path,
) -> None:
    """Slow by nature: target-snowflake and fakesnow live in a virtualenv of their own."""
    python = _python()
    server = make_sandbox(products=300)
    (tmp_path / "tap.json").write_text(
        json.dumps(
            tap_config(
                server.url, server.api_key, category_ids=[8799, 4208], max_products_per_partition=30
            )
        )
    )
    tap = subprocess.run(
        [str(Path(sys.executable).with_name("tap-asos")), "--config", str(tmp_path / "tap.json")],
        capture_output=True,
        check=True,
        timeout=300,
    )
    messages = [json.loads(line) for line in tap.stdout.splitlines()]
    sent = Counter(m["stream"].upper() for m in messages if m["type"] == "RECORD")
    secret = "fake-snowflake-password-4d2c"
    (tmp_path / "target.json").write_text(
        json.dumps(
            {
                "account": "acct",
                "user": "loader",
                "password": secret,
                "database": "ASOS",
                "default_target_schema": "RAW",
                "warehouse": "WH",
                "role": "LOADER",
                "load_method": "append-only",
            }
        )
    )
    env = {**os.environ, "FAKESNOW_DB_PATH": str(tmp_path / "fakesnow")}
    (tmp_path / "fakesnow").mkdir()
    target = subprocess.run(
        [str(python), str(HERE / "fakesnow_target.py"), "--config", str(tmp_path / "target.json")],
        input=tap.stdout,
        capture_output=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert target.returncode == 0, target.stderr.decode()[-3000:]
    assert b'"bookmarks"' in target.stdout  # the loader emitted the tap's final state
    assert secret.encode() not in target.stdout + target.stderr

    counts = json.loads(
        subprocess.run(
            [str(python), str(HERE / "count_rows.py"), *TABLES],
            capture_output=True,
            env=env,
            check=True,
            timeout=300,
        ).stdout
    )
    assert {table: counts[table] for table in TABLES} == {table: sent[table] for table in TABLES}
    emitted = {
        (m["record"]["id"], m["record"]["categoryId"], m["record"]["price"]["current"]["value"])
        for m in messages
        if m["type"] == "RECORD" and m["stream"] == "products"
    }
    landed = {(row[0], row[2], row[3]) for row in counts["products_rows"]}
    assert landed == emitted

    # A product's categories, by docs/feeds.md's SQL over the landed tables: each leaf its
    # detail's plpIds names (type Standard), with no listing call per leaf.
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    leaves = {
        (r["store"], r["categoryId"])
        for r in records
        if "isLeaf" in r and r["isLeaf"] and r.get("categoryId") is not None
    }
    expected = {
        (d["store"], d["id"], p["id"])
        for d in records
        if "plpIds" in d
        for p in d["plpIds"] or []
        if p["type"] == "Standard" and (d["store"], p["id"]) in leaves
    }
    rows = json.loads(
        subprocess.run(
            [str(python), str(HERE / "categories_sql.py"), str(ROOT / "docs" / "feeds.md")],
            capture_output=True,
            env=env,
            check=True,
            timeout=300,
        ).stdout
    )
    assert len(expected) > len({pid for _, pid, _ in expected})  # products on several leaves
    assert {tuple(row) for row in rows} == expected


SQL = ROOT / "orchestrate" / "snowflake" / "read_side.sql"
# fakesnow 0.12.1 has no storage integrations, roles, grants or views over a stage.
UNSUPPORTED = ("CREATE STORAGE INTEGRATION", "CREATE OR REPLACE VIEW", "CREATE ROLE", "GRANT")
PARSE = "import sqlglot, sys; sqlglot.parse(open(sys.argv[1]).read(), read='snowflake')"


def test_read_side_sql_runs_as_far_as_fakesnow_allows(tmp_path: Path) -> None:
    """Slow by nature: the SQL runs on fakesnow, in the Snowflake virtualenv."""
    python = _python()
    parsed = subprocess.run(
        [str(python), "-c", PARSE, str(SQL)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert parsed.returncode == 0, parsed.stderr[-2000:]  # every statement is Snowflake SQL
    env = {**os.environ, "FAKESNOW_DB_PATH": str(tmp_path)}
    results = json.loads(
        subprocess.run(
            [str(python), str(HERE / "run_sql.py"), str(SQL)],
            capture_output=True,
            env=env,
            check=True,
            timeout=300,
        ).stdout
    )
    ran = {r["sql"] for r in results if r["ok"]}
    assert ran == {
        "CREATE DATABASE IF NOT EXISTS ASOS_LAKE",
        "CREATE SCHEMA IF NOT EXISTS ASOS_LAKE.RAW",
        "CREATE FILE FORMAT IF NOT EXISTS ASOS_LAKE.RAW.ASOS_JSONL TYPE = JSON COMPRESSION = AUTO",
        "CREATE STAGE IF NOT EXISTS ASOS_LAKE.RAW.ASOS_LAKE_STAGE",
    }
    failed = [r["sql"] for r in results if not r["ok"]]
    assert failed
    assert all(sql.startswith(UNSUPPORTED) for sql in failed)
    views = [sql for sql in failed if sql.startswith("CREATE OR REPLACE VIEW")]
    assert len(views) == 5  # one per stream


# A .pth line that starts with "import" runs at interpreter start.
BOOT = (
    "import os; os.environ.get('FAKESNOW_DB_PATH') and __import__('fakesnow_target').activate()\n"
)
PURELIB = "import sysconfig; print(sysconfig.get_path('purelib'))"


def test_meltano_prod_run_loads_snowflake_on_fakesnow(
    make_sandbox: Callable[..., SandboxServer],
    installed_plugins: Path,
    tmp_path: Path,
) -> None:
    """Slow by nature: Meltano installs target-snowflake, then a real prod pipeline runs.

    `meltano --environment=prod run tap-asos target-snowflake`, as prod runs it.
    """
    server = make_sandbox(products=300)
    secret = "fake-snowflake-password-9e1f"
    (tmp_path / "fakesnow").mkdir()
    env = meltano_env(
        with_plugins(installed_plugins, tmp_path / "meltano-sys"),
        MELTANO_ENVIRONMENT="prod",
        TAP_ASOS_API_URL=server.url,
        TAP_ASOS_API_KEY=server.api_key,
        TAP_ASOS_STORES='["US"]',
        TAP_ASOS_CATEGORY_IDS="[8799, 4208]",
        TAP_ASOS_MAX_PRODUCTS_PER_PARTITION="30",
        TAP_ASOS_REQUESTS_PER_SECOND="0",
        TARGET_SNOWFLAKE_ACCOUNT="acct",
        TARGET_SNOWFLAKE_USER="loader",
        TARGET_SNOWFLAKE_PASSWORD=secret,
        FAKESNOW_DB_PATH=str(tmp_path / "fakesnow"),
    )

    installed = run_meltano("install", "--plugin-type", "loader", "target-snowflake", env=env)
    assert installed.returncode == 0, installed.stderr[-3000:]
    # The test-only shim goes into Meltano's own plugin venv: fakesnow, the shim module,
    # and a .pth that activates it at start when FAKESNOW_DB_PATH is set.
    plugin_python = tmp_path / "meltano-sys" / "loaders" / "target-snowflake" / "venv" / "bin"
    uv = Path(sys.executable).with_name("uv")
    subprocess.run(
        [str(uv), "pip", "install", "--python", str(plugin_python / "python"), PACKAGES[1]],
        check=True,
        capture_output=True,
        timeout=900,
    )
    site = Path(
        subprocess.run(
            [
                str(plugin_python / "python"),
                "-c",
                PURELIB,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    shutil.copy(HERE / "fakesnow_target.py", site / "fakesnow_target.py")
    (site / "fakesnow_target.pth").write_text(BOOT)

    loaded = run_meltano("run", "tap-asos", "target-snowflake", env=env)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert secret not in loaded.stdout + loaded.stderr
    assert server.api_key not in loaded.stdout + loaded.stderr
    counts = json.loads(
        subprocess.run(
            [str(_python()), str(HERE / "count_rows.py"), *TABLES],
            capture_output=True,
            env=env,
            check=True,
            timeout=300,
        ).stdout
    )
    products = {(row[0], row[2]) for row in counts["products_rows"]}
    newest = {
        (pid, cid)
        for cid in (8799, 4208)
        for pid in listed_ids(server.url, server.api_key, "US", cid)[:30]
    }
    assert products == newest
    assert counts["PRODUCTS"] == len(newest)  # each once
    assert counts["PRODUCT_DETAILS"] == len({pid for pid, _ in products})
    assert counts["STOCK_PRICES"] == len({pid for pid, _ in products})
    assert counts["CATEGORIES"] > 0
    assert counts["COUNTRIES"] > 0
