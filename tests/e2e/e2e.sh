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
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
repo=$(cd "$here/../.." && pwd)
machine=$repo/tests/machine
[[ $(id -u) == 0 ]] || { echo "e2e.sh: must run as root (boots machines)" >&2; exit 2; }

os=${E2E_OS:-debian-12}
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

passed=0
failed=0
failures=()
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); printf 'FAIL  %s\n' "$1"; [[ -z ${2:-} ]] || printf '%s\n' "$2" | sed 's/^/      /' | head -n 30; }
# check NAME CMD... : pass when CMD succeeds
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

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

# --- machine 1: apply, deploy, verify -----------------------------------------------------------
boot one
"$machine/scp.sh" "$S" "$bundle" machine:/root/bundle

# Sample every process's argv while the first apply runs: no secret may ever appear there.
m 'systemd-run --quiet --unit=e2e-ps sh -c "while :; do ps -eo args; sleep 0.02; done >/tmp/ps.log"'
t=$(now)
rc=0
m 'cd /root/bundle && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$work/apply1.log" 2>&1 || rc=$?
time_first=$(since "$t")
m 'systemctl stop e2e-ps.service'
check "first apply exits 0 (${time_first}s)" test "$rc" = 0
[[ $rc == 0 ]] || tail -n 40 "$work/apply1.log"
check "first apply: services wait for a release" grep -q '^waiting for a release: shop-web' "$work/apply1.log"
check "first apply: secret awaiting a value is listed" grep -q '^secret awaiting a value: shop: PAYMENT_KEY' "$work/apply1.log"
check "first apply: placeholder certificate is listed" grep -q '^certificate still a self-signed placeholder: shop' "$work/apply1.log"
check "first apply: missing certificate files get a placeholder too (docs)" bash -c "
    grep -q '^certificate still a self-signed placeholder: docs' '$work/apply1.log' &&
    grep -q 'docs: /etc/ssl/docs/fullchain.pem or /etc/ssl/docs/privkey.pem does not exist' '$work/apply1.log'"
out=$(m systemctl --failed --no-legend --plain 2>&1)
if [[ -z $out ]]; then pass "no failed units after first apply"; else fail "no failed units after first apply" "$out"; fi

# Secrets never in output: none of the generated values appears in setup.sh's output.
secrets=$(m "sed -n 's/^[A-Z_]*=//p' /srv/sites/*/shared/.env | sed 's|.*:\([0-9a-f]*\)@.*|\1|' | grep -E '^[0-9a-f]{64}$'")
leak=0
while read -r v; do [[ -n $v ]] && grep -qF "$v" "$work/apply1.log" && leak=1; done <<<"$secrets"
check "generated secrets exist and never appear in setup.sh output" test "$leak" = 0 -a "$(wc -l <<<"$secrets")" -ge 3
samples=$(m 'grep -c "^/usr/bin/apt-get\|^runuser\|^psql\|^useradd\|^openssl" /tmp/ps.log' || true)
hits=$(m "sed -n 's/^[A-Z_]*=//p' /srv/sites/*/shared/.env | sed 's|.*:\([0-9a-f]*\)@.*|\1|' | grep -E '^[0-9a-f]{64}\$' >/tmp/secrets; grep -cFf /tmp/secrets /tmp/ps.log" || true)
check "no secret in any process's argv during the first apply ($hits hits; $samples sampled setup commands)" test "$hits" = 0 -a "${samples:-0}" -gt 0
security_layout

# Stand-in releases: server.pl for the proxied sites, a page for the static site.
"$machine/scp.sh" "$S" "$here/server.pl" machine:/root/server.pl
# shellcheck disable=SC2016  # expanded on the machine
m 'set -e
for site in shop crm; do
  install -d -o $site -g $site -m 0750 /srv/sites/$site/releases/r1
  install -o $site -g $site -m 0640 /root/server.pl /srv/sites/$site/releases/r1/server.pl
  ln -sfn releases/r1 /srv/sites/$site/current
done
install -d -o blog -g blog -m 0750 /srv/sites/blog/releases/r1 /srv/sites/blog/releases/r1/public
echo "blog release r1" >/srv/sites/blog/releases/r1/public/index.html
chown blog:blog /srv/sites/blog/releases/r1/public/index.html; chmod 0640 /srv/sites/blog/releases/r1/public/index.html
ln -sfn releases/r1 /srv/sites/blog/current'
rc=0
m 'cd /root/bundle && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$work/apply2.log" 2>&1 || rc=$?
check "apply after deploying a release exits 0" test "$rc" = 0
[[ $rc == 0 ]] || tail -n 40 "$work/apply2.log"
restarted=$(sed -n 's/^restarted: //p' "$work/apply2.log")
check "the release starts exactly the enabled units (restarted: $restarted)" test "$restarted" = "crm-app shop-api shop-web"
# (The one expected warning: docs's certificate files do not exist.)
check "setup.sh's health probes pass" bash -c "! grep '^WARNING' '$work/apply2.log' | grep -qv '^WARNING: docs: /etc/ssl/docs/' && grep -q '^site shop (shop-web): https://shop.test/healthz -> 200' '$work/apply2.log'"

for unit in shop-web shop-api crm-app; do
    site=${unit%%-*}
    st=$(m "systemctl is-active $unit.service; systemctl is-enabled $unit.service; ps -o user= -p \$(systemctl show -p MainPID --value $unit.service)" 2>&1 | xargs)
    check "$unit active, enabled, runs as $site ($st)" test "$st" = "active enabled $site"
done
st=$(m 'systemctl is-active shop-beta.service; systemctl is-enabled shop-beta.service' 2>&1 | xargs || true)
check "disabled service shop-beta is neither running nor enabled ($st)" test "$st" = "inactive disabled"
out=$(m systemctl --failed --no-legend --plain 2>&1)
if [[ -z $out ]]; then pass "no failed units with releases"; else fail "no failed units with releases" "$out"; fi

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

check "shop http redirects to https (308)" test "$(code_http shop.test /)" = 308
b=$(https shop.test /hello)
check "shop.test / reaches service web as user shop ($b)" test "$b" = "service=web user=shop path=/hello"
b=$(https www.shop.test /)
check "www.shop.test / reaches service web" test "$b" = "service=web user=shop path=/"
b=$(https shop.test /api/orders)
check "shop.test /api/ reaches service api as user shop ($b)" test "$b" = "service=api user=shop path=/api/orders"
check "disabled route /beta/ answers 503" test "$(code_https shop.test /beta/)" = 503
b=$(http crm.test /x)
check "crm.test (tls none) reaches crm-app as user crm ($b)" test "$b" = "service=app user=crm path=/x"
b=$(http blog.test /)
check "blog.test serves its static release ($b)" test "$b" = "blog release r1"
hsts=$(https shop.test / -o /dev/null -D - | tr -d '\r' | grep -i '^strict-transport-security' || true)
check "shop sends HSTS" test -n "$hsts"

rc=0; curl -s --max-time 10 -H 'Host: unknown.test' "http://127.0.0.1:$HTTP_PORT/" >/dev/null || rc=$?
check "unknown Host on port 80 gets an empty reply (444; curl exit 52, got $rc)" test "$rc" = 52
rc=0; curl -sk --max-time 10 --resolve "unknown.test:$HTTPS_PORT:127.0.0.1" "https://unknown.test:$HTTPS_PORT/" >/dev/null || rc=$?
check "unknown name on 443 is refused in the TLS handshake (curl exit $rc)" test "$rc" = 35

security_static
security_proxy_headers
security_port_squat
security_app_plants_logs

# The hardened units still write where they must (logs, uploads) and nowhere else.
# (Pauses keep these requests inside shop's rate limit of 2r/s, burst 5.)
sleep 3
b=$(https shop.test /write?to=uploads)
check "sandboxed shop-web can write its uploads ($b)" grep -q '^write uploads=ok$' <<<"$b"
b=$(https shop.test /write?to=release)
check "sandboxed shop-web cannot write its release ($b)" grep -q '^write release=denied$' <<<"$b"
b=$(https shop.test /write?to=etc)
check "sandboxed shop-web cannot write /etc ($b)" grep -q '^write etc=denied$' <<<"$b"
st=$(m "stat -c '%U %s' /srv/sites/shop/shared/logs/web.log" 2>&1 || true)
check "shop-web writes its own log in shared/logs ($st)" bash -c "[[ '$st' =~ ^shop\ [1-9] ]]"
sleep 3
b=$(https shop.test /db)
check "shop reaches its own database ($b)" grep -q '^db=shop@shop$' <<<"$b"
b=$(http crm.test /db)
check "crm reaches its own database ($b)" grep -q '^db=crm@crm$' <<<"$b"
b=$(https shop.test '/db?other=crm')
check "shop's credentials cannot open crm's database" grep -q 'permission denied for database "crm"' <<<"$b"
b=$(http crm.test '/db?other=shop')
check "crm's credentials cannot open shop's database" grep -q 'permission denied for database "shop"' <<<"$b"
out=$(m "runuser -u shop -- psql -X -d crm -c 'select 1' 2>&1" || true)
check "site user shop cannot open crm's database over the socket either" grep -q 'permission denied for database "crm"' <<<"$out"

# The deploy user logs in with the admin key and may restart its services, nothing else.
dssh=(ssh -i "$work/admin" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
    -o BatchMode=yes -o IdentitiesOnly=yes -p "$SSH_PORT" deploy@127.0.0.1)
check "deploy user: ssh with the admin key + sudo systemctl restart shop-web.service" "${dssh[@]}" sudo -n /usr/bin/systemctl restart shop-web.service
check "deploy user: no other sudo" bash -c "! $(printf '%q ' "${dssh[@]}") sudo -n /usr/bin/id 2>/dev/null"

# The deploy user ships a release the way a user would: a tarball piped into blueprint-deploy,
# which unpacks it as the site user and switches `current`; --rollback switches back.
mkdir -p "$work/r2/public" && echo "blog release r2" >"$work/r2/public/index.html"
tar -czf "$work/r2.tar.gz" -C "$work/r2" .
check "deploy user: sudo blueprint-deploy blog < release.tar.gz" bash -c "$(printf '%q ' "${dssh[@]}") sudo -n /usr/local/sbin/blueprint-deploy blog <$(printf '%q' "$work/r2.tar.gz")"
b=$(http blog.test /)
check "blog serves the deployed release ($b)" test "$b" = "blog release r2"
owner=$(m "stat -c %U /srv/sites/blog/current/public/index.html")
check "the release is owned by the site user ($owner)" test "$owner" = blog
check "deploy user: blueprint-deploy blog --rollback" "${dssh[@]}" sudo -n /usr/local/sbin/blueprint-deploy blog --rollback
b=$(http blog.test /)
check "after rollback blog serves r1 again ($b)" test "$b" = "blog release r1"
check "blueprint-deploy refuses an unknown site" bash -c "! $(printf '%q ' "${dssh[@]}") sudo -n /usr/local/sbin/blueprint-deploy root --list 2>/dev/null"

# The services' sites shipped through blueprint-deploy too: it restarts their units, and the
# next setup.sh must not restart them again for the same release.
mkdir -p "$work/app" && cp "$here/server.pl" "$work/app/server.pl"
tar -czf "$work/app.tar.gz" -C "$work/app" .
for site in shop crm; do
    check "deploy user: sudo blueprint-deploy $site < release.tar.gz" bash -c "$(printf '%q ' "${dssh[@]}") sudo -n /usr/local/sbin/blueprint-deploy $site <$(printf '%q' "$work/app.tar.gz")"
done
sleep 1
b=$(http crm.test /deployed)
check "crm serves the deployed release ($b)" test "$b" = "service=app user=crm path=/deployed"
security_deploy_history
security_deploy_user_race
security_lock
security_manifest

# Rate limit (shop /: 2r/s burst 5): 12 quick requests, some answer 429. Kept below fail2ban's
# nginx-limit-req threshold (20) so the test's address is not banned.
codes=$(for _ in $(seq 12); do code_https shop.test /; echo; done | sort | uniq -c | xargs)
check "rate limit: requests past the burst get 429 ($codes)" grep -q ' 429' <<<" $codes"

# Re-run with nothing to do.
sleep 1
t=$(now)
rc=0
m 'cd /root/bundle && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$work/apply3.log" 2>&1 || rc=$?
time_rerun=$(since "$t")
check "no-change re-run exits 0 (${time_rerun}s)" test "$rc" = 0
check "no-change re-run after deploys: files changed 0, restarted none, reloaded none, 'no changes'" bash -c "
    grep -qx 'files changed: 0' '$work/apply3.log' && grep -qx 'other changes: 0' '$work/apply3.log' &&
    grep -qx 'restarted: none' '$work/apply3.log' && grep -qx 'reloaded: none' '$work/apply3.log' &&
    grep -qx 'no changes' '$work/apply3.log'"
[[ $rc == 0 ]] || tail -n 30 "$work/apply3.log"

rc=0; m 'cd /root/bundle && bash setup.sh --check' >"$work/check1.log" 2>&1 || rc=$?
check "--check on a converged host exits 0" test "$rc" = 0
[[ $rc == 0 ]] || cat "$work/check1.log"

# Two applies at once: the second waits for the first (lock), both succeed.
rc=0
# shellcheck disable=SC2016  # expanded on the machine
m 'cd /root/bundle && { BLUEPRINT_SKIP_ACME=1 bash setup.sh >/tmp/c1.log 2>&1 & sleep 0.3; BLUEPRINT_SKIP_ACME=1 bash setup.sh >/tmp/c2.log 2>&1; r2=$?; wait $!; r1=$?; test $r1$r2 = 00; } && grep -q "another setup.sh is running" /tmp/c2.log' || rc=$?
check "concurrent applies: the second waits for the first, both exit 0" test "$rc" = 0

# Drift: a hand edit of a config file, a wrong mode, a disabled unit.
m 'echo "# hand edit" >>/etc/nginx/sites-available/shop.conf; echo "# hand edit" >>/etc/systemd/system/shop-api.service
    chmod 0644 /srv/sites/crm/shared/.env; systemctl disable -q crm-app.service'
m 'touch /tmp/before-check; sleep 1'
rc=0; m 'cd /root/bundle && bash setup.sh --check' >"$work/check2.log" 2>&1 || rc=$?
check "--check after hand edits exits 1" test "$rc" = 1
check "--check names the edited file, the .env mode and the disabled unit" bash -c "
    grep -q 'drift: /etc/nginx/sites-available/shop.conf differs' '$work/check2.log' &&
    grep -q 'drift: /srv/sites/crm/shared/.env is 644' '$work/check2.log' &&
    grep -q 'drift: crm-app.service is not enabled' '$work/check2.log'"
rc=0; m 'cd /root/bundle && bash setup.sh --check --diff' >"$work/check-diff.log" 2>&1 || rc=$?
check "--check --diff shows the hand edit as a diff, and no secret" bash -c "
    test '$rc' = 1 && grep -q '^      -# hand edit' '$work/check-diff.log' &&
    ! grep -q 'DATABASE_URL=\|SESSION_SECRET=' '$work/check-diff.log'"
out=$(m 'find /etc /srv /var/lib/blueprint -newer /tmp/before-check 2>/dev/null | grep -v "^/etc/\(ssh\|machine-id\)" || true')
if [[ -z $out ]]; then pass "--check wrote nothing"; else fail "--check wrote nothing" "$out"; fi
rc=0; m 'cd /root/bundle && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$work/apply4.log" 2>&1 || rc=$?
check "apply repairs the drift (exit $rc)" test "$rc" = 0
restarted=$(sed -n 's/^restarted: //p' "$work/apply4.log")
reloaded=$(sed -n 's/^reloaded: //p' "$work/apply4.log")
check "repair restarts only the unit whose file changed ($restarted) and reloads nginx ($reloaded)" \
    test "$restarted/$reloaded" = "shop-api/nginx"
rc=0; m 'cd /root/bundle && bash setup.sh --check' >/dev/null 2>&1 || rc=$?
check "--check exits 0 after the repair" test "$rc" = 0

# A corrupted bundle is refused before anything changes.
m 'rm -rf /root/bad && cp -a /root/bundle /root/bad && printf X | dd of=/root/bad/files/etc/nginx/nginx.conf bs=1 seek=100 conv=notrunc status=none && touch /tmp/before-bad && sleep 1'
rc=0; m 'cd /root/bad && bash setup.sh' >"$work/bad.log" 2>&1 || rc=$?
check "corrupted bundle: setup.sh exits 2 and names the file" bash -c "test '$rc' = 2 && grep -q 'files/etc/nginx/nginx.conf' '$work/bad.log'"
out=$(m 'find /etc /srv /var/lib/blueprint -newer /tmp/before-bad 2>/dev/null || true')
if [[ -z $out ]]; then pass "corrupted bundle: nothing on the host changed"; else fail "corrupted bundle: nothing on the host changed" "$out"; fi

# Filling in a secret restarts that site's services only.
m "sed -i 's/^PAYMENT_KEY=\$/PAYMENT_KEY=filled-by-operator/' /srv/sites/shop/shared/.env"
rc=0; m 'cd /root/bundle && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$work/apply5.log" 2>&1 || rc=$?
restarted=$(sed -n 's/^restarted: //p' "$work/apply5.log")
check "a changed .env restarts that site's units only ($restarted)" test "$rc/$restarted" = "0/shop-api shop-web"
check "a filled-in secret is no longer listed as awaiting" bash -c "! grep -q '^secret awaiting' '$work/apply5.log'"
check "the filled-in value is kept" test "$(m "grep -c '^PAYMENT_KEY=filled-by-operator\$' /srv/sites/shop/shared/.env")" = 1
security_half_done_repaired

# Without BLUEPRINT_SKIP_ACME, certbot fails fast offline and the run still succeeds.
t=$(now)
rc=0; m 'cd /root/bundle && bash setup.sh' >"$work/acme.log" 2>&1 || rc=$?
time_acme=$(since "$t")
check "offline certbot attempt: exit 0 in ${time_acme}s, placeholder kept" bash -c "
    test '$rc' = 0 && grep -q 'certbot failed, keeping the placeholder' '$work/acme.log' &&
    grep -q '^certificate still a self-signed placeholder: shop' '$work/acme.log'"

# A bundle whose nginx config does not validate: refused, live /etc/nginx untouched.
# shellcheck disable=SC2016  # expanded on the machine
m 'set -e; rm -rf /root/badnginx; cp -a /root/bundle /root/badnginx; cd /root/badnginx
   sed -i "s/client_max_body_size 10m;/client_max_body_size 10m; bogus_directive on;/" files/etc/nginx/sites-available/shop.conf
   sha256sum $(sed "s/^[0-9a-f]*  //" SHA256SUMS) >SHA256SUMS
   sha256sum /etc/nginx/sites-available/shop.conf >/tmp/nginx-before'
rc=0; m 'cd /root/badnginx && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$work/badnginx.log" 2>&1 || rc=$?
check "invalid nginx config: setup.sh fails (exit $rc) and shows nginx's error" bash -c "
    test '$rc' != 0 && grep -q 'bogus_directive' '$work/badnginx.log' && grep -q '/etc/nginx is unchanged' '$work/badnginx.log'"
check "invalid nginx config: the live file is unchanged and nginx still serves" bash -c "
    $(printf '%q ' "$machine/ssh.sh" "$S") sha256sum -c --quiet /tmp/nginx-before &&
    test \"\$(curl -sk --max-time 10 --resolve shop.test:$HTTPS_PORT:127.0.0.1 https://shop.test:$HTTPS_PORT/x)\" = 'service=web user=shop path=/x'"
rc=0; m 'cd /root/bundle && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >/dev/null 2>&1 || rc=$?
rc2=0; m 'cd /root/bundle && bash setup.sh --check' >/dev/null 2>&1 || rc2=$?
check "the good bundle applies and checks clean again" test "$rc/$rc2" = 0/0

# A site removed from sites.toml: services stopped and disabled, nginx no longer serves it, its
# files and database are kept and the summary says how to delete them.
sed '/^# A second database site/,$d' "$work/config/sites.toml" >"$work/removed.toml"
compile "$work/removed.toml" "$work/out-removed"
"$machine/scp.sh" "$S" "$work/out-removed/e2e" machine:/root/removed
rc=0; m 'cd /root/removed && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$work/removed.log" 2>&1 || rc=$?
check "removing site crm: apply exits 0" test "$rc" = 0
st=$(m 'systemctl is-active crm-app.service; systemctl is-enabled crm-app.service; test -e /etc/nginx/sites-enabled/crm.conf && echo enabled-in-nginx; test -d /srv/sites/crm/shared && echo files-kept; cd / && runuser -u postgres -- psql -XAtc "select datname from pg_database where datname = '"'crm'"'"' 2>&1 | xargs || true)
check "removed site: unit stopped+disabled, nginx site disabled, files and database kept ($st)" \
    test "$st" = "inactive disabled files-kept crm"
check "removed site: the summary prints the commands to delete it" grep -q 'dropdb --if-exists crm' "$work/removed.log"
rc=0; curl -s --max-time 10 -H 'Host: crm.test' "http://127.0.0.1:$HTTP_PORT/" >/dev/null || rc=$?
check "removed site: nginx no longer answers for crm.test (curl exit $rc)" test "$rc" = 52
rc=0; m 'cd /root/removed && bash setup.sh --check' >/dev/null 2>&1 || rc=$?
check "removed site: --check exits 0" test "$rc" = 0
st=$(m 'fail2ban-client status nginx-limit-req' 2>&1 | sed -n 's/.*File list:\s*//p')
check "fail2ban's jail follows the sites' logs (restarted when the set changed: $st)" bash -c "[[ '$st' == *'/var/log/nginx/shop/error.log'* && '$st' != *'/var/log/nginx/crm/'* ]]"

# Firewall (skipped in containers by default; BLUEPRINT_FIREWALL_IN_CONTAINER=1 forces it here,
# the machine has CAP_NET_ADMIN). A listener on 8080 is reachable from outside before, not after.
# (A file, not perl -e: systemd-run would expand the $ variables of an inline script.)
m "cat >/root/listen.pl" <<'EOF'
use IO::Socket::INET;
my $s = IO::Socket::INET->new(LocalPort => 8080, Listen => 5, ReuseAddr => 1) or die "listen: $!";
while (my $c = $s->accept) { print $c "HTTP/1.0 200 OK\r\n\r\nopen\n"; close $c; }
EOF
m 'systemd-run --quiet --unit=e2e-listen perl /root/listen.pl'
sleep 0.5
outside() { ip netns exec "$PEER_NS" curl -s --max-time 3 "http://$MACHINE_IP:8080/"; }
b=$(outside || true)
check "firewall: before, port 8080 is reachable from outside ($b)" test "$b" = open
rc=0; m 'cd /root/removed && BLUEPRINT_FIREWALL_IN_CONTAINER=1 BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$work/firewall.log" 2>&1 || rc=$?
check "firewall: apply exits 0" test "$rc" = 0
b=$(outside || true)
check "firewall: after, port 8080 is blocked from outside" test -z "$b"
b=$(https shop.test /fw)
check "firewall: ssh, 80 and 443 still answer" bash -c "test '$b' = 'service=web user=shop path=/fw' && test \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --resolve shop.test:$HTTP_PORT:127.0.0.1 http://shop.test:$HTTP_PORT/)\" = 308"
rc=0; m 'cd /root/removed && BLUEPRINT_FIREWALL_IN_CONTAINER=1 BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$work/firewall2.log" 2>&1 || rc=$?
check "firewall: re-run says no changes" grep -qx 'no changes' "$work/firewall2.log"

# --- machine 2: kill setup.sh part-way, re-run, converge ----------------------------------------
boot two
"$machine/scp.sh" "$S" "$bundle" machine:/root/bundle
# A fresh host: --check reports drift and writes nothing; a bundle for another OS is refused.
m 'touch /tmp/fresh; sleep 1'
rc=0; m 'cd /root/bundle && bash setup.sh --check' >"$work/fresh-check.log" 2>&1 || rc=$?
check "fresh host: --check exits 1 (packages missing)" bash -c "test '$rc' = 1 && grep -q 'packages not installed' '$work/fresh-check.log'"
sed "s/^os = \"$os\"/os = \"$other_os\"/" "$work/config/sites.toml" >"$work/config/other.toml"
compile "$work/config/other.toml" "$work/other"
"$machine/scp.sh" "$S" "$work/other/e2e" machine:/root/other
rc=0; m 'cd /root/other && bash setup.sh' >"$work/wrong-os.log" 2>&1 || rc=$?
check "a bundle for $other_os is refused on $os (exit $rc)" bash -c "test '$rc' != 0 && grep -q 'this bundle is for ${other_os/-/ }' '$work/wrong-os.log'"
out=$(m 'find /etc /srv /var/lib/blueprint /usr/sbin -newer /tmp/fresh 2>/dev/null || true')
if [[ -z $out ]]; then pass "fresh host: --check and the refused bundle wrote nothing"; else fail "fresh host: --check and the refused bundle wrote nothing" "$out"; fi

security_accounts_fresh

# First by time (inside the package installation), then right after each step starts: every
# killed run gets one step further, so each step is interrupted in the middle of its first-time work.
# The whole process group is killed (SIGKILL, nothing can clean up); apt's dpkg runs in its own
# session and survives, as it would when an ssh connection drops.
cat >"$work/killat.sh" <<'EOF'
# killat.sh SECONDS | killat.sh STEP DELAY : run setup.sh, SIGKILL its process group
cd /root/bundle || exit 2
rm -f /tmp/killat.log
BLUEPRINT_SKIP_ACME=1 setsid bash setup.sh >/tmp/killat.log 2>&1 &
pid=$!
if [ $# = 1 ]; then
    sleep "$1"
else
    for _ in $(seq 1200); do
        grep -q "^==> $1" /tmp/killat.log && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    sleep "$2"
fi
kill -KILL -- "-$pid" 2>/dev/null && echo "KILLED"
wait "$pid"
cat /tmp/killat.log
EOF
"$machine/scp.sh" "$S" "$work/killat.sh" machine:/root/killat.sh
kills=("3" "12" "packages 0.5" "users 0.05" "secrets 0.05" "database 0.2" "TLS 0.05" "files 0.05" "nginx 0.1"
    "services 0.05" "fail2ban 0.05" "summary 0")
n=0
for k in "${kills[@]}"; do
    n=$((n + 1))
    # A kill inside the sshd step can leave sshd re-executing for a moment: wait for it.
    wait_ssh
    m "bash /root/killat.sh $k" >"$work/kill-$n.log" 2>&1 || true
    last=$(grep '^==>' "$work/kill-$n.log" | tail -n 1 || true) # empty when killed before the first step
    if grep -q '^KILLED' "$work/kill-$n.log"; then
        printf 'info  kill %s (%s): killed during %s\n' "$n" "$k" "${last:-?}"
    else
        printf 'info  kill %s (%s): finished before the kill (last step %s)\n' "$n" "$k" "${last:-?}"
    fi
done
wait_ssh
rc=0
m 'cd /root/bundle && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$work/kill-final.log" 2>&1 || rc=$?
check "after kills, a full run exits 0" test "$rc" = 0
[[ $rc == 0 ]] || tail -n 40 "$work/kill-final.log"
rc=0; m 'cd /root/bundle && bash setup.sh --check' >"$work/kill-check.log" 2>&1 || rc=$?
check "after kills + a full run, --check exits 0" test "$rc" = 0
[[ $rc == 0 ]] || cat "$work/kill-check.log"
rc=0
m 'cd /root/bundle && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$work/kill-rerun.log" 2>&1 || rc=$?
check "after kills, the next run says no changes" grep -qx 'no changes' "$work/kill-rerun.log"
out=$(m systemctl --failed --no-legend --plain 2>&1)
if [[ -z $out ]]; then pass "no failed units after kills"; else fail "no failed units after kills" "$out"; fi
security_accounts_repaired
out=$(m 'ls /usr/sbin/policy-rc.d 2>/dev/null; ls -a /etc/nginx/sites-available /etc/systemd/system /srv/sites/*/shared | grep "\.bp-" || true')
if [[ -z $out ]]; then pass "no leftover policy-rc.d or temp files after kills"; else fail "no leftover policy-rc.d or temp files after kills" "$out"; fi

# --- machines 3 and 4: the shipped example, on Debian 12 and on Ubuntu 24.04 ---------------------
# apply_example LABEL BUNDLE: BUNDLE applied to the booted machine as a user would, before any
# release is deployed; then a release of the static site, the no-change re-run and --check.
apply_example() {
    local label=$1 bundle=$2 rc code env_keys out page
    "$machine/scp.sh" "$S" "$bundle" machine:/root/vps1
    rc=0
    m 'BLUEPRINT_SKIP_ACME=1 bash /root/vps1/setup.sh' >"$work/$label-apply.log" 2>&1 || rc=$?
    check "$label: first apply exits 0" test "$rc" = 0
    [[ $rc == 0 ]] || tail -n 40 "$work/$label-apply.log"
    check "$label: the frontend waits for a release" grep -q '^waiting for a release: chienstreats-frontend' "$work/$label-apply.log"
    check "$label: STRIPE_SECRET_KEY awaits a value" grep -q '^secret awaiting a value: chienstreats: STRIPE_SECRET_KEY' "$work/$label-apply.log"
    env_keys=$(m "grep -v '^#' /srv/sites/chienstreats/shared/.env | sed 's/=.*//' | sort | xargs")
    check "$label: .env holds the generated secrets and the empty operator one ($env_keys)" test "$env_keys" = "DATABASE_URL SESSION_SECRET STRIPE_SECRET_KEY"
    check "$label: SESSION_SECRET is 64 hex characters" m "grep -qE '^SESSION_SECRET=[0-9a-f]{64}$' /srv/sites/chienstreats/shared/.env"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --resolve "chienstreats.com:$HTTP_PORT:127.0.0.1" "http://chienstreats.com:$HTTP_PORT/" || true)
    check "$label: http://chienstreats.com redirects with 308 ($code)" test "$code" = 308
    code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 10 --resolve "chienstreats.com:$HTTPS_PORT:127.0.0.1" "https://chienstreats.com:$HTTPS_PORT/api/v1/" || true)
    check "$label: the disabled API route answers 503 ($code)" test "$code" = 503
    # shellcheck disable=SC2016 # expanded inside the machine, from the site's .env
    check "$label: the site's role logs in with its DATABASE_URL" m \
        'set -a; . /srv/sites/chienstreats/shared/.env; psql "$DATABASE_URL" -Atc "SELECT current_user" | grep -qx chienstreats'
    # A release of the static site, shipped the way the deploy user does: a tarball piped into its
    # one sudo command (the example's admin key is not ours, so the deploy user is reached by runuser).
    mkdir -p "$work/$label-r1/public" && echo "$label: second site r1" >"$work/$label-r1/public/index.html"
    tar -czf "$work/$label-r1.tar.gz" -C "$work/$label-r1" .
    check "$label: the deploy user ships a release with sudo blueprint-deploy" bash -c \
        "$(printf '%q ' "$machine/ssh.sh" "$S") 'runuser -u deploy -- sudo -n /usr/local/sbin/blueprint-deploy secondsite' <$(printf '%q' "$work/$label-r1.tar.gz")"
    page=$(curl -sk --max-time 10 --resolve "second.example.com:$HTTPS_PORT:127.0.0.1" "https://second.example.com:$HTTPS_PORT/" || true)
    check "$label: https://second.example.com serves the release ($page)" test "$page" = "$label: second site r1"
    rc=0
    m 'BLUEPRINT_SKIP_ACME=1 bash /root/vps1/setup.sh' >"$work/$label-rerun.log" 2>&1 || rc=$?
    check "$label: the second run says no changes" grep -qx 'no changes' "$work/$label-rerun.log"
    rc=0; m 'bash /root/vps1/setup.sh --check' >"$work/$label-check.log" 2>&1 || rc=$?
    check "$label: --check exits 0" test "$rc" = 0
    out=$(m systemctl --failed --no-legend --plain 2>&1)
    if [[ -z $out ]]; then pass "$label: no failed units"; else fail "$label: no failed units" "$out"; fi
}

# example_config DIR SED_SCRIPT: DIR/sites.toml, the shipped sites.toml edited by SED_SCRIPT, with the
# admin key it points at beside it.
example_config() {
    mkdir -p "$1/keys"
    cp "$repo/keys/ops.pub" "$1/keys/"
    sed "$2" "$repo/sites.toml" >"$1/sites.toml"
}

# move_ssh LABEL OS: the example for OS with `ssh_port = 2222` applied over it: sshd must then
# listen on 2222 and no longer on 22 (on Ubuntu, where systemd owns sshd's socket, a firewall
# opened for the new port while sshd stayed on 22 would lock the operator out). Last on its
# machine: ssh through the test's forward of port 22 ends here; checks look from outside.
move_ssh() {
    local label=$1 dir=$work/$1-2222 rc
    example_config "$dir" "s/^os = .*/os = \"$2\"/; s/^admin_keys = /ssh_port = 2222\nadmin_keys = /"
    compile "$dir/sites.toml" "$dir/out"
    "$machine/scp.sh" "$S" "$dir/out/vps1" machine:/root/vps1-2222
    rc=0
    m 'BLUEPRINT_SKIP_ACME=1 bash /root/vps1-2222/setup.sh' >"$work/$label-2222.log" 2>&1 || rc=$?
    check "$label: applying ssh_port = 2222 exits 0" test "$rc" = 0
    check "$label: sshd listens on 2222" test -n "$(ip netns exec "$MACHINE_NS" ss -Hltn 'sport = :2222')"
    check "$label: nothing listens on 22 any more" test -z "$(ip netns exec "$MACHINE_NS" ss -Hltn 'sport = :22')"
}

# Both example machines run once, in the Debian pass.
if [[ $os == debian-12 ]]; then
    # Debian 12: the same sites.toml with `os = "debian-12"`.
    example_config "$work/example" 's/^os = "ubuntu-24.04"/os = "debian-12"/'
    check "the example differs only in its os" bash -c "diff '$repo/sites.toml' '$work/example/sites.toml' | grep -c '^[<>]' | grep -qx 2"
    compile "$work/example/sites.toml" "$work/example/out"
    boot example
    apply_example example "$work/example/out/vps1"
    move_ssh example debian-12

    # Ubuntu 24.04, the example's own target: the committed out/vps1, byte for byte. Ubuntu differs
    # where it matters to setup.sh: sshd is socket-activated, nginx is 1.24, PostgreSQL 16, and
    # certbot and fail2ban come from universe.
    boot ubuntu ubuntu-24.04
    check "ubuntu: the machine runs Ubuntu 24.04" m 'grep -qx "VERSION_ID=\"24.04\"" /etc/os-release'
    apply_example ubuntu "$repo/out/vps1"
    move_ssh ubuntu ubuntu-24.04
fi

# --- result -------------------------------------------------------------------------------------
echo
echo "timings ($os): first apply ${time_first}s, no-change re-run ${time_rerun}s, run with offline certbot ${time_acme}s (wall, incl. ssh)"
echo "logs: $work"
echo "e2e ($os): $passed passed, $failed failed"
for f in "${failures[@]}"; do echo "  failed: $f"; done
((failed == 0))
