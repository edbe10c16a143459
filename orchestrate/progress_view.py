#!/usr/bin/env python3
"""A person's view of a Meltano run of tap-asos: its progress as one live line.

Meltano pipes a plugin's stderr and logs each line again; with ``--log-format=json`` each
is one JSON object: the plugin's message in ``event``, its level in ``level``, the plugin
in ``string_id``.  The tap's ``Progress: {...}`` lines are INFO, and Meltano hands its own
log level to the plugins, so they exist only at ``info`` (``make demo`` used ``warning``).

This view reads such a log and shows:

- each ``Progress`` line's figures (partitions done / total, requests and their rate,
  retries, 429s, quota left, the tap's ETA, records per stream): redrawn as one live line
  (rich) when stdout is a terminal, one plain line each when it is not;
- the tap's ``Run summary`` as one line;
- every line at WARNING or above, every plugin line that is not a log record (a raw
  traceback) and every line that is not JSON, as it comes: a failure is never hidden;

and leaves out the rest (Meltano's and the plugins' INFO lines, the SDK's metrics).

    orchestrate/progress_view.py -- meltano --environment=dev run tap-asos target-s3
    meltano --log-format=json run tap-asos target-s3 2>&1 | orchestrate/progress_view.py

Given a command, it runs it with ``MELTANO_CLI_LOG_FORMAT=json`` and
``MELTANO_CLI_LOG_LEVEL=info`` (``debug`` is kept), reads its stdout and stderr, and exits
with its exit code.  It parses log lines only: nothing of tap_asos is imported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import typing as t

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Column
from rich.text import Text

if t.TYPE_CHECKING:
    from collections.abc import Iterable

PROGRESS = "Progress: "
SUMMARY = "Run summary: "
# Fields of every Meltano JSON log line; the others are what the line is about.
MELTANO_KEYS = {"event", "level", "timestamp", "_logger", "_name", "run_id", "logger"}


def _level(name: object) -> int:
    level = logging.getLevelName(str(name).upper())
    return level if isinstance(level, int) else logging.INFO


def _eta(seconds: object) -> str:
    if not isinstance(seconds, (int, float)):
        return "?"
    return str(dt.timedelta(seconds=round(seconds)))


def _rate(figures: dict[str, t.Any]) -> str:
    rate = figures.get("requests_per_second")
    return f"{rate:.1f}" if isinstance(rate, (int, float)) else "?"


def progress_text(figures: dict[str, t.Any]) -> str:
    """The figures of one ``Progress`` line but the partitions, most telling first."""
    quota = figures.get("quota_remaining")
    counts = (figures.get("records") or {}).items()
    # The streams with most records first: on a narrow terminal the line is cut at the end.
    records = " ".join(f"{k} {v}" for k, v in sorted(counts, key=lambda kv: (-kv[1], kv[0])))
    return (
        f"ETA {_eta(figures.get('eta_seconds'))} · "
        f"requests {figures.get('requests', 0)} ({_rate(figures)}/s) · "
        f"retries {figures.get('retries', 0)} · 429s {figures.get('rate_limited_429', 0)} · "
        f"quota left {'?' if quota is None else quota} · records: {records}"
    )


def summary_text(source: str, summary: dict[str, t.Any]) -> str:
    """The ``Run summary`` as one line."""
    return (
        f"{source}: run {summary.get('status', '?')} in {summary.get('duration_seconds', '?')} s: "
        f"{summary.get('requests', '?')} requests, {summary.get('records', '?')} records, "
        f"partitions {summary.get('partitions_done', '?')} done / "
        f"{summary.get('partitions_left', '?')} left, "
        f"quota left {summary.get('quota_remaining', '?')}"
    )


class ProgressView:
    """Turns log lines into what a person watching the run sees, on ``console``."""

    def __init__(self, console: Console) -> None:
        """Live when ``console`` is a terminal; plain lines otherwise."""
        self.console = console
        self.live = console.is_terminal
        self.bars: Progress | None = None
        self.tasks: dict[str, TaskID] = {}

    def feed(self, line: str) -> None:
        """Handle one line of the log."""
        line = line.rstrip("\r\n")
        if not line.strip():
            return
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict) or "event" not in record:
            self.say(line)  # not Meltano's JSON log: never hide it
            return
        event = str(record["event"])
        # A plugin's line carries ``stdio`` and the plugin's ``name``; Meltano's own do not.
        plugin = "stdio" in record
        source = str(record.get("string_id") or record.get("name") or "meltano")
        if event.startswith((PROGRESS, SUMMARY)):
            prefix = PROGRESS if event.startswith(PROGRESS) else SUMMARY
            try:
                figures = json.loads(event.removeprefix(prefix))
            except ValueError:
                figures = None
            if isinstance(figures, dict):
                if prefix == PROGRESS:
                    self.progress(source, figures)
                else:  # the tap is done: its last figures stay above the summary
                    self.close()
                    self.say(summary_text(source, figures))
                return
        level = _level(record.get("level"))
        # A plugin's stderr line that is not a log record (Meltano found no ``plugin_logger``
        # in it): a traceback or a print, logged at INFO by Meltano. Shown.
        raw = plugin and "plugin_logger" not in record
        if level >= logging.WARNING or raw:
            self.say(self.described(source, level, event, record, plugin=plugin))

    @staticmethod
    def described(
        source: str, level: int, event: str, record: dict[str, t.Any], *, plugin: bool
    ) -> str:
        """A passed-through log line: level, source, message, and its exception if any."""
        text = f"{logging.getLevelName(level).lower()} {source}: {event}"
        if not plugin:  # Meltano's own line: its fields say what failed
            extra = {k: v for k, v in record.items() if k not in MELTANO_KEYS}
            text += "".join(f" {k}={v}" for k, v in extra.items())
        for key in ("exception", "plugin_exception"):
            exception = record.get(key)
            if isinstance(exception, dict):
                text += f"\n  {exception.get('type', '')}: {exception.get('message', '')}"
            elif exception:
                text += f"\n{exception}"
        return text

    def say(self, text: str) -> None:
        """Print a line (above the live line, if there is one)."""
        target = self.bars.console if self.bars is not None else self.console
        target.print(Text(text), soft_wrap=True)

    def progress(self, source: str, figures: dict[str, t.Any]) -> None:
        """Show one ``Progress`` line's figures."""
        done = int(figures.get("partitions_done") or 0)
        total = figures.get("partitions_total")
        text = progress_text(figures)
        if not self.live:
            self.console.print(
                Text(f"{source}: partitions {done}/{total if total is not None else '?'} · {text}"),
                soft_wrap=True,
            )
            return
        if self.bars is None:
            self.bars = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=12),
                MofNCompleteColumn(),
                TextColumn("{task.fields[text]}", table_column=Column(no_wrap=True, ratio=1)),
                console=self.console,
                auto_refresh=False,  # redrawn when a line comes, at the tap's pace
                expand=True,
            )
        if source not in self.tasks:
            self.tasks[source] = self.bars.add_task(source, total=None, text="")
        self.bars.update(self.tasks[source], completed=done, total=total, text=text)
        if self.bars.live.is_started:
            self.bars.refresh()
        else:
            self.bars.start()  # drawn once started

    def close(self) -> None:
        """End the live line (it stays, with the last figures)."""
        if self.bars is not None:
            self.bars.stop()
            self.bars = None


def view(lines: Iterable[str], console: Console) -> None:
    """Show a log, line by line as it comes."""
    shown = ProgressView(console)
    try:
        for line in lines:
            shown.feed(line)
    finally:
        shown.close()


def run(command: list[str], console: Console) -> int:
    """Run ``command`` (Meltano) with JSON logs at INFO, show its log; its exit code."""
    env = dict(os.environ, MELTANO_CLI_LOG_FORMAT="json")
    if env.get("MELTANO_CLI_LOG_LEVEL", "").lower() != "debug":
        env["MELTANO_CLI_LOG_LEVEL"] = "info"
    with subprocess.Popen(  # noqa: S603 - the command the user gave, run as given
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as process:
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE
        while True:
            try:
                view(process.stdout, console)
                break
            except KeyboardInterrupt:
                # Ctrl-C reached the command too (one process group): it ends its own
                # way, and what it logs meanwhile is still shown.
                continue
        return process.wait()


def main(argv: list[str] | None = None) -> int:
    """Show stdin, or run the command after ``--`` and show its log."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[0] if __doc__ else None,
        usage="%(prog)s [--plain | --live] [-- COMMAND ...]",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--plain", action="store_true", help="plain lines even on a terminal")
    mode.add_argument("--live", action="store_true", help="a live line even on no terminal")
    parser.add_argument("command", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    terminal = True if args.live else False if args.plain else None  # None: stdout's
    console = Console(force_terminal=terminal, highlight=False, soft_wrap=True)
    if command:
        return run(command, console)
    view(sys.stdin, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
