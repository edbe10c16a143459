"""The Airflow DAG loads in a real Airflow (its own virtualenv) and its task command runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tests.helpers import side_venv

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "orchestrate" / "airflow" / "dags"
AIRFLOW_VENV = ROOT / ".venv-airflow"
AIRFLOW = "apache-airflow==3.3.2"
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("airflow")]

LOAD = """
import json, os, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags.get("tap_asos_to_s3")
out = {"errors": {k: str(v) for k, v in bag.import_errors.items()}}
if dag is not None:
    out["tasks"] = {}
    for task in dag.tasks:
        out["tasks"][task.task_id] = {
            "command": task.bash_command, "params": dict(task.params),
            "env": task.env, "retries": task.retries}
print(json.dumps(out))
"""


def _airflow_python() -> Path:
    return side_venv(AIRFLOW_VENV, AIRFLOW)


def test_dag_loads_with_one_task_per_store(tmp_path: Path) -> None:
    python = _airflow_python()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "TAP_ASOS_DAG_STORES": '["US", "COM"]',
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "TAP_ASOS_ENVIRONMENT": "qa",
    }
    result = subprocess.run(
        [str(python), "-c", LOAD, str(DAGS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["errors"] == {}
    tasks = loaded["tasks"]
    assert set(tasks) == {"extract_us", "extract_com"}
    for store, task in (("US", tasks["extract_us"]), ("COM", tasks["extract_com"])):
        assert task["retries"] == 3
        assert task["env"] == {"TAP_ASOS_STORES": json.dumps([store])}
        assert task["params"]["store"] == store
        assert task["params"]["environment"] == "qa"
        assert "--state-id-suffix={{ params.store }}" in task["command"]


def test_task_command_runs_against_the_sandbox(
    make_sandbox: t.Callable[..., t.Any],
    tmp_path: Path,
) -> None:
    """The command a task renders, run for one store, extracts only that store."""
    server = make_sandbox(products=200)
    meltano = Path(sys.executable).with_name("meltano")
    command = [
        str(meltano),
        "--environment=dev",
        "run",
        "--install",
        "tap-asos",
        "target-jsonl",
        "--state-id-suffix=COM",
    ]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TAP_ASOS", "MELTANO_"))},
        "MELTANO_SYS_DIR_ROOT": str(tmp_path / "sys"),
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TAP_ASOS_API_URL": server.url,
        "TAP_ASOS_API_KEY": server.api_key,
        "TAP_ASOS_STORES": '["COM"]',
        "TAP_ASOS_MAX_PRODUCTS_PER_PARTITION": "10",
        "TARGET_JSONL_DESTINATION_PATH": str(tmp_path / "out"),
    }
    (tmp_path / "out").mkdir()
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    products = [
        json.loads(line)
        for f in (tmp_path / "out").glob("products*.jsonl")
        for line in f.read_text().splitlines()
    ]
    assert products
    assert {p["store"] for p in products} == {"COM"}
    state = subprocess.run(
        [str(meltano), "--environment=dev", "state", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "dev:tap-asos-to-target-jsonl:COM" in state
