"""Shape comparison of JSON documents: same keys, same JSON types, recursively."""

from __future__ import annotations

import typing as t
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "asos-api"
SAMPLES = SHARED / "samples"


def json_type(value: t.Any) -> str:
    """The JSON type name of a decoded value (int and float are both 'number')."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_errors(real: t.Any, ours: t.Any, path: str = "$") -> list[str]:
    """Where ``ours`` differs in shape from ``real`` (null in ``real`` matches anything)."""
    if real is None:
        return []
    if json_type(real) != json_type(ours) and ours is not None:
        return [f"{path}: {json_type(ours)} where the real API has {json_type(real)}"]
    errors: list[str] = []
    if isinstance(real, dict) and isinstance(ours, dict):
        missing = sorted(set(real) - set(ours))
        extra = sorted(set(ours) - set(real))
        errors += [f"{path}.{k}: missing" for k in missing]
        errors += [f"{path}.{k}: not in the real API" for k in extra]
        for key in set(real) & set(ours):
            errors += shape_errors(real[key], ours[key], f"{path}.{key}")
    elif isinstance(real, list) and isinstance(ours, list) and real and ours:
        for item in ours[:5]:
            errors += shape_errors(real[0], item, f"{path}[]")
    return errors
