#!/usr/bin/env bash
# Read-route benchmark in the split layout (issue 19): `tad resource`, `tad artifact`, `tad jobs`,
# `tad appinhouse serve` and `tad gateway` as separate processes sharing Redis (cache, event bus)
# and a JWT key, each service on its own SQLite file (or PostgreSQL with BENCH_DATABASE_URL);
# then `read_routes` seeds the catalog through the gateway and loads each read route next to
# `/healthz` of the same gateway, as it does for `tad serve` in process.
#
#   bash bench/read_split.sh                 # 5 s per target, 16 clients
#   bash bench/read_split.sh 10 32           # SECONDS CONCURRENCY
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test bash bench/read_split.sh
#   PROFILE=debug bash bench/read_split.sh 2 4   # a quick check of the script (debug build)
#
# Needs Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379; keys under a fresh prefix,
# removed at the end); builds `tad` and `read_routes` (CARGO_TARGET_DIR is honoured).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/processes.sh

PROFILE=${PROFILE:-release}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
TAD="$TARGET_DIR/$PROFILE/tad"
READ_ROUTES="$TARGET_DIR/$PROFILE/read_routes"
REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tad-read-split.XXXXXX")
PREFIX="tad-bench-$(basename "$WORK" | tr -cd 'a-zA-Z0-9'):"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if command -v redis-cli >/dev/null; then
    redis-cli -u "$REDIS_URL" --scan --pattern "${PREFIX}*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$PROFILE" = release ]; then
  cargo build --release -p tad -p bench >/dev/null
else
  cargo build -p tad -p bench >/dev/null
fi

for name in $(env | sed -n 's/^\(TAD_[A-Z0-9_]*\)=.*/\1/p'); do unset "$name"; done
export TAD_DATA_DIR="$WORK/data"
mkdir -p "$TAD_DATA_DIR"
export TAD_JWT_SECRET=$(random_hex)
export TAD_CREDENTIAL_KEY=$(random_hex)
export TAD_ADMIN_PASSWORD="bench-admin-password"
export TAD_APPINHOUSE_SECRET_KEY="bench-secret-key"
export TAD_REDIS_URL="$REDIS_URL"
export TAD_REDIS_PREFIX="$PREFIX"
export RUST_LOG=warn
database_url() { # service
  if [ -n "${BENCH_DATABASE_URL:-}" ]; then echo "$BENCH_DATABASE_URL"; else echo "sqlite://$WORK/data/$1.db"; fi
}
schema="bench_$(basename "$WORK" | tr -cd 'a-z0-9')"
start() { # name args...: starts `tad args...` as service `name` and answers its gRPC URL
  local name=$1 upper; shift
  upper=$(echo "$name" | tr a-z A-Z)
  env "TAD_${upper}_LISTEN=127.0.0.1:0" "TAD_${upper}_DATABASE_URL=$(database_url "$name")" \
    "TAD_${upper}_DATABASE_SCHEMA=${schema}_$name" "${SERVICE_ENV[@]}" \
    "$TAD" "$@" > "$WORK/$name.out" 2>&1 & PIDS+=($!)
  ADDR=http://$(wait_line "$WORK/$name.out" "TAD $name service is listening on ")
}
SERVICE_ENV=()
start resource resource; RESOURCE_ADDR=$ADDR
SERVICE_ENV+=("TAD_RESOURCE_ADDR=$RESOURCE_ADDR")
start appinhouse appinhouse serve; APPINHOUSE_ADDR=$ADDR
start artifact artifact; ARTIFACT_ADDR=$ADDR
SERVICE_ENV+=("TAD_ARTIFACT_ADDR=$ARTIFACT_ADDR")
start jobs jobs; JOBS_ADDR=$ADDR
TAD_RESOURCE_ADDR=$RESOURCE_ADDR TAD_ARTIFACT_ADDR=$ARTIFACT_ADDR TAD_JOBS_ADDR=$JOBS_ADDR \
  TAD_APPINHOUSE_ADDR=$APPINHOUSE_ADDR \
  "$TAD" gateway --listen 127.0.0.1:0 > "$WORK/gateway.out" 2>&1 & PIDS+=($!)
URL=$(wait_line "$WORK/gateway.out" "TAD gateway is listening on ")
echo "split layout: gateway $URL, services as processes, Redis $REDIS_URL, databases $(database_url '<service>')"
TAD_BENCH_URL=$URL "$READ_ROUTES" "$@"
