"""The import contracts (``[tool.importlinter]``) cover every module of the tap.

``lint-imports`` checks only the modules a contract names: a new module left out of the
contracts could import anything. The docs' diagram names the same rooms.
"""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def _contracts() -> list[dict[str, list[str]]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["importlinter"]["contracts"])


def _tap_modules() -> set[str]:
    return {
        f"tap_asos.{path.stem}"
        for path in (ROOT / "tap_asos").glob("*.py")
        if path.stem != "__init__"
    }


def test_every_tap_module_is_in_each_contract() -> None:
    modules = _tap_modules()
    assert "tap_asos.tap" in modules
    not_sandbox, sandbox, layers = _contracts()
    assert set(not_sandbox["source_modules"]) == modules
    assert "tap_asos.sandbox" in not_sandbox["forbidden_modules"]
    assert sandbox["source_modules"] == ["tap_asos.sandbox"]
    assert set(sandbox["forbidden_modules"]) == modules
    layered = {m.strip() for layer in layers["layers"] for m in re.split(r"[|:]", layer)}
    assert layered == modules


def test_architecture_page_draws_every_room() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text()
    missing = sorted(m for m in _tap_modules() if m.removeprefix("tap_asos.") not in page)
    assert not missing, f"docs/architecture.md does not draw: {missing}"
