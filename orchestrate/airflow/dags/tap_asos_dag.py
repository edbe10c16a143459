"""Airflow DAG: tap-asos to S3, one task per store, each with its own Meltano state.

Each task runs `meltano --environment=<env> run tap-asos target-s3 --state-id-suffix=<store>`
with `TAP_ASOS_STORES` narrowed to its store, so stores run in parallel and resume
independently. Settings, read when the DAG is parsed (no database access at parse time):
  TAP_ASOS_PROJECT_DIR [/opt/tap-asos], TAP_ASOS_ENVIRONMENT [prod],
  TAP_ASOS_DAG_STORES [["US", "COM", "DE", "FR", "AU"]], TAP_ASOS_DAG_SCHEDULE [0 3 * * *],
  TAP_ASOS_MELTANO [meltano].
Secrets (TAP_ASOS_API_KEY, AWS credentials, MELTANO_STATE_BACKEND_URI) come from the
worker's environment or a secrets backend; the DAG never holds them.
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
MELTANO = os.environ.get("TAP_ASOS_MELTANO", "meltano")
# tap-asos exit codes: 2 = fix the configuration (retrying will not help), 3 = API failed.
COMMAND = (
    "{{ params.meltano }} --environment={{ params.environment }} run tap-asos target-s3 "
    "--state-id-suffix={{ params.store }}"
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
            params={"meltano": MELTANO, "environment": ENVIRONMENT, "store": store},
            env={"TAP_ASOS_STORES": json.dumps([store])},
            append_env=True,
            cwd=PROJECT_DIR,
        )
