#!/usr/bin/env bash
# Boot a throwaway Debian 12 machine (systemd-nspawn, systemd as PID 1) from the
# cached image and wait until it is ready.
#
#   tests/machine/boot.sh STATE_DIR
#
# STATE_DIR is created if needed and receives:
#   state.env     env-style variables (see README.md), sourced by stop.sh/ssh.sh
#   id_ed25519    private key that logs in as root on the machine
#   console.log   the machine's console (systemd boot messages)
#   fwd-*.log     port forwarder logs
# On failure everything started is torn down again (set BPM_KEEP=1 to keep it
# for debugging; then run stop.sh yourself) and the console log is printed.
#
# The cached image is never modified: nspawn's --volatile=overlay puts a tmpfs
# overlay on top of it, so all changes vanish when the machine stops.
#
# Network: the machine runs in its own netns bpm-<id> with a real eth0
# (10.213.0.2/30) whose other end lives in a second netns bpp-<id>
# (10.213.0.1, the "peer", which forwards nothing).  Ports 22/80/443 of the
# machine are reachable only on 127.0.0.1 of this host, on free ports:
#   host 127.0.0.1:PORT --socat--> unix socket --socat in bpp netns--> 10.213.0.2:22
# so connections reach the machine on eth0 from 10.213.0.1, as from outside
# (a firewall set up by the bundle sees them like real traffic).
#
# Environment: BPM_BOOT_TIMEOUT (seconds, default 90), BPM_KEEP=1,
# BPM_ROOT (boot this root directory instead of building/using image.sh's).
set -euo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 STATE_DIR" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "must run as root"

state_dir=$(mkdir -p "$1" && cd "$1" && pwd)
[ ! -e "$state_dir/state.env" ] || die "$state_dir/state.env exists: machine already booted? run stop.sh first or use a new directory"
timeout_s=${BPM_BOOT_TIMEOUT:-90}

need_tools systemd-nspawn:systemd-container ip:iproute2 socat:socat \
  ssh:openssh-client ssh-keygen:openssh-client ss:iproute2

# BPM_ROOT: use this root directory instead of the image.sh one (debugging).
root=${BPM_ROOT:-$("$here/image.sh")}

t0=$(date +%s.%N)
id=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')   # 6 hex chars
machine_ns=bpm-$id
peer_ns=bpp-$id
machine_ip=10.213.0.2
peer_ip=10.213.0.1
# Unix sockets of the forwarders: short path (108-byte limit), not in STATE_DIR.
run_dir=/run/blueprint-machine/$id

# Record state as we go so stop.sh can undo a half-finished boot.
state() {
  local k=$1; shift
  printf '%s=%q\n' "$k" "$*" >>"$state_dir/state.env"
}
state ID "$id"
state STATE_DIR "$state_dir"
state ROOT "$root"
state MACHINE_NS "$machine_ns"
state PEER_NS "$peer_ns"
state RUN_DIR "$run_dir"

fail() { log "ERROR: $*"; exit 1; }

# On any failure (set -e, fail, Ctrl-C): show the console and undo everything.
booted=0
on_exit() {
  local rc=$?
  [ "$booted" = 1 ] && return 0
  log "boot failed (exit $rc)"
  if [ -s "$state_dir/console.log" ]; then
    log "---- last 60 lines of $state_dir/console.log ----"
    tail -n 60 "$state_dir/console.log" | tr -d '\r' >&2
    log "---- end of console log ----"
  fi
  if [ "${BPM_KEEP:-0}" = 1 ]; then
    log "BPM_KEEP=1: leaving it up; run $here/stop.sh $state_dir"
  else
    "$here/stop.sh" "$state_dir" || true
  fi
  exit 1
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# --- ssh key ------------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C "blueprint-machine-$id" -f "$state_dir/id_ed25519"
install -m 600 "$state_dir/id_ed25519.pub" "$state_dir/authorized_keys"
KEY=$state_dir/id_ed25519
state KEY "$KEY"

# --- network ------------------------------------------------------------------
ip netns add "$machine_ns"
ip netns add "$peer_ns"
# Create the veth pair directly inside the two namespaces (no name clash with
# the host's own eth0) and configure it from the host before boot: nothing in
# the machine (no networkd, no DHCP) has to wait for the network.
ip link add name "bpv${id}m" type veth peer name "bpv${id}p"
ip link set "bpv${id}m" netns "$machine_ns"
ip link set "bpv${id}p" netns "$peer_ns"
ip -n "$machine_ns" link set "bpv${id}m" name eth0
ip -n "$machine_ns" addr add "$machine_ip/30" dev eth0
ip -n "$machine_ns" link set lo up
ip -n "$machine_ns" link set eth0 up
# Default route so connection attempts to the outside fail (or time out at the
# peer, which does not forward) instead of "network unreachable" surprises.
ip -n "$machine_ns" route add default via "$peer_ip"
ip -n "$peer_ns" addr add "$peer_ip/30" dev "bpv${id}p"
ip -n "$peer_ns" link set lo up
ip -n "$peer_ns" link set "bpv${id}p" up
state MACHINE_IP "$machine_ip"
state PEER_IP "$peer_ip"

# --- start a background process in its own session ----------------------------
# Output goes to a log file and stdin is /dev/null so no caller pipe (e.g.
# $(boot.sh)) is held open, and every other inherited descriptor is closed so
# a long-lived child never keeps a caller's lock file (flock) or pipe alive.
# setsid makes it a process-group leader, so stop.sh can kill it together with
# the children it forks per connection.  The subshell is not a group leader,
# so setsid does not fork and $! is the process itself.
spawn() {
  local logfile=$1; shift
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid "$@" </dev/null >"$logfile" 2>&1
  ) &
  SPAWNED=$!
}

# --- the machine --------------------------------------------------------------
# --register=no --keep-unit: there is no systemd-machined and no system bus
# on a host whose PID 1 is not systemd; without --keep-unit nspawn tries to
# create a scope unit over D-Bus and fails ("Failed to open system bus").
# --capability=CAP_NET_ADMIN: nspawn only grants it with --private-network,
# not with --network-namespace-path, but the machine owns its netns and the
# bundle's firewall (ufw/iptables) needs it.
# --resolv-conf/--timezone=off: keep the image's fail-fast resolver.
# --console=read-only: console output to the log, nothing reads our stdin.
# SYSTEMD_COLORS=0: a console log without escape sequences.
spawn "$state_dir/console.log" \
  systemd-nspawn --quiet --boot \
  --directory="$root" --volatile=overlay \
  --machine="bpm-$id" --register=no --keep-unit \
  --capability=CAP_NET_ADMIN \
  --setenv=SYSTEMD_COLORS=0 \
  --network-namespace-path="/run/netns/$machine_ns" \
  --resolv-conf=off --timezone=off --link-journal=no \
  --bind-ro="$state_dir/authorized_keys:/root/.ssh/authorized_keys" \
  --console=read-only
nspawn_pid=$SPAWNED
state NSPAWN_PID "$nspawn_pid"
state NSPAWN_START "$(start_time "$nspawn_pid")"

# --- port forwards ------------------------------------------------------------
mkdir -p "$run_dir"
# Inner half (peer netns): unix socket -> machine:PORT over the veth.
# Outer half (host): 127.0.0.1:free port -> unix socket.
forward() {
  local port=$1 var=$2 sock=$run_dir/$1.sock hp tries pid
  spawn "$state_dir/fwd-$port-inner.log" \
    ip netns exec "$peer_ns" socat "UNIX-LISTEN:$sock,fork,unlink-early,mode=600" "TCP:$machine_ip:$port"
  pid=$SPAWNED
  state "FWD${port}_INNER_PID" "$pid"
  state "FWD${port}_INNER_START" "$(start_time "$pid")"
  for tries in $(seq 1 30); do
    hp=$(( 20000 + RANDOM % 40000 ))
    # Skip ports somebody already listens on; socat's bind failure below
    # catches the remaining race with concurrent runs.
    [ -z "$(ss -Htln "sport = :$hp")" ] || continue
    spawn "$state_dir/fwd-$port.log" \
      socat "TCP-LISTEN:$hp,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$sock"
    pid=$SPAWNED
    for _ in $(seq 1 50); do
      alive "$pid" || break
      if [ -n "$(ss -Htln "sport = :$hp")" ]; then
        state "FWD${port}_PID" "$pid"
        state "FWD${port}_START" "$(start_time "$pid")"
        state "$var" "$hp"
        printf -v "$var" '%s' "$hp"
        return 0
      fi
      sleep 0.05
    done
    kill "$pid" 2>/dev/null || true
    log "port $hp did not work (try $tries), trying another"
  done
  fail "no free port found for forwarding $port"
}
forward 22 SSH_PORT
forward 80 HTTP_PORT
forward 443 HTTPS_PORT

# --- wait until ready -------------------------------------------------------
ssh_opts
SSH=(ssh "${SSH_OPTS[@]}" -o ConnectTimeout=2 -p "$SSH_PORT" root@127.0.0.1)
deadline=$(( $(date +%s) + timeout_s ))
until "${SSH[@]}" true 2>/dev/null; do
  alive "$nspawn_pid" || fail "systemd-nspawn exited during boot"
  [ "$(date +%s)" -lt "$deadline" ] || fail "ssh did not answer within ${timeout_s}s"
  sleep 0.2
done

# The container's PID 1 as seen from the host (kept for stop.sh: if nspawn has
# to be killed, killing this kills the whole container).
leader=$(ip netns pids "$machine_ns" | while read -r p; do
  grep -qE '^NSpid:.*[[:space:]]1$' "/proc/$p/status" 2>/dev/null && echo "$p"
done | head -n1 || true)
if [ -n "$leader" ]; then
  state LEADER_PID "$leader"
  state LEADER_START "$(start_time "$leader")"
fi

left=$(( deadline - $(date +%s) )); [ "$left" -gt 1 ] || left=1
sys_state=$("${SSH[@]}" timeout "$left" systemctl is-system-running --wait 2>/dev/null || true)
case $sys_state in
  running) ;;
  degraded)
    log "WARNING: machine is degraded; failed units:"
    "${SSH[@]}" systemctl --no-pager --failed >&2 || true ;;
  *) fail "machine not ready after ${timeout_s}s: is-system-running says '${sys_state}'" ;;
esac

state SYSTEM_STATE "$sys_state"
booted=1
log "machine bpm-$id ready ($sys_state) in $(elapsed "$t0") s: ssh 127.0.0.1:$SSH_PORT http :$HTTP_PORT https :$HTTPS_PORT"
