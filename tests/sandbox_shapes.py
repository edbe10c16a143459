"""Shape comparison of JSON documents against the real samples in tests/fixtures/real.

A document is flattened into a table of field paths (``$.products[].price.current.value``):
the JSON types seen at each path, how many objects carried each key, how many lists were
empty.  The real samples of one endpoint make one table (the detail's with the reference's
non-null ``rating`` too, see ``detail_samples``); our payloads are checked item by
item against it (every item of every list, not only the first), and the real paths must
all appear in ours.  ``null`` from us passes only where a real sample has null at that path
or the reference (../shared/asos-api/README.md) marks the field nullable.
"""

from __future__ import annotations

import json
import re
import typing as t
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "real"


def load(name: str) -> t.Any:
    """One real sample, decoded."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


# The reference (../shared/asos-api/README.md) gives the shape of a non-null detail `rating`,
# from a real 2023 detail it does not quote; the real detail here has `rating: null`.  These
# values carry only its JSON types (number, number, integer), not real values.
REFERENCE_RATING = {
    "averageOverallRating": 4.4,
    "averageOverallStarRating": 4.5,
    "totalReviewCount": 27,
}


def detail_samples() -> list[t.Any]:
    """The real detail, and a copy with the reference's ``rating`` (paths and types)."""
    real = load("products-v3-detail-2023.json")
    return [real, {**real, "rating": REFERENCE_RATING}]


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


def fold_children(path: str) -> str:
    """A tree node's path whatever its depth: ``children[]`` levels fold into the root."""
    return re.sub(r"(\.children\[\])+", "", path)


def same(path: str) -> str:
    """No folding."""
    return path


@dataclass
class Table:
    """Field paths of one or more documents: types, key presence and list emptiness."""

    fold: Callable[[str], str] = same
    types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    objects: Counter[str] = field(default_factory=Counter)
    keys: Counter[str] = field(default_factory=Counter)
    lists: Counter[str] = field(default_factory=Counter)
    empty_lists: Counter[str] = field(default_factory=Counter)

    def add(self, value: t.Any, path: str = "$") -> Table:
        """Record a document (or a value at ``path``) and everything below it."""
        key = self.fold(path)
        self.types[key].add(json_type(value))
        if isinstance(value, dict):
            self.objects[key] += 1
            for name, child in value.items():
                self.keys[f"{key}.{name}"] += 1
                self.add(child, f"{path}.{name}")
        elif isinstance(value, list):
            self.lists[key] += 1
            self.empty_lists[key] += not value
            for item in value:
                self.add(item, f"{path}[]")
        return self

    def paths(self) -> set[str]:
        """Every field path recorded."""
        return set(self.types)


def table(*documents: t.Any, fold: Callable[[str], str] = same) -> Table:
    """The table of several documents of one endpoint."""
    result = Table(fold)
    for document in documents:
        result.add(document)
    return result


def shape_errors(
    real: Table,
    ours: t.Any,
    *,
    nullable: Iterable[str] = (),
    extra: Iterable[str] = (),
    empty: Iterable[str] = (),
) -> list[str]:
    """Where ``ours`` (one document) differs from the real table, item by item.

    Path patterns (fnmatch) from the reference: ``nullable`` fields it marks nullable,
    ``extra`` fields it documents although no sample carries them, ``empty`` lists it
    shows empty although every sample has items.
    """
    errors: set[str] = set()
    allow = _Allow(tuple(nullable), tuple(extra), tuple(empty))
    _check(real, ours, "$", allow, errors)
    return sorted(errors)


@dataclass(frozen=True)
class _Allow:
    nullable: tuple[str, ...]
    extra: tuple[str, ...]
    empty: tuple[str, ...]

    @staticmethod
    def match(path: str, patterns: tuple[str, ...]) -> bool:
        return any(fnmatchcase(path, p) for p in patterns)


def _check(real: Table, ours: t.Any, path: str, allow: _Allow, errors: set[str]) -> None:
    key = real.fold(path)
    if key not in real.types:
        if not allow.match(key, allow.extra):
            errors.add(f"{key}: not in the real API")
        return
    if (error := _type_error(real.types[key], json_type(ours), key, allow)) is not None:
        errors.add(error)
        return
    if isinstance(ours, dict):
        errors.update(f"{key}.{n}: missing" for n in _always_keys(real, key) if n not in ours)
        for name, child in ours.items():
            _check(real, child, f"{path}.{name}", allow, errors)
    elif isinstance(ours, list):
        if not ours and not real.empty_lists[key] and not allow.match(key, allow.empty):
            errors.add(f"{key}: empty where the real API always has items")
        for item in ours:
            _check(real, item, f"{path}[]", allow, errors)


def _type_error(kinds: set[str], ours: str, key: str, allow: _Allow) -> str | None:
    """Why our JSON type at ``key`` is not a real one (None: it is, or may be)."""
    if ours in kinds or kinds == {"null"}:  # null only: the real type is unknown
        return None
    if ours != "null":
        return f"{key}: {ours} where the real API has {'|'.join(sorted(kinds))}"
    if allow.match(key, allow.nullable):
        return None
    return f"{key}: null where the real API is never null"


def _always_keys(real: Table, key: str) -> list[str]:
    """Keys every real object at ``key`` carries."""
    count = real.objects[key]
    prefix = f"{key}."
    return [
        k[len(prefix) :]
        for k, n in real.keys.items()
        if k.startswith(prefix) and "." not in k[len(prefix) :] and n == count
    ]


def missing_paths(real: Table, ours: Table) -> list[str]:
    """Real paths (with a real non-null type) ours never serves with that type."""
    errors = []
    for path in sorted(real.paths()):
        if path not in ours.types:
            errors.append(f"{path}: never served")
            continue
        kinds = sorted(real.types[path] - {"null"} - ours.types[path])
        errors.extend(f"{path}: never served as {kind}" for kind in kinds)
    return errors
