#!/usr/bin/env bash
# Runs the whole suite with the project's virtualenv (VENV, default .venv); pytest's "no
# tests collected" (exit 5) is turned into a failure with a message: the suite is broken.
set -uo pipefail
cd "$(dirname "$0")/.."
# The 15 slowest tests close the report: the place to look when the suite gets slower.
"${VENV:-.venv}/bin/pytest" -n 2 --dist loadgroup --durations=15 "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: the suite is broken" >&2
  exit 1
fi
exit "$rc"
