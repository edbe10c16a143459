"""The built distributions hold what a user needs and nothing else, and pass `twine check`.

The policy itself is scripts/check_dists.py, which the release workflow runs on what it
publishes; here it runs on a fresh build, and the listing is checked once more by name.
"""

from __future__ import annotations

import re
import subprocess
import sys
import typing as t
from pathlib import Path

from tap_asos import __version__
from tests.helpers import load_script

if t.TYPE_CHECKING:
    from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _check_dists() -> ModuleType:
    return load_script(ROOT / "scripts" / "check_dists.py")


def test_distributions_hold_the_packages_and_nothing_else(built_dists: Path) -> None:
    """Slow by nature: the wheels and sdists are built as a release builds them (once a session)."""
    check_dists = _check_dists()
    assert check_dists.check(built_dists, __version__) == []
    wheel = check_dists.wheel_members(built_dists / f"tap_asos-{__version__}-py3-none-any.whl")
    sdist = check_dists.sdist_members(built_dists / f"tap_asos-{__version__}.tar.gz")
    for members in (wheel, sdist):
        assert "tap_asos/tap.py" in members
        assert "tap_asos/sandbox/server.py" in members  # the sandbox ships
        assert "tap_asos/sandbox/__main__.py" in members
        tops = {name.split("/")[0] for name in members}
        assert not tops & {"tests", "bench", "loaders", "orchestrate", "scripts", "hub", ".github"}
        assert not [name for name in members if Path(name).name.startswith(".env")]
        assert all(name.endswith(".py") for name in members if name.startswith("tap_asos/"))
    assert f"tap_asos-{__version__}.dist-info/licenses/LICENSE" in wheel
    assert {"LICENSE", "CHANGELOG.md", "README.md"} <= set(sdist)
    loader = check_dists.wheel_members(
        built_dists / f"asos_target_s3-{__version__}-py3-none-any.whl"
    )
    assert "target_s3/target.py" in loader
    assert not [name for name in loader if "tests" in name.split("/")]


def test_the_checker_names_what_should_not_ship(built_dists: Path, tmp_path: Path) -> None:
    """An extra file, a missing module and a key in a copy of the sdist are all reported."""
    import tarfile

    check_dists = _check_dists()
    source = built_dists / f"tap_asos-{__version__}.tar.gz"
    top = f"tap_asos-{__version__}"
    for other in built_dists.glob("*"):
        if other != source:
            (tmp_path / other.name).write_bytes(other.read_bytes())
    with tarfile.open(source) as old, tarfile.open(tmp_path / source.name, "w:gz") as new:
        for member in old.getmembers():
            if member.name != f"{top}/tap_asos/client.py":
                new.addfile(member, old.extractfile(member) if member.isfile() else None)
        leaked = tmp_path / ".env"
        leaked.write_text("AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP\n")
        new.add(leaked, arcname=f"{top}/.env")
    problems = check_dists.check(tmp_path, __version__)
    assert any("unexpected .env" in p for p in problems), problems
    assert any("missing tap_asos/client.py" in p for p in problems), problems
    assert any(".env matches a secret pattern" in p for p in problems), problems
    assert check_dists.check(built_dists, "9.9.9")  # a tag that is not the version


def test_twine_check_passes(built_dists: Path) -> None:
    dists = sorted(str(p) for p in built_dists.glob("*") if p.suffix in {".whl", ".gz"})
    assert len(dists) == 4
    twine = subprocess.run(
        [str(Path(sys.executable).with_name("twine")), "check", "--strict", *dists],
        capture_output=True,
        text=True,
        check=False,
    )
    assert twine.returncode == 0, twine.stdout + twine.stderr
    assert twine.stdout.count("PASSED") == 4


def test_one_version_for_the_release() -> None:
    """The tap, the loader and the changelog name the same version."""
    loader = (ROOT / "loaders" / "target-s3" / "pyproject.toml").read_text()
    assert re.search(rf'^version = "{re.escape(__version__)}"$', loader, re.MULTILINE)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(
        rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.MULTILINE
    )
    assert f"[{__version__}]: " in changelog
