#!/bin/sh
# Interim batch scoring: wait for the API to be ready, POST the instances to the KServe V1 route,
# write the predictions to $BATCH_OUTPUT_URL/<UTC timestamp>.json (gs:// or a local directory).
# Input: $BATCH_INPUT_URL (gs://…, a JSON {"instances":[…]} of at most MAX_INSTANCES records) or,
# when empty, the mounted ConfigMap file /input/instances.json.
set -eu
: "${TARGET_URL:?TARGET_URL is required}" "${BATCH_OUTPUT_URL:?BATCH_OUTPUT_URL is required}" "${MODEL_NAME:?MODEL_NAME is required}"
work=${WORK_DIR:-/tmp/batch}
mkdir -p "$work"
stamp=$(date -u +%Y%m%dT%H%M%SZ)

echo "waiting for $TARGET_URL/readyz"
curl -fsS --retry 30 --retry-delay 10 --retry-all-errors --max-time 5 "$TARGET_URL/readyz" >/dev/null

if [ -n "${BATCH_INPUT_URL:-}" ]; then
  gcloud storage cp "$BATCH_INPUT_URL" "$work/instances.json"
else
  cp "${INSTANCES_FILE:-/input/instances.json}" "$work/instances.json"
fi

if [ -n "${API_TOKEN:-}" ]; then set -- -H "authorization: Bearer $API_TOKEN"; else set --; fi
curl -fsS --retry 3 --retry-all-errors --max-time 300 \
  -H 'content-type: application/json' "$@" \
  --data-binary "@$work/instances.json" \
  -o "$work/predictions.json" \
  "$TARGET_URL/v1/models/$MODEL_NAME:predict"

case "$BATCH_OUTPUT_URL" in
  gs://*) gcloud storage cp "$work/predictions.json" "$BATCH_OUTPUT_URL/$stamp.json" ;;
  *) mkdir -p "$BATCH_OUTPUT_URL" && cp "$work/predictions.json" "$BATCH_OUTPUT_URL/$stamp.json" ;;
esac
echo "wrote $BATCH_OUTPUT_URL/$stamp.json"
