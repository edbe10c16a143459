# Sourced by Autosys before each tap-asos job. Keep this file mode 0600, owned by the
# service account; values come from the secrets store at deploy time, never from git.
# orchestrate/elt_run.py keeps Meltano's state in s3://$TARGET_S3_BUCKET/meltano-state/<env>.
export TARGET_S3_BUCKET="${ASOS_LAKE_BUCKET:?}"
# export TAP_ASOS_API_KEY=...          (from the secrets store)
# export AWS_ACCESS_KEY_ID=... / instance role
# The jobs of TAP_ASOS_BOX share the API key's per-second limit. The key's rate: about 20 %
# under the RapidAPI plan's limit (BASIC allows about 1/s). The runs using it at once: the
# number of command jobs in the box (they all start with it). Each run then sends at most
# ASOS_KEY_RATE_PER_SECOND / ASOS_KEY_PARALLEL_RUNS requests a second
# (docs/operations-parallel.md).
export ASOS_KEY_RATE_PER_SECOND="0.8"
export ASOS_KEY_PARALLEL_RUNS="2"
