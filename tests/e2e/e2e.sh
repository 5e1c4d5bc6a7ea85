#!/usr/bin/env bash
# End-to-end test of a bundle on fresh machines (tests/machine/, under systemd-nspawn):
#
#   sudo tests/e2e/e2e.sh                         (from anywhere; needs root for the machines)
#   sudo E2E_OS=ubuntu-24.04 tests/e2e/e2e.sh     (the same on Ubuntu 24.04 machines)
#
# Builds tests/e2e/sites.toml into a bundle for E2E_OS (default debian-12), applies it to a fresh
# machine of that OS, deploys a stand-in release (server.pl) and checks the result from outside over
# real TCP; then checks re-runs, --check, drift detection, a corrupted bundle, and convergence after
# setup.sh is killed part-way on a second fresh machine. The Debian pass also applies the shipped
# example to fresh Debian 12 and Ubuntu 24.04 machines. Prints PASS/FAIL per check and the timings;
# exits 1 if any check failed. Set E2E_KEEP=1 to leave the machines running (stop them with
# tests/machine/stop.sh).
#
# The checks are in scenario files, each on machines of its own: scenario-apply.sh (machine 1),
# scenario-kills.sh (machine 2), scenario-example.sh (machines 3 and 4, Debian pass only), with the
# attacks in security.sh and the PASS/FAIL harness in harness.sh. One at a time:
#   sudo E2E_SCENARIOS=kills tests/e2e/e2e.sh
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
repo=$(cd "$here/../.." && pwd)
machine=$repo/tests/machine
[[ $(id -u) == 0 ]] || { echo "e2e.sh: must run as root (boots machines)" >&2; exit 2; }

os=${E2E_OS:-debian-12}
# shellcheck disable=SC2034  # other_os: scenario-kills.sh uses it
case $os in
debian-12) other_os=ubuntu-24.04 ;;
ubuntu-24.04) other_os=debian-12 ;;
*) echo "e2e.sh: E2E_OS must be debian-12 or ubuntu-24.04, not '$os'" >&2; exit 2 ;;
esac
work=$(mktemp -d /tmp/bp-e2e.XXXXXX)
booted=()
teardown() {
    local s
    if [[ ${E2E_KEEP:-0} == 1 ]]; then
        echo "e2e: E2E_KEEP=1, machines left running: ${booted[*]:-none}" >&2
        return 0
    fi
    for s in "${booted[@]}"; do "$machine/stop.sh" "$s" >/dev/null 2>&1 || true; done
}
trap teardown EXIT
trap 'exit 130' INT TERM

# shellcheck source=tests/e2e/harness.sh
. "$here/harness.sh"

compile() { # compile CONFIG OUT: blueprint build of CONFIG into OUT (output on stderr)
    (cd "$repo" && cargo run -q -- build --config "$1" --out "$2") >&2
}
boot() { # boot NAME [OS]: boots a fresh machine of OS (default: the pass's E2E_OS), sets S
    # (its state dir) and loads its state.env
    S=$work/$1
    booted+=("$S")
    BPM_OS=${2:-$os} "$machine/boot.sh" "$S" >&2
    # shellcheck disable=SC1091
    . "$S/state.env"
}
m() { "$machine/ssh.sh" "$S" "$@"; }
# Through nginx, from outside (the forwarded ports arrive on the machine's eth0).
https() { # https HOST PATH [curl args]: body
    local host=$1 path=$2
    shift 2
    curl -sk --max-time 10 --resolve "$host:$HTTPS_PORT:127.0.0.1" "$@" "https://$host:$HTTPS_PORT$path"
}
http() {
    local host=$1 path=$2
    shift 2
    curl -s --max-time 10 --resolve "$host:$HTTP_PORT:127.0.0.1" "$@" "http://$host:$HTTP_PORT$path"
}
code_https() { https "$1" "$2" -o /dev/null -w '%{http_code}'; }
code_http() { http "$1" "$2" -o /dev/null -w '%{http_code}'; }
# shellcheck source=tests/e2e/security.sh
. "$here/security.sh"
wait_ssh() { # until the machine's sshd accepts a connection again (at most ~15 s)
    local _
    for _ in $(seq 60); do m true 2>/dev/null && return 0; sleep 0.25; done
    echo "e2e: ssh to the machine does not answer" >&2
}

# --- bundle -------------------------------------------------------------------------------------
echo "e2e: building the bundle for $os in $work" >&2
ssh-keygen -q -t ed25519 -N '' -C e2e-admin -f "$work/admin"
export BLUEPRINT_E2E_KEY=$work/admin.pub
mkdir -p "$work/config"
sed "s/^os = \"debian-12\"/os = \"$os\"/" "$here/sites.toml" >"$work/config/sites.toml"
check "the fixture differs from tests/e2e/sites.toml in its os only" bash -c \
    "diff '$here/sites.toml' '$work/config/sites.toml' | grep -c '^[<>]' | grep -qx '[02]'"
compile "$work/config/sites.toml" "$work/out"
bundle=$work/out/e2e
check "bundle builds" test -f "$bundle/setup.sh"
check "bundle passes shellcheck -x" bash -c "cd '$bundle' && shellcheck -x setup.sh"

# --- scenarios -----------------------------------------------------------------------------------
time_first=- time_rerun=- time_acme=-
for scenario in ${E2E_SCENARIOS:-apply kills example offsite}; do
    [[ $scenario == example && $os != debian-12 ]] && continue # both example machines: Debian pass
    # shellcheck source=/dev/null
    . "$here/scenario-$scenario.sh"
    "scenario_$scenario"
done

# --- result -------------------------------------------------------------------------------------
echo
echo "timings ($os): first apply ${time_first}s, no-change re-run ${time_rerun}s, run with offline certbot ${time_acme}s (wall, incl. ssh)"
echo "logs: $work"
report "e2e ($os)"
