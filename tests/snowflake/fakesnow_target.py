"""Run meltanolabs-target-snowflake against fakesnow: the small shim its SQL needs.

Used only by tests/test_snowflake.py, inside its own virtualenv. fakesnow 0.12.1 lacks four
things the loader uses; each is bridged here, nothing else:
1. PUT/COPY on the quoted user stage '@~/...': rewritten to a named stage `user_stage`.
2. REMOVE and DROP FILE FORMAT: not parsed; run as no-ops.
3. COPY ... FILE_FORMAT = (FORMAT_NAME = '...'): the named format is not resolved; the
   loader's formats are JSON, so it is written out as TYPE = 'JSON'.
4. COPY INTO t FROM (SELECT $1:key::TYPE ...): fakesnow reads staged JSON as one column
   `json` but turns `$1:key` into a column `key`; read it as json->>'$.key' (json->'$.key'
   for VARIANT), NULL when the key is absent, as Snowflake does.
Plus: one drain at a time (fakesnow refuses concurrent calls on a connection).

Run it as a script, or activate it inside Meltano's plugin virtualenv: a `.pth` file there
calls `activate()` at interpreter start when $FAKESNOW_DB_PATH is set (see
tests/test_snowflake.py), so `meltano run tap-asos target-snowflake` runs unchanged.
"""

from __future__ import annotations

import os
import re
import typing as t

import fakesnow
import fakesnow.copy_into as ci
import fakesnow.cursor as fc
from sqlglot import exp

NO_OPS = [r"^REMOVE\s", r"^drop file format\s"]
QUOTED_USER_STAGE = re.compile(r"'?@~/([^'\s)]*)'?")
NAMED_FORMAT = re.compile(r"file_format\s*=\s*\(format_name='[^']*'\)", re.IGNORECASE)
DOLLAR1 = exp.Parameter(this=exp.Literal(this="1", is_string=False))
_execute = fc.FakeSnowflakeCursor.execute


def execute(self: fc.FakeSnowflakeCursor, command: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
    """Shims 1 and 3: the user stage and the named JSON file format."""
    if "@~/" in command:
        if command.lstrip().upper().startswith("PUT"):
            _execute(self, "CREATE STAGE IF NOT EXISTS user_stage")
        command = QUOTED_USER_STAGE.sub(r"@user_stage/\1", command)
        command = NAMED_FORMAT.sub("file_format = (type = 'JSON')", command)
    return _execute(self, command, *args, **kwargs)


def strip_json_extract(select: exp.Select) -> exp.Select:
    """Shim 4: `$1:key` reads `key` from the staged JSON row, NULL when absent."""
    for parameter in list(select.find_all(exp.Parameter)):
        if parameter != DOLLAR1 or not parameter.parent:
            continue
        key = parameter.parent.expression.find(exp.JSONPathKey)
        if key is None:
            continue
        cast = parameter.parent.parent
        path = exp.Literal.string(f"$.{key.this}")
        variant = isinstance(cast, exp.Cast) and cast.to.is_type("json", "variant", "object")
        extract = exp.JSONExtract if variant else exp.JSONExtractScalar
        parameter.parent.replace(extract(this=exp.column("json"), expression=path))
    return select


fc.FakeSnowflakeCursor.execute = execute  # type: ignore[method-assign]
ci._strip_json_extract = strip_json_extract


_ACTIVE: list[t.Any] = []  # the entered patch, kept alive: collecting it would undo it


def activate() -> None:
    """Patch snowflake.connector for the rest of the process (files in $FAKESNOW_DB_PATH)."""
    patch = fakesnow.patch(db_path=os.environ["FAKESNOW_DB_PATH"], nop_regexes=NO_OPS)
    patch.__enter__()
    _ACTIVE.append(patch)
    from target_snowflake.target import TargetSnowflake

    TargetSnowflake.max_parallelism = 1  # fakesnow has one connection per database


def main() -> None:
    """Run target-snowflake's CLI against fakesnow."""
    activate()
    from target_snowflake.target import TargetSnowflake

    TargetSnowflake.cli()


if __name__ == "__main__":
    main()
