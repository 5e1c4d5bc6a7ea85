# shellcheck shell=bash disable=SC2154  # work, machine, here, bundle, os, … are e2e.sh's
# Machine 2: --check and a wrong-OS bundle on a fresh host, foreign and half-made accounts,
# then setup.sh killed inside every step; one run must converge.
# Sourced by tests/e2e/e2e.sh, which runs it as `scenario_kills` (E2E_SCENARIOS selects which).
# (The body is not indented: it holds here-documents.)

scenario_kills() {
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
}
