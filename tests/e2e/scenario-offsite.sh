# shellcheck shell=bash disable=SC2154  # work, machine, here, os, … are e2e.sh's
# Machine 4: the off-host copy over sftp, to a real ssh server. The fixture's `offsite` is a
# local repository (scenario-apply.sh tests it); this variant copies to
# `sftp://offsite@127.0.0.1:2222//srv/offsite/repo`: a second sshd on the machine, with a user of
# its own that knows only the key setup.sh printed, stands in for the backup host (the machine
# reaches no other). It proves the generated ssh command line from inside the copy's sandbox,
# the target's host key learnt and then pinned, and the way back from the repository.
# Sourced by tests/e2e/e2e.sh, which runs it as `scenario_offsite`.

scenario_offsite() {
local rc key out st before
sed 's|^offsite = .*|offsite = "sftp://offsite@127.0.0.1:2222//srv/offsite/repo"|' \
    "$work/config/sites.toml" >"$work/sftp.toml"
check "sftp variant: the fixture with only its offsite target changed" bash -c \
    "diff '$work/config/sites.toml' '$work/sftp.toml' | grep -c '^[<>]' | grep -qx 2"
compile "$work/sftp.toml" "$work/out-sftp"
boot sftp
"$machine/scp.sh" "$S" "$work/out-sftp/e2e" machine:/root/bundle
rc=0; m 'cd /root/bundle && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$work/sftp-apply.log" 2>&1 || rc=$?
check "sftp: apply exits 0" test "$rc" = 0
key=$(sed -n 's/^offsite: no backup has reached .*: \(ssh-ed25519 [A-Za-z0-9+/=]* blueprint-backup@e2e\)$/\1/p' "$work/sftp-apply.log")
check "sftp: the summary prints the copy's public key to let in at the target (${key:0:40}…)" test -n "$key"

# The backup host: its own user (no password, not locked: sshd refuses a locked account),
# which lets in the key the summary printed, behind a second sshd that allows it alone.
m 'set -e
    useradd -m -s /bin/sh offsite
    usermod -p "*" offsite
    install -d -o offsite -g offsite -m 0700 /home/offsite/.ssh /srv/offsite
    install -d -m 0700 /root/sshd2
    ssh-keygen -q -t ed25519 -N "" -f /root/sshd2/host
    printf "%s\n" "Port 2222" "ListenAddress 127.0.0.1" "HostKey /root/sshd2/host" "PidFile /root/sshd2/pid" \
        "AuthorizedKeysFile .ssh/authorized_keys" "PasswordAuthentication no" "AllowUsers offsite" \
        "Subsystem sftp internal-sftp" >/root/sshd2/config
    mkdir -p /run/sshd
    /usr/sbin/sshd -f /root/sshd2/config -E /root/sshd2/log'
printf '%s\n' "$key" | m 'cat >/home/offsite/.ssh/authorized_keys && chown offsite:offsite /home/offsite/.ssh/authorized_keys'

# The timer's service backs blog up; once verified, the copy unit sends it over sftp.
# (The copy unit runs after the backup unit, which OnSuccess= starts: a run is recognised by its
# new invocation ID, and waited for until it ends.)
invocation() { m "systemctl show -p InvocationID --value blueprint-backup-offsite@$1.service"; }
copied() { # copied SITE ID_BEFORE: the result of the site's next copy run (waits at most ~60 s)
    local _ id state
    for _ in $(seq 120); do
        id=$(invocation "$1")
        state=$(m "systemctl show -p ActiveState --value blueprint-backup-offsite@$1.service")
        [[ $id == "$2" || $state == activating || $state == deactivating ]] || break
        sleep 0.5
    done
    m "systemctl show -p Result --value blueprint-backup-offsite@$1.service"
}
before=$(invocation blog)
rc=0; m 'systemctl start blueprint-backup-blog.service' || rc=$?
st=$(copied blog "$before")
out=$(m 'blueprint-backup blog --offsite-list; stat -c "%U" /srv/offsite/repo/config; grep -c "^\[127.0.0.1\]:2222 ssh-ed25519 " /var/lib/blueprint-backup/known_hosts' 2>&1 || true)
check "sftp: the backup is copied over sftp by the copy unit ($rc, $st), into the target user's repository, its host key learnt" bash -c "
    test '$rc/$st' = 0/success && grep -q '^1 snapshots' <<<\"\$1\" && grep -qx offsite <<<\"\$1\" && grep -qx 1 <<<\"\$1\"" _ "$out"
[[ $st == success ]] || m 'journalctl -q --no-pager -u "blueprint-backup-offsite@blog.service" | tail -n 15; tail -n 5 /root/sshd2/log' || true

# The way back (a rebuilt host): the local backup gone, fetched from the repository, verified.
rc=0
out=$(m 'rm -rf /var/backups/blueprint/blog/* && blueprint-backup blog --offsite-restore latest && blueprint-backup blog --list' 2>&1) || rc=$?
check "sftp: --offsite-restore latest fetches the backup back over sftp, verified (exit $rc)" bash -c "
    test $rc = 0 && grep -q 'fetched from sftp:offsite@127.0.0.1' <<<\"\$1\" && grep -q 'verified' <<<\"\$1\"" _ "$out"

# The target's host key is pinned: a target answering with another key gets no backup.
# shellcheck disable=SC2016 # expanded on the machine
m 'ssh-keygen -q -t ed25519 -N "" -f /root/sshd2/host2 && sed -i "s|^HostKey .*|HostKey /root/sshd2/host2|" /root/sshd2/config &&
    pid=$(cat /root/sshd2/pid) && kill "$pid" && while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done &&
    /usr/sbin/sshd -f /root/sshd2/config -E /root/sshd2/log'
before=$(invocation blog)
rc=0; m 'systemctl start blueprint-backup-blog.service' || rc=$?
st=$(copied blog "$before")
out=$(m 'journalctl -q --no-pager -u blueprint-backup-offsite@blog.service | tail -n 20; blueprint-backup blog --list' 2>&1 || true)
check "sftp: a target with another host key gets no backup (backup $rc, copy $st), the local one still verified" bash -c "
    test '$rc/$st' = 0/exit-code && grep -qi 'host key' <<<\"\$1\" && grep -q 'off-host copy FAILED' <<<\"\$1\"" _ "$out"
m 'systemctl reset-failed "blueprint-backup-offsite@*"' || true
}
