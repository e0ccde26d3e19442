# Shell helpers bench/run.sh and bench/subs.sh share; sourced, not run.
# The sourcing script defines die.

# wait_http <what> <logfile> <curl args...>: until the request succeeds;
# else shows the end of the server's log and gives up.
wait_http() {
  local what=$1 logfile=$2; shift 2
  for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null "$@" 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  tail -n 30 "$logfile" >&2 || true
  die "$what did not come up"
}
