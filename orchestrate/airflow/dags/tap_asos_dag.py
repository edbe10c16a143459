"""Airflow DAG: tap-asos to S3, one task per store, each with its own Meltano state.

Each task runs the project's one entry point, `orchestrate/elt_run.py run` (as the CI
workflow and the Autosys JIL do): `meltano --environment=<env> run <job>
--state-id-suffix=<store>` with `TAP_ASOS_STORES` narrowed to its store, so stores run in
parallel and resume independently; the run summary table ends the task's log. Settings, read
when the DAG is parsed (no database access at parse time):
  TAP_ASOS_PROJECT_DIR [/opt/tap-asos], TAP_ASOS_ENVIRONMENT [prod],
  TAP_ASOS_DAG_STORES [["US", "COM", "DE", "FR", "AU"]], TAP_ASOS_DAG_SCHEDULE [0 3 * * *],
  TAP_ASOS_DAG_JOB [asos-to-s3], TAP_ASOS_PYTHON [<project>/.venv/bin/python; Meltano is
  taken from beside it].
Secrets (TAP_ASOS_API_KEY, AWS credentials) and TARGET_S3_BUCKET (state then lives in
s3://<bucket>/meltano-state/<env>) come from the worker's environment or a secrets backend;
the DAG never holds them.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

PROJECT_DIR = os.environ.get("TAP_ASOS_PROJECT_DIR", "/opt/tap-asos")
ENVIRONMENT = os.environ.get("TAP_ASOS_ENVIRONMENT", "prod")
STORES = json.loads(os.environ.get("TAP_ASOS_DAG_STORES", '["US", "COM", "DE", "FR", "AU"]'))
SCHEDULE = os.environ.get("TAP_ASOS_DAG_SCHEDULE", "0 3 * * *")
JOB = os.environ.get("TAP_ASOS_DAG_JOB", "asos-to-s3")
PYTHON = os.environ.get("TAP_ASOS_PYTHON", f"{PROJECT_DIR}/.venv/bin/python")
# Exit codes: 2 = fix the configuration (retrying will not help), 3 = API failed: retry.
COMMAND = (
    "{{ params.python }} orchestrate/elt_run.py run --environment={{ params.environment }} "
    "--job={{ params.job }} --store={{ params.store }}"
)

with DAG(
    dag_id="tap_asos_to_s3",
    description="ASOS catalog to the S3 lake, one Meltano run per store",
    schedule=SCHEDULE,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=10),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=6),
    },
    tags=["meltano", "asos", "elt"],
) as dag:
    for store in STORES:
        BashOperator(
            task_id=f"extract_{store.lower()}",
            bash_command=COMMAND,
            params={"python": PYTHON, "environment": ENVIRONMENT, "job": JOB, "store": store},
            cwd=PROJECT_DIR,
        )
