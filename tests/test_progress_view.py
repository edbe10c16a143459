"""orchestrate/progress_view.py: a Meltano run's progress as a person sees it.

On recorded Meltano JSON logs of real runs (tests/fixtures/meltano, see the README there)
and end to end: the view runs the real ``meltano run tap-asos target-s3`` against the
sandbox and a local S3, and keeps Meltano's exit code.
"""

from __future__ import annotations

import io
import json
import re
import sys
import typing as t
from pathlib import Path

import pytest
from rich.console import Console

from tests.helpers import load_script, local_s3, pipeline_env, run_meltano, with_plugins

if t.TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable, Iterator

    from tap_asos.sandbox import SandboxServer

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "orchestrate" / "progress_view.py"
LOGS = Path(__file__).parent / "fixtures" / "meltano"
BUCKET = "asos-lake-view"


VIEW = load_script(SCRIPT)


def _events(log: str) -> list[dict[str, t.Any]]:
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


def _progress(log: str) -> list[dict[str, t.Any]]:
    """The figures of the tap's Progress lines in a Meltano JSON log."""
    return [
        json.loads(e["event"].removeprefix("Progress: "))
        for e in _events(log)
        if e["event"].startswith("Progress: ")
    ]


def _shown(log: str, *, terminal: bool) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=400, highlight=False)
    VIEW.view(log.splitlines(keepends=True), console)
    return out.getvalue()


def _eta(seconds: float) -> str:
    hours, rest = divmod(round(seconds), 3600)
    return f"ETA {hours}:{rest // 60:02d}:{rest % 60:02d}"


def _check_progress_lines(shown: str, figures: list[dict[str, t.Any]]) -> None:
    """One plain line per Progress line, carrying its figures."""
    lines = [line for line in shown.splitlines() if ": partitions " in line]
    assert len(lines) == len(figures) > 1
    for line, f in zip(lines, figures, strict=True):
        assert line.startswith(f"tap-asos: partitions {f['partitions_done']}/")
        assert f"/{f['partitions_total']} · " in line
        assert f"requests {f['requests']} (" in line
        assert _eta(f["eta_seconds"]) in line
        assert f"quota left {f['quota_remaining']}" in line
        for stream, records in f["records"].items():
            assert f"{stream} {records}" in line


def test_a_recorded_run_shows_each_progress_line_warnings_and_the_summary() -> None:
    log = (LOGS / "run-succeeded.jsonl").read_text()
    figures = _progress(log)
    shown = _shown(log, terminal=False)
    _check_progress_lines(shown, figures)
    assert figures[-1]["partitions_done"] == figures[-1]["partitions_total"]
    warnings = [e["event"] for e in _events(log) if e["level"] == "warning"]
    assert warnings
    for warning in warnings:
        assert f"warning meltano: {warning}" in shown
    summary = next(
        json.loads(e["event"].removeprefix("Run summary: "))
        for e in _events(log)
        if e["event"].startswith("Run summary: ")
    )
    assert (
        f"tap-asos: run succeeded in {summary['duration_seconds']} s: "
        f"{summary['requests']} requests, {summary['records']} records" in shown
    )
    # Meltano's and the plugins' INFO lines (and the SDK's metrics) are left out.
    assert "METRIC" in log
    assert "METRIC" not in shown
    assert "Beginning sync" not in shown
    assert len(shown.splitlines()) == len(figures) + len(warnings) + 1


def test_a_failed_run_shows_its_errors_with_what_meltano_says_failed() -> None:
    log = (LOGS / "run-failed.jsonl").read_text()
    shown = _shown(log, terminal=False)
    errors = [e for e in _events(log) if e["level"] == "error"]
    assert len(errors) >= 2
    for error in errors:
        assert f"error {error.get('string_id', 'meltano')}: {error['event']}" in shown
    assert "401 Unauthorized" in shown
    assert "exit_codes={'extractors': 2}" in shown
    assert "tap-asos: run failed" in shown


def test_plugin_output_that_is_no_log_record_and_plain_text_pass_through() -> None:
    # Meltano logs a plugin's stderr line it cannot parse (a traceback) at INFO with the
    # plugin's string_id and no plugin_logger; lines that are not JSON at all come as-is.
    line = next(
        e for e in _events((LOGS / "run-succeeded.jsonl").read_text()) if e.get("plugin_logger")
    )
    raw = {k: v for k, v in line.items() if k not in {"plugin_logger", "app_name"}}
    raw["event"] = "Traceback (most recent call last):"
    log = json.dumps(line) + "\n" + json.dumps(raw) + "\nsome text, not JSON\n"
    shown = _shown(log, terminal=False)
    assert shown.splitlines() == [
        "info tap-asos: Traceback (most recent call last):",
        "some text, not JSON",
    ]


def test_on_a_terminal_the_progress_is_one_line_redrawn() -> None:
    log = (LOGS / "run-succeeded.jsonl").read_text()
    figures = _progress(log)
    shown = _shown(log, terminal=True)
    # A redraw goes back to the line's start and clears it: no new line per update (the
    # last figures are drawn once more when the view stops).
    assert shown.count("\r\x1b[2K") == len(figures)
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)
    lines = plain.split("\n")
    live = next(line for line in lines if "\r" in line)
    frames = live.split("\r")
    assert len(frames) == len(figures) + 1
    assert frames[-1] == frames[-2]
    for frame, f in zip(frames, figures, strict=False):
        assert f"{f['partitions_done']}/{f['partitions_total']}" in frame
        assert f"requests {f['requests']} (" in frame
        assert _eta(f["eta_seconds"]) in frame
    # Around it: the warning before, the summary after; nothing else.
    assert [line for line in lines if line and "\r" not in line] == [
        "warning meltano: No state was found, complete import.",
        next(line for line in lines if line.startswith("tap-asos: run succeeded")),
    ]


@pytest.fixture
def s3_url() -> Iterator[str]:
    with local_s3(BUCKET) as url:
        yield url


def _view_meltano(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    view = (sys.executable, str(SCRIPT), "--")
    return run_meltano("run", *args, "tap-asos", "target-s3", env=env, wrapper=view)


@pytest.mark.e2e
def test_the_view_of_a_real_meltano_run_and_its_exit_code(
    make_sandbox: Callable[..., SandboxServer],
    s3_url: str,
    installed_plugins: Path,
    tmp_path: Path,
) -> None:
    """Slow by nature: two real pipelines (one succeeds, one fails) seen through the view."""
    server = make_sandbox(products=300)
    env = pipeline_env(
        with_plugins(installed_plugins, tmp_path / "meltano-sys"),
        api_url=server.url,
        api_key=server.api_key,
        bucket=BUCKET,
        s3_url=s3_url,
        MELTANO_ENVIRONMENT="dev",
        MELTANO_CLI_LOG_LEVEL="warning",  # what make demo had: the view needs info
    )
    ran = _view_meltano(env)
    assert ran.returncode == 0, ran.stdout[-4000:]
    lines = [line for line in ran.stdout.splitlines() if line.startswith("tap-asos: partitions ")]
    assert len(lines) > 1
    done_total = [re.match(r"tap-asos: partitions (\d+)/(\d+) ", line) for line in lines]
    assert all(done_total)
    pairs = [(int(m[1]), int(m[2])) for m in done_total if m]
    total = pairs[0][1]
    assert [done for done, _ in pairs] == list(range(1, total + 1))
    assert {t for _, t in pairs} == {total}
    requests = server.stats()["requests_total"]
    assert f"requests {requests} (" in lines[-1]
    assert "ETA 0:00:00" in lines[-1]
    assert "tap-asos: run succeeded in " in ran.stdout
    assert "METRIC" not in ran.stdout
    assert ran.stderr == ""

    wrong_key = "wrong-key-654321"
    failed = _view_meltano({**env, "TAP_ASOS_API_KEY": wrong_key})
    assert failed.returncode == 1  # meltano's own exit code for a failed block
    assert "error tap-asos: 401 Unauthorized for /countries/list" in failed.stdout
    assert "error meltano: Extractor failed" in failed.stdout
    for output in (ran.stdout, failed.stdout):
        assert server.api_key not in output
        assert wrong_key not in output
