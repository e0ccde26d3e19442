#!/usr/bin/env bash
# Analysis throughput against a slow, rate-limited and failing model
# provider, the code before issue 25 side by side with the code after it.
# See bench/README.md, section "Analysis against a rate-limited provider".
#
# For each side and scenario: a fresh database, a local stub provider
# (benchctl stub: answers in 1.5 s, 429 above 600 requests within any
# minute, optionally 503 for 30 s in the middle), one API and two worker
# processes, then benchctl pipeline submits the scenario's feedback, waits
# for it and appends the figures to the results.
set -euo pipefail
cd "$(dirname "$0")/.."

SIDES=${BENCH_SIDES:-before after}
BEFORE=${BENCH_BEFORE:-885f2a5}       # the code before issue 25
REV=${BENCH_REV:-HEAD}                # the after side: a commit, or a directory holding a checkout (. for the working tree)
SCENARIOS=${BENCH_SCENARIOS:-distinct outage dupes priority}
FEEDBACK=${BENCH_FEEDBACK:-2000}      # distinct, outage, dupes
LOW=${BENCH_LOW:-1500}                # priority: the LOW backlog
HIGH=${BENCH_HIGH:-100}               # priority: HIGH feedback, submitted while it drains
HIGH_RATE=${BENCH_HIGH_RATE:-1}       # HIGH a second
DUP_RATE=${BENCH_DUP_RATE:-10}        # dupes: submissions a second
LATENCY=${BENCH_LATENCY:-1.5s}
PROVIDER_RPM=${BENCH_PROVIDER_RPM:-600}
OUTAGE=${BENCH_OUTAGE:-30s}
WORKERS=${BENCH_WORKERS:-2}
CONCURRENCY=${BENCH_CONCURRENCY:-10}  # WORKER_CONCURRENCY of a side without LLM_MAX_IN_FLIGHT
WAIT=${BENCH_WAIT:-15m}               # longest wait for a scenario's feedback to finish
# What a user of the code after issue 25 sets (both sides get the rest):
# see "Settings" in bench/README.md for why each.
AFTER_ENV=${BENCH_AFTER_ENV:-LLM_MAX_RPM=590 LLM_MAX_IN_FLIGHT=10 LLM_FALLBACK=builtin FEEDBACK_REUSE_NEAR=0.8}
BEFORE_ENV=${BENCH_BEFORE_ENV:-}
PORT=${BENCH_PORT:-18480}             # the API; PORT+1.. the workers, PORT+10 and +11 the stub and its call log
DB=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/fl_bench_pipeline?sslmode=disable}
RESULTS=${BENCH_RESULTS:-bench/results/pipeline-$(date -u +%Y%m%dT%H%M%SZ).tsv}
STAMP=benchpl$(date +%s)

log() { printf '\n== %s\n' "$*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

pids=()
tmp=$(mktemp -d)
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_all
  clean_redis
  for wt in "$tmp"/src-*; do
    [ -d "$wt" ] && git worktree remove --force "$wt" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
. bench/lib.sh

# clean_redis deletes this run's keys (queues, budgets, positions), all
# named after $STAMP, and its queues from asynq's list of queues.
clean_redis() {
  local url=${REDIS_URL:-redis://127.0.0.1:6379/0}
  redis-cli -u "$url" --scan --pattern "*$STAMP*" | xargs -r -n 100 redis-cli -u "$url" del >/dev/null || true
  redis-cli -u "$url" smembers asynq:queues | grep "$STAMP" | xargs -r redis-cli -u "$url" srem asynq:queues >/dev/null || true
}

command -v go >/dev/null || die "go is needed"
command -v psql >/dev/null || die "psql is needed (a fresh database per scenario)"
command -v redis-cli >/dev/null || die "redis-cli is needed (to remove the run's keys)"
for port in $PORT $((PORT + 10)) $((PORT + 11)) $(seq $((PORT + 1)) $((PORT + WORKERS))); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is in use; choose others with BENCH_PORT"
  fi
done

# build <side> <rev-or-dir>: the service's binary at $tmp/<side>; prints
# the commit it is built from.
build() {
  local side=$1 what=$2 src
  if [ -d "$what" ]; then
    src=$what
    local rev; rev=$(git -C "$src" rev-parse --short HEAD)
    if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then rev="$rev+changes"; fi
    echo "$rev" >"$tmp/$side.rev"
  else
    src=$tmp/src-$side
    git worktree add --detach "$src" "$what" >/dev/null 2>&1 || die "git worktree add $what failed"
    git -C "$src" rev-parse --short HEAD >"$tmp/$side.rev"
  fi
  (cd "$src" && go build -trimpath -o "$tmp/$side" .) || die "building $side ($what) failed"
  # The side's API takes submitFeedback's priority if its schema has it.
  if grep -q 'AnalysisPriority' "$src/schema.graphql"; then echo true; else echo false; fi >"$tmp/$side.priorities"
  # With LLM_MAX_IN_FLIGHT, WORKER_CONCURRENCY defaults to it: a user sets
  # that one alone. Without it, WORKER_CONCURRENCY is the workers' bound.
  if grep -q 'LLM_MAX_IN_FLIGHT' "$src/config.go"; then echo true; else echo false; fi >"$tmp/$side.inflight"
  if [ ! -d "$what" ]; then git worktree remove --force "$src"; fi
}

log "build"
go build -o "$tmp/benchctl" ./bench/benchctl
for side in $SIDES; do
  case $side in
    before) build before "$BEFORE" ;;
    after) build after "$REV" ;;
    *) die "BENCH_SIDES: unknown side $side (before, after)" ;;
  esac
  echo "$side: $(cat "$tmp/$side.rev"), priorities $(cat "$tmp/$side.priorities"), LLM_MAX_IN_FLIGHT $(cat "$tmp/$side.inflight")"
done
mkdir -p "$(dirname "$RESULTS")"

# scenario <side> <scenario>
scenario() {
  local side=$1 name=$2 ns=$STAMP-$1-$2 extra=()
  log "$side: $name ($(date -u +%H:%M:%S), load average $(cut -d' ' -f1-3 /proc/loadavg))"
  psql "$(sed 's#/[^/?]*\(?\|$\)#/postgres\1#' <<<"$DB")" -qc "DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)" >/dev/null

  local stub_args=(-addr "127.0.0.1:$((PORT + 10))" -control "127.0.0.1:$((PORT + 11))" -latency "$LATENCY" -rpm "$PROVIDER_RPM")
  if [ "$name" = outage ]; then stub_args+=(-outage "$OUTAGE" -outage-after $((FEEDBACK / 2))); fi
  "$tmp/benchctl" stub "${stub_args[@]}" >"$tmp/stub.log" 2>&1 &
  pids+=($!)
  wait_http "the stub" "$tmp/stub.log" "http://127.0.0.1:$((PORT + 11))/calls"

  local side_env
  if [ "$side" = after ]; then side_env=$AFTER_ENV; else side_env=$BEFORE_ENV; fi
  # One environment for every process, as a deployment sets it; the
  # budgets of a single client submitting thousands are lifted.
  local env=(DATABASE_URL="$DB" QUEUE_NAME="$ns" EVENTS_CHANNEL="$ns:events" RATE_LIMIT_PREFIX="$ns"
    RATE_LIMIT_POINTS=1000000000 SUBMISSION_LIMIT_PER_CLIENT=1000000000 SUBMISSION_LIMIT_PER_PROJECT=1000000000
    LOG_LEVEL=warn LOG_FORMAT=json
    LLM_PROVIDER=openai OPENAI_BASE_URL="http://127.0.0.1:$((PORT + 10))/v1" OPENAI_API_KEY=bench LLM_MODEL=stub-model)
  if [ "$(cat "$tmp/$side.inflight")" = false ]; then env+=(WORKER_CONCURRENCY="$CONCURRENCY"); fi
  # shellcheck disable=SC2206
  env+=($side_env)
  env "${env[@]}" ROLE=api PORT="$PORT" "$tmp/$side" >"$tmp/api.log" 2>&1 &
  pids+=($!)
  wait_http "the API" "$tmp/api.log" "http://127.0.0.1:$PORT/readyz"
  for i in $(seq 1 "$WORKERS"); do
    env "${env[@]}" ROLE=worker PORT=$((PORT + i)) "$tmp/$side" >"$tmp/worker$i.log" 2>&1 &
    pids+=($!)
  done

  case $name in
    priority) extra=(-n "$LOW" -high "$HIGH" -high-rate "$HIGH_RATE") ;;
    dupes) extra=(-n "$FEEDBACK" -rate "$DUP_RATE") ;;
    *) extra=(-n "$FEEDBACK") ;;
  esac
  "$tmp/benchctl" pipeline -url "http://127.0.0.1:$PORT/query" -db "$DB" -stub "http://127.0.0.1:$((PORT + 11))" \
    -side "$side" -rev "$(cat "$tmp/$side.rev")" -scenario "$name" -priorities="$(cat "$tmp/$side.priorities")" \
    -wait "$WAIT" -results "$RESULTS" "${extra[@]}" || {
    tail -n 20 "$tmp/api.log" "$tmp/worker1.log" >&2
    die "$side: $name failed"
  }
  for f in "$tmp"/worker*.log "$tmp/api.log"; do
    n=$(grep -c '"level":"ERROR"' "$f" || true)
    if [ "$n" != 0 ]; then echo "$(basename "$f"): $n errors logged, e.g. $(grep -m1 '"level":"ERROR"' "$f" | cut -c1-300)"; fi
  done
  stop_all
  clean_redis
}

DB_NAME=$(sed 's#.*/\([^/?]*\).*#\1#' <<<"$DB")
for name in $SCENARIOS; do
  for side in $SIDES; do
    scenario "$side" "$name"
  done
done
psql "$(sed 's#/[^/?]*\(?\|$\)#/postgres\1#' <<<"$DB")" -qc "DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)" >/dev/null

log "results ($RESULTS)"
"$tmp/benchctl" report "$RESULTS"
