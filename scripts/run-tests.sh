#!/usr/bin/env bash
# Runs the whole suite with the project's virtualenv (VENV, default .venv); pytest's "no
# tests collected" (exit 5) is turned into a failure with a message: the suite is broken.
set -uo pipefail
cd "$(dirname "$0")/.."
# The 15 slowest tests close the report: the place to look when the suite gets slower.
# worksteal: a worker that runs dry takes half of the other's queue, so the slow end-to-end
# tests do not leave one core idle at the end. No test relies on running beside another:
# one-time builds (side virtualenvs, the distributions, actionlint) hold a lock instead.
"${VENV:-.venv}/bin/pytest" -n 2 --dist worksteal --durations=15 "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: the suite is broken" >&2
  exit 1
fi
exit "$rc"
