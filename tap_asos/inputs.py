"""Checks of the tap's input files (config, state, catalog) before anything is requested.

Each bad file ends the run with one line that names the file and says what to fix, and
exit code 2 (``tap_asos.failures``). Messages name JSON positions, keys and types, never
a value from the config (it holds the API key).

The state's partition keys and the type each must have live in one table,
:data:`PARTITION_KEYS`; keys not in it are left alone (the SDK and later releases may add
their own).
"""

from __future__ import annotations

import io
import json
import typing as t
from datetime import datetime
from pathlib import Path

PARTITION_HELP = (
    "Fix or remove that entry (its partition is then read again from the start), "
    "or run without --state to read everything again."
)


class InputError(ValueError):
    """An input file is unreadable or has the wrong shape; the message says what to fix."""


# JSON type names for messages, most specific first (bool is an int in Python).
_JSON_TYPES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "a boolean"),
    ((int, float), "a number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "an object"),
)
# Longest state string quoted in a message.
_QUOTED_MAX = 40


def _json_type(value: object) -> str:
    """The JSON name of a value's type, for messages (never the value itself)."""
    if value is None:
        return "null"
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), "unknown")


def _state_value(value: object) -> str:
    """A state value for messages: a short string is shown (state holds no secret)."""
    if isinstance(value, str) and len(value) <= _QUOTED_MAX:
        return json.dumps(value)
    return _json_type(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_int_list(value: object) -> bool:
    return isinstance(value, list) and all(_is_int(v) for v in value)


def _is_iso_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


class KeyType(t.NamedTuple):
    """How to check one key of a state entry, and what to call the expected type."""

    check: t.Callable[[object], bool]
    expected: str


# Keys of a partition's state (see arrivals.Bookmark, products.Products) and their types.
PARTITION_KEYS: dict[str, KeyType] = {
    "anchors": KeyType(_is_int_list, "an array of integers (product ids)"),
    "fetched": KeyType(_is_int_list, "an array of integers (product ids)"),
    "checked_at": KeyType(
        lambda v: v is None or _is_iso_datetime(v), "an ISO-8601 date-time string or null"
    ),
    "frozen": KeyType(lambda v: v is None or _is_int(v), "an integer or null"),
    "costs": KeyType(
        lambda v: isinstance(v, dict) and all(_is_int(c) for c in v.values()),
        "an object of integers (requests per mode)",
    ),
    "snapshot_at": KeyType(lambda v: isinstance(v, str), "a string"),
    "progress_markers": KeyType(lambda v: isinstance(v, dict), "an object"),
}
# Keys of a partition's context.
CONTEXT_KEYS: dict[str, KeyType] = {
    "store": KeyType(lambda v: isinstance(v, str), "a string (store code)"),
    "categoryId": KeyType(_is_int, "an integer"),
}
# Keys of a stream's state, beside its partitions.
STREAM_KEYS: dict[str, KeyType] = {
    "snapshot_in_progress": KeyType(lambda v: isinstance(v, str), "a string"),
}


def parse_json_object(text: str, *, kind: str, name: str, fix: str) -> dict[str, t.Any]:
    """Parse a file's text as one JSON object.

    Args:
        text: The file's content.
        kind: What the file is, for the message ("Config", "State", "Catalog").
        name: The file's path as given.
        fix: What to do about a broken file, appended to the message.

    Raises:
        InputError: The text is empty, not JSON, or not an object.
    """
    if not text.strip():
        msg = f"{kind} file {name} is empty. {fix}"
        raise InputError(msg)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg names the problem only; str(exc) would too, but never quote the text.
        where = f"line {exc.lineno}, column {exc.colno}"
        msg = f"{kind} file {name} is not JSON: {exc.msg} at {where}. {fix}"
        raise InputError(msg) from None
    if not isinstance(value, dict):
        msg = f"{kind} file {name} must hold a JSON object, not {_json_type(value)}. {fix}"
        raise InputError(msg)
    return value


def check_config_files(paths: t.Iterable[str]) -> None:
    """Check each ``--config`` file (``ENV`` is not a file).

    Click reads them while parsing the command line, before ``invoke``.

    Raises:
        InputError: With the file's name and, for bad JSON, the line and column.
    """
    for path in paths:
        if path != "ENV":
            check_config_file(path)


def check_config_file(path: str) -> None:
    """Check that a ``--config`` file exists and holds one JSON object.

    Raises:
        InputError: With the file's name and, for bad JSON, the line and column.
    """
    fix = "Fix the file: it must hold one JSON object of settings (see tap-asos --about)."
    file = Path(path)
    if not file.is_file():
        msg = f"Config file {path} not found. Check the --config path."
        raise InputError(msg)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"Config file {path} cannot be read ({type(exc).__name__}). {fix}"
        raise InputError(msg) from None
    parse_json_object(text, kind="Config", name=path, fix=fix)


def check_state(text: str, name: str) -> dict[str, t.Any]:
    """Parse and check a ``--state`` file's content; the parsed state.

    Raises:
        InputError: Naming the file and the entry (stream, partition context, key) and
            what was expected.
    """
    state = parse_json_object(
        text,
        kind="State",
        name=name,
        fix="Fix the file, or run without --state to read everything again.",
    )
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        msg = (
            f'State file {name}: "bookmarks" must be an object (stream name to its state), '
            f"not {_json_type(bookmarks)}. Fix the file, or run without --state to read "
            "everything again."
        )
        raise InputError(msg)
    for stream, stream_state in bookmarks.items():
        _check_stream_state(name, str(stream), stream_state)
    return state


def _check_stream_state(name: str, stream: str, stream_state: object) -> None:
    where = f"State file {name}: bookmarks.{stream}"
    fix = f"Fix or remove bookmarks.{stream}, or run without --state to read everything again."
    if not isinstance(stream_state, dict):
        msg = f"{where} must be an object, not {_json_type(stream_state)}. {fix}"
        raise InputError(msg)
    for key, kind in STREAM_KEYS.items():
        if key in stream_state and not kind.check(stream_state[key]):
            found = _state_value(stream_state[key])
            msg = f'{where}: "{key}" must be {kind.expected}, not {found}. {fix}'
            raise InputError(msg)
    partitions = stream_state.get("partitions", [])
    if not isinstance(partitions, list):
        msg = f'{where}: "partitions" must be an array, not {_json_type(partitions)}. {fix}'
        raise InputError(msg)
    for index, partition in enumerate(partitions):
        _check_partition(f"{where}.partitions[{index}]", partition)


def _check_partition(where: str, partition: object) -> None:
    if not isinstance(partition, dict):
        msg = f"{where} must be an object, not {_json_type(partition)}. {PARTITION_HELP}"
        raise InputError(msg)
    context = partition.get("context")
    if not isinstance(context, dict):
        found = _json_type(context)
        msg = f'{where}: "context" must be an object, not {found}. {PARTITION_HELP}'
        raise InputError(msg)
    for table, entry, prefix in (
        (CONTEXT_KEYS, context, "context."),
        (PARTITION_KEYS, partition, ""),
    ):
        for key, kind in table.items():
            if key in entry and not kind.check(entry[key]):
                msg = (
                    f"{where} (context {_context_text(context)}): "
                    f'"{prefix}{key}" must be {kind.expected}, not {_state_value(entry[key])}. '
                    f"{PARTITION_HELP}"
                )
                raise InputError(msg)


def _context_text(context: dict[str, t.Any]) -> str:
    """The context's known keys, short: enough to find the entry in the file."""
    known = {k: context[k] for k in CONTEXT_KEYS if k in context}
    return json.dumps(known or context, default=str)[:200]


def check_catalog(text: str, name: str) -> dict[str, t.Any]:
    """Parse and check a ``--catalog`` file's content; the parsed catalog.

    Raises:
        InputError: The file is empty, not JSON, or its ``streams`` is not an array of
            objects.
    """
    fix = "Fix the file, or write a new one with tap-asos --discover > catalog.json."
    catalog = parse_json_object(text, kind="Catalog", name=name, fix=fix)
    entries = catalog.get("streams", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        msg = f'Catalog file {name}: "streams" must be an array of stream objects. {fix}'
        raise InputError(msg)
    return catalog


def check_input_files(options: dict[str, t.Any]) -> str | None:
    """Check the ``--state`` and ``--catalog`` files (open streams) in ``Tap.invoke``'s options.

    The SDK parses them inside ``Tap.invoke``; each is read here, checked, and handed on
    as a fresh stream of the same text. Returns the catalog file's name, if any.

    Raises:
        InputError: A file that is not JSON or has the wrong shape.
    """
    catalog_name = None
    for option, check in (("state", check_state), ("catalog", check_catalog)):
        stream = options.get(option)
        if stream is None:
            continue
        name = str(getattr(stream, "name", option))
        text = stream.read()
        check(text, name)
        options[option] = io.StringIO(text)
        if option == "catalog":
            catalog_name = name
    return catalog_name
