"""SIGINT (Ctrl-C) and SIGTERM (Airflow kill, CI cancel) keep what a run finished.

target-s3: a signal ends its input; every object is completed on S3, then the last
STATE it received is emitted (never before the records it covers), exit 128 + signal,
and a second signal (Ctrl-C reaches the whole process group, then ``meltano run``
sends SIGTERM too) cannot cut that short.  The tap: a stopped run sends no further
request (``RequestPolicy.stop``), as at its budget.  ``meltano run``: the state the
loader echoed before the signal is kept and the rerun does not read those partitions
again (Meltano 4.4.1 drops a STATE the loader echoes *after* it was signalled: its
bookmark writer then hits a closed database session, ``DetachedInstanceError``).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import typing as t
from collections import Counter
from pathlib import Path

import pytest
from target_s3.stopping import wait_until_read

from tap_asos.runtime import RequestPolicy, RunStats, RunStoppedError
from tests.helpers import (
    ROOT,
    local_s3,
    pipeline_env,
    run_meltano,
    s3_client,
    s3_objects,
    with_plugins,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_asos.sandbox import SandboxServer

BUCKET = "lake-interrupts"
SCHEMA = {
    "type": "SCHEMA",
    "stream": "items",
    "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
    "key_properties": ["id"],
}


def _target(s3_url: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    config = tmp_path / "target.json"
    config.write_text(
        json.dumps({"bucket": BUCKET, "endpoint_url": s3_url, "prefix": "stop/"}), "utf-8"
    )
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("target-s3")), "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "e2e", "AWS_SECRET_ACCESS_KEY": "e2e-secret"},
        start_new_session=True,
    )


def _stop_target_midway(tmp_path: Path, signals: list[signal.Signals]) -> int:
    """Feed records and a STATE, wait until the target has taken them, signal it."""
    with local_s3(BUCKET) as s3_url:
        target = _target(s3_url, tmp_path)
        assert target.stdin is not None
        assert target.stdout is not None
        records = [{"type": "RECORD", "stream": "items", "record": {"id": i}} for i in range(500)]
        lines = [SCHEMA, *records]
        lines.append({"type": "STATE", "value": {"done": 500}})
        target.stdin.write("".join(json.dumps(m) + "\n" for m in lines).encode())
        target.stdin.flush()
        wait_until_read(target.stdin, timeout=60)  # the target is reading its input
        for sig in signals:
            target.send_signal(sig)
        # The stdin pipe stays open, as in meltano; a target that never answers fails
        # the test within a minute instead of hanging it.
        ready, _, _ = select.select([target.stdout], [], [], 60)
        if not ready:
            target.kill()
            pytest.fail("the target sent no STATE within 60 s of the stop signal")
        state_line = target.stdout.readline()
        # When the STATE arrives, the records it covers are already whole on S3.
        landed = s3_objects(s3_url, BUCKET, "stop/")
        code = target.wait(timeout=60)
        target.stdin.close()
        assert json.loads(state_line) == {"done": 500}
        rows = [r["id"] for rows in landed.values() for r in rows]
        assert sorted(rows) == list(range(500))
        uploads = s3_client(s3_url).list_multipart_uploads(Bucket=BUCKET)
        assert not uploads.get("Uploads")
        return code


def test_target_s3_on_sigterm_completes_every_object_then_emits_state(tmp_path: Path) -> None:
    assert _stop_target_midway(tmp_path, [signal.SIGTERM]) == 128 + signal.SIGTERM


def test_target_s3_on_ctrl_c_then_meltanos_sigterm_still_completes_and_emits(
    tmp_path: Path,
) -> None:
    # Ctrl-C signals the process group, then `meltano run` terminates its plugins.
    code = _stop_target_midway(tmp_path, [signal.SIGINT, signal.SIGTERM])
    assert code == 128 + signal.SIGINT


def test_a_stopped_run_sends_no_request_and_wakes_a_rate_limited_wait() -> None:
    policy = RequestPolicy(RunStats(), requests_per_second=0.001)  # one request per 1000 s
    policy.take_request_slot("products")
    outcome: list[BaseException] = []

    def second() -> None:
        try:
            policy.take_request_slot("products")
        except RunStoppedError as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=second)
    waiter.start()
    policy.stop(signal.SIGTERM)
    waiter.join(timeout=30)
    assert not waiter.is_alive()
    assert len(outcome) == 1
    assert policy.budget_exhausted
    assert policy.exit_code == 143
    with pytest.raises(RunStoppedError):
        policy.take_request_slot("products")


@pytest.fixture
def installed_meltano(installed_plugins: Path, tmp_path: Path) -> Path:
    """A Meltano system dir of the test's own over the run's installed plugins."""
    return with_plugins(installed_plugins, tmp_path / "meltano-sys")


@pytest.mark.e2e
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_meltano_run_interrupted_keeps_the_echoed_state_and_the_rerun_goes_on_from_it(
    make_sandbox: Callable[..., SandboxServer],
    installed_meltano: Path,
    sig: signal.Signals,
) -> None:
    """Slow by nature: two real ``meltano run`` pipelines (the stopped one, the rerun)."""
    server = make_sandbox(products=1500)
    with local_s3(BUCKET) as s3_url:
        env = pipeline_env(
            installed_meltano,
            api_url=server.url,
            api_key=server.api_key,
            bucket=BUCKET,
            s3_url=s3_url,
            MELTANO_ENVIRONMENT="dev",
            state_prefix="meltano-state",
            TAP_ASOS__SELECT='["products.*"]',
            TAP_ASOS_REQUESTS_PER_SECOND="10",
            TAP_ASOS_PAGE_SIZE="24",
            TARGET_S3_MAX_BATCH_AGE_SECONDS="1",
        )
        run = subprocess.Popen(
            [str(Path(sys.executable).with_name("meltano")), "run", "tap-asos", "target-s3"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            assert run.stderr is not None
            for line in run.stderr:  # the first STATE the loader echoed, Meltano saved
                if "Incremental state has been updated" in line:
                    break
            if sig == signal.SIGINT:
                os.killpg(run.pid, sig)  # Ctrl-C: the terminal signals the whole group
            else:
                run.send_signal(sig)  # an orchestrator signals Meltano only
            run.stderr.read()
            assert run.wait(timeout=300) != 0
        finally:
            if run.poll() is None:
                run.kill()
        state_file = next(iter(s3_objects(s3_url, BUCKET, "meltano-state/").values()))[0]
        saved = state_file["completed"]["singer_state"]["bookmarks"]["products"]["partitions"]
        # Where each read stood: a bookmark, a suspended read (backlog), or both.
        kept = {p["context"]["categoryId"] for p in saved if "checked_at" in p or "backlog" in p}
        assert kept, "no partition's place was saved"
        before = s3_objects(s3_url, BUCKET, "asos/dev/")
        first = set(before)
        read_first = {
            (r["categoryId"], r["id"]): r["position"]
            for k in first
            if "/products/" in k
            for r in before[k]
        }
        # The rerun at full speed: what it reads, not how fast, is the point.
        rerun = run_meltano(
            "run", "tap-asos", "target-s3", env={**env, "TAP_ASOS_REQUESTS_PER_SECOND": "0"}
        )
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        landed = s3_objects(s3_url, BUCKET, "asos/dev/")
        read_again = Counter(
            r["categoryId"]
            for key in set(landed) - first
            if "/products/" in key
            for r in landed[key]
            if (r["categoryId"], r["id"]) in read_first
        )
        # A partition whose place was saved goes on from it: what comes again is what the
        # stopped run read after its last saved STATE (the page the place is in on), and
        # from the top the Today block and the anchor pair (at-least-once, a page at most).
        page = 24
        for partition in saved:
            category = partition["context"]["categoryId"]
            starts = [
                b["frames"][0]["cursor"]["offset"]
                for b in partition.get("backlog", [])
                if b["frames"][0]["cursor"] is not None
            ]
            after = sum(
                1
                for (c, _id), position in read_first.items()
                if c == category and starts and (position is None or position >= min(starts) - page)
            )
            assert read_again[category] <= after + page + 5, (category, read_again, starts)
        assert sum(read_again.values()) < len(read_first), (read_again, len(read_first))
