#!/usr/bin/env bash
# make demo: start the sandbox and a local S3, run the dev pipeline, show what landed.
# Each invocation starts the sandbox one catalog day later than the previous one, so the
# first run loads everything and every later run is incremental (state in .meltano/).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .demo
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false MELTANO_CLI_DISABLE_VERSION_CHECK=true
runs=$(cat .demo/runs 2>/dev/null || echo 0)

rm -f .demo/services.env
.venv/bin/python scripts/dev_services.py --env-file .demo/services.env --advance-days "$runs" \
  > .demo/services.log 2>&1 &
services=$!
trap 'kill "$services" 2>/dev/null; wait "$services" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  [ -f .demo/services.env ] && break
  kill -0 "$services" 2>/dev/null || { cat .demo/services.log; exit 1; }
  sleep 0.1
done
# shellcheck disable=SC1091
source .demo/services.env
echo "== sandbox $SANDBOX_URL (catalog day $runs), local S3 $TARGET_S3_ENDPOINT_URL"

echo "== meltano --environment=dev run tap-asos target-s3  (run $((runs + 1)))"
start=$(date +%s)
# The tap's progress as one live line on a terminal (plain lines otherwise), warnings and
# errors as they come; the view exits with meltano's exit code.
.venv/bin/python orchestrate/progress_view.py -- \
  .venv/bin/meltano --environment=dev run --install tap-asos target-s3
echo "   finished in $(( $(date +%s) - start )) s"
echo "$((runs + 1))" > .demo/runs

.venv/bin/python scripts/show_landed.py --bucket "$TARGET_S3_BUCKET" --prefix asos/dev/ \
  --sandbox "$SANDBOX_URL"
if [ "$runs" -eq 0 ]; then
  echo "== Run 'make demo' again: the catalog moves on a day and the run is incremental."
fi
