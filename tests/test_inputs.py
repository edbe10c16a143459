"""Bad input files (config, state, catalog): one line naming the file, exit 2, no request.

Each test runs the real ``tap-asos`` command against a private sandbox, whose stats show
that nothing was requested. docs/bad-input.md lists the messages.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tap_asos.inputs import InputError, check_state
from tests.helpers import run_cli, run_tap, tap_config

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_asos.sandbox import SandboxServer

TAP = str(Path(sys.executable).with_name("tap-asos"))
SECRET = "sk-live-3c9e1a7b5d2f4e60b8a1"
PARTITION = {"context": {"store": "US", "categoryId": 4209}}


def _tap(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TAP, *args], capture_output=True, text=True, timeout=120, check=False, cwd=workdir
    )


def _one_error_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The run's only stderr line; it is an ERROR, exit 2, nothing on stdout."""
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert "ERROR" in lines[0]
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


@pytest.fixture
def server(make_sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    """A private sandbox: its request count starts at zero."""
    return make_sandbox(products=200, api_keys=(SECRET,))


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ('{"api_key": "' + SECRET + '",\n "stores": ["US"]\n', "line 3, column 1"),
        ('{"api_key": "' + SECRET + '" "stores": []}', "line 1, column 44"),
    ],
)
def test_a_config_file_that_is_not_json_is_one_line_naming_the_file_exit_2(
    tmp_path: Path, text: str, position: str
) -> None:
    (tmp_path / "my-config.json").write_text(text)
    result = _tap(tmp_path, "--config", "my-config.json")
    line = _one_error_line(result, "Config file my-config.json is not JSON", position)
    assert SECRET not in line


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "Config file config.json is empty"),
        (json.dumps(SECRET), "Config file config.json must hold a JSON object, not a string"),
        ("[1, 2]", "Config file config.json must hold a JSON object, not an array"),
        (None, "Config file config.json not found. Check the --config path."),
    ],
)
def test_a_config_file_that_is_empty_missing_or_not_an_object_is_one_line_exit_2(
    tmp_path: Path, text: str | None, needle: str
) -> None:
    if text is not None:
        (tmp_path / "config.json").write_text(text)
    result = _tap(tmp_path, "--config", "config.json", "--discover")
    assert SECRET not in _one_error_line(result, needle)


@pytest.mark.parametrize(
    ("state", "needle"),
    [
        ("not json", "State file state.json is not JSON: Expecting value at line 1, column 1"),
        ("", "State file state.json is empty"),
        ("[1,2,3]", "State file state.json must hold a JSON object, not an array"),
        ('{"bookmarks": "x"}', '"bookmarks" must be an object (stream name to its state)'),
        (
            '{"bookmarks": {"products": {"partitions": "oops"}}}',
            'bookmarks.products: "partitions" must be an array, not a string',
        ),
        ('{"bookmarks": {"countries": 5}}', "bookmarks.countries must be an object"),
        (
            '{"bookmarks": {"products": {"partitions": [7]}}}',
            "bookmarks.products.partitions[0] must be an object, not a number",
        ),
    ],
)
def test_a_state_file_that_is_not_json_or_not_a_state_is_one_line_exit_2_before_any_request(
    server: SandboxServer, tmp_path: Path, state: str, needle: str
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(server.url, SECRET)))
    (tmp_path / "state.json").write_text(state)
    result = _tap(tmp_path, "--config", str(config), "--state", "state.json")
    _one_error_line(result, needle, "run without --state")
    assert server.stats()["requests_total"] == 0


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ({"anchors": "notalist"}, '"anchors" must be an array of integers (product ids)'),
        ({"anchors": [1, "2"]}, '"anchors" must be an array of integers'),
        ({"checked_at": "yesterday"}, '"checked_at" must be an ISO-8601 date-time string or'),
        ({"fetched": [True]}, '"fetched" must be an array of integers'),
        ({"frozen": "12"}, '"frozen" must be an integer or null, not "12"'),
        ({"costs": {"incremental": "3"}}, '"costs" must be an object of integers'),
        ({"context": {"store": "US", "categoryId": "4209"}}, '"context.categoryId" must be'),
        ({"context": None}, '"context" must be an object, not null'),
    ],
)
def test_a_partition_entry_of_the_wrong_type_exits_2_naming_the_entry_before_any_request(
    server: SandboxServer, tmp_path: Path, entry: dict[str, t.Any], needle: str
) -> None:
    # A good entry first: the message names the bad one by its index and context.
    good = {**PARTITION, "anchors": [1, 2], "checked_at": None, "context": {"store": "US"}}
    state = {"bookmarks": {"products": {"partitions": [good, {**PARTITION, **entry}]}}}
    result = run_cli(tap_config(server.url, SECRET), tmp_path, state=state)
    line = _one_error_line(result, "State file ", "bookmarks.products.partitions[1]", needle)
    if entry.get("context", True) is not None:
        assert "(context {" in line
        assert '"store": "US"' in line
    assert "Fix or remove that entry" in line
    assert server.stats()["requests_total"] == 0


def test_a_state_the_tap_wrote_with_unknown_and_new_keys_passes_the_check(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = tap_config(sandbox.url, sandbox.api_key, max_products_per_partition=5)
    state = run_tap(config).final_state
    partitions = state["bookmarks"]["products"]["partitions"]
    assert partitions
    assert all("anchors" in p and "checked_at" in p for p in partitions)
    for partition in partitions:
        partition["fetched"] = [1, 2, 3]
        partition["a_key_of_a_later_release"] = {"anything": ["goes"]}
    assert check_state(json.dumps(state), "state.json") == state
    result = run_cli(config, tmp_path, state=state)
    assert result.returncode == 0, result.stderr[-2000:]
    partitions[-1]["fetched"] = ["1"]
    with pytest.raises(InputError, match="fetched"):
        check_state(json.dumps(state), "state.json")


@pytest.mark.parametrize(
    ("catalog", "needle"),
    [
        ("", "Catalog file catalog.json is empty"),
        ('{"streams": [', "Catalog file catalog.json is not JSON"),
        ("[]", "Catalog file catalog.json must hold a JSON object, not an array"),
        ('{"streams": {}}', '"streams" must be an array of stream objects'),
    ],
)
def test_a_catalog_file_that_is_empty_or_not_json_is_one_line_exit_2(
    server: SandboxServer, tmp_path: Path, catalog: str, needle: str
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(server.url, SECRET)))
    (tmp_path / "catalog.json").write_text(catalog)
    result = _tap(tmp_path, "--config", str(config), "--catalog", "catalog.json")
    _one_error_line(result, needle, "tap-asos --discover > catalog.json")
    assert server.stats()["requests_total"] == 0


@pytest.mark.parametrize("catalog", [{}, {"streams": []}])
def test_a_catalog_that_selects_no_stream_warns_and_exits_0_without_a_request(
    server: SandboxServer, tmp_path: Path, catalog: dict[str, t.Any]
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(server.url, SECRET)))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    result = _tap(tmp_path, "--config", str(config), "--catalog", "catalog.json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"type":"RECORD"' not in result.stdout
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, result.stderr[-2000:]
    assert "The catalog file catalog.json selects no stream" in warnings[0]
    assert "exits 0" in warnings[0]
    assert server.stats()["requests_total"] == 0
