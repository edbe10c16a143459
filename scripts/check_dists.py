"""Check built distributions before a release: each wheel and sdist holds what a user needs.

`python scripts/check_dists.py DIST_DIR [--version X.Y.Z]` prints every problem and exits 1
if there is one. The release workflow runs it on what it is about to publish;
tests/test_distributions.py runs it on a fresh build. Standard library only.

What a user needs, per package: its Python modules (every `.py` file of the source package,
the tap's sandbox included, and nothing else), its license, and, in the sdist, the README
(the long description), the changelog and pyproject.toml. Tests, benchmarks, the Meltano
project, CI files, `.env` files and keys stay out.
"""

from __future__ import annotations

import argparse
import re
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Secrets that must never ship: private keys, AWS access key ids, a RapidAPI key variable
# with a value.
SECRET_PATTERNS = (
    re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(rb"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(rb"TAP_ASOS_API_KEY=(?!sandbox-key\b)[^\s\"'<$]"),
)


@dataclass(frozen=True)
class Package:
    """One distribution: its normalized name, its source package and its sdist's extras."""

    dist: str
    module: str
    source: Path
    sdist_files: frozenset[str]

    def module_files(self) -> set[str]:
        """Every Python file of the source package, as archive paths."""
        return {
            path.relative_to(self.source).as_posix()
            for path in (self.source / self.module).rglob("*.py")
            if "__pycache__" not in path.parts
        }


# Hatchling always puts the project's .gitignore into an sdist (builds from it honour it).
SDIST_ALWAYS = frozenset({"pyproject.toml", "PKG-INFO", ".gitignore", "README.md", "LICENSE"})
PACKAGES = (
    Package("tap_asos", "tap_asos", ROOT, SDIST_ALWAYS | {"CHANGELOG.md"}),
    Package("asos_target_s3", "target_s3", ROOT / "loaders" / "target-s3", SDIST_ALWAYS),
)
WHEEL_METADATA = {"METADATA", "WHEEL", "RECORD", "entry_points.txt", "licenses/LICENSE"}


def wheel_members(path: Path) -> dict[str, bytes]:
    """Every file of a wheel with its bytes."""
    with zipfile.ZipFile(path) as wheel:
        return {name: wheel.read(name) for name in wheel.namelist() if not name.endswith("/")}


def sdist_members(path: Path) -> dict[str, bytes]:
    """Every file of an sdist with its bytes, without the `<name>-<version>/` top folder."""
    out: dict[str, bytes] = {}
    with tarfile.open(path) as sdist:
        for member in sdist.getmembers():
            extracted = sdist.extractfile(member) if member.isfile() else None
            if extracted is not None:
                out[member.name.split("/", 1)[1]] = extracted.read()
    return out


def _secrets(name: str, members: dict[str, bytes]) -> list[str]:
    return [
        f"{name}: {member} matches a secret pattern ({pattern.pattern.decode()})"
        for member, data in members.items()
        for pattern in SECRET_PATTERNS
        if pattern.search(data)
    ]


def _metadata(name: str, text: str) -> list[str]:
    problems = []
    if "License-Expression: Apache-2.0" not in text:
        problems.append(f"{name}: METADATA lacks License-Expression: Apache-2.0")
    if "License-File: LICENSE" not in text:
        problems.append(f"{name}: METADATA lacks License-File: LICENSE")
    if "Project-URL: Repository, " not in text:
        problems.append(f"{name}: METADATA lacks a Repository Project-URL")
    return problems


def check_package(package: Package, dist_dir: Path) -> tuple[str | None, list[str]]:
    """The version of one package's distributions and the problems found in them."""
    wheels = sorted(dist_dir.glob(f"{package.dist}-*-py3-none-any.whl"))
    sdists = sorted(dist_dir.glob(f"{package.dist}-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        return None, [f"{package.dist}: expected one wheel and one sdist, found {wheels + sdists}"]
    version = wheels[0].name.split("-")[1]
    problems = []
    if sdists[0].name != f"{package.dist}-{version}.tar.gz":
        problems.append(f"{package.dist}: sdist {sdists[0].name} is not version {version}")
    modules = package.module_files()
    info = f"{package.dist}-{version}.dist-info/"
    wheel = wheel_members(wheels[0])
    expected = modules | {info + name for name in WHEEL_METADATA}
    problems += [f"{wheels[0].name}: unexpected {m}" for m in sorted(set(wheel) - expected)]
    problems += [f"{wheels[0].name}: missing {m}" for m in sorted(expected - set(wheel))]
    sdist = sdist_members(sdists[0])
    expected = modules | package.sdist_files
    problems += [f"{sdists[0].name}: unexpected {m}" for m in sorted(set(sdist) - expected)]
    problems += [f"{sdists[0].name}: missing {m}" for m in sorted(expected - set(sdist))]
    if info + "METADATA" in wheel:
        problems += _metadata(wheels[0].name, wheel[info + "METADATA"].decode())
    problems += _secrets(wheels[0].name, wheel) + _secrets(sdists[0].name, sdist)
    return version, problems


def check(dist_dir: Path, version: str | None = None) -> list[str]:
    """Every problem of the distributions in `dist_dir`; the packages share one version."""
    problems: list[str] = []
    versions = {}
    for package in PACKAGES:
        found, package_problems = check_package(package, dist_dir)
        problems += package_problems
        versions[package.dist] = found
    wanted = version or versions[PACKAGES[0].dist]
    problems += [
        f"{dist}: version {found}, expected {wanted}"
        for dist, found in versions.items()
        if found is not None and found != wanted
    ]
    return problems


def main() -> int:
    """Check the folder given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist_dir", type=Path)
    parser.add_argument("--version", help="the version being released (the tag without v)")
    args = parser.parse_args()
    problems = check(args.dist_dir, args.version)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{args.dist_dir}: every distribution holds what it should")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
