# shellcheck shell=bash disable=SC2154  # work, machine, here, bundle, os, … are e2e.sh's
# Machines 3 and 4 (Debian pass only): the shipped example applied as a user would, on Debian 12
# and, byte for byte from out/vps1, on Ubuntu 24.04; then ssh_port moved on both.
# Sourced by tests/e2e/e2e.sh, which runs it as `scenario_example` (E2E_SCENARIOS selects which).
# (The body is not indented: it holds here-documents.)

scenario_example() {
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
}
