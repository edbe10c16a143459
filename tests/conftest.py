"""Shared fixtures: real sandbox servers on free 127.0.0.1 ports, stopped afterwards.

Tests that start a server (a sandbox, moto's S3, the replay server, meltano or the
benchmark in a subprocess) get the ``server`` marker here, from the fixtures they use or
their module, so ``pytest -m "not server"`` (``make check``) is the fast inner loop.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import typing as t
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tap_asos.sandbox import SandboxConfig, SandboxServer
from tests.gateway import Gateway, Rule
from tests.helpers import meltano_env, once, run_dir, run_meltano

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterator

ROOT = Path(__file__).resolve().parents[1]

# Fixtures that start a server (or build the distributions, as slow): a test using one,
# directly or through another fixture, is a `server` test.
SERVER_FIXTURES = frozenset(
    {"sandbox", "make_sandbox", "built_dists", "moto_url", "s3", "installed_plugins"}
)
# Modules whose tests start servers or meltano themselves, without those fixtures.
SERVER_MODULES = frozenset(
    {
        "test_bench",  # the benchmark: sandboxes and contenders in subprocesses
        "test_replay",  # tests/replay_server.py, then tap-asos against it
        "test_elt_run",  # local S3 (moto) and meltano subprocesses
        "test_orchestrate",  # a real Airflow in its own virtualenv
        "test_meltano_e2e",  # meltano run into a local S3
        "test_progress_view",  # meltano runs (recorded ones too: the view as a subprocess)
        "test_snowflake",  # target-snowflake and fakesnow in a virtualenv of their own
        "test_hub_path",  # built wheels installed by meltano
        "test_interrupts",  # target-s3 on a local S3, meltano runs stopped by signals
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that start servers (see the module docstring)."""
    for item in items:
        module = (
            item.module.__name__.rsplit(".", 1)[-1] if isinstance(item, pytest.Function) else ""
        )
        if module in SERVER_MODULES or SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)


# Hypothesis loads its "ci" profile where CI is set, and that profile is derandomized:
# CI would draw the same histories every run. The property tests draw new ones wherever
# they run (issue 29); a failure names its seed (below) and the fixed regression seeds
# stay beside them.
settings.register_profile(
    "tap-asos",
    derandomize=False,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("tap-asos")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, t.Any, None]:
    """A failed property test says how to replay what it drew: the seed of its histories.

    Hypothesis prints the failing example, and ``@reproduce_failure`` where
    ``print_blob``; the seed it names only for a flaky failure, so it is added here.
    """
    outcome = yield
    report = outcome.get_result()
    seed = getattr(getattr(item, "obj", None), "_hypothesis_internal_use_generated_seed", None)
    if report.when == "call" and report.failed and seed is not None:
        replay = f"Replay: pytest '{item.nodeid}' --hypothesis-seed={seed}"
        report.sections.append(("hypothesis seed", replay))


# Small enough for a fast suite, large enough for several pages per category.
TEST_PRODUCTS = 1200
TEST_SEED = 11


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """A read-only sandbox shared by the session: never advance or fault it."""
    server = SandboxServer(SandboxConfig(seed=TEST_SEED, products=TEST_PRODUCTS)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    """Factory of private sandboxes (for tests that advance time or inject faults)."""
    servers: list[SandboxServer] = []

    def make(**overrides: t.Any) -> SandboxServer:
        config = SandboxConfig(**{"seed": TEST_SEED, "products": TEST_PRODUCTS, **overrides})
        server = SandboxServer(config).start()
        servers.append(server)
        return server

    try:
        yield make
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def built_dists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheels and sdists of tap-asos and asos-target-s3, built as a release builds them.

    Built once per ``make test``: the test workers share the run's base directory, and the
    first to get there builds while the other waits.
    """
    out = run_dir(tmp_path_factory) / "dist"
    with once(out.with_name("dist.built")) as needed:
        if needed:
            uv = str(Path(sys.executable).with_name("uv"))
            for project in (ROOT, ROOT / "loaders" / "target-s3"):
                subprocess.run(
                    [uv, "build", "--quiet", "--out-dir", str(out), str(project)],
                    check=True,
                    capture_output=True,
                    timeout=600,
                )
    return out


@pytest.fixture(scope="session")
def installed_plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Meltano system dir with tap-asos and target-s3 installed, once per test run.

    ``with_plugins`` gives a test its own system dir (its own system database and run
    files) over these plugins: a test that is not about installing need not pay ~4 s of
    editable installs. Both workers use them, so no test installs into them: a test of
    installing (elt_run's ``--install``) has a system dir of its own.
    """
    sys_dir = run_dir(tmp_path_factory) / "meltano-plugins"
    with once(sys_dir.with_name("meltano-plugins.installed")) as needed:
        if needed:
            env = meltano_env(sys_dir)
            installed = run_meltano("install", "tap-asos", "target-s3", env=env)
            assert installed.returncode == 0, installed.stderr[-3000:]
    return sys_dir


@pytest.fixture
def gateway() -> Iterator[Callable[[str, Rule], Gateway]]:
    """Factory of local gateways, each stopped after the test."""
    started: list[Gateway] = []

    def make(upstream: str, rule: Rule) -> Gateway:
        made = Gateway(upstream, rule)
        threading.Thread(target=made.server.serve_forever, daemon=True).start()
        started.append(made)
        return made

    yield make
    for made in started:
        made.server.shutdown()
        made.server.server_close()
