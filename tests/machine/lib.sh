# shellcheck shell=bash
# Helpers shared by boot.sh, stop.sh, ssh.sh, scp.sh and smoke.sh.  Sourced,
# not executed.

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Install missing host tools (a fresh CI machine has none of them).
# Usage: need_tools command:package ...
need_tools() {
  local spec missing=()
  for spec in "$@"; do
    command -v "${spec%%:*}" >/dev/null || missing+=("${spec#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y "${missing[@]}" >&2 ||
    { apt-get update >&2 && apt-get install -y "${missing[@]}" >&2; }
}

# "pid:starttime" of a running process, or nothing.  The start time (field 22
# of /proc/PID/stat) lets us refuse to signal a recycled PID later.
proc_id() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }          # drop "pid (comm) ", comm may contain spaces
  # shellcheck disable=SC2086  # word splitting wanted
  set -- $stat               # $1 = state, $20 = starttime
  echo "$1:${20}"
}

# True if PID is alive and (when given) still has start time START.  Uses the
# process state, not `kill -0`: a zombie (Z) is dead even though kill -0
# succeeds, and zombies linger here because reaping is slow.
alive() {
  local pid=$1 start=${2:-} id
  [ -n "$pid" ] || return 1
  id=$(proc_id "$pid")
  [ -n "$id" ] || return 1
  case ${id%%:*} in Z|X|x) return 1 ;; esac
  [ -z "$start" ] || [ "${id#*:}" = "$start" ]
}

start_time() { local id; id=$(proc_id "$1"); echo "${id#*:}"; }

# Load STATE_DIR/state.env into the current shell.
load_state() {
  local dir=$1
  [ -f "$dir/state.env" ] || die "no state file $dir/state.env (did boot.sh run?)"
  # shellcheck disable=SC1091
  . "$dir/state.env"
}

# Options shared by ssh.sh and scp.sh (needs KEY from the state file).
# shellcheck disable=SC2034  # SSH_OPTS is used by the caller
ssh_opts() {
  SSH_OPTS=(
    -i "$KEY"
    -o StrictHostKeyChecking=no
    -o UserKnownHostsFile=/dev/null
    -o LogLevel=ERROR
    -o BatchMode=yes
    -o IdentitiesOnly=yes
    -o ConnectTimeout="${BPM_CONNECT_TIMEOUT:-5}"
    -o ServerAliveInterval=10
  )
}

# Seconds since a `date +%s.%N` timestamp, one decimal.
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
