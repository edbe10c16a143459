#!/usr/bin/env bash
# Times `make test` from a fresh clone of HEAD, installs included, as CI runs it; writes the
# figures to bench/suite-time.md (quoted in docs/development.md). Usage:
#   bash scripts/time-fresh-clone.sh
# The clone goes to a temporary directory with ../shared linked beside it, as in CI.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/main"
if [ -d "$root/../shared" ]; then ln -s "$(cd "$root/../shared" && pwd)" "$work/shared"; fi
start=$(date +%s.%N)
(cd "$work/main" && make test) > "$work/log" 2>&1
rc=$?
end=$(date +%s.%N)
seconds=$(python3 -c "print(round($end - $start))")
summary="$(grep -E '^=+ .*(passed|failed).* =+$' "$work/log" | tail -1 | tr -d '=' | xargs)"
{
  echo "# make test from a fresh clone"
  echo
  echo "Measured by \`bash scripts/time-fresh-clone.sh\` on $(date -u '+%Y-%m-%d %H:%M') UTC,"
  echo "$(nproc) cores, commit $(git -C "$root" rev-parse --short HEAD): clone, \`make venv\`"
  echo "(virtualenv and installs) and the whole suite."
  echo
  echo "- wall time: **${seconds} s** (exit code $rc)"
  echo "- pytest: $summary"
  echo
  echo "The 15 slowest:"
  echo
  echo '```'
  sed -n '/slowest 15 durations/,/^=/p' "$work/log" | grep -E '^[0-9.]+s ' || true
  echo '```'
} > "$root/bench/suite-time.md"
cat "$root/bench/suite-time.md"
if [ "$rc" -ne 0 ]; then tail -40 "$work/log" >&2; fi
exit "$rc"
