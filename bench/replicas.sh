#!/usr/bin/env bash
# Read throughput of the README query with the primary alone, with one read
# replica and with two, side by side (issue 24). See bench/README.md,
# section "Read replicas".
#
# It starts a private PostgreSQL primary (initdb) and two streaming replicas
# (pg_basebackup -R) on ports of its own, loads the data set, and runs three
# API instances over them: DATABASE_REPLICA_URLS empty, one replica, both.
# benchctl then measures the three in alternating rounds, and the CPU each
# process spent during each configuration's own run is printed after.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT0=${BENCH_REPLICA_PG_PORT:-18432}     # primary; the replicas take the next two
PORT0=${BENCH_REPLICA_PORT:-18180}           # the three services take this and the next two
ROUNDS=${BENCH_ROUNDS:-4}
DURATION=${BENCH_DURATION:-5s}
WARMUP=${BENCH_WARMUP:-3s}
QUERIES=${BENCH_QUERIES:-readme}
SUBJECT=bench-viewer
RESULTS=${BENCH_RESULTS:-bench/results/replicas-$(date -u +%Y%m%dT%H%M%SZ).tsv}

log() { printf '\n== %s\n' "$*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }
. bench/lib.sh

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PG_BIN/initdb" ] || die "initdb not found: set PG_BIN to PostgreSQL's bin directory"
command -v wrk >/dev/null || die "wrk is needed (apt-get install wrk)"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pids=()
tmp=$(mktemp -d)
chmod 755 "$tmp"
[ "$(id -u)" = 0 ] && chown postgres "$tmp"
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for d in "$tmp"/pg*; do [ -d "$d" ] && as_pg "$PG_BIN/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/feedbackloop" .
go build -o "$tmp/benchctl" ./bench/benchctl
go build -o "$tmp/token" ./cmd/token
mkdir -p "$(dirname "$RESULTS")"

# As bench/run.sh's database server would be: durable settings aside,
# fsync off so that the three clusters' disk writes do not dominate.
start_pg() { # start_pg <dir> <port>
  as_pg "$PG_BIN/pg_ctl" -D "$1" -l "$1.log" -w start \
    -o "-p $2 -h 127.0.0.1 -k $tmp -c fsync=off -c max_connections=200 -c shared_buffers=128MB" >/dev/null
}

log "PostgreSQL primary on $PG_PORT0"
as_pg "$PG_BIN/initdb" -D "$tmp/pg0" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
start_pg "$tmp/pg0" "$PG_PORT0"
url() { echo "postgres://postgres@127.0.0.1:$1/fl_bench?sslmode=disable"; }
DB=$(url "$PG_PORT0")

JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export JWT_SECRET
BENCH_TOKEN=$("$tmp/token" -sub "$SUBJECT" -name "Benchmark viewer" -ttl 24h)
export BENCH_TOKEN

service() { # service <n> <replica URLs>
  local port=$((PORT0 + $1))
  ROLE=api PORT=$port DATABASE_URL=$DB DATABASE_REPLICA_URLS=$2 LOG_LEVEL=warn LOG_FORMAT=json \
    QUEUE_NAME=bench-replicas-$1 EVENTS_CHANNEL=bench:replicas-events \
    RATE_LIMIT_POINTS=1000000000 RATE_LIMIT_PREFIX=bench-replicas \
    "$tmp/feedbackloop" >"$tmp/ours$1.log" 2>&1 &
  pids+=($!)
  wait_http "the service ($1)" "$tmp/ours$1.log" "http://127.0.0.1:$port/readyz"
}

log "the service on the primary alone (it creates and migrates the database); data: 100 projects x 100 tasks"
service 0 ""
"$tmp/benchctl" load -db "$DB" -projects 100 -tasks 100 -member "$SUBJECT"

log "two streaming replicas (pg_basebackup -R) on $((PG_PORT0 + 1)) and $((PG_PORT0 + 2))"
for i in 1 2; do
  as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT0" -U postgres -D "$tmp/pg$i" -R -X stream -c fast --no-sync
  start_pg "$tmp/pg$i" $((PG_PORT0 + i))
done
service 1 "$(url $((PG_PORT0 + 1)))"
service 2 "$(url $((PG_PORT0 + 1))),$(url $((PG_PORT0 + 2)))"

servers="primary=http://127.0.0.1:$PORT0/query,1-replica=http://127.0.0.1:$((PORT0 + 1))/query,2-replicas=http://127.0.0.1:$((PORT0 + 2))/query"
log "measure: $QUERIES, $ROUNDS rounds of $DURATION per configuration (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
"$tmp/benchctl" measure -servers "$servers" -queries "$QUERIES" -label 100 -results "$RESULTS" \
  -rounds "$ROUNDS" -duration "$DURATION" -warmup "$WARMUP"
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$tmp/benchctl" report "$RESULTS"

# Where the time goes: CPU seconds of each process over one more round per
# configuration (a cluster's: its postmaster and every child), and of the
# whole machine (wrk, Redis, and other tenants' jobs: the rest).
ticks() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done | awk '{s += $1} END {print s + 0}'; }
cluster_ticks() { local pm; pm=$(head -n 1 "$1/postmaster.pid"); ticks "$pm" $(pgrep -P "$pm"); }
machine_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
snapshot() { echo "$(ticks "$1") $(cluster_ticks "$tmp/pg0") $(cluster_ticks "$tmp/pg1") $(cluster_ticks "$tmp/pg2") $(machine_ticks)"; }
log "CPU seconds per process during one $DURATION round of each configuration"
echo
echo "| configuration | req/s | service | primary | replica 1 | replica 2 | rest of the machine (wrk, Redis, other jobs) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
hz=$(getconf CLK_TCK)
for n in 0 1 2; do
  name=$(echo "$servers" | tr ',' '\n' | sed -n "$((n + 1))p" | cut -d= -f1)
  before=$(snapshot "${pids[$n]}")
  rps=$("$tmp/benchctl" measure -servers "$name=http://127.0.0.1:$((PORT0 + n))/query" -queries "$QUERIES" -label cpu \
    -results "$tmp/cpu.tsv" -rounds 1 -duration "$DURATION" -warmup 0s | sed -n 's/.*round 1: \([0-9]*\) req\/s.*/\1/p')
  after=$(snapshot "${pids[$n]}")
  awk -v name="$name" -v rps="$rps" -v hz="$hz" -v b="$before" -v a="$after" 'BEGIN {
      split(b, x, " "); split(a, y, " "); sum = 0
      for (i = 1; i <= 5; i++) d[i] = (y[i] - x[i]) / hz
      printf "| %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f |\n", name, rps, d[1], d[2], d[3], d[4], d[5] - d[1] - d[2] - d[3] - d[4]
    }'
done
