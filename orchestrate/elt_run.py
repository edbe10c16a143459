#!/usr/bin/env python3
"""The one entry point that runs the pipeline: GitHub Actions, Airflow and Autosys call it.

``run`` extracts one store: ``meltano --environment=<env> run <job> --state-id-suffix=<store>``
with ``TAP_ASOS_STORES='["<store>"]'``, state in the S3 state backend, the tap's ``Run summary``
as a Markdown table on stdout (and in ``$GITHUB_STEP_SUMMARY`` under GitHub Actions), and the
tap's exit code: 0 ok, 2 fix the configuration (do not retry), 3 the API failed (retry later),
1 anything else.

Runs of different stores may go in parallel on one machine (Airflow, Autosys): each run
gets a private Meltano system dir that shares only the installed plugins, because Meltano
keeps a plugin's catalog and state files in one shared ``.meltano/run/<plugin>/`` otherwise.

Parallel runs share one RapidAPI key and its per-second limit: ``run --parallel=N`` (or
``ASOS_KEY_PARALLEL_RUNS``) says how many runs use the key at once, and each run gets
``TAP_ASOS_REQUESTS_PER_SECOND`` = the key's rate / N. The key's rate is
``ASOS_KEY_RATE_PER_SECOND``, else the environment's ``requests_per_second`` (meltano.yml, or
``TAP_ASOS_REQUESTS_PER_SECOND``). docs/operations-parallel.md tells how to set both.

``plan`` turns a trigger (a cron that fired, or hand-given inputs) into the environment, job
and stores to run, read from ``meltano.yml``: the workflow's matrix.

Run it with the project's virtualenv python (``.venv/bin/python orchestrate/elt_run.py ...``);
Meltano is taken from beside that python unless ``--meltano`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import typing as t
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
STORE = re.compile(r"^[A-Z]{2,5}$")
EXIT_CONFIG, EXIT_API = 2, 3
MEANING = {
    0: "succeeded",
    1: "failed: see the log",
    EXIT_CONFIG: "configuration error: fix the settings, retrying will not help",
    EXIT_API: "the API or S3 failed after retries: retry later (state is saved)",
}
SUMMARY_PREFIX = "Run summary: "
KEY_RATE, PARALLEL_RUNS = "ASOS_KEY_RATE_PER_SECOND", "ASOS_KEY_PARALLEL_RUNS"
RUN_RATE = "TAP_ASOS_REQUESTS_PER_SECOND"
DEFAULT_RATE = 1.0  # the tap's default requests_per_second
JOB_NAME = re.compile(r"Running job with name '([^']+)'")
LOADER = "target-s3"
LOADER_EXIT = re.compile(r"\(exit (\d+)\)$")  # the loader's failure line ends with its code


class UsageError(Exception):
    """An input or setting that no retry can fix (exit 2)."""


def _project() -> dict[str, t.Any]:
    return t.cast("dict[str, t.Any]", yaml.safe_load((ROOT / "meltano.yml").read_text()))


def _check_names(project: dict[str, t.Any], environment: str, job: str) -> None:
    environments = [e["name"] for e in project.get("environments", [])]
    jobs = [j["name"] for j in project.get("jobs", [])]
    if environment not in environments:
        msg = f"Unknown environment {environment!r}: meltano.yml has {', '.join(environments)}."
        raise UsageError(msg)
    if job not in jobs:
        msg = f"Unknown job {job!r}: meltano.yml has {', '.join(jobs)}."
        raise UsageError(msg)


def _check_store(store: str) -> str:
    if not STORE.match(store):
        msg = f"Store {store!r} is not a store code (US, COM, DE, ...)."
        raise UsageError(msg)
    return store


def _number(text: str, name: str, *, integer: bool = False) -> float:
    """A non-negative number (a whole one with ``integer``) read from a setting."""
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        value = -1
    if value < 0 or not math.isfinite(value):
        kind = "a whole number" if integer else "a number"
        msg = f"{name}={text!r} is not {kind} >= 0."
        raise UsageError(msg)
    return value


def tap_setting(
    project: dict[str, t.Any], environment: str, name: str, default: object
) -> tuple[t.Any, str]:
    """A tap-asos setting as meltano.yml gives it in ``environment``, and where it was found."""
    env = next(e for e in project["environments"] if e["name"] == environment)
    for plugin in env.get("config", {}).get("plugins", {}).get("extractors", []):
        if plugin["name"] == "tap-asos" and name in plugin.get("config", {}):
            return plugin["config"][name], f"meltano.yml {environment}"
    tap = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-asos")
    setting = next((s for s in tap["settings"] if s["name"] == name and "value" in s), None)
    return (default, "the tap's default") if setting is None else (setting["value"], "meltano.yml")


@dataclass(frozen=True)
class RateShare:
    """One key's per-second rate divided among the runs that use it at once."""

    key_rate: float
    source: str
    parallel: int

    @property
    def per_run(self) -> float:
        """Requests per second for each run (0: no limit, as the tap reads it)."""
        return self.key_rate / self.parallel

    def describe(self) -> str:
        """How the run's rate was reached, for the log and the summary table."""
        if not self.key_rate:
            return f"no limit (key rate 0 from {self.source})"
        runs = "run" if self.parallel == 1 else "parallel runs"
        return (
            f"{self.per_run:.4g} req/s (key {self.key_rate:g} req/s from {self.source}"
            f" / {self.parallel} {runs})"
        )


def rate_share(
    project: dict[str, t.Any], environment: str, env: t.Mapping[str, str], parallel: int
) -> RateShare:
    """The key's rate over ``parallel`` runs.

    The key's rate: ``ASOS_KEY_RATE_PER_SECOND``, else the ``requests_per_second`` one run
    would get (``TAP_ASOS_REQUESTS_PER_SECOND``, else meltano.yml's, else the tap's default).
    """
    if parallel < 1:
        msg = f"--parallel / {PARALLEL_RUNS} must be 1 or more (runs sharing the key at once)."
        raise UsageError(msg)
    # Without a key rate, the rate one run is configured with is taken as the key's.
    for name in (KEY_RATE, RUN_RATE):
        if env.get(name):
            return RateShare(_number(env[name], name), name, parallel)
    rate, source = tap_setting(project, environment, "requests_per_second", DEFAULT_RATE)
    return RateShare(_number(str(rate), "requests_per_second"), source, parallel)


def rate_variables(project: dict[str, t.Any]) -> list[str]:
    """``TAP_ASOS_REQUESTS_PER_SECOND`` and the same setting of every plugin inheriting it."""
    # tap-asos--snapshot reads TAP_ASOS__SNAPSHOT_REQUESTS_PER_SECOND before the parent's.
    names = [
        p["name"] for p in project["plugins"]["extractors"] if p.get("inherit_from") == "tap-asos"
    ]
    return [RUN_RATE] + [f"{n.upper().replace('-', '_')}_REQUESTS_PER_SECOND" for n in names]


def plan(  # noqa: PLR0913 - the trigger's inputs
    project: dict[str, t.Any],
    *,
    environment: str,
    stores: str,
    job: str,
    schedule: str,
    parallel: str = "",
) -> dict[str, t.Any]:
    """Environment, job, stores and parallel runs for one trigger.

    Empty inputs fall back to meltano.yml; ``parallel`` (runs that share the key at once,
    empty or 0: one per store) is capped at the number of stores.
    """
    if schedule:
        # A cron that fired names its meltano.yml schedule, and so its job.
        jobs = [s["job"] for s in project.get("schedules", []) if s["interval"] == schedule]
        if not jobs:
            msg = f"No schedule in meltano.yml has interval {schedule!r}."
            raise UsageError(msg)
        job = job or jobs[0]
    job = job or "asos-to-s3"
    _check_names(project, environment, job)
    wanted = [s for s in re.split(r"[\s,]+", stores.strip().upper()) if s]
    if not wanted:
        wanted = tap_setting(project, environment, "stores", [])[0]
    planned = [_check_store(s) for s in dict.fromkeys(wanted)]
    at_once = int(_number(parallel.strip() or "0", PARALLEL_RUNS, integer=True))
    return {
        "environment": environment,
        "job": job,
        "stores": planned,
        "parallel": min(at_once or len(planned), len(planned)),
    }


def state_backend(env: dict[str, str], environment: str) -> None:
    """Point Meltano's state at ``s3://<bucket>/meltano-state/<env>`` unless already set."""
    if not env.get("MELTANO_STATE_BACKEND_URI"):
        bucket = env.get("TARGET_S3_BUCKET")
        if not bucket:
            msg = (
                "Set TARGET_S3_BUCKET (state then lives in s3://<bucket>/meltano-state/<env>) "
                "or MELTANO_STATE_BACKEND_URI: without a shared state backend every run "
                "would start over."
            )
            raise UsageError(msg)
        env["MELTANO_STATE_BACKEND_URI"] = f"s3://{bucket}/meltano-state/{environment}"
    endpoint = env.get("TARGET_S3_ENDPOINT_URL")
    if endpoint and not env.get("MELTANO_STATE_BACKEND_S3_ENDPOINT_URL"):
        # An S3-compatible endpoint (local S3): Meltano 4.4 uses it only when the keys are
        # given as its own settings, not when boto3 finds them in AWS_*.
        env["MELTANO_STATE_BACKEND_S3_ENDPOINT_URL"] = endpoint
        for name in ("ACCESS_KEY_ID", "SECRET_ACCESS_KEY"):
            if value := env.get(f"AWS_{name}"):
                env.setdefault(f"MELTANO_STATE_BACKEND_S3_AWS_{name}", value)


def private_sys_dir(env: dict[str, str], private: Path) -> None:
    """Give this run a Meltano system dir of its own that links the installed plugins."""
    shared = Path(env.get("MELTANO_SYS_DIR_ROOT") or ROOT / ".meltano").resolve()
    for kind in ("extractors", "loaders", "mappers", "utilities"):
        if kind in {"extractors", "loaders"}:
            (shared / kind).mkdir(parents=True, exist_ok=True)
        if (shared / kind).is_dir():
            (private / kind).symlink_to(shared / kind, target_is_directory=True)
    # Unless a system database is configured, the run's is private too (state is in S3).
    env["MELTANO_SYS_DIR_ROOT"] = str(private)


def _meltano(option: str | None) -> str:
    if option:
        return option
    beside = Path(sys.executable).with_name("meltano")
    if beside.exists():
        return str(beside)
    found = shutil.which("meltano")
    if not found:
        msg = "meltano not found beside this python or on PATH; pass --meltano."
        raise UsageError(msg)
    return found


class Outcome:
    """What the Meltano log told: the tap's summary, exit codes, the state id."""

    def __init__(self) -> None:
        """Nothing seen yet."""
        self.summary: dict[str, t.Any] | None = None
        self.exit_codes: dict[str, int] = {}
        self.state_id = ""

    def read(self, line: str, secret: str) -> str:
        """Take what matters from one log line; return it rendered, ``secret`` masked."""
        rendered = self._render(line)
        # Every line, JSON or not (a plugin's traceback is plain text).
        return rendered.replace(secret, "***") if len(secret) >= 4 else rendered  # noqa: PLR2004

    def _render(self, line: str) -> str:
        """Take what matters from one JSON log line; return it rendered for people."""
        try:
            entry = json.loads(line)
        except ValueError:
            return line.rstrip("\n")
        if not isinstance(entry, dict):
            return line.rstrip("\n")
        event = str(entry.get("event", ""))
        if SUMMARY_PREFIX in event:
            text = event.split(SUMMARY_PREFIX, 1)[1]
            self.summary = json.JSONDecoder().raw_decode(text)[0]
        if isinstance(entry.get("exit_codes"), dict):
            self.exit_codes.update(entry["exit_codes"])
        elif entry.get("string_id") == LOADER and (code := LOADER_EXIT.search(event)):
            # Meltano may not report the loader's code (it stops on the tap's broken
            # pipe): the loader's failure line carries it.
            self.exit_codes.setdefault("loaders", int(code[1]))
        if match := JOB_NAME.search(event):
            self.state_id = match[1]
        name = entry.get("string_id") or "meltano"
        extra = ""
        if name == "meltano":
            shown = {
                k: v
                for k, v in entry.items()
                if k in {"exit_codes", "err", "success", "duration_seconds", "state_id"}
            }
            extra = "".join(f" {k}={v}" for k, v in shown.items())
        return (
            f"{entry.get('timestamp', '')} [{entry.get('level', ''):<7}] {name:<12} {event}{extra}"
        )

    def exit_code(self, returncode: int) -> int:
        """The tap's code when it failed with 2 or 3, else the loader's, else 1."""
        if returncode == 0:
            return 0
        for plugins in ("extractors", "loaders"):
            if (code := self.exit_codes.get(plugins, 0)) in {EXIT_CONFIG, EXIT_API}:
                return code
        return 1


def summary_table(title: str, outcome: Outcome, code: int, share: RateShare | None = None) -> str:
    """The run summary as Markdown: one table of run figures, one row per stream."""
    lines = [f"### {title}: {MEANING[code]}", "", "| | |", "|---|---|"]
    lines.append(f"| exit code | {code} ({MEANING[code]}) |")
    lines.append(f"| state id | `{outcome.state_id or '-'}` |")
    if share is not None:
        lines.append(f"| rate | {share.describe()} |")
    summary = outcome.summary
    if summary is None:
        lines.append("| run summary | none: the tap stopped before it ran (see the log) |")
        return "\n".join(lines) + "\n"
    for label, key in (
        ("status", "status"),
        ("duration (s)", "duration_seconds"),
        ("records", "records"),
        ("requests", "requests"),
        ("retries", "retries"),
        ("429s", "rate_limited_429"),
        ("partitions done", "partitions_done"),
        ("partitions left", "partitions_left"),
        ("quota remaining", "quota_remaining"),
        ("quota limit", "quota_limit"),
    ):
        value = summary.get(key)
        lines.append(f"| {label} | {'-' if value is None else value} |")
    columns = {
        "records": "records",
        "requests": "requests",
        "retries": "retries",
        "rate_limited_429": "429s",
        "pages": "pages",
        "split_listings": "split listings",
        "unreachable_products": "unreachable products",
    }
    header = "| stream | " + " | ".join(columns.values()) + " |"
    lines += ["", header, "|---" * (len(columns) + 1) + "|"]
    for stream, figures in summary.get("streams", {}).items():
        cells = " | ".join(str(figures.get(c, 0)) for c in columns)
        lines.append(f"| {stream} | {cells} |")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Run one store's job; report the summary; return the exit code."""
    project = _project()
    _check_names(project, args.environment, args.job)
    store = _check_store(args.store)
    env = dict(os.environ)
    if not env.get("TAP_ASOS_API_KEY"):
        msg = "TAP_ASOS_API_KEY is not set (a repository/environment secret in CI)."
        raise UsageError(msg)
    parallel = args.parallel or env.get(PARALLEL_RUNS) or "1"
    share = rate_share(
        project, args.environment, env, int(_number(parallel, PARALLEL_RUNS, integer=True))
    )
    state_backend(env, args.environment)
    env["TAP_ASOS_STORES"] = json.dumps([store])
    for name in rate_variables(project):
        env[name] = repr(share.per_run)
    env.setdefault("MELTANO_SEND_ANONYMOUS_USAGE_STATS", "false")
    command = [_meltano(args.meltano), "--log-format=json", f"--environment={args.environment}"]
    command += ["run", *(["--install"] if args.install else []), args.job]
    command.append(f"--state-id-suffix={store}")
    title = f"tap-asos {args.environment} / {store} / {args.job}"
    print(f"{title}: {' '.join(command[1:])}", file=sys.stderr, flush=True)  # noqa: T201
    print(f"{title}: rate {share.describe()}", file=sys.stderr, flush=True)  # noqa: T201

    outcome = Outcome()
    with tempfile.TemporaryDirectory(prefix="elt-run-") as private:
        private_sys_dir(env, Path(private))
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        # An orchestrator stops a task with SIGTERM: pass it on so Meltano ends its plugins.
        signal.signal(signal.SIGTERM, lambda *_: process.send_signal(signal.SIGTERM))
        assert process.stderr is not None  # noqa: S101
        for line in process.stderr:
            print(outcome.read(line, env["TAP_ASOS_API_KEY"]), file=sys.stderr, flush=True)  # noqa: T201
        code = outcome.exit_code(process.wait())

    table = summary_table(title, outcome, code, share)
    print(table)  # noqa: T201
    if path := os.environ.get("GITHUB_STEP_SUMMARY"):
        with Path(path).open("a", encoding="utf-8") as summary_file:
            summary_file.write(table + "\n")
    if code and os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::error title={title}::exit {code}: {MEANING[code]}")  # noqa: T201
    return code


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run ``plan`` or ``run``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("run", help="extract one store")
    one.add_argument("--environment", required=True)
    one.add_argument("--store", required=True)
    one.add_argument("--job", default="asos-to-s3")
    one.add_argument("--meltano", help="path of meltano (default: beside this python)")
    one.add_argument("--install", action="store_true", help="install plugins first (fresh CI)")
    one.add_argument(
        "--parallel",
        default="",
        help=f"runs sharing the API key at once; each gets the key's rate / N "
        f"(default: ${PARALLEL_RUNS}, else 1)",
    )
    matrix = commands.add_parser("plan", help="environment, job and stores for a trigger")
    matrix.add_argument("--environment", default="prod")
    matrix.add_argument("--stores", default="", help="e.g. 'US COM'; empty: meltano.yml's")
    matrix.add_argument("--job", default="")
    matrix.add_argument("--schedule", default="", help="the cron that fired")
    matrix.add_argument(
        "--parallel",
        default="",
        help=f"stores run at once (default: ${PARALLEL_RUNS}, else every store)",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return run(args)
        planned = plan(
            _project(),
            environment=args.environment or "prod",
            stores=args.stores,
            job=args.job,
            schedule=args.schedule,
            parallel=args.parallel or os.environ.get(PARALLEL_RUNS, ""),
        )
    except UsageError as exc:
        print(f"elt_run: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_CONFIG
    print(json.dumps(planned))  # noqa: T201
    if path := os.environ.get("GITHUB_OUTPUT"):
        with Path(path).open("a", encoding="utf-8") as output:
            output.write(f"environment={planned['environment']}\njob={planned['job']}\n")
            output.write(f"stores={json.dumps(planned['stores'])}\n")
            output.write(f"parallel={planned['parallel']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
