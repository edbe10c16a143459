"""Airflow DAG: tap-asos to S3, one task per store, each with its own Meltano state.

Each task runs the project's one entry point, `orchestrate/elt_run.py run` (as the CI
workflow and the Autosys JIL do): `meltano --environment=<env> run <job>
--state-id-suffix=<store>` with `TAP_ASOS_STORES` narrowed to its store, so stores run in
parallel and resume independently; the run summary table ends the task's log. Settings, read
when the DAG is parsed (no database access at parse time):
  TAP_ASOS_PROJECT_DIR [/opt/tap-asos], TAP_ASOS_ENVIRONMENT [prod],
  TAP_ASOS_DAG_STORES [["US", "COM", "DE", "FR", "AU"]], TAP_ASOS_DAG_SCHEDULE [0 3 * * *],
  TAP_ASOS_DAG_JOB [asos-to-s3], TAP_ASOS_PYTHON [<project>/.venv/bin/python; Meltano is
  taken from beside it], TAP_ASOS_DAG_PARALLEL [every store]: stores extracted at once.
The stores share one API key: at most TAP_ASOS_DAG_PARALLEL tasks run at once
(`max_active_tasks`, with one DAG run at a time), and each task is told that number
(`--parallel`), so it takes ASOS_KEY_RATE_PER_SECOND / that number (docs/operations-parallel.md).
Secrets (TAP_ASOS_API_KEY, AWS credentials), TARGET_S3_BUCKET (state then lives in
s3://<bucket>/meltano-state/<env>) and ASOS_KEY_RATE_PER_SECOND come from the worker's
environment or a secrets backend; the DAG never holds them.
Exit codes: 2 = fix the configuration: the task fails at once, without its retries;
3 = the API or S3 failed (retry later) and 1 = anything else: retried.
"""

from __future__ import annotations

import json
import os
import typing as t
from datetime import datetime, timedelta, timezone

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowException, AirflowFailException

if t.TYPE_CHECKING:
    from airflow.sdk import Context

PROJECT_DIR = os.environ.get("TAP_ASOS_PROJECT_DIR", "/opt/tap-asos")
ENVIRONMENT = os.environ.get("TAP_ASOS_ENVIRONMENT", "prod")
STORES = json.loads(os.environ.get("TAP_ASOS_DAG_STORES", '["US", "COM", "DE", "FR", "AU"]'))
SCHEDULE = os.environ.get("TAP_ASOS_DAG_SCHEDULE", "0 3 * * *")
JOB = os.environ.get("TAP_ASOS_DAG_JOB", "asos-to-s3")
PYTHON = os.environ.get("TAP_ASOS_PYTHON", f"{PROJECT_DIR}/.venv/bin/python")
# Never more tasks at once than stores: a run told of N - 1 idle neighbours would go slower.
PARALLEL = min(int(os.environ.get("TAP_ASOS_DAG_PARALLEL") or len(STORES)), len(STORES))
EXIT_CONFIG = 2
COMMAND = (
    "{{ params.python }} orchestrate/elt_run.py run --environment={{ params.environment }} "
    "--job={{ params.job }} --store={{ params.store }} --parallel={{ params.parallel }}"
)


class EltRunOperator(BashOperator):
    """Runs `elt_run.py`; its exit 2 (configuration) fails the task without retries."""

    def __init__(self, **kwargs: t.Any) -> None:
        """A BashOperator whose every non-zero exit fails the task (none skips it)."""
        super().__init__(skip_on_exit_code=None, **kwargs)

    def execute(self, context: Context) -> t.Any:  # noqa: ANN401 - BashOperator's result
        """Run the command; on exit 2 raise AirflowFailException, which Airflow never retries."""
        try:
            return super().execute(context)
        except AirflowException as exc:
            process = self.subprocess_hook.sub_process
            if process is not None and process.returncode == EXIT_CONFIG:
                msg = "elt_run.py exit 2: configuration error, fix the settings (not retried)"
                raise AirflowFailException(msg) from exc
            raise


with DAG(
    dag_id="tap_asos_to_s3",
    description="ASOS catalog to the S3 lake, one Meltano run per store",
    schedule=SCHEDULE,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=PARALLEL,
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=10),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=6),
    },
    tags=["meltano", "asos", "elt"],
) as dag:
    for store in STORES:
        EltRunOperator(
            task_id=f"extract_{store.lower()}",
            bash_command=COMMAND,
            params={
                "python": PYTHON,
                "environment": ENVIRONMENT,
                "job": JOB,
                "store": store,
                "parallel": PARALLEL,
            },
            cwd=PROJECT_DIR,
        )
