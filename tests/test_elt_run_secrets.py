"""orchestrate/elt_run.py masks the API key in every log line it relays (issue 25).

Meltano's log is relayed line by line: JSON lines rendered for people, other lines (a
plugin's traceback, a warning printed before logging is set up) as they are. The key
must be masked in both, whatever part of the line carries it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import typing as t
from pathlib import Path

from tests.helpers import load_script

if t.TYPE_CHECKING:
    import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "orchestrate" / "elt_run.py"
ELT = load_script(SCRIPT)
KEY = "f00dbabe1234567890deadbeefcafe0123456789abcdef0123"


def _lines(key: str) -> list[str]:
    """Log lines that carry the key: in the event, in Meltano's fields, in plain text."""
    return [
        json.dumps({"event": f"GET /countries/list X-RapidAPI-Key={key}", "string_id": "tap-asos"})
        + "\n",
        json.dumps({"event": "Run failed", "err": f"bad key {key}", "exit_codes": {}}) + "\n",
        json.dumps({"event": "Block run completed", "state_id": f"dev:{key}"}) + "\n",
        f"Traceback: requests.exceptions.HTTPError: 401 for url ?key={key}\n",
        json.dumps([key]) + "\n",
    ]


def test_elt_run_masks_the_api_key_in_every_line_it_relays() -> None:
    outcome = ELT.Outcome()
    for line in _lines(KEY):
        shown = outcome.read(line, KEY)
        assert KEY not in shown, shown
        assert "***" in shown, shown


def test_elt_run_masks_the_api_key_a_failing_run_echoes_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in for Meltano (elt_run's --meltano): a run that fails and echoes the key
    # it was given, as a plugin that printed its config or a request URL would.
    fake = tmp_path / "meltano"
    fake.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            f"""
            import json, os, sys
            key = os.environ["TAP_ASOS_API_KEY"]
            lines = {_lines("{KEY}")!r}
            for line in lines:
                sys.stderr.write(line.replace("{{KEY}}", key))
            failed = {{"event": "Run failed", "exit_codes": {{"extractors": 2}}}}
            sys.stderr.write(json.dumps(failed) + "\\n")
            sys.exit(1)
            """
        )
    )
    fake.chmod(0o755)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    env = {
        **os.environ,
        "TAP_ASOS_API_KEY": KEY,
        "TARGET_S3_BUCKET": "lake",
        "MELTANO_SYS_DIR_ROOT": str(tmp_path / "sys"),
    }
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "run",
            "--environment=dev",
            "--store=US",
            f"--meltano={fake}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-3000:]  # the tap's code, read from the log
    relayed = [line for line in result.stderr.splitlines() if "***" in line]
    assert len(relayed) == len(_lines(KEY)), result.stderr[-3000:]
    assert KEY not in result.stdout + result.stderr
