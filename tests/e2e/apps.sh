#!/usr/bin/env bash
# Real apps under the units blueprint generates, on fresh machines (tests/machine/):
#
#   sudo tests/e2e/apps.sh                               (both OSes, one machine at a time)
#   sudo APPS_OS=ubuntu-24.04 tests/e2e/apps.sh          (one OS)
#
# Builds, once, on this machine and from the registries, four apps into release tarballs
# (tests/e2e/apps/: FastAPI + PostgreSQL, SQLite under STATE_DIRECTORY, a Go binary, Next.js 15
# standalone with ISR); then, for each OS, builds tests/e2e/apps.toml into a bundle, applies it
# to a fresh machine, ships every release with `blueprint-deploy` as the deploy user and checks
# each app through nginx from outside, its journal (no permission or read-only errors) and its
# listening sockets (127.0.0.1 only). Prints PASS/FAIL per check and `apps (OS): N passed, M
# failed` per OS; exits 1 if any check failed.
#
# Downloads (pip, npm, Go build cache) are cached in APPS_CACHE (default
# /var/tmp/blueprint-apps); everything else lives in a temporary directory. APPS_KEEP=1 leaves
# the last machine running.
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
repo=$(cd "$here/../.." && pwd)
machine=$repo/tests/machine
apps=$here/apps
[[ $(id -u) == 0 ]] || { echo "apps.sh: must run as root (boots machines)" >&2; exit 2; }
read -r -a oses <<<"${APPS_OS:-debian-12 ubuntu-24.04}"
for os in "${oses[@]}"; do
    case $os in debian-12 | ubuntu-24.04) ;; *) echo "apps.sh: unknown OS '$os' in APPS_OS" >&2; exit 2 ;; esac
done
cache=${APPS_CACHE:-/var/tmp/blueprint-apps}
mkdir -p "$cache"
work=$(mktemp -d /tmp/bp-apps.XXXXXX)
S=
teardown() {
    if [[ -n $S && -f $S/state.env ]]; then
        if [[ ${APPS_KEEP:-0} == 1 ]]; then
            echo "apps: APPS_KEEP=1, machine left running: $S" >&2
        else
            "$machine/stop.sh" "$S" >/dev/null 2>&1 || true
        fi
    fi
}
trap teardown EXIT
trap 'exit 130' INT TERM

total_failed=0
# shellcheck source=tests/e2e/harness.sh
. "$here/harness.sh"
# expect NAME GOT PATTERN: pass when GOT matches the extended regex PATTERN (GOT shown on failure)
expect() { if grep -qE -- "$3" <<<"$2"; then pass "$1"; else fail "$1" "got: $2"; fi; }
m() { "$machine/ssh.sh" "$S" "$@"; }
now() { date +%s; }

# --- build the apps (once, for every OS) ------------------------------------------------------
# Each build_* writes $work/<app>[-<python>].tar.gz: the release, as `tar -C build .`.
build_fastapi() { # build_fastapi PYTHON_VERSION (the machine's: 3.11 on Debian 12, 3.12 on Ubuntu 24.04)
    local py=$1
    local dir=$work/build/fastapi-$py
    mkdir -p "$dir"
    cp "$apps/fastapi/main.py" "$dir/"
    # Wheels for the machine's Python, not the runner's: no compiler, no build path in the result.
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
        --no-warn-script-location --no-warn-conflicts \
        --cache-dir "$cache/pip" --target "$dir/vendor" --implementation cp \
        --python-version "$py" --only-binary=:all: --platform manylinux2014_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
        -r "$apps/fastapi/requirements.txt"
    tar -czf "$work/fastapi-$py.tar.gz" -C "$dir" .
}
build_notes() {
    mkdir -p "$work/build/notes"
    cp "$apps/notes/app.py" "$work/build/notes/"
    tar -czf "$work/notes.tar.gz" -C "$work/build/notes" .
}
build_go() {
    local dir=$work/build/goapp
    mkdir -p "$dir"
    cp -r "$apps/goapp" "$work/build/goapp-src"
    # Static (no cgo), no module downloads, no build paths: runs on either OS.
    (cd "$work/build/goapp-src" && CGO_ENABLED=0 GOPROXY=off GOFLAGS=-mod=mod \
        GOCACHE="$cache/go-build" GOPATH="$cache/gopath" go build -trimpath -o "$dir/server" .)
    tar -czf "$work/goapp.tar.gz" -C "$dir" .
}
build_next() {
    local src=$work/build/next-src
    cp -r "$apps/next" "$src"
    (
        cd "$src"
        export NEXT_TELEMETRY_DISABLED=1
        npm ci --cache "$cache/npm" --no-audit --no-fund --loglevel=error
        npx --no-install next build >"$work/next-build.log" 2>&1 || { cat "$work/next-build.log" >&2; exit 1; }
        # The standalone server serves the client assets from .next/static, which `next build`
        # leaves beside it (a CDN's job in Vercel's layout).
        cp -r .next/static .next/standalone/.next/static
    )
    tar -czf "$work/next.tar.gz" -C "$src/.next/standalone" .
}

python_of() { case $1 in debian-12) echo 3.11 ;; ubuntu-24.04) echo 3.12 ;; esac; }

# build NAME FUNCTION [ARGS...]: runs one build in its own bash with -e in force (a function
# called as `f || …` would run with -e ignored and carry on past a failed step).
build() {
    local name=$1
    shift
    if ! bash -euo pipefail -c '"$@"' build "$@"; then
        echo "apps: building $name failed" >&2
        build_failed+=("$name")
    fi
}
export work cache apps
export -f build_fastapi build_notes build_go build_next

t=$(now)
echo "apps: building the apps in $work (caches in $cache)" >&2
build_failed=()
build notes build_notes
build go build_go
build next build_next
for os in "${oses[@]}"; do
    py=$(python_of "$os")
    [[ -f $work/fastapi-$py.tar.gz ]] || build "fastapi-$py" build_fastapi "$py"
done
echo "apps: built in $(($(now) - t)) s: $(cd "$work" && echo *.tar.gz)" >&2
# The tarballs are all the passes need; the build trees (node_modules alone is ~300 MB) go.
rm -rf -- "$work/build"

ssh-keygen -q -t ed25519 -N '' -C apps-admin -f "$work/admin"
export BLUEPRINT_E2E_KEY=$work/admin.pub

# --- one pass per OS --------------------------------------------------------------------------
# deploy SITE TARBALL: ships the release as the deploy user would (the admin key is not the
# machine's root key, so the deploy user is reached with runuser inside it).
deploy() {
    "$machine/ssh.sh" "$S" "runuser -u deploy -- sudo -n /usr/local/sbin/blueprint-deploy $1" <"$2"
}
# get HOST PATH [CURL_ARGS...]: the body nginx answers for http://HOST/PATH ('' on failure)
get() {
    local host=$1 path=$2
    shift 2
    curl -s --max-time 15 --resolve "$host:$HTTP_PORT:127.0.0.1" "$@" "http://$host:$HTTP_PORT$path" || true
}
# wait_for HOST PATH: until nginx answers 200 there (at most 60 s)
wait_for() {
    local _
    for _ in $(seq 120); do
        [[ $(get "$1" "$2" -o /dev/null -w '%{http_code}') == 200 ]] && return 0
        sleep 0.5
    done
    return 1
}
json() { python3 -c 'import json,sys; v=json.load(sys.stdin); print(eval(sys.argv[1], {"v": v}))' "$1"; }

# boot_and_apply OS BUNDLE DIR CHECK_NAME: boots a fresh machine of OS (state in DIR/machine),
# copies BUNDLE to /root/bundle and applies it as a user would; the log is DIR/apply.log.
boot_and_apply() {
    local os=$1 bundle=$2 dir=$3 rc=0
    S=$dir/machine
    BPM_OS=$os "$machine/boot.sh" "$S" >&2
    # shellcheck disable=SC1091
    . "$S/state.env"
    "$machine/scp.sh" "$S" "$bundle" machine:/root/bundle
    m 'BLUEPRINT_SKIP_ACME=1 bash /root/bundle/setup.sh' >"$dir/apply.log" 2>&1 || rc=$?
    check "$4" test "$rc" = 0
    [[ $rc == 0 ]] || tail -n 40 "$dir/apply.log"
}

one_pass() {
    local os=$1 py bundle out t1 t2 before after unit bad listeners site path loop rc
    py=$(python_of "$os")
    passed=0 failed=0
    echo "apps: pass on $os" >&2
    mkdir -p "$work/$os"
    sed "s/^os = \"debian-12\"/os = \"$os\"/" "$here/apps.toml" >"$work/$os/apps.toml"
    (cd "$repo" && cargo run -q -- build --config "$work/$os/apps.toml" --out "$work/$os/out") >&2
    bundle=$work/$os/out/apps
    check "$os: bundle builds" test -f "$bundle/setup.sh"
    for b in "${build_failed[@]}"; do fail "$os: $b app builds on the runner"; done

    boot_and_apply "$os" "$bundle" "$work/$os" "$os: setup.sh applies the bundle (python3 and nodejs from BP_PACKAGES)"
    out=$(m 'command -v python3 node; node --version; python3 --version' 2>&1 | xargs)
    expect "$os: the runtimes the units name are installed ($out)" "$out" '^/usr/bin/python3 /usr/bin/node v18\.'

    check "$os: deploy pyapi (FastAPI, Python $py wheels)" deploy pyapi "$work/fastapi-$py.tar.gz"
    check "$os: deploy notes (SQLite)" deploy notes "$work/notes.tar.gz"
    check "$os: deploy goapp (Go)" deploy goapp "$work/goapp.tar.gz"
    check "$os: deploy web (Next.js standalone)" deploy web "$work/next.tar.gz"
    for probe in pyapi.test/healthz notes.test/healthz goapp.test/healthz web.test/; do
        check "$os: http://$probe answers 200 through nginx" wait_for "${probe%%/*}" "/${probe#*/}"
    done

    # Zero-downtime deploys of real apps: a client requests FastAPI and Next.js through nginx
    # while each is deployed again, and not one request fails (the new release starts on the
    # standby port and answers there while the service restarts).
    for site in pyapi web; do
        path=/healthz
        [[ $site != web ]] || path=/
        sleep 1.1 # release names are UTC times to the second
        rm -f "$work/$os/loop-$site" "$work/$os/loop-$site.stop"
        (while [[ ! -e $work/$os/loop-$site.stop ]]; do
            get "$site.test" "$path" -o /dev/null -w '%{http_code}\n' >>"$work/$os/loop-$site"
            sleep 0.05
        done) &
        loop=$!
        sleep 0.5
        rc=0
        case $site in
            pyapi) deploy pyapi "$work/fastapi-$py.tar.gz" || rc=$? ;;
            web) deploy web "$work/next.tar.gz" || rc=$? ;;
        esac
        sleep 1
        touch "$work/$os/loop-$site.stop"
        wait "$loop"
        out="$(grep -cvx 200 "$work/$os/loop-$site" || true) of $(wc -l <"$work/$os/loop-$site")"
        check "$os: redeploy $site while a client polls it: exit $rc, $out requests failed" bash -c "test $rc = 0 && [[ '$out' == '0 of '* ]] && test \$(cut -d' ' -f3 <<<'$out') -ge 5"
    done

    # FastAPI: $HOST/$PORT expanded by systemd, its own database, refused by another site's.
    # shellcheck disable=SC2016 # expanded inside the machine
    out=$(m 'ps -o args= -p "$(systemctl show -p MainPID --value pyapi-web.service)"')
    expect "$os: pyapi's argv has \$HOST and \$PORT expanded ($out)" "$out" '--host 127\.0\.0\.1 --port 3100( |$)'
    out=$(get pyapi.test /items/apple -X POST)
    expect "$os: pyapi writes its database ($out)" "$out" '"added":"apple"'
    out=$(get pyapi.test /items)
    expect "$os: pyapi reads it back ($out)" "$out" '"items":\["apple"\]'
    out=$(get pyapi.test /whoami)
    expect "$os: pyapi connects as its own role to its own database ($out)" "$out" '"user":"pyapi","database":"pyapi","port":"3100"'
    out=$(get pyapi.test /other/notes)
    expect "$os: notes's database refuses pyapi ($out)" "$out" '"connected":false.*permission denied for database'

    # SQLite in WAL mode under STATE_DIRECTORY, kept across a redeploy.
    out=$(get notes.test /notes/first -X POST)
    expect "$os: notes writes SQLite under STATE_DIRECTORY ($out)" "$out" '"added":"first"'
    out=$(get notes.test /)
    expect "$os: notes's database is in WAL mode in shared/data" "$out" '"journal_mode":"wal","db":"/srv/sites/notes/shared/data/notes.sqlite3"'
    expect "$os: notes could write HOME, XDG_CACHE_HOME and /tmp" "$out" '"writable":\{"home":"ok","cache":"ok","tmp":"ok"\}'
    before=$(json 'v["release"]' <<<"$out" || true)
    out=$(m "od -An -tu1 -j18 -N2 /srv/sites/notes/shared/data/notes.sqlite3" | xargs)
    check "$os: the file's header says WAL ($out)" test "$out" = "2 2"
    sleep 1.1 # release names are UTC times to the second
    check "$os: redeploy notes" deploy notes "$work/notes.tar.gz"
    wait_for notes.test /healthz || true
    out=$(get notes.test /)
    expect "$os: the note survives a redeploy" "$out" '"notes":\["first"\]'
    after=$(json 'v["release"]' <<<"$out" || true)
    check "$os: ... into a new release ($before -> $after)" test -n "$before" -a -n "$after" -a "$before" != "$after"

    # Backups of what the apps wrote: FastAPI's rows in PostgreSQL, the notes app's SQLite file
    # in its state directory; lost after the backup, back after the restore, read by the apps.
    rc=0; m 'systemctl start blueprint-backup-pyapi.service blueprint-backup-notes.service' || rc=$?
    check "$os: the backup timers' services back up pyapi and notes (exit $rc)" test "$rc" = 0
    m "cd / && runuser -u pyapi -- psql -X -q -d pyapi -c 'DROP TABLE items'"
    get notes.test /notes/after-backup -X POST >/dev/null
    rc=0; m 'blueprint-backup pyapi --restore latest && blueprint-backup notes --restore latest' || rc=$?
    wait_for pyapi.test /healthz || true
    wait_for notes.test /healthz || true
    out=$(get pyapi.test /items)
    expect "$os: pyapi reads its restored rows after a dropped table (exit $rc: $out)" "$out" '"items":\["apple"\]'
    out=$(get notes.test /)
    expect "$os: notes reads its restored SQLite state, without the later note" "$out" '"notes":\["first"\]'

    # Go: a native binary under the full sandbox (MemoryDenyWriteExecute included).
    out=$(get goapp.test /)
    expect "$os: goapp (Debian's Go) serves and writes CACHE_DIRECTORY ($out)" "$out" '^go app go1\.[0-9.]+ pid [0-9]+ cache-write-error <nil>$'
    # ... and its metrics on METRICS_PORT, a port of their own (separate_metrics_port).
    # shellcheck disable=SC2016 # expanded inside the machine
    out=$(m 'p=$(systemctl show -p Environment goapp-web.service | sed -n "s/.* METRICS_PORT=\([0-9]*\).*/\1/p"); echo "port $p"; curl -s "http://127.0.0.1:$p/metrics"' | xargs)
    expect "$os: goapp serves its metrics on METRICS_PORT ($out)" "$out" '^port 31[0-9]+ # TYPE goapp_requests_total counter goapp_requests_total [1-9]'
    out=$(m 'grep -h "^MemoryDenyWriteExecute" /etc/systemd/system/goapp-web.service /etc/systemd/system/pyapi-web.service' | xargs)
    check "$os: goapp and pyapi run with MemoryDenyWriteExecute=true" test "$out" = "MemoryDenyWriteExecute=true MemoryDenyWriteExecute=true"

    # Next.js: ISR regenerates the page and writes it into the release's .next.
    out=$(get web.test /)
    expect "$os: Next.js serves its home page" "$out" 'next home'
    t1=$(get web.test /isr | grep -oE 'generated at <!-- -->[0-9]+|generated at [0-9]+' | grep -oE '[0-9]+$' || true)
    sleep 6
    get web.test /isr >/dev/null # stale: answered from the cache, regenerates in the background
    t2=$t1
    for _ in $(seq 20); do
        sleep 0.5
        t2=$(get web.test /isr | grep -oE 'generated at <!-- -->[0-9]+|generated at [0-9]+' | grep -oE '[0-9]+$' || true)
        [[ -n $t2 && $t2 != "$t1" ]] && break
    done
    check "$os: the ISR page regenerates ($t1 -> $t2)" test -n "$t1" -a -n "$t2" -a "$t1" != "$t2"
    # Next.js writes the regenerated page under .next/server (15.5: route-cache/APP_PAGE/<id>/$/),
    # possibly after answering with it.
    out=
    for _ in $(seq 20); do
        out=$(m "grep -rlF '$t2' /srv/sites/web/current/.next/server --include=isr.html" || true)
        [[ -n $out ]] && break
        sleep 0.5
    done
    check "$os: ... and is written to disk in the release (${out:-nowhere})" test -n "$out"

    # Every app: no permission or read-only errors in its journal, loopback-only listeners.
    for unit in pyapi-web notes-web goapp-web web-next; do
        bad=$(m "journalctl -u $unit.service --no-pager -o cat | grep -iE 'EROFS|read-only file system|EACCES|permission denied|operation not permitted' | head -n 5" || true)
        if [[ -z $bad ]]; then pass "$os: $unit's journal has no permission or read-only errors"; else fail "$os: $unit's journal has no permission or read-only errors" "$bad"; fi
        # Every process of the site's user: a site's user runs nothing but its app.
        listeners=$(m "for p in \$(pgrep -u ${unit%%-*}); do ss -Hltnp | grep -F \"pid=\$p,\" | awk '{print \$4}'; done" | sort -u | xargs)
        expect "$os: $unit listens on 127.0.0.1 only ($listeners)" "$listeners" '^(127\.0\.0\.1:[0-9]+ ?)+$'
    done

    # The bind check: an app made to listen on every address is named in setup.sh's summary.
    m 'mkdir -p /etc/systemd/system/goapp-web.service.d &&
        printf "[Service]\nEnvironment=HOST=0.0.0.0\n" >/etc/systemd/system/goapp-web.service.d/bind.conf &&
        systemctl daemon-reload && systemctl restart goapp-web.service'
    wait_for goapp.test /healthz || true
    m 'BLUEPRINT_SKIP_ACME=1 bash /root/bundle/setup.sh' >"$work/$os/bind.log" 2>&1 || true
    out=$(grep '^WARNING' "$work/$os/bind.log" || true)
    expect "$os: setup.sh warns about an app listening on 0.0.0.0 ($out)" "$out" '^WARNING: goapp-web listens on (0\.0\.0\.0|\*):3120 \(tcp\), not on 127\.0\.0\.1 only'
    m 'rm -r /etc/systemd/system/goapp-web.service.d && systemctl daemon-reload && systemctl restart goapp-web.service'
    wait_for goapp.test /healthz || true
    m 'BLUEPRINT_SKIP_ACME=1 bash /root/bundle/setup.sh' >"$work/$os/rerun.log" 2>&1 || true
    out=$(grep '^WARNING' "$work/$os/rerun.log" || true)
    check "$os: ... and not once it binds 127.0.0.1 again (${out:-no warning})" test -z "$out"

    out=$(m systemctl --failed --no-legend --plain 2>&1)
    if [[ -z $out ]]; then pass "$os: no failed units"; else fail "$os: no failed units" "$out"; fi

    "$machine/stop.sh" "$S" >/dev/null 2>&1 || true
    S=
    echo "apps ($os): $passed passed, $failed failed"
    total_failed=$((total_failed + failed))
}

# The shipped example (out/vps1, Ubuntu 24.04) runs what it declares: its Next.js frontend, the
# standalone release above, under /usr/bin/node from the nodejs its bundle installs.
example_pass() {
    local os=ubuntu-24.04 out code
    passed=0 failed=0
    echo "apps: the shipped example on $os" >&2
    mkdir -p "$work/example"
    boot_and_apply "$os" "$repo/out/vps1" "$work/example" "example: setup.sh applies out/vps1"
    check "example: deploy chienstreats (Next.js standalone)" deploy chienstreats "$work/next.tar.gz"
    code=000
    for _ in $(seq 60); do
        code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 10 --resolve "chienstreats.com:$HTTPS_PORT:127.0.0.1" "https://chienstreats.com:$HTTPS_PORT/" || true)
        [[ $code == 200 ]] && break
        sleep 0.5
    done
    out=$(curl -sk --max-time 10 --resolve "chienstreats.com:$HTTPS_PORT:127.0.0.1" "https://chienstreats.com:$HTTPS_PORT/" || true)
    expect "example: chienstreats-frontend serves through nginx ($code)" "$out" 'next home'
    # (Next.js renames its process `next-server`: the executable is read from /proc.)
    # shellcheck disable=SC2016 # expanded inside the machine
    out=$(m 'p=$(systemctl show -p MainPID --value chienstreats-frontend.service); stat -c %U /proc/$p; readlink /proc/$p/exe' | xargs)
    expect "example: ... as chienstreats, running Ubuntu's /usr/bin/node ($out)" "$out" '^chienstreats /usr/bin/node(js)?$'
    "$machine/stop.sh" "$S" >/dev/null 2>&1 || true
    S=
    echo "apps (example, $os): $passed passed, $failed failed"
    total_failed=$((total_failed + failed))
}

for os in "${oses[@]}"; do
    one_pass "$os"
done
if [[ " ${oses[*]} " == *" ubuntu-24.04 "* ]]; then
    example_pass
fi
if ((total_failed > 0)); then exit 1; fi
