# shellcheck shell=bash disable=SC2154  # work, machine, S, dssh, … are e2e.sh's
# Attacker and repair scenarios of tests/e2e/e2e.sh, sourced by it (they use its helpers: m, check,
# pass, fail, http, https, compile, $work, $S, $machine, $here, $bundle, $os). Each attack runs as
# the party it models: the deploy user (runuser/ssh as deploy), an app (an endpoint of the stand-in
# server.pl, so inside the real unit's sandbox), or any local user (nobody). Each must fail, and the
# target root must never write (/etc/ld.so.preload) must not exist afterwards.

# no_preload LABEL: /etc/ld.so.preload (what a root write redirected by a planted link would
# create) does not exist on the machine.
no_preload() {
    local out
    out=$(m 'ls -l /etc/ld.so.preload 2>&1' || true)
    if [[ $out == *"No such file"* ]]; then pass "$1: /etc/ld.so.preload does not exist"; else fail "$1: /etc/ld.so.preload does not exist" "$out"; fi
}

# The layout: root owns every directory on the way to what root writes.
security_layout() {
    local st
    st=$(m "stat -c '%a %U %G' /srv/sites/shop /srv/sites/shop/shared /srv/sites/shop/shared/.env /srv/sites/shop/releases /srv/sites/shop/shared/uploads /var/log/nginx/shop /etc/ssh/authorized_keys/deploy" | xargs)
    # (shop's root and releases/ are 0751: nginx traverses them to the files its `paths` serve;
    # shared/ too, to the uploads `uploads_url` serves.)
    check "layout: site root and shared/ root:site 0751, .env root 0600, releases/uploads the site's, nginx logs root:adm, keys root 0644 ($st)" \
        test "$st" = "751 root shop 751 root shop 600 root root 751 shop shop 750 shop shop 755 root adm 644 root root"
    st=$(m "stat -c '%a' /srv/sites/crm /srv/sites/crm/releases /srv/sites/crm/shared" | xargs)
    check "layout: a site nginx reads nothing of is 0750 all the way ($st)" test "$st" = "750 750 750"
    st=$(m 'id -nG www-data')
    check "www-data is in no site's group ($st)" bash -c "[[ ' $st ' != *' shop '* && ' $st ' != *' blog '* && ' $st ' != *' docs '* && ' $st ' != *' crm '* ]]"
    st=$(m 'find /home/deploy -user root 2>/dev/null | head -n 3')
    check "nothing under the deploy user's home belongs to root ($st)" test -z "$st"
}

# §3/§4: an app plants symlinks where nginx's master once opened its logs, then nginx is reloaded
# by the deploy user and the logs are rotated: nothing lands outside the site, and nginx writes
# into the new log after the rotation.
security_app_plants_logs() {
    local b st i marker found=0
    b=$(http crm.test /plant || true)
    check "app attack: the planted link in shared/logs leads nowhere root looks ($b)" grep -q '^shared-logs=planted$' <<<"$b"
    check "app attack: nginx's log directory is not writable from the unit" grep -q '^nginx-logs=denied$' <<<"$b"
    check "app attack: nginx's logs cannot be renamed from the unit" grep -q '^nginx-logs-rename=denied$' <<<"$b"
    check "app attack: the root-owned shared/ refuses a swapped .env" grep -q '^env-rename=denied$' <<<"$b"
    check "app attack: the root-owned shared/ refuses a planted link" grep -q '^shared-symlink=denied$' <<<"$b"
    check "deploy user may reload nginx (what the attack needs)" \
        m 'runuser -u deploy -- sudo -n /usr/bin/systemctl reload nginx.service'
    m 'logrotate -f /etc/logrotate.d/blueprint-crm' >/dev/null 2>&1 || true
    st=$(m 'ls /var/log/nginx/crm | xargs')
    check "logrotate rotated crm's nginx logs ($st)" grep -q 'access.log.1' <<<"$st"
    # nginx reopens its logs after USR1 (asynchronously): the request that lands in the new
    # access.log must come, or the workers could not reopen it (they log into .1 forever).
    for i in $(seq 20); do
        marker=/after-rotation-$i
        http crm.test "$marker" >/dev/null || true
        if m "grep -q '$marker' /var/log/nginx/crm/access.log"; then found=1; break; fi
        sleep 0.5
    done
    check "after rotation nginx logs into the new access.log" test "$found" = 1
    no_preload "after the app's plant, a reload and a rotation"
    st=$(m "stat -c '%U %G' /var/log/nginx/crm/access.log")
    check "the new access.log belongs to nginx's workers ($st)" test "$st" = "www-data adm"
}

# §5 port takeover: crm's app listens on shop-web's port while shop-web is down. The kernel
# drops the handshake reply of a listener that is not shop's (ports.nft), so neither nginx nor a
# direct connection reaches the squatter; without the ruleset the squatter answers, which is
# what the check would see if the protection were missing.
security_port_squat() {
    local port standby b rc
    # (" PORT=": UVICORN_PORT and the like carry the same number.)
    port=$(m 'systemctl show -p Environment shop-web.service' | sed -n 's/.* PORT=\([0-9]*\).*/\1/p')
    m 'systemctl stop shop-web.service'
    b=$(http crm.test "/squat?port=$port" || true)
    check "app attack: crm's app can listen on shop-web's port $port while it is down ($b)" grep -q "^squat $port=listening" <<<"$b"
    rc=0; b=$(m "curl -s --max-time 3 http://127.0.0.1:$port/") || rc=$?
    check "a connection to shop's port never reaches crm's listener (curl exit $rc: $b)" test "$rc" = 28
    b=$(https shop.test /squatted -H 'Cookie: session=victim' || true)
    check "shop's visitors never reach crm's listener through nginx ($b)" bash -c "! grep -q squatted <<<'$b'"
    # The standby port, where nginx sends shop-web's requests while it restarts during a deploy,
    # is shop's the same way.
    standby=$(m "sed -n '/^upstream shop_web /,/^}/s/.*server 127.0.0.1:\([0-9]*\) backup.*/\1/p' /etc/nginx/sites-available/shop.conf")
    b=$(http crm.test "/squat?port=$standby" || true)
    check "app attack: crm's app can listen on shop-web's standby port '$standby' too ($b)" grep -q "^squat $standby=listening" <<<"$b"
    rc=0; b=$(m "curl -s --max-time 3 http://127.0.0.1:$standby/") || rc=$?
    check "a connection to shop's standby port never reaches crm's listener (curl exit $rc: $b)" test "$rc" = 28
    # The same without the ruleset: the squatter answers (the checks above can fail).
    m 'nft delete table inet blueprint_ports'
    b=$(m "curl -s --max-time 3 http://127.0.0.1:$port/; curl -s --max-time 3 http://127.0.0.1:$standby/" || true)
    check "without ports.nft the squatters answer (the attack is real: $(xargs <<<"$b"))" test "$(xargs <<<"$b")" = "squatted by crm squatted by crm"
    m "curl -s --max-time 3 http://127.0.0.1:$port/squat-end >/dev/null; curl -s --max-time 3 http://127.0.0.1:$standby/squat-end >/dev/null" || true
    m 'systemctl restart blueprint-ports.service && systemctl start shop-web.service'
    # Until shop-web listens again (a bounded wait for the condition, not for a time).
    for _ in $(seq 50); do
        b=$(https shop.test /back || true)
        [[ $b == "service=web user=shop path=/back" ]] && break
        sleep 0.2
    done
    check "shop serves again after the squatter left ($b)" test "$b" = "service=web user=shop path=/back"
}

# Proxy headers: the client's X-Forwarded-For is not passed on, only a WebSocket upgrade is.
security_proxy_headers() {
    local b
    b=$(http crm.test /headers -H 'X-Forwarded-For: 6.6.6.6' -H 'Upgrade: h2c' -H 'Connection: Upgrade, HTTP2-Settings' || true)
    check "a forged X-Forwarded-For does not reach the app ($(grep x-forwarded-for <<<"$b"))" bash -c "! grep -q 6.6.6.6 <<<'$b' && grep -q '^x-forwarded-for=[0-9]' <<<'$b'"
    check "Upgrade: h2c is not forwarded ($(grep '^upgrade' <<<"$b"))" grep -q '^upgrade=-$' <<<"$b"
    b=$(http crm.test /headers -H 'Upgrade: websocket' -H 'Connection: Upgrade' || true)
    check "Upgrade: websocket is forwarded ($(grep '^upgrade' <<<"$b" | xargs))" bash -c "grep -q '^upgrade=websocket\$' <<<'$b' && grep -qi '^connection=upgrade\$' <<<'$b'"
}

# Static sites: no dotfiles (but /.well-known/), no symlink to a file of another owner.
security_static() {
    # shellcheck disable=SC2016  # expanded on the machine
    m 'set -e; r=/srv/sites/blog/releases/r1/public
       runuser -u blog -- sh -c "umask 022; echo SECRET >$r/.env; mkdir -p $r/.well-known; echo contact >$r/.well-known/security.txt; ln -sfn /etc/hostname $r/leak.txt"'
    check "static: a dotfile answers 404" test "$(code_http blog.test /.env)" = 404
    check "static: /.well-known/ is served" test "$(http blog.test /.well-known/security.txt)" = contact
    check "static: a symlink to a file of another owner is refused (403)" test "$(code_http blog.test /leak.txt)" = 403
}

# §2: the deploy user races setup.sh's key update with links to /etc/ld.so.preload planted in
# its own ~/.ssh, where root wrote before. The keys now live in a root-owned file.
security_deploy_user_race() {
    local dir=$work/keys2 rc out
    check "the deploy user cannot write its keys file" bash -c "! $(printf '%q ' "$machine/ssh.sh" "$S") 'runuser -u deploy -- sh -c \"echo x >>/etc/ssh/authorized_keys/deploy\"' 2>/dev/null"
    # The same host with a second admin key, so setup.sh has the keys to rewrite.
    ssh-keygen -q -t ed25519 -N '' -C e2e-second -f "$work/second"
    mkdir -p "$dir"
    sed "s|^admin_keys = .*|admin_keys = [\"\${BLUEPRINT_E2E_KEY}\", \"$work/second.pub\"]|" "$work/config/sites.toml" >"$dir/sites.toml"
    compile "$dir/sites.toml" "$dir/out"
    "$machine/scp.sh" "$S" "$dir/out/e2e" machine:/root/keys2
    # The racer: every regular file that appears in ~/.ssh (where root once put its temp file)
    # is swapped for a link to /etc/ld.so.preload, for two minutes. A file, not bash -c:
    # systemd-run would expand its $ variables.
    m 'cat >/tmp/race.sh && chmod 0644 /tmp/race.sh' <<'RACE'
end=$((SECONDS + 120))
while ((SECONDS < end)); do
    for f in "$HOME"/.ssh/.[!.]* "$HOME"/.ssh/*; do
        [[ -e $f && ! -L $f ]] && ln -sfn /etc/ld.so.preload "$f"
    done
done
RACE
    # shellcheck disable=SC2016  # expanded on the machine
    m 'runuser -u deploy -- bash -c "mkdir -p ~/.ssh && ln -sfn /etc/ld.so.preload ~/.ssh/authorized_keys"
       systemd-run --quiet --unit=e2e-race --uid=deploy bash /tmp/race.sh'
    rc=0
    m 'cd /root/keys2 && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$work/keys2.log" 2>&1 || rc=$?
    m 'systemctl stop e2e-race.service' >/dev/null 2>&1 || true
    check "apply with a new admin key while the deploy user races it exits 0" test "$rc" = 0
    [[ $rc == 0 ]] || tail -n 30 "$work/keys2.log"
    check "the new keys file went live" bash -c "grep -q '/etc/ssh/authorized_keys/deploy' '$work/keys2.log'"
    no_preload "after the deploy user's race"
    out=$(ssh -i "$work/second" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
        -o BatchMode=yes -o IdentitiesOnly=yes -p "$SSH_PORT" deploy@127.0.0.1 id -un 2>&1 || true)
    check "the deploy user logs in with the new key ($out)" test "$out" = deploy
    # Back to the bundle under test (one key): the second key stops working.
    m 'cd /root/bundle && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >/dev/null 2>&1 || true
    rc=0
    ssh -i "$work/second" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
        -o BatchMode=yes -o IdentitiesOnly=yes -p "$SSH_PORT" deploy@127.0.0.1 true 2>/dev/null || rc=$?
    check "a key removed from sites.toml no longer logs in (ssh exit $rc)" test "$rc" = 255
}

# §6: the lock is root's; a held lock makes setup.sh give up with a message after its wait.
security_lock() {
    local rc=0 out
    out=$(m 'runuser -u nobody -- sh -c "exec 9>>/var/lib/blueprint/state/lock" 2>&1' || true)
    check "a local user cannot open setup.sh's lock ($out)" grep -q 'Permission denied' <<<"$out"
    # This shell holds the lock on its own descriptor; setup.sh opens the file anew and waits.
    m 'cd /root/bundle && exec 9>>/var/lib/blueprint/state/lock && flock 9 && BLUEPRINT_LOCK_WAIT=1 bash setup.sh' >"$work/lock.log" 2>&1 || rc=$?
    check "a held lock: setup.sh gives up after BLUEPRINT_LOCK_WAIT with a message (exit $rc)" bash -c \
        "test '$rc' = 1 && grep -q 'still holds /var/lib/blueprint/state/lock' '$work/lock.log'"
}

# §6: SHA256SUMS must list exactly the files present.
security_manifest() {
    local rc
    # shellcheck disable=SC2016  # expanded on the machine
    m 'set -e; rm -rf /root/unlisted; cp -a /root/bundle /root/unlisted; cd /root/unlisted
       sed -i "/  plan.sh\$/d" SHA256SUMS; echo "BP_FIREWALL=0" >>plan.sh'
    rc=0; m 'cd /root/unlisted && bash setup.sh' >"$work/unlisted.log" 2>&1 || rc=$?
    check "a file dropped from SHA256SUMS and edited is refused (exit $rc)" bash -c "test '$rc' = 2 && grep -q 'not listed: plan.sh' '$work/unlisted.log'"
    m 'rm -rf /root/extra; cp -a /root/bundle /root/extra; touch /root/extra/files/etc/evil'
    rc=0; m 'cd /root/extra && bash setup.sh' >"$work/extra.log" 2>&1 || rc=$?
    check "an extra file in the bundle is refused (exit $rc)" bash -c "test '$rc' = 2 && grep -q 'not listed: files/etc/evil' '$work/extra.log'"
}

# Half-done states a killed run can leave, made directly, each repaired by one run.
security_half_done_repaired() {
    local rc log=$work/half.log st
    # shellcheck disable=SC2016  # expanded on the machine
    m 'set -e
       echo junk >/etc/nginx/sites-available/.shop.conf.bp-AbC123
       echo junk >/etc/systemd/system/.crm-app.service.bp-XyZ789
       touch /var/lib/blueprint/state/pending/restart-crm-app
       echo junk >/srv/sites/shop/shared/..env.bp-QwE456
       # A .env cut short: one line kept, no newline at its end.
       grep "^PAYMENT_KEY=" /srv/sites/shop/shared/.env | tr -d "\n" >/tmp/env && cat /tmp/env >/srv/sites/shop/shared/.env'
    rc=0; m 'cd /root/bundle && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$log" 2>&1 || rc=$?
    check "half-done states: one run exits 0" test "$rc" = 0
    [[ $rc == 0 ]] || tail -n 30 "$log"
    st=$(m 'ls -a /etc/nginx/sites-available /etc/systemd/system /srv/sites/shop/shared | grep -c "\.bp-"' || true)
    check "half-done states: temp files beside live files are gone ($st left)" test "$st" = 0
    check "half-done states: a pending restart without its change is carried out" bash -c "grep -q '^restarted: .*crm-app' '$log' && $(printf '%q ' "$machine/ssh.sh" "$S") test ! -e /var/lib/blueprint/state/pending/restart-crm-app"
    st=$(m "sed 's/=.*//' /srv/sites/shop/shared/.env | grep -v '^#' | sort | xargs; tail -c 1 /srv/sites/shop/shared/.env | od -An -tx1" | xargs)
    check "half-done states: the cut .env is completed and ends in a newline ($st)" test "$st" = 'DATABASE_URL PAYMENT_KEY SESSION_SECRET 0a'
    check "half-done states: the operator's value is kept" m "grep -qx 'PAYMENT_KEY=filled-by-operator' /srv/sites/shop/shared/.env"
    sleep 2
    b=$(https shop.test /db || true)
    check "half-done states: shop reaches its database with the new password ($b)" grep -q '^db=shop@shop$' <<<"$b"
    rc=0; m 'cd /root/bundle && bash setup.sh --check' >/dev/null 2>&1 || rc=$?
    check "half-done states: --check exits 0 afterwards" test "$rc" = 0
}

# blueprint-deploy: rollback walks back through history, never to a .partial; a bomb is refused.
security_deploy_history() {
    local r rc cur
    for r in r3 r4; do
        mkdir -p "$work/$r/public" && echo "blog release $r" >"$work/$r/public/index.html"
        tar -czf "$work/$r.tar.gz" -C "$work/$r" .
        sleep 1.1 # release names are UTC seconds
        check "deploy user ships blog $r" bash -c "$(printf '%q ' "${dssh[@]}") sudo -n /usr/local/sbin/blueprint-deploy blog <$(printf '%q' "$work/$r.tar.gz")"
    done
    check "blog serves r4" test "$(http blog.test /)" = "blog release r4"
    out=$("${dssh[@]}" sudo -n /usr/local/sbin/blueprint-deploy blog --list 2>&1 || true)
    # shellcheck disable=SC2016  # expanded on the machine
    cur=$(m 'basename "$(readlink /srv/sites/blog/current)"')
    check "--list marks the current release, and only it ($cur)" bash -c "test \"\$(grep '^[*] ' <<<'$out')\" = '* $cur'"
    m 'runuser -u blog -- mkdir /srv/sites/blog/releases/99999999_999999.partial'
    check "rollback 1" "${dssh[@]}" sudo -n /usr/local/sbin/blueprint-deploy blog --rollback
    check "after one rollback blog serves r3 (not the .partial)" test "$(http blog.test /)" = "blog release r3"
    check "rollback 2" "${dssh[@]}" sudo -n /usr/local/sbin/blueprint-deploy blog --rollback
    b=$(http blog.test / || true)
    # (r2 was rolled back earlier, so the history before r3 holds r1.)
    check "after two rollbacks blog serves the release before r3 in its history ($b)" test "$b" = "blog release r1"
    echo 'not a tarball' >"$work/broken.tar.gz"
    rc=0; "${dssh[@]}" sudo -n /usr/local/sbin/blueprint-deploy blog <"$work/broken.tar.gz" >/dev/null 2>&1 || rc=$?
    st=$(m 'ls /srv/sites/blog/releases | grep -c "\.partial$"' || true)
    check "a broken tarball is refused (exit $rc) and leaves only the planted .partial ($st)" test "$rc/$st" = "2/1"
    # 4.1 GB of zeros in a few MB: refused before anything is unpacked.
    truncate -s 4100M "$work/zeros"
    tar -cf - -C "$work" zeros | gzip -1 >"$work/bomb.tar.gz"
    rm -f "$work/zeros"
    rc=0; out=$("${dssh[@]}" sudo -n /usr/local/sbin/blueprint-deploy blog <"$work/bomb.tar.gz" 2>&1) || rc=$?
    check "a release that unpacks past 4 GiB is refused (exit $rc: $out)" bash -c "test '$rc' = 2 && grep -q 'the release unpacks to 4299161600 bytes, more than 4294967296' <<<'$out'"
    check "blog still serves r1 after the refusals" test "$(http blog.test /)" = "blog release r1"
    # One deploy per site at a time: while this shell holds blog's lock, a deploy gives up.
    rc=0
    # shellcheck disable=SC2016  # expanded on the machine
    out=$(m 'exec 9>>/var/lib/blueprint/deploy/blog.lock && flock 9 && BLUEPRINT_DEPLOY_LOCK_WAIT=1 /usr/local/sbin/blueprint-deploy blog --rollback' 2>&1) || rc=$?
    check "a second deploy of the same site waits for the first, then gives up (exit $rc: $out)" bash -c \
        "test '$rc' = 2 && grep -q 'another deploy of blog is still running' <<<'$out'"
    check "blog still serves r1 after the refused rollback" test "$(http blog.test /)" = "blog release r1"
}

# §6 accounts and §1 half-done useradd, on a fresh machine before the first apply.
security_accounts_fresh() {
    local rc out
    m 'useradd --create-home --shell /bin/bash blog && touch /tmp/before-foreign && sleep 1'
    rc=0; m 'cd /root/bundle && BLUEPRINT_SKIP_ACME=1 bash setup.sh' >"$work/foreign.log" 2>&1 || rc=$?
    check "an existing account not made by blueprint is refused (exit $rc)" bash -c "test '$rc' = 1 && grep -q 'account(s) blog already exist' '$work/foreign.log'"
    # shellcheck disable=SC2016  # expanded on the machine
    out=$(m 'test -e /srv/sites && echo srv; dpkg-query -W -f="\${Status}" nginx 2>/dev/null | grep -q installed && echo nginx; true')
    check "the refusal changed nothing (no /srv/sites, no nginx)" test -z "$out"
    m 'userdel -r blog 2>/dev/null; true'
    # What a SIGKILL inside `useradd --user-group` leaves: a user without its group (shop), and a
    # group without its user (crm).
    m 'useradd --system --no-user-group --gid nogroup --home-dir /srv/sites/shop --no-create-home --shell /usr/sbin/nologin shop && groupadd --system crm'
}

security_accounts_repaired() {
    local st
    st=$(m 'id -gn shop; getent group shop >/dev/null && echo group-shop; id -gn crm; id -un crm' | xargs)
    check "half-done accounts repaired: shop has its group, crm its user ($st)" test "$st" = "shop group-shop crm crm"
}
