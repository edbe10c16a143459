# Sourced by Autosys before each tap-asos job. Keep this file mode 0600, owned by the
# service account; values come from the secrets store at deploy time, never from git.
# orchestrate/elt_run.py keeps Meltano's state in s3://$TARGET_S3_BUCKET/meltano-state/<env>.
export TARGET_S3_BUCKET="${ASOS_LAKE_BUCKET:?}"
# export TAP_ASOS_API_KEY=...          (from the secrets store)
# export AWS_ACCESS_KEY_ID=... / instance role
