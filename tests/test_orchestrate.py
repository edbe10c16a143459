"""The Airflow DAG loads in a real Airflow (its own virtualenv) and its rendered tasks run.

Its tasks share the API key: at most TAP_ASOS_DAG_PARALLEL run at once, each told so
(`--parallel`); a task that exits 2 (configuration) fails at once, one that exits 3 is retried
(the DAG run by Airflow's own `dag.test`). The Autosys profile tells its runs how many
jobs of the box share the key.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tests.helpers import (
    local_s3,
    once,
    pipeline_env,
    run_dir,
    s3_objects,
    side_venv,
    with_plugins,
)

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "orchestrate" / "airflow" / "dags"
AIRFLOW_VENV = ROOT / ".venv-airflow"
AIRFLOW = "apache-airflow==3.3.2"
BUCKET = "asos-lake-airflow"
pytestmark = pytest.mark.e2e

LOAD = """
import json, os, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags.get("tap_asos_to_s3")
out = {"errors": {k: str(v) for k, v in bag.import_errors.items()}}
if dag is not None:
    out["max_active_tasks"] = dag.max_active_tasks
    out["tasks"] = {}
    for task in dag.tasks:
        params = {k: task.params[k] for k in task.params}
        out["tasks"][task.task_id] = {
            "command": task.bash_command, "params": params,
            # What the worker runs: the command rendered by Airflow's own Jinja templating.
            "rendered": task.render_template(task.bash_command, {"params": task.params}),
            "env": task.env, "append_env": task.append_env, "cwd": task.cwd,
            "retries": task.retries}
print(json.dumps(out))
"""


def _airflow_python() -> Path:
    return side_venv(AIRFLOW_VENV, AIRFLOW)


@pytest.fixture(scope="module")
def dag(tmp_path_factory: pytest.TempPathFactory) -> dict[str, t.Any]:
    """The DAG as a real Airflow parses it, set up for this checkout and the dev environment.

    Parsed once per run (Airflow's import costs seconds), whichever worker comes first.
    """
    parsed = run_dir(tmp_path_factory) / "airflow-dag.json"
    with once(parsed) as needed:
        if needed:
            env = {
                **os.environ,
                "AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow")),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "TAP_ASOS_PROJECT_DIR": str(ROOT),
                "TAP_ASOS_ENVIRONMENT": "dev",
                "TAP_ASOS_DAG_STORES": '["US", "COM"]',
                "TAP_ASOS_PYTHON": sys.executable,
            }
            result = subprocess.run(
                [str(_airflow_python()), "-c", LOAD, str(DAGS)],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
                check=False,
            )
            assert result.returncode == 0, result.stderr[-3000:]
            parsed.write_text(result.stdout.strip().splitlines()[-1])
    loaded: dict[str, t.Any] = json.loads(parsed.read_text())
    assert loaded["errors"] == {}
    return loaded


def test_dag_loads_with_one_task_per_store(dag: dict[str, t.Any]) -> None:
    tasks = dag["tasks"]
    assert set(tasks) == {"extract_us", "extract_com"}
    # No TAP_ASOS_DAG_PARALLEL: every store at once, each run told it shares the key with 2.
    assert dag["max_active_tasks"] == 2
    for store, task in (("US", tasks["extract_us"]), ("COM", tasks["extract_com"])):
        assert task["retries"] == 3
        assert task["params"]["store"] == store
        assert task["params"]["environment"] == "dev"
        assert task["rendered"] == (
            f"{sys.executable} orchestrate/elt_run.py run --environment=dev "
            f"--job=asos-to-s3 --store={store} --parallel=2"
        )
        assert task["cwd"] == str(ROOT)


def test_each_rendered_task_runs_its_store_against_the_sandbox_and_local_s3(
    dag: dict[str, t.Any],
    make_sandbox: t.Callable[..., t.Any],
    installed_plugins: Path,
    tmp_path: Path,
) -> None:
    """Slow by nature: two real pipelines, one per rendered task.

    Every task's command as Airflow renders it, run as a worker would (in parallel).
    """
    server = make_sandbox(products=200)
    with local_s3(BUCKET) as s3_url:
        # The worker's environment: secrets and the bucket, as the DAG's docstring lists.
        worker = pipeline_env(
            with_plugins(installed_plugins, tmp_path / "sys"),
            api_url=server.url,
            api_key=server.api_key,
            bucket=BUCKET,
            s3_url=s3_url,
            TAP_ASOS_MAX_PRODUCTS_PER_PARTITION="10",
        )
        runs = {}
        for task_id, task in dag["tasks"].items():
            env = {**worker, **(task["env"] or {})} if task["append_env"] else task["env"]
            runs[task_id] = subprocess.Popen(
                ["bash", "-c", task["rendered"]],
                cwd=task["cwd"],
                env=env or worker,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        for task_id, process in runs.items():
            out, err = process.communicate(timeout=600)
            assert process.returncode == 0, f"{task_id}: {err[-3000:]}"
            store = dag["tasks"][task_id]["params"]["store"]
            assert f"| state id | `dev:tap-asos-to-target-s3:{store}` |" in out
        landed = s3_objects(s3_url, BUCKET, "asos/dev/products/")
        state = s3_objects(s3_url, BUCKET, "meltano-state/")
    stores = {r["store"] for rows in landed.values() for r in rows}
    assert stores == {"US", "COM"}
    assert set(state) == {
        f"meltano-state/dev/dev:tap-asos-to-target-s3:{store}/state.json" for store in stores
    }
    for key, (value,) in state.items():
        partitions = value["completed"]["singer_state"]["bookmarks"]["products"]["partitions"]
        assert {p["context"]["store"] for p in partitions} == {key.split(":")[-1].split("/")[0]}


# The project's DAG with its retries made immediate (Airflow's dag.test waits out
# retry_delay) and one retry, not its three (test_dag_loads_with_one_task_per_store holds
# those): each attempt is an Airflow task process of its own, about 3 s.
IMMEDIATE_RETRIES = """
import importlib.util
import os
from datetime import timedelta

spec = importlib.util.spec_from_file_location("tap_asos_dag", os.environ["TAP_ASOS_DAG_FILE"])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
dag = module.dag  # the airflow DAG, found here by the DagBag
for task in dag.tasks:
    task.retry_delay = timedelta(0)
    task.retries = 1
"""
DAG_TEST = """
import json
from airflow.utils.cli import get_bagged_dag
run = get_bagged_dag(None, "tap_asos_to_s3").test()
print(json.dumps({ti.task_id: [str(ti.state), ti.try_number] for ti in run.get_task_instances()}))
"""
# The "python" of the tasks: counts each attempt; COM stands for an API outage (exit 3), US
# runs the real elt_run.py, which exits 2 (no TAP_ASOS_API_KEY) before Meltano starts.
ATTEMPT = """#!/bin/sh
echo "$*" >> "$ATTEMPTS"
case "$*" in *--store=COM*) exit 3;; esac
exec {python} "$@"
"""


def test_exit_2_fails_the_task_at_once_and_exit_3_is_retried(tmp_path: Path) -> None:
    """Slow by nature: a real Airflow migrates its database and runs the DAG with dag.test."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "tap_asos_immediate_retries.py").write_text(IMMEDIATE_RETRIES)
    python = tmp_path / "python"
    python.write_text(ATTEMPT.format(python=sys.executable))
    python.chmod(0o755)
    attempts = tmp_path / "attempts.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TAP_ASOS", "AIRFLOW"))},
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "TAP_ASOS_DAG_FILE": str(DAGS / "tap_asos_dag.py"),
        "TAP_ASOS_PROJECT_DIR": str(ROOT),
        "TAP_ASOS_ENVIRONMENT": "dev",
        "TAP_ASOS_DAG_STORES": '["US", "COM"]',
        "TAP_ASOS_DAG_PARALLEL": "1",
        "TAP_ASOS_PYTHON": str(python),
        "ATTEMPTS": str(attempts),
    }
    airflow = _airflow_python()
    for command in (
        [str(airflow.with_name("airflow")), "db", "migrate"],
        [str(airflow), "-c", DAG_TEST],
    ):
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=300, check=False
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    states = json.loads(result.stdout.strip().splitlines()[-1])
    # retries=1: COM ran 1 + 1 times; US once, its configuration error not retried.
    assert states == {"extract_us": ["failed", 1], "extract_com": ["failed", 2]}
    runs = attempts.read_text().splitlines()
    assert sorted(runs) == sorted(
        [
            f"orchestrate/elt_run.py run --environment=dev --job=asos-to-s3 --store={store} "
            "--parallel=1"
            for store in ("US", "COM", "COM")
        ]
    )
    assert "elt_run: TAP_ASOS_API_KEY is not set" in result.stdout + result.stderr


def test_autosys_profile_tells_each_run_how_many_jobs_share_the_key() -> None:
    jil = (ROOT / "orchestrate" / "autosys" / "tap_asos.jil").read_text()
    profile = (ROOT / "orchestrate" / "autosys" / "tap_asos.profile").read_text()
    # Every command job of the box starts with the box: they all use the key at once.
    jobs = re.findall(r"insert_job: (\S+)\s+job_type: CMD\nbox_name: TAP_ASOS_BOX\n", jil)
    commands = re.findall(r"^command: (.*)$", jil, flags=re.MULTILINE)
    assert len(jobs) == len(commands) >= 2
    assert all("orchestrate/elt_run.py run " in c and "--parallel" not in c for c in commands)
    parallel = re.search(r'^export ASOS_KEY_PARALLEL_RUNS="?(\d+)"?$', profile, re.MULTILINE)
    assert parallel is not None
    assert int(parallel[1]) == len(jobs)
    assert re.search(r"^export ASOS_KEY_RATE_PER_SECOND=", profile, re.MULTILINE)
