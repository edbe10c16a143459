"""Checks of the tap's input files (config, state, catalog) before anything is requested.

Each bad file ends the run with one line that names the file and says what to fix, and
exit code 2 (``tap_asos.failures``). Messages name JSON positions, keys and types, never
a value from the config (it holds the API key).

The state's keys and the type each must have come from the state's one definition,
:mod:`tap_asos.state` (``PARTITION_KEYS``, ``CONTEXT_KEYS``, ``STREAM_KEYS``); keys not
in them are left alone (the SDK and later releases may add their own).  A state written
by a newer release (its ``version``) is refused the same way.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from tap_asos.state import (
    BOOKMARKS,
    CONTEXT,
    CONTEXT_KEYS,
    PARTITION_KEYS,
    PARTITIONS,
    STREAM_KEYS,
    StateVersionError,
    check_version,
    describe,
)

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


def read_config_files(paths: t.Iterable[str]) -> ConfigInput:
    """The ``--config`` files merged in order, and whether one was ``ENV``.

    Click reads them while parsing the command line, before ``invoke``.

    Raises:
        InputError: With the file's name and, for bad JSON, the line and column.
    """
    config: dict[str, t.Any] = {}
    parse_env = False
    for path in paths:
        if path == "ENV":
            parse_env = True
        else:
            config |= read_config_file(path)
    return ConfigInput(config, parse_env)


def read_config_file(path: str) -> dict[str, t.Any]:
    """A ``--config`` file's settings: it must exist and hold one JSON object.

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
    return parse_json_object(text, kind="Config", name=path, fix=fix)


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
    bookmarks = state.get(BOOKMARKS, {})
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
    try:
        check_version(stream_state)
    except StateVersionError as exc:
        msg = f"{where}: {exc}, or run without --state to read everything again."
        raise InputError(msg) from None
    partitions = stream_state.get(PARTITIONS, [])
    if not isinstance(partitions, list):
        msg = f'{where}: "{PARTITIONS}" must be an array, not {_json_type(partitions)}. {fix}'
        raise InputError(msg)
    for index, partition in enumerate(partitions):
        _check_partition(f"{where}.partitions[{index}]", partition)


def _check_partition(where: str, partition: object) -> None:
    if not isinstance(partition, dict):
        msg = f"{where} must be an object, not {_json_type(partition)}. {PARTITION_HELP}"
        raise InputError(msg)
    context = partition.get(CONTEXT)
    if not isinstance(context, dict):
        found = _json_type(context)
        msg = f'{where}: "{CONTEXT}" must be an object, not {found}. {PARTITION_HELP}'
        raise InputError(msg)
    for table, entry, prefix in (
        (CONTEXT_KEYS, context, f"{CONTEXT}."),
        (PARTITION_KEYS, partition, ""),
    ):
        for key, kind in table.items():
            if key in entry and not kind.check(entry[key]):
                msg = (
                    f"{where} (context {describe(context)}): "
                    f'"{prefix}{key}" must be {kind.expected}, not {_state_value(entry[key])}. '
                    f"{PARTITION_HELP}"
                )
                raise InputError(msg)


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


@dataclass(frozen=True)
class ConfigInput:
    """The ``--config`` files, merged, and whether ``ENV`` asks for the environment.

    ``TapAsos.cb_config`` returns it as the ``config`` parameter; the SDK's CLI callbacks
    (``--discover``, ``--test``) read the same two attributes from it.
    """

    config: dict[str, t.Any] = field(default_factory=dict)
    parse_env: bool = False


@dataclass(frozen=True)
class Inputs:
    """The ``--state`` and ``--catalog`` files, parsed and checked."""

    state: dict[str, t.Any] | None = None
    catalog: dict[str, t.Any] | None = None
    catalog_name: str | None = None  # the --catalog file's name, for messages


def read_input_files(state: t.IO[str] | None, catalog: t.IO[str] | None) -> Inputs:
    """Read and check the ``--state`` and ``--catalog`` files (open streams, or None).

    Raises:
        InputError: A file that is not JSON or has the wrong shape.
    """
    state_name = None if state is None else str(getattr(state, "name", "state"))
    catalog_name = None if catalog is None else str(getattr(catalog, "name", "catalog"))
    return Inputs(
        state=None if state is None else check_state(state.read(), str(state_name)),
        catalog=None if catalog is None else check_catalog(catalog.read(), str(catalog_name)),
        catalog_name=catalog_name,
    )
