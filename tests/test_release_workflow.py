"""The release workflow: tag-triggered, least privilege, pinned actions, trusted publishing."""

from __future__ import annotations

import re
import typing as t
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
TEXT = WORKFLOW.read_text()
# PyYAML reads the key `on` as the boolean True.
DATA: dict[t.Any, t.Any] = yaml.safe_load(TEXT)
JOBS: dict[str, dict[str, t.Any]] = DATA["jobs"]


def _steps() -> list[tuple[str, dict[str, t.Any]]]:
    return [(name, step) for name, job in JOBS.items() for step in job["steps"]]


def test_runs_only_on_a_version_tag() -> None:
    trigger = DATA[True]
    assert set(trigger) == {"push"}
    assert set(trigger["push"]) == {"tags"}
    assert all(pattern.startswith("v[0-9]") for pattern in trigger["push"]["tags"])


def test_every_action_is_pinned_to_a_commit_with_its_version_named() -> None:
    uses = [line.strip() for line in TEXT.splitlines() if re.match(r"\s*(- )?uses:", line)]
    assert len(uses) == len([s for _, s in _steps() if "uses" in s]) >= 5
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+", line), (
            line
        )


def test_permissions_are_read_only_but_for_the_publish_token() -> None:
    assert DATA["permissions"] == {"contents": "read"}
    assert JOBS["publish"]["permissions"] == {"id-token": "write"}
    for name, job in JOBS.items():
        if name != "publish":
            assert "permissions" not in job, name
    assert "secrets." not in TEXT
    assert "password" not in TEXT


def test_checkouts_do_not_keep_credentials() -> None:
    checkouts = [s for _, s in _steps() if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False


def test_builds_checks_then_publishes_both_packages() -> None:
    build = "\n".join(s.get("run", "") for s in JOBS["build"]["steps"])
    assert "uv build --out-dir dist .\n" in build
    assert "uv build --out-dir dist loaders/target-s3" in build
    assert "twine==" in build
    assert "check --strict" in build
    assert 'scripts/check_dists.py dist --version "${GITHUB_REF_NAME#v}"' in build
    assert JOBS["publish"]["needs"] == "build"
    publish = [s for s in JOBS["publish"]["steps"] if "uses" in s]
    assert publish[-1]["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert "with" not in publish[-1]  # no user, no password: trusted publishing
    assert JOBS["publish"]["environment"]["name"] == "pypi"
