"""The Meltano Hub user's path, end to end: built wheels, a fresh project, `meltano add`.

What a Hub user does, with the definitions of hub/ and `pip_url` pointing at the wheels this
repository builds (as the Hub's pip_url points at PyPI): `meltano init`, then
`meltano add --plugin-type extractor --from-ref <definition> tap-asos`, `meltano config list`,
`meltano run tap-asos target-jsonl` against the sandbox; the same for the loader, into a
local S3 (moto). Meltano installs plugins with uv from its cache, in a private system dir.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tap_asos import __version__
from tap_asos.categories import leaf_category_ids
from tests.helpers import api_get, listed_ids, local_s3, meltano_env, s3_objects

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_asos.sandbox import SandboxServer

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "hub-user-lake"
pytestmark = pytest.mark.e2e
# target-jsonl as the Hub defines it (andyh1203 variant): the test has no Hub to ask.
TARGET_JSONL = {
    "name": "target-jsonl",
    "namespace": "target_jsonl",
    "variant": "andyh1203",
    "pip_url": "target-jsonl==0.1.4",
    "settings": [
        {"name": "destination_path", "kind": "string", "label": "Destination path"},
        {"name": "do_timestamp_file", "kind": "boolean", "label": "Timestamp files"},
    ],
}


@dataclass
class Project:
    """A fresh Meltano project of a Hub user."""

    path: Path
    env: dict[str, str]

    def meltano(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run the test virtualenv's meltano in the project."""
        return subprocess.run(
            [str(Path(sys.executable).with_name("meltano")), *args],
            cwd=self.path,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def add_from_definition(self, plugin_type: str, definition: dict[str, t.Any]) -> None:
        """`meltano add --plugin-type TYPE --from-ref FILE NAME`, asserting it worked."""
        ref = self.path.parent / f"{definition['name']}.yml"
        ref.write_text(yaml.safe_dump(definition, sort_keys=False))
        added = self.meltano(
            "add", "--plugin-type", plugin_type, "--from-ref", str(ref), definition["name"]
        )
        assert added.returncode == 0, added.stderr[-4000:]


def _definition(path: str, pip_url: Path) -> dict[str, t.Any]:
    """A definition of hub/, installing from a built wheel instead of PyPI."""
    definition: dict[str, t.Any] = yaml.safe_load((ROOT / path).read_text())
    definition["pip_url"] = str(pip_url)
    return definition


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, built_dists: Path) -> Project:
    """A fresh project to which the Hub user has added tap-asos from its definition."""
    root = tmp_path_factory.mktemp("hub-user")
    env = meltano_env(root / "sys", MELTANO_VENV_BACKEND="uv")
    init = Project(root, env).meltano("init", "--no-usage-stats", "project")
    assert init.returncode == 0, init.stderr[-4000:]
    project = Project(root / "project", env)
    wheel = built_dists / f"tap_asos-{__version__}-py3-none-any.whl"
    project.add_from_definition("extractor", _definition("hub/extractors/tap-asos.yml", wheel))
    return project


def _assert_lists_every_setting(project: Project, plugin: str, definition_path: str) -> None:
    listing = project.meltano("config", "list", plugin, "--all")
    assert listing.returncode == 0, listing.stderr[-4000:]
    lines = listing.stdout.splitlines()
    settings = yaml.safe_load((ROOT / definition_path).read_text())["settings"]
    for setting in settings:
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{setting['name']} [env:"))
        assert lines[at + 1] == f"\t{setting['label']}: {setting['description']}", setting["name"]


def _assert_every_record_landed(
    server: SandboxServer, records: dict[str, list[dict[str, t.Any]]]
) -> None:
    """Every product of every leaf category once, with its details and stock."""
    tree = api_get(server.url, server.api_key, "/categories/list", country="US", lang="en-US")
    truth = {
        (cid, pid)
        for cid in leaf_category_ids(tree)
        for pid in listed_ids(server.url, server.api_key, "US", cid)
    }
    products = [r["id"] for r in records["products"]]  # one record per product
    assert len(products) == len(set(products))
    ids = {pid for _, pid in truth}
    assert set(products) == ids
    assert sorted(r["id"] for r in records["product_details"]) == sorted(ids)
    assert sorted(r["productId"] for r in records["stock_prices"]) == sorted(ids)
    assert {r["country"] for r in records["countries"]} >= {"US", "GB"}
    assert records["categories"]


def _run_env(server: SandboxServer, **extra: str) -> dict[str, str]:
    return {
        "TAP_ASOS_API_URL": server.url,
        "TAP_ASOS_API_KEY": server.api_key,
        "TAP_ASOS_REQUESTS_PER_SECOND": "0",
        **extra,
    }


def test_a_hub_user_adds_the_tap_then_the_loader_from_their_definitions_and_lands_records(
    project: Project,
    built_dists: Path,
    make_sandbox: Callable[..., SandboxServer],
    s3_url: str,
) -> None:
    """Slow by nature: Meltano builds each plugin's virtualenv from its wheel and runs it.

    One test, the user's path in order: the project (Meltano installing tap-asos) is made
    once, not once per test worker.
    """
    _extractor_lists_its_settings_and_lands_records(project, make_sandbox)
    _loader_lists_its_settings_and_writes_to_s3(project, built_dists, make_sandbox, s3_url)


def _extractor_lists_its_settings_and_lands_records(
    project: Project, make_sandbox: Callable[..., SandboxServer]
) -> None:
    meltano_yml = yaml.safe_load((project.path / "meltano.yml").read_text())
    assert [p["name"] for p in meltano_yml["plugins"]["extractors"]] == ["tap-asos"]
    assert "utilities" not in meltano_yml["plugins"]
    _assert_lists_every_setting(project, "tap-asos", "hub/extractors/tap-asos.yml")

    project.add_from_definition("loader", TARGET_JSONL)
    server = make_sandbox(products=150)
    out = project.path / "landed"
    out.mkdir()
    run = project.meltano(
        "run",
        "tap-asos",
        "target-jsonl",
        **_run_env(server, TARGET_JSONL_DESTINATION_PATH=str(out)),
    )
    assert run.returncode == 0, run.stderr[-4000:]
    records: dict[str, list[dict[str, t.Any]]] = {}
    for path in out.glob("*.jsonl"):
        stream = path.name.rsplit("-", 1)[0]
        records.setdefault(stream, []).extend(json.loads(line) for line in path.open())
    _assert_every_record_landed(server, records)
    assert server.api_key not in run.stdout + run.stderr


@pytest.fixture
def s3_url() -> Iterator[str]:
    with local_s3(BUCKET) as url:
        yield url


def _loader_lists_its_settings_and_writes_to_s3(
    project: Project,
    built_dists: Path,
    make_sandbox: Callable[..., SandboxServer],
    s3_url: str,
) -> None:
    wheel = built_dists / f"asos_target_s3-{__version__}-py3-none-any.whl"
    project.add_from_definition("loader", _definition("hub/loaders/target-s3.yml", wheel))
    _assert_lists_every_setting(project, "target-s3", "hub/loaders/target-s3.yml")

    server = make_sandbox(products=150)
    run = project.meltano(
        "run",
        "tap-asos",
        "target-s3",
        **_run_env(
            server,
            TARGET_S3_BUCKET=BUCKET,
            TARGET_S3_PREFIX="hub/",
            TARGET_S3_ENDPOINT_URL=s3_url,
            TARGET_S3_AWS_ACCESS_KEY_ID="hub",
            TARGET_S3_AWS_SECRET_ACCESS_KEY="hub-secret",
        ),
    )
    assert run.returncode == 0, run.stderr[-4000:]
    objects = s3_objects(s3_url, BUCKET, "hub/")
    assert objects
    records: dict[str, list[dict[str, t.Any]]] = {}
    for key, rows in objects.items():
        assert key.endswith(".jsonl.gz"), key
        records.setdefault(key.split("/")[1], []).extend(rows)
    _assert_every_record_landed(server, records)
    output = run.stdout + run.stderr
    assert server.api_key not in output
    assert "hub-secret" not in output
