#!/usr/bin/env bash
# End-to-end check of the machine harness itself: build/reuse the image, boot,
# verify the machine behaves like a fresh offline Debian 12 server, tear down.
#
#   tests/machine/smoke.sh [STATE_DIR]      (default: a new temp dir)
#
# Exits non-zero with a message naming the failed check.
set -euo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
. "$here/lib.sh"

[ "$(id -u)" = 0 ] || die "must run as root"
need_tools curl:curl
state_dir=${1:-$(mktemp -d /tmp/bpm-smoke.XXXXXX)}

step() { log "== $*"; }
fail() { log "FAILED: $*"; exit 1; }
m() { "$here/ssh.sh" "$state_dir" "$@"; }

step "image"
t=$(date +%s.%N)
root=$("$here/image.sh")
log "image ready in $(elapsed "$t") s: $root"

step "boot"
stopped=0
teardown() {
  [ "$stopped" = 1 ] || "$here/stop.sh" "$state_dir" || true
}
trap teardown EXIT
t=$(date +%s.%N)
"$here/boot.sh" "$state_dir"
log "boot to ready: $(elapsed "$t") s"
load_state "$state_dir"

step "systemd is PID 1"
pid1=$(m ps -p 1 -o comm=)
[ "$pid1" = systemd ] || fail "PID 1 is '$pid1', not systemd"

step "system state"
sys=$(m systemctl is-system-running || true)
case $sys in
  running) ;;
  degraded)
    m systemctl --no-pager --failed >&2 || true
    log "WARNING: degraded (see failed units above)" ;;
  *) fail "systemctl is-system-running: '$sys'" ;;
esac

step "network: eth0 with $MACHINE_IP, DNS fails fast"
m ip -br addr show eth0 | grep -q "$MACHINE_IP/" || fail "eth0 has no $MACHINE_IP"
t=$(date +%s.%N)
if m getent hosts deb.debian.org >/dev/null; then fail "DNS resolved although offline"; fi
dns=$(elapsed "$t")
awk -v d="$dns" 'BEGIN { exit !(d < 5) }' || fail "failed DNS lookup took ${dns}s (should fail fast)"
log "offline DNS lookup failed in $dns s"

step "offline apt-get update fails fast"
t=$(date +%s.%N)
rc=0; m 'apt-get update >/tmp/update.log 2>&1' || rc=$?
upd=$(elapsed "$t")
awk -v d="$upd" 'BEGIN { exit !(d < 20) }' || fail "offline apt-get update took ${upd}s"
log "offline apt-get update: exit $rc in $upd s (lists kept: $(m 'ls /var/lib/apt/lists | grep -c _Packages'))"

step "offline install of the bundle packages (--no-download)"
pkgs=$(m cat /etc/blueprint-machine/bundle-packages | xargs)
[ -n "$pkgs" ] || fail "image has no /etc/blueprint-machine/bundle-packages"
m "apt-get install -s $pkgs" >/dev/null || fail "apt cannot resolve: $pkgs"
t=$(date +%s.%N)
m "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-download $pkgs >/tmp/install.log 2>&1" ||
  { m tail -n 30 /tmp/install.log >&2 || true; fail "offline apt-get install failed"; }
log "offline install of $pkgs: $(elapsed "$t") s"

step "nginx reachable from the host on 127.0.0.1:$HTTP_PORT"
m systemctl is-active --quiet nginx || fail "nginx not active after install"
body=$(curl -fsS --max-time 10 "http://127.0.0.1:$HTTP_PORT/") || fail "curl to forwarded port 80 failed"
grep -q 'Welcome to nginx' <<<"$body" || fail "unexpected page from port 80"
# The request must arrive on eth0 from the peer, like outside traffic.
m "grep -q '^$PEER_IP ' /var/log/nginx/access.log" || fail "request did not come from $PEER_IP"

step "TLS reachable from the host on 127.0.0.1:$HTTPS_PORT"
# Nothing listens on 443 yet: a throwaway openssl s_server (openssl is one of
# the bundle packages) with a self-signed certificate.
m 'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
     -subj /CN=smoke -days 1 -keyout /tmp/smoke.key -out /tmp/smoke.crt 2>/dev/null &&
   systemd-run --quiet --unit=smoke-tls openssl s_server -quiet -www -accept 443 \
     -cert /tmp/smoke.crt -key /tmp/smoke.key' || fail "could not start a TLS listener"
ok=0
for _ in $(seq 1 50); do
  if curl -ksS --max-time 5 "https://127.0.0.1:$HTTPS_PORT/" 2>/dev/null | grep -q 'Ciphers'; then ok=1; break; fi
  sleep 0.1
done
[ "$ok" = 1 ] || fail "curl to forwarded port 443 failed"
m systemctl stop smoke-tls

step "system state after installing everything"
sys=$(m systemctl is-system-running || true)
if [ "$sys" != running ]; then
  m systemctl --no-pager --failed >&2 || true
  log "WARNING: after install: $sys"
  # Known Debian 12 behaviour, same on a real fresh VM: without rsyslog there
  # is no /var/log/auth.log and fail2ban's default sshd jail refuses to start
  # ("Have not found any log file for sshd jail") until the bundle configures
  # backend = systemd.  Not a harness problem.
fi

step "image untouched"
[ ! -e "$root/usr/sbin/nginx" ] || fail "the cached image was modified ($root/usr/sbin/nginx exists)"

step "teardown"
t=$(date +%s.%N)
"$here/stop.sh" "$state_dir"
stopped=1
log "teardown: $(elapsed "$t") s"
for ns in "$MACHINE_NS" "$PEER_NS"; do
  [ ! -e "/run/netns/$ns" ] || fail "netns $ns still exists"
done
for v in NSPAWN_PID FWD22_PID FWD80_PID FWD443_PID; do
  s=${v%_PID}_START
  ! alive "${!v}" "${!s}" || fail "$v ${!v} still running"
done
"$here/stop.sh" "$state_dir" >/dev/null 2>&1 || fail "second stop.sh failed (not idempotent)"

log "OK: smoke test passed (state in $state_dir)"
