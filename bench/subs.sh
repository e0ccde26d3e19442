#!/usr/bin/env bash
# Websocket delivery of this service against PostGraphile v4 and against the
# floor on the same machine, in one run (issue 12). See bench/README.md.
#
# For each number of subscribers, a fresh server of each kind: this service
# (ROLE=api, authorization on, a fresh database), the floor (loadsubs
# floor-server: one prebuilt frame written to every subscriber, nothing
# else) and PostGraphile v4 with simple subscriptions
# (bench/postgraphile-v4/schema.sql, no authorization), each measured by
# cmd/loadsubs: p50/p99/max from sending the mutation until
# the event reached every subscriber, resident memory per connection, and
# the server's and the clients' CPU time per event. SUBS_PEERS chooses the
# servers (default: service floor postgraphile-v4).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SUBS_SIZES:-1000 5000 10000}
PEERS=${SUBS_PEERS:-service floor postgraphile-v4}
SAMPLES=${SUBS_SAMPLES:-20}
WORKERS=${SUBS_WORKERS:-4}
RATE=${SUBS_RATE:-500}
PORT=${SUBS_PORT:-18280}
PG_PORT=${SUBS_PG_PORT:-18290}
FLOOR_PORT=${SUBS_FLOOR_PORT:-18300}
PG_URL=${SUBS_PG_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/loadsubs_pgv4}
RESULTS=${SUBS_RESULTS:-bench/results/subs-$(date -u +%Y%m%dT%H%M%SZ).txt}
PG_DIR=bench/postgraphile-v4

log() { printf '\n== %s\n' "$*" | tee -a "$RESULTS" >&2; }
die() { echo "subs: $*" >&2; exit 1; }

pid=
tmp=$(mktemp -d)
stop_server() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; fi
}
trap 'stop_server; rm -rf "$tmp"' EXIT

# shellcheck source=bench/lib.sh
. bench/lib.sh

mkdir -p "$(dirname "$RESULTS")"
for peer in $PEERS; do
  case $peer in
  service | floor) ;;
  postgraphile-v4)
    command -v npm >/dev/null || die "npm is needed to install PostGraphile v4"
    if [ ! -x "$PG_DIR/node_modules/.bin/postgraphile" ] || [ "$PG_DIR/package-lock.json" -nt "$PG_DIR/node_modules/.package-lock.json" ]; then
      (cd "$PG_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    fi
    ;;
  *) die "SUBS_PEERS: unknown server $peer (service, floor, postgraphile-v4)" ;;
  esac
done
go build -o "$tmp/feedbackloop" . && go build -o "$tmp/loadsubs" ./cmd/loadsubs
export JWT_SECRET=${JWT_SECRET:-$(head -c 48 /dev/urandom | base64)}
log "$(date -u +%FT%TZ) on $(nproc) cores; samples $SAMPLES; clients in $WORKERS processes, $RATE connections a second"

measure_service() {
  local n=$1
  log "this service, $n subscribers"
  psql "${PG_URL%/*}/postgres" -qc "drop database if exists loadsubs_$n" >/dev/null
  ROLE=api HOST=127.0.0.1 PORT=$PORT METRICS_ADDR=127.0.0.1:$((PORT + 1)) LOG_LEVEL=warn \
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/loadsubs_$n?sslmode=disable" \
    EVENTS_CHANNEL=loadsubs:events QUEUE_NAME=loadsubs RATE_LIMIT_PREFIX="loadsubs$(date +%s)" \
    "$tmp/feedbackloop" >"$tmp/api.log" 2>&1 &
  pid=$!
  wait_http "the service" "$tmp/api.log" "http://127.0.0.1:$PORT/readyz"
  "$tmp/loadsubs" -url "http://127.0.0.1:$PORT" -subscribers "$n" -workers "$WORKERS" -rate "$RATE" \
    -samples "$SAMPLES" -interval 300ms -server-pid "$pid" \
    -metrics-url "http://127.0.0.1:$((PORT + 1))/metrics" | tee -a "$RESULTS"
  stop_server
}

measure_floor() {
  local n=$1
  log "the floor, $n subscribers"
  "$tmp/loadsubs" floor-server "127.0.0.1:$FLOOR_PORT" 2>"$tmp/floor.log" &
  pid=$!
  wait_http "the floor server" "$tmp/floor.log" -X POST "http://127.0.0.1:$FLOOR_PORT/publish"
  "$tmp/loadsubs" -peer floor -url "http://127.0.0.1:$FLOOR_PORT" -subscribers "$n" -workers "$WORKERS" \
    -rate "$RATE" -samples "$SAMPLES" -interval 300ms -server-pid "$pid" | tee -a "$RESULTS"
  stop_server
}

measure_postgraphile_v4() {
  local n=$1
  log "PostGraphile v4, $n subscribers"
  psql "$PG_URL" -q -f "$PG_DIR/schema.sql" >/dev/null 2>&1 || {
    psql "${PG_URL%/*}/postgres" -qc "create database ${PG_URL##*/}" && psql "$PG_URL" -q -f "$PG_DIR/schema.sql" >/dev/null
  }
  "$PG_DIR/node_modules/.bin/postgraphile" --plugins @graphile/pg-pubsub -c "$PG_URL" --schema public \
    --subscriptions --simple-subscriptions --host 127.0.0.1 --port "$PG_PORT" --disable-query-log \
    >"$tmp/pg.log" 2>&1 &
  pid=$!
  wait_http PostGraphile "$tmp/pg.log" -X POST -H 'Content-Type: application/json' \
    --data '{"query":"{__typename}"}' "http://127.0.0.1:$PG_PORT/graphql"
  "$tmp/loadsubs" -peer postgraphile-v4 -url "http://127.0.0.1:$PG_PORT" -subscribers "$n" -workers "$WORKERS" \
    -rate "$RATE" -samples "$SAMPLES" -interval 300ms -timeout 60s -server-pid "$pid" | tee -a "$RESULTS" || true
  stop_server
}

for n in $SIZES; do
  for peer in $PEERS; do "measure_${peer//-/_}" "$n"; done
done
log "results in $RESULTS"
