#!/usr/bin/env bash
# Tear down a machine started by boot.sh:
#
#   tests/machine/stop.sh STATE_DIR
#
# Idempotent and safe after a half-finished boot: every step only acts on what
# the state file records and tolerates it being gone already.  Only processes
# boot.sh started are signalled (by PID, checked against the recorded start
# time so a recycled PID is never hit), plus whatever still runs inside the
# machine's own network namespace (which only the machine can be using).
# The state directory itself (key, logs) is left for inspection.
set -euo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 STATE_DIR" >&2; exit 2; }
state_dir=$1
if [ ! -f "$state_dir/state.env" ]; then
  log "nothing to stop ($state_dir/state.env missing)"
  exit 0
fi
load_state "$state_dir"
t0=$(date +%s.%N)

# Wait up to $2 seconds for pid $1 (start time $3) to die.
wait_dead() {
  local end=$(( $(date +%s) + $2 ))
  while alive "$1" "$3"; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.1
  done
}

# Kill the process group led by a process boot.sh started (the forwarders fork
# one child per connection into the same group).
kill_group() {
  local pid=$1 start=$2
  alive "$pid" "$start" || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  wait_dead "$pid" 3 "$start" || kill -KILL -- "-$pid" 2>/dev/null || true
}

# 1. The machine.  SIGTERM makes nspawn ask the container's systemd for an
# orderly poweroff (SIGRTMIN+3); fall back to SIGKILL of nspawn and of the
# container's PID 1 (which takes the whole PID namespace with it).
if alive "${NSPAWN_PID:-}" "${NSPAWN_START:-}"; then
  kill -TERM "$NSPAWN_PID" 2>/dev/null || true
  if ! wait_dead "$NSPAWN_PID" "${BPM_STOP_TIMEOUT:-20}" "$NSPAWN_START"; then
    log "machine did not power off in time, killing it"
    kill -KILL "$NSPAWN_PID" 2>/dev/null || true
  fi
fi
if alive "${LEADER_PID:-}" "${LEADER_START:-}"; then
  kill -KILL "$LEADER_PID" 2>/dev/null || true
  wait_dead "$LEADER_PID" 5 "$LEADER_START" || true
fi
# Anything left in the machine's netns belongs to the machine.
if [ -n "${MACHINE_NS:-}" ] && [ -e "/run/netns/$MACHINE_NS" ]; then
  for p in $(ip netns pids "$MACHINE_NS" 2>/dev/null); do
    log "killing leftover pid $p in $MACHINE_NS"
    kill -KILL "$p" 2>/dev/null || true
  done
fi

# 2. Port forwarders.
for port in 22 80 443; do
  pid_var=FWD${port}_PID start_var=FWD${port}_START
  kill_group "${!pid_var:-}" "${!start_var:-}"
  pid_var=FWD${port}_INNER_PID start_var=FWD${port}_INNER_START
  kill_group "${!pid_var:-}" "${!start_var:-}"
done
[ -n "${RUN_DIR:-}" ] && rm -rf "$RUN_DIR"

# 3. Network namespaces (deleting a netns also deletes its end of the veth,
# which removes the pair).
for ns in "${MACHINE_NS:-}" "${PEER_NS:-}"; do
  if [ -z "$ns" ] || [ ! -e "/run/netns/$ns" ]; then continue; fi
  ip netns delete "$ns" 2>/dev/null || log "WARNING: could not delete netns $ns"
done
# A veth that was created but never moved into a namespace.
if [ -n "${ID:-}" ] && ip link show "bpv${ID}m" >/dev/null 2>&1; then
  ip link delete "bpv${ID}m" || true
fi

log "stopped ${ID:-?} in $(elapsed "$t0") s"
# Mark as stopped: a second stop.sh is a no-op and the directory can be
# reused by boot.sh.
mv -f "$state_dir/state.env" "$state_dir/state.env.stopped"
