"""tap-asos: a Singer tap for the ASOS catalog API on RapidAPI."""

from __future__ import annotations

__version__ = "0.1.0"
