"""Write the tap's settings table into README.md from `tap-asos --about --format=markdown`.

Run after changing a setting: `.venv/bin/python scripts/readme_settings.py` (make readme).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
SDK_SETTINGS = ("stream_maps", "stream_map_config", "faker_config", "flattening_", "batch_config")


def main() -> None:
    """Replace the table between the settings markers."""
    about = subprocess.run(
        [str(Path(sys.executable).with_name("tap-asos")), "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TAP_ASOS_API_KEY": "x"},
    ).stdout
    rows = [line for line in about.splitlines() if line.startswith("|")]
    table = [rows[0], rows[1]] + [
        r for r in rows[2:] if not r.split("|")[1].strip().startswith(SDK_SETTINGS)
    ]
    text = README.read_text()
    new = re.sub(
        r"(<!-- settings:start[^\n]*-->\n).*?(<!-- settings:end -->)",
        lambda m: m.group(1) + "\n".join(table) + "\n" + m.group(2),
        text,
        flags=re.DOTALL,
    )
    README.write_text(new)


if __name__ == "__main__":
    main()
