#!/usr/bin/env bash
# Ingest benchmark of svc-artifact: package sync (contract 9) of a ~1 GiB .tar.gz through the
# gateway into `tad artifact` (separate processes, local object store), printing throughput and
# the peak RSS (VmHWM) of each process, next to `tar xzf` + `md5sum` of the same file.
#
#   bash bench/upload.sh            # 1 GiB (default)
#   SIZE_MIB=256 bash bench/upload.sh
#   PROFILE=debug SIZE_MIB=16 bash bench/upload.sh   # a quick check of the script (debug build)
#
# Needs: curl, tar, gzip, md5sum, od; builds `tad` in release mode (CARGO_TARGET_DIR is
# honoured). The keys the separate processes need (JWT secret, credential key) are generated
# into the temp dir, so it runs on a fresh checkout with no TAD_* set.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/processes.sh

SIZE_MIB=${SIZE_MIB:-1024}
PROFILE=${PROFILE:-release}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
TAD="$TARGET_DIR/$PROFILE/tad"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tad-bench.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$PROFILE" = release ]; then cargo build --release -p tad >/dev/null; else cargo build -p tad >/dev/null; fi

echo "== preparing a ${SIZE_MIB} MiB package (random bytes, so the .tar.gz is as large)"
mkdir -p "$WORK/src/app"
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$WORK/src/app/payload.bin"
printf 'Listen {{ port }}\n' > "$WORK/src/app/httpd.conf.j2"
printf -- '- key: port\n  default: "80"\n' > "$WORK/src/app/httpd.conf.yml"
tar czf "$WORK/package.tar.gz" -C "$WORK/src" app
rm -rf "$WORK/src"
ARCHIVE_BYTES=$(stat -c %s "$WORK/package.tar.gz")
echo "archive: $ARCHIVE_BYTES bytes"

echo "== baseline: tar xzf + md5sum of the same file"
mkdir -p "$WORK/untar"
start=$(date +%s.%N)
tar xzf "$WORK/package.tar.gz" -C "$WORK/untar"
MD5=$(md5sum "$WORK/package.tar.gz" | cut -d' ' -f1)
end=$(date +%s.%N)
rm -rf "$WORK/untar"
BASE_SECS=$(awk "BEGIN {print $end - $start}")
printf 'baseline: %.2f s, %.1f MiB/s\n' "$BASE_SECS" "$(awk "BEGIN {print $ARCHIVE_BYTES / 1048576 / $BASE_SECS}")"

echo "== starting tad resource, tad artifact, tad gateway"
# Only `tad serve` generates keys; separate processes read them. Fresh ones for this run, and
# no TAD_* of the caller's shell leaks in.
for name in $(env | sed -n 's/^\(TAD_[A-Z0-9_]*\)=.*/\1/p'); do unset "$name"; done
mkdir -p "$WORK/data"
random_hex > "$WORK/jwt.key"
random_hex > "$WORK/credential.key"
chmod 600 "$WORK/jwt.key" "$WORK/credential.key"
export TAD_DATA_DIR="$WORK/data"
export TAD_JWT_SECRET_FILE="$WORK/jwt.key"
export TAD_CREDENTIAL_KEY_FILE="$WORK/credential.key"
export TAD_ADMIN_PASSWORD="bench-admin-password"
# Separate processes need their database named (one SQLite file each here).
export TAD_RESOURCE_DATABASE_URL="sqlite://$WORK/data/resource.db"
export TAD_ARTIFACT_DATABASE_URL="sqlite://$WORK/data/artifact.db"
export TAD_ARTIFACT_MAX_UPLOAD_BYTES=$((4 * 1024 * 1024 * 1024))
export TAD_ARTIFACT_MAX_UNPACKED_BYTES=$((4 * 1024 * 1024 * 1024))
export RUST_LOG=warn
TAD_RESOURCE_LISTEN=127.0.0.1:0 "$TAD" resource > "$WORK/resource.out" 2>&1 & PIDS+=($!)
RESOURCE_ADDR=$(wait_line "$WORK/resource.out" "TAD resource service is listening on ")
TAD_ARTIFACT_LISTEN=127.0.0.1:0 TAD_RESOURCE_ADDR="http://$RESOURCE_ADDR" \
  "$TAD" artifact > "$WORK/artifact.out" 2>&1 & ARTIFACT_PID=$!; PIDS+=($ARTIFACT_PID)
ARTIFACT_ADDR=$(wait_line "$WORK/artifact.out" "TAD artifact service is listening on ")
TAD_RESOURCE_ADDR="http://$RESOURCE_ADDR" TAD_ARTIFACT_ADDR="http://$ARTIFACT_ADDR" \
  "$TAD" gateway --listen 127.0.0.1:0 > "$WORK/gateway.out" 2>&1 & GATEWAY_PID=$!; PIDS+=($GATEWAY_PID)
URL=$(wait_line "$WORK/gateway.out" "TAD gateway is listening on ")
TOKEN=$(curl -s -XPOST "$URL/api/auth/login" -d "{\"username\":\"admin\",\"password\":\"$TAD_ADMIN_PASSWORD\"}" |
  sed -E 's/.*"token":"([^"]+)".*/\1/')
# The package's application must exist.
for create in 'productlines {"id":"bench","name":"bench"}' \
  'applications {"id":"bench","name":"bench","product_line_id":"bench"}'; do
  curl -s -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
    -XPOST "$URL/api/admin/${create%% *}" -d "${create#* }" |
    grep -q '"success":true' || { echo "cannot create admin/${create%% *}" >&2; exit 1; }
done

rss() { awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$1/status"; }
echo "before upload: artifact peak RSS $(rss $ARTIFACT_PID), gateway peak RSS $(rss $GATEWAY_PID)"

echo "== package sync through the gateway (multipart, streamed)"
start=$(date +%s.%N)
ANSWER=$(curl -s -H "Authorization: Bearer $TOKEN" -F "package.tar.gz=@$WORK/package.tar.gz" \
  "$URL/api/artifact/version/aos?app_id=bench&name=bench&version=1&username=bench&md5=$MD5")
end=$(date +%s.%N)
SYNC_SECS=$(awk "BEGIN {print $end - $start}")
echo "answer: $ANSWER"
echo "$ANSWER" | grep -q '"success":true' || { echo "package sync failed" >&2; exit 1; }
printf 'package sync: %.2f s, %.1f MiB/s (upload + md5/sha256 + unpack + store)\n' \
  "$SYNC_SECS" "$(awk "BEGIN {print $ARCHIVE_BYTES / 1048576 / $SYNC_SECS}")"
echo "peak RSS: artifact $(rss $ARTIFACT_PID), gateway $(rss $GATEWAY_PID)"
HWM_KIB=$(awk '/VmHWM/ {print $2}' "/proc/$ARTIFACT_PID/status")
RATIO=$(awk "BEGIN {printf \"%.2f\", $BASE_SECS / $SYNC_SECS}")
echo "ratio to the baseline: ${RATIO}x (goal: at least 0.7x)"
if [ "$HWM_KIB" -le $((64 * 1024)) ]; then
  echo "OK: artifact service peak RSS at most 64 MiB"
else
  echo "FAIL: artifact service peak RSS is $HWM_KIB KiB, over 64 MiB"; exit 1
fi
