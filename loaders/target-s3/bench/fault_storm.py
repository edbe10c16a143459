"""target-s3 under an S3 fault storm: what lands, what fails and how, and what it costs.

Usage: python loaders/target-s3/bench/fault_storm.py [--seeds 5] [--long-records 3000]

Runs the loader (its console script, in a child process) through the fault proxy of its
tests (``tests/s3_fault_proxy.py``: SlowDown, InternalError, a reset in the middle of the
request body, an answer held back past the client's 0.4 s read timeout, on 30 % of S3
calls) in front of a local moto server, on the tests' storm input (three streams, many
objects, 5 MiB multipart parts), and checks each run from outside: records against a
clean run, every object decoded whole, no multipart upload left open, every echoed
STATE covered by completed objects, and after a failure a rerun that loses nothing.

- storm: one run per seed, with the loader's retries, in each retry mode;
- fewer retries: one run per seed with ``AWS_MAX_ATTEMPTS=2``, each failed one rerun;
- a long storm: many more S3 calls (``--long-records`` records a stream, 5 a batch), to
  see what botocore's retry quota does to a run.

Writes fault-storm.md beside this file.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
import typing as t
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

# The fault proxy and storm helpers live with the tests that use them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers_storm import (
    READ_TIMEOUT,
    SLOW_SECONDS,
    Landed,
    Loader,
    Run,
    landed,
    loader_config,
    lost,
    same_records,
    state_gaps,
    storm_input,
)
from s3_fault_proxy import KINDS, FaultPlan, FaultProxy

OUT = Path(__file__).with_name("fault-storm.md")
# The tests' storm input, with more small objects (the tests keep theirs short).
STREAMS = {"products": 400, "details": 1600, "stock": 1600}
MAX_ATTEMPTS = 9  # the loader's: 8 retries after the first attempt
INPUT_SEED = 5
KEY = "bench"


class Outcome(t.NamedTuple):
    """One run and what its bucket held after it, with the checks made on it."""

    label: str
    run: Run
    after: Landed
    complete: bool  # every record, as the clean run landed them (success only)
    state_gaps: int


class Bench:
    """A moto server, and runs of the loader against it."""

    def __init__(self, url: str, work: Path) -> None:
        """Use the moto server at ``url``; write configs and logs under ``work``."""
        self.url = url
        self.work = work
        self.client = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=KEY,
            aws_secret_access_key=KEY,
        )
        self.buckets = 0
        # Every faulted run, and whether its rerun (after a failure) lost nothing.
        self.tally: list[tuple[Outcome, bool | None]] = []

    def bucket(self) -> str:
        """A new, empty bucket."""
        self.buckets += 1
        name = f"storm-{self.buckets:03d}"
        self.client.create_bucket(Bucket=name)
        return name

    def run(
        self,
        lines: list[str],
        bucket: str,
        *,
        run_id: str,
        plan: FaultPlan | None,
        env: dict[str, str] | None = None,
        config: dict[str, t.Any] | None = None,
    ) -> Run:
        """One run of the loader on ``lines``, through a proxy with ``plan`` if given."""
        environment = {
            "AWS_ACCESS_KEY_ID": KEY,
            "AWS_SECRET_ACCESS_KEY": KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
            "MELTANO_RUN_ID": run_id,
            **(env or {}),
        }
        with contextlib.ExitStack() as stack:
            proxy = stack.enter_context(FaultProxy(self.url, plan)) if plan else None
            settings = loader_config(bucket, proxy.url if proxy else self.url) | (config or {})
            name = f"{bucket}-{run_id}"
            loader = stack.enter_context(
                contextlib.closing(Loader(settings, environment, self.work, name=name))
            )
            loader.send(lines)
            run = loader.finish(timeout=1800)
            if proxy is not None:
                run.proxy = proxy.summary()
        return run


def _outcome(
    label: str, run: Run, after: Landed, lines: list[str], clean: Landed | None
) -> Outcome:
    complete = run.code == 0 and (
        same_records(after, clean) if clean is not None else not lost(lines, after)
    )
    return Outcome(label, run, after, complete, len(state_gaps(lines, run.states, after)))


def _checks(outcome: Outcome) -> str:
    after = outcome.after
    bad = [
        f"{len(after.undecodable)} undecodable" if after.undecodable else "",
        f"{len(after.open_uploads)} open uploads" if after.open_uploads else "",
        f"{outcome.state_gaps} STATE gaps" if outcome.state_gaps else "",
        "records differ" if outcome.run.code == 0 and not outcome.complete else "",
    ]
    return ", ".join(b for b in bad if b) or "ok"


def _row(outcome: Outcome, extra: str = "") -> str:
    run, proxy = outcome.run, outcome.run.proxy
    injected = proxy.get("injected", {})
    requests = proxy.get("requests", {})
    return (
        f"| {outcome.label} | {run.code} | {run.seconds:.1f} | {proxy.get('attempts', 0)} | "
        + " | ".join(str(injected.get(kind, 0)) for kind in KINDS)
        + f" | {proxy.get('retries', 0)} | {outcome.after.objects} | "
        f"{requests.get('UploadPart', 0)} | {_checks(outcome)} |{extra}"
    )


HEADER = (
    "| run | exit | s | S3 attempts | " + " | ".join(KINDS) + " | retries | objects | "
    "UploadPart attempts | checks |"
)
RULE = "|---|---:|---:|---:|" + "---:|" * len(KINDS) + "---:|---:|---:|---|"
# Failed runs: the calls the loader gave up on (last attempt faulted), and its rerun.
FAILED_HEADER = HEADER + " gave up on: attempts | rerun: exit, records lost |"
FAILED_RULE = RULE + "---|---|"


def _failed_extra(bench: Bench, outcome: Outcome, lines: list[str], bucket: str) -> str:
    """The given-up calls' attempts, and a rerun without faults (same input, same bucket)."""
    run = outcome.run
    if run.code == 0:
        bench.tally.append((outcome, None))
        return " - | - |"
    given_up = sorted(run.proxy.get("given_up", {}).values())
    rerun = bench.run(lines, bucket, run_id="r", plan=None, config={"batch_size_rows": 500})
    missing = lost(lines, landed(bench.client, bucket))
    bench.tally.append((outcome, rerun.code == 0 and not missing))
    return (
        f" {len(given_up)} call(s): {', '.join(map(str, given_up)) or '-'} | "
        f"{rerun.code}, {sum(map(len, missing.values())) or 'none'} |"
    )


def _totals(tally: list[tuple[Outcome, bool | None]]) -> list[str]:
    landed_all = sum(o.run.code == 0 and o.complete and _checks(o) == "ok" for o, _ in tally)
    failed_ok = sum(
        o.run.code == 3 and _checks(o) == "ok" and bool(rerun_ok) for o, rerun_ok in tally
    )
    injected: Counter[str] = Counter()
    for outcome, _ in tally:
        injected.update(outcome.run.proxy.get("injected", {}))
    return [
        f"## In all: {len(tally)} runs under the storm",
        "",
        "| landed every record (exit 0), checks ok | failed with exit 3, checks ok, "
        "rerun lost nothing | anything else |",
        "|---:|---:|---:|",
        f"| {landed_all} | {failed_ok} | {len(tally) - landed_all - failed_ok} |",
        "",
        "| faults injected: " + " | ".join(KINDS) + " | all faults | S3 attempts | retries | "
        "objects written |",
        "|" + "---:|" * (len(KINDS) + 4),
        "| "
        + " | ".join(f"{injected[kind]:,}" for kind in KINDS)
        + f" | {sum(injected.values()):,} | "
        + f"{sum(o.run.proxy.get('attempts', 0) for o, _ in tally):,} | "
        + f"{sum(o.run.proxy.get('retries', 0) for o, _ in tally):,} | "
        + f"{sum(o.after.objects for o, _ in tally):,} |",
        "",
    ]


def _storms(bench: Bench, lines: list[str], clean: Landed, base: float, seeds: int) -> list[str]:
    out = ["## Storms, with the loader's retries (8 after the first attempt)", ""]
    seconds: dict[str, list[float]] = {}
    faults: Counter[str] = Counter()
    landed_all: Counter[str] = Counter()
    for mode in ("standard", "adaptive"):
        out += [f"Retry mode `{mode}`:", "", HEADER, RULE]
        for seed in range(1, seeds + 1):
            bucket = bench.bucket()
            plan = FaultPlan(seed=seed, slow_seconds=SLOW_SECONDS)
            run = bench.run(lines, bucket, run_id="s", plan=plan, env={"AWS_RETRY_MODE": mode})
            outcome = _outcome(f"seed {seed}", run, landed(bench.client, bucket), lines, clean)
            out.append(_row(outcome))
            seconds.setdefault(mode, []).append(run.seconds)
            faults[mode] += sum(run.proxy["injected"].values())
            landed_all[mode] += outcome.complete and _checks(outcome) == "ok"
            bench.tally.append((outcome, None))
            print(out[-1], flush=True)
        out.append("")
    out += [
        "| retry mode | runs that landed every record, checks ok | median s a run | "
        "s a fault (above the clean run's) |",
        "|---|---:|---:|---:|",
        *[
            f"| `{mode}` | {landed_all[mode]} of {len(s)} | {statistics.median(s):.1f} | "
            f"{(sum(s) - base * len(s)) / max(faults[mode], 1):.2f} |"
            for mode, s in seconds.items()
        ],
        "",
    ]
    return out


def _failures(bench: Bench, lines: list[str], clean: Landed, seeds: int) -> list[str]:
    out = [
        "## Storms with one retry a call (`AWS_MAX_ATTEMPTS=2`), and the rerun of each failure",
        "",
        "The rerun: the same input into the same bucket, without faults.",
        "",
        FAILED_HEADER,
        FAILED_RULE,
    ]
    codes: Counter[int] = Counter()
    for seed in range(1, seeds + 1):
        bucket = bench.bucket()
        plan = FaultPlan(seed=100 + seed, slow_seconds=SLOW_SECONDS)
        run = bench.run(lines, bucket, run_id="f", plan=plan, env={"AWS_MAX_ATTEMPTS": "2"})
        outcome = _outcome(f"seed {100 + seed}", run, landed(bench.client, bucket), lines, clean)
        codes[run.code] += 1
        out.append(_row(outcome, _failed_extra(bench, outcome, lines, bucket)))
        print(out[-1], flush=True)
    out += [
        "",
        "Exit codes: " + ", ".join(f"{code}: {n} runs" for code, n in sorted(codes.items())) + ".",
        "",
    ]
    return out


def _long(bench: Bench, records: int) -> list[str]:
    lines = storm_input(INPUT_SEED, {"details": records, "stock": records, "prices": records})
    bucket = bench.bucket()
    plan = FaultPlan(seed=7, slow_seconds=SLOW_SECONDS)
    run = bench.run(lines, bucket, run_id="l", plan=plan, config={"batch_size_rows": 5})
    outcome = _outcome("long", run, landed(bench.client, bucket), lines, None)
    out = [
        f"## A long storm: {records:,} records a stream, 5 a batch (one object each)",
        "",
        "With the loader's retries (8 after the first attempt), as the storms above.",
        "",
        FAILED_HEADER,
        FAILED_RULE,
    ]
    error = next((x for x in run.log_tail.splitlines() if "(exit " in x), "")
    given_up = sorted(run.proxy.get("given_up", {}).values())
    out += [
        _row(outcome, _failed_extra(bench, outcome, lines, bucket)),
        "",
        f"Its last line: `{error.split('| ')[-1]}`" if error else "",
    ]
    if run.code and given_up and max(given_up) < MAX_ATTEMPTS:
        out += [
            "",
            f"The call it gave up on had {max(given_up)} attempts of the {MAX_ATTEMPTS} allowed "
            "(botocore's message says `reached max retries` when they run out): botocore's "
            "retry quota had run dry.",
        ]
    print("\n".join(out[-3:]), flush=True)
    return [*out, ""]


def main() -> None:
    """Run the storms and write fault-storm.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--long-records", type=int, default=3000)
    args = parser.parse_args()
    for name in ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        os.environ.pop(name, None)
    started = time.monotonic()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    lines = storm_input(INPUT_SEED, STREAMS)
    try:
        with tempfile.TemporaryDirectory() as work:
            bench = Bench(f"http://{host}:{port}", Path(work))
            clean_seconds = []
            for _ in range(3):  # the first is slower (cold caches): the median is the base
                bucket = bench.bucket()
                reference = bench.run(lines, bucket, run_id="c", plan=None)
                assert reference.code == 0, reference.log_tail
                clean_seconds.append(reference.seconds)
            clean = landed(bench.client, bucket)
            assert not lost(lines, clean)
            base = statistics.median(clean_seconds)
            body = [
                *_storms(bench, lines, clean, base, args.seeds),
                *_failures(bench, lines, clean, args.seeds),
                *_long(bench, args.long_records),
            ]
            body = [*_totals(bench.tally), *body]
    finally:
        server.stop()
    records = sum(len(rows) for rows in clean.records.values())
    out = [
        "# target-s3 under an S3 fault storm",
        "",
        f"Measured {datetime.now(tz=timezone.utc):%Y-%m-%d}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, moto server and fault proxy in the benchmark process; "
        f"{time.monotonic() - started:.0f} s in all.",
        f"Command: `python loaders/target-s3/bench/fault_storm.py --seeds {args.seeds} "
        f"--long-records {args.long_records}`",
        "",
        f"Input: {records:,} records of three streams ({len(lines):,} Singer lines), "
        f"{clean.objects} objects in a clean run ({base:.1f} s, the median of 3). Faults on "
        "30 % of S3 attempts, the four kinds taking turns; the client's read timeout "
        f"{READ_TIMEOUT} s, a held-back answer {SLOW_SECONDS} s. Checks: records as the "
        "clean run landed them (runs that exit 0), every object decoded whole, no multipart "
        "upload left open, no echoed STATE covering a record no object holds.",
        "",
        *body,
    ]
    OUT.write_text("\n".join(out).rstrip() + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
