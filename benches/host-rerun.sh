#!/usr/bin/env bash
# The host side at scale: how long setup.sh takes when there is nothing to do, timed inside a
# fresh machine (tests/machine/, no ssh in the measurement), median of RUNS runs.
#
#   sudo bash benches/host-rerun.sh [SITES] [RUNS]     # default: 50 sites, 5 runs
#   sudo bash benches/host-rerun.sh example [RUNS]     # the shipped example (on Ubuntu 24.04)
#
# A generated host has SITES sites, each with two domains (ACME, so a placeholder certificate),
# a PostgreSQL database, env, a secret and a generated secret, and one service with a route, a
# rate limit and a health probe, running the e2e stand-in release, so every step of setup.sh has
# work to check. Prints the first apply and each re-run; exits 1 if a re-run changed anything.
set -euo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
repo=$(cd "$here/.." && pwd)
machine=$repo/tests/machine
[[ $(id -u) == 0 ]] || { echo "host-rerun.sh: must run as root (boots a machine)" >&2; exit 2; }
sites=${1:-50}
runs=${2:-5}

work=$(mktemp -d /tmp/bp-bench.XXXXXX)
S=$work/machine
trap '"$machine/stop.sh" "$S" >/dev/null 2>&1 || true' EXIT
m() { "$machine/ssh.sh" "$S" "$@"; }

ssh-keygen -q -t ed25519 -N '' -C bench -f "$work/admin"
os=debian-12
if [[ $sites == example ]]; then
    os=ubuntu-24.04
    bundle=$repo/out/vps1
else
    {
        printf '[host]\nname = "bench"\nos = "debian-12"\nacme_email = "ops@example.com"\n'
        printf 'admin_keys = ["%s"]\n' "$work/admin.pub"
        for ((i = 1; i <= sites; i++)); do
            printf '\n[sites.site%03d]\ndomains = ["site%03d.test", "www.site%03d.test"]\nslot = %d\n' "$i" "$i" "$i" "$i"
            printf 'database = "postgres"\nenv = { LOG_LEVEL = "info" }\nsecrets = ["API_KEY"]\ngenerated_secrets = ["SESSION_SECRET"]\n'
            printf '\n[sites.site%03d.services.web]\nrun = "/usr/bin/perl server.pl web"\nroute = "/"\n' "$i"
            printf 'rate_limit = { rate = "30r/s", burst = 50 }\nhealth = "/healthz"\n'
        done
    } >"$work/sites.toml"
    (cd "$repo" && cargo run -q --release -- build --config "$work/sites.toml" --out "$work/out") >&2
    bundle=$work/out/bench
fi

BPM_OS=$os "$machine/boot.sh" "$S" >&2
"$machine/scp.sh" "$S" "$bundle" machine:/root/bundle
# Times one run of setup.sh inside the machine, in milliseconds; its output in /tmp/run.log.
# shellcheck disable=SC2016  # expanded on the machine
timed() { m 'cd /root/bundle && s=$EPOCHREALTIME; BLUEPRINT_SKIP_ACME=1 bash setup.sh >/tmp/run.log 2>&1; r=$?; e=$EPOCHREALTIME; echo $(( (${e/./} - ${s/./}) / 1000 )); exit $r'; }
first=$(timed)
if [[ $sites != example ]]; then
    # A release for every site, so the services run and the probes answer.
    "$machine/scp.sh" "$S" "$repo/tests/e2e/server.pl" machine:/root/server.pl
    # shellcheck disable=SC2016  # expanded on the machine
    m 'for d in /srv/sites/site*; do s=${d##*/}
         install -d -o $s -g $s -m 0750 $d/releases/r1 && install -o $s -g $s -m 0640 /root/server.pl $d/releases/r1/
         ln -sfn releases/r1 $d/current; done'
    timed >/dev/null
fi
times=()
for ((i = 0; i < runs; i++)); do
    times+=("$(timed)")
    m 'grep -qx "no changes" /tmp/run.log' || { m 'tail -n 20 /tmp/run.log' >&2; echo "host-rerun.sh: run $i changed something" >&2; exit 1; }
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p")
echo "steps of the last re-run (each step's line, then the time it took):"
m "grep -E '^==> |^    \([0-9.]+ s\)$' /tmp/run.log" | paste -d' ' - - | sed 's/^/  /'
echo "host ${sites} ($os): first apply ${first} ms; no-change re-runs ${times[*]} ms; median ${median} ms"
