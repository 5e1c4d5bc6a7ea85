# shellcheck shell=bash
# The steps of setup.sh. Sourced after plan.sh; everything host-specific comes from plan.sh (BP_*),
# so this file is the same for every bundle.
#
# Principles:
#   - Every write goes to a temp file in the target directory, then `mv` (atomic rename): a kill at
#     any point never leaves a half-written file live.
#   - An intention ("this unit must be restarted") is recorded under $BP_STATE/pending
#     BEFORE the change it follows from, and cleared only AFTER the action ran, so an interrupted run
#     is finished by the next one. Records of what was applied are written after the action.
#   - No secret is ever passed in argv (visible in ps) or printed: secrets go through pipes, bash
#     builtins and exported environment variables only. Never add `set -x` here.
#   - --check reads only: no apt, no writes, no restarts.

# The host layout comes from plan.sh (BP_SITES_ROOT, BP_STATE_ROOT, BP_TLS_ROOT), which
# blueprint renders from one Rust module; these are the names the steps use.
BP_STATE=$BP_STATE_ROOT/state
BP_STAGING=$BP_STATE_ROOT/staging
BP_ACME_WEBROOT=$BP_STATE_ROOT/acme
BP_TLS=$BP_TLS_ROOT
BP_POLICY_RC=/usr/sbin/policy-rc.d
BP_POLICY_MARK='# blueprint: no service starts during package installation'

BP_CHECK=0
BP_DIFF=0               # --check --diff: show each drifted file's differences
BP_CHANGED_FILES=()     # paths written or whose mode/owner were fixed
BP_CHANGES=()           # other changes (users, dirs, secrets, enable/disable, ...)
BP_RESTARTED=()         # units (re)started
BP_RELOADED=()          # services reloaded
BP_WAITING=()           # units waiting for a release (no current symlink)
BP_AWAITING=()          # "site: KEY" secrets with no value yet
BP_PLACEHOLDERS=()      # sites still on a self-signed placeholder certificate
BP_ACME_RENEW=()        # acme sites whose Let's Encrypt certificate lacks a planned domain
BP_SKIPPED=()           # steps skipped (container, env switch)
BP_WARNINGS=()          # problems that do not stop the run
BP_DRIFT=()             # --check findings
BP_PROBES=()            # health probe results
BP_BACKUP_LINES=()      # each site's newest verified backup
BP_OFFSITE_LINES=()     # the off-host copy: what the operator has to do for it
BP_RETIRED=()           # sites removed from the plan whose data is kept
BP_UNIT_FAILURE=0             # set when an enabled unit with a release is not running

# --- output -----------------------------------------------------------------------------------

# A step's line, after the time the step before it took (bash's own clock: no process).
BP_STEP_STARTED=
bp_step() {
    bp_step_done
    printf '==> %s\n' "$*"
    BP_STEP_STARTED=$EPOCHREALTIME
}
bp_step_done() {
    [[ -n $BP_STEP_STARTED ]] || return 0
    local us=$((${EPOCHREALTIME/./} - ${BP_STEP_STARTED/./}))
    printf '    (%d.%02d s)\n' "$((us / 1000000))" "$((us % 1000000 / 10000))"
    BP_STEP_STARTED=
}
bp_info() { printf '    %s\n' "$*"; }
bp_warn() { printf 'setup.sh: warning: %s\n' "$*" >&2; BP_WARNINGS+=("$*"); }
bp_die() { printf 'setup.sh: error: %s\n' "$*" >&2; exit 1; }
# --check: record one difference between the bundle and the host.
bp_drift() { BP_DRIFT+=("$*"); printf '    drift: %s\n' "$*"; }

# --- small helpers ----------------------------------------------------------------------------

bp_in_list() { # bp_in_list WORD LIST... : true if WORD is one of LIST
    local w=$1 x
    shift
    for x in "$@"; do [[ $x == "$w" ]] && return 0; done
    return 1
}

# Metadata and digests of host paths. bp_snapshot gathers them for many paths with one stat and
# one sha256sum (a no-change run would otherwise start two processes per file); bp_meta_of and
# bp_same_content use them, and fall back to a process for a path not gathered. Whatever changes
# a path forgets it (bp_forget). The bundle's own digests come from SHA256SUMS, verified already.
declare -A BP_META_CACHE=() BP_SHA_CACHE=() BP_BUNDLE_SHA=()
bp_snapshot() { # bp_snapshot PATH...
    local path meta sum regular=()
    (($#)) || return 0
    while IFS='|' read -r path meta; do
        BP_META_CACHE[$path]=$meta
    done < <(stat -c '%n|%a %U %G' -- "$@" 2>/dev/null || true)
    for path in "$@"; do
        if [[ -f $path && ! -L $path ]]; then regular+=("$path"); fi
    done
    ((${#regular[@]})) || return 0
    while read -r sum path; do
        BP_SHA_CACHE[$path]=$sum
    done < <(sha256sum -- "${regular[@]}" 2>/dev/null || true)
}
bp_forget() { unset 'BP_META_CACHE[$1]' 'BP_SHA_CACHE[$1]'; }
bp_bundle_digests() {
    local sum rel
    ((${#BP_BUNDLE_SHA[@]})) && return 0
    while read -r sum rel; do BP_BUNDLE_SHA[$BP_BUNDLE/$rel]=$sum; done <"$BP_BUNDLE/SHA256SUMS"
}

# "mode owner group" of a path as stat prints it, mode without leading zeros ("644"), into BP_M.
BP_M=
bp_meta_of() {
    BP_M=${BP_META_CACHE[$1]-}
    [[ -n $BP_M ]] || BP_M=$(stat -c '%a %U %G' -- "$1")
}
# "0640" -> "640", into BP_MODE (printf -v: no subshell).
BP_MODE=
bp_mode() { printf -v BP_MODE '%o' "$((8#$1))"; }

bp_is_container() { systemd-detect-virt --container --quiet 2>/dev/null; }

# Pending actions survive a kill: set before the change, cleared after the action.
bp_pending_set() { [[ -e $BP_STATE/pending/$1 ]] || : >"$BP_STATE/pending/$1"; }
bp_pending() { [[ -e $BP_STATE/pending/$1 ]]; }
bp_pending_clear() { rm -f -- "$BP_STATE/pending/$1"; }

# Write a state record atomically: bp_state_write NAME < content
bp_state_write() {
    local dest=$BP_STATE/$1 tmp
    tmp=$(mktemp "$dest.bp-XXXXXX")
    cat >"$tmp"
    mv -fT -- "$tmp" "$dest"
}
bp_state_read() { if [[ -f $BP_STATE/$1 ]]; then cat -- "$BP_STATE/$1"; fi; }

# bp_state_put NAME VALUE: a one-line record, written only when it changes (a no-change run
# writes nothing). `read` is a builtin: no process to compare.
bp_state_put() {
    bp_state_line "$1"
    [[ $BP_LINE == "$2" && -f $BP_STATE/$1 ]] && return 0
    printf '%s\n' "$2" | bp_state_write "$1"
}

# The first line of a record into BP_LINE (empty when there is none), without a process.
BP_LINE=
bp_state_line() {
    BP_LINE=
    if [[ -f $BP_STATE/$1 ]]; then IFS= read -r BP_LINE <"$BP_STATE/$1" || true; fi
}

# Every unit's enablement and activity from one systemctl call (a call costs ~10 ms), by unit
# name without `.service`: BP_UNIT_FILE_STATE (enabled, disabled, …), BP_UNIT_ACTIVE (active, …).
declare -A BP_UNIT_FILE_STATE=() BP_UNIT_ACTIVE=()
bp_unit_states() { # bp_unit_states NAME...: a service's name without .service, a timer's with .timer
    local key value id='' file='' active='' names=() name
    (($#)) || return 0
    for name in "$@"; do
        if [[ $name == *.timer ]]; then names+=("$name"); else names+=("$name.service"); fi
    done
    while IFS='=' read -r key value; do
        case $key in
        Id) id=${value%.service} ;;
        UnitFileState) file=$value ;;
        ActiveState) active=$value ;;
        '')
            if [[ -n $id ]]; then
                BP_UNIT_FILE_STATE[$id]=$file
                BP_UNIT_ACTIVE[$id]=$active
            fi
            id='' file='' active=''
            ;;
        esac
    done < <(systemctl show -p Id -p UnitFileState -p ActiveState -- "${names[@]}" 2>/dev/null; echo)
}
bp_unit_enabled() { [[ ${BP_UNIT_FILE_STATE[$1]-} == enabled || ${BP_UNIT_FILE_STATE[$1]-} == enabled-runtime ]]; }
bp_unit_active() { [[ ${BP_UNIT_ACTIVE[$1]-} == active || ${BP_UNIT_ACTIVE[$1]-} == reloading ]]; }

# Remove temp files a killed run left next to DEST (ours are ".<name>.bp-XXXXXX"). Every path
# is absolute, so ${dest%/*} is its directory (no dirname process: this runs for every file).
bp_clean_tmp() {
    local dest=$1 f
    for f in "${dest%/*}/.${dest##*/}.bp-"*; do
        [[ -e $f || -L $f ]] && rm -f -- "$f"
    done
    return 0
}

# A directory with exact mode/owner/group. Refuses a symlink: several of these live inside
# directories a site user owns, and following a planted link would let root chown/chmod anything.
bp_dir() {
    local path=$1 mode=$2 owner=$3 group=$4 want
    bp_mode "$mode"
    want="$BP_MODE $owner $group"
    if [[ -L $path ]]; then
        bp_die "$path is a symlink, expected a directory; remove it and re-run"
    fi
    if [[ ! -d $path ]]; then
        if ((BP_CHECK)); then bp_drift "directory $path is missing"; return 0; fi
        mkdir -- "$path"
        chown -h "$owner:$group" -- "$path"
        chmod "$mode" -- "$path"
        bp_forget "$path"
        BP_CHANGES+=("created $path")
        return 0
    fi
    bp_meta_of "$path"
    if [[ $BP_M != "$want" ]]; then
        if ((BP_CHECK)); then bp_drift "directory $path is $BP_M, want $want"; return 0; fi
        chown -h "$owner:$group" -- "$path"
        chmod "$mode" -- "$path"
        bp_forget "$path"
        BP_CHANGES+=("fixed mode/owner of $path")
    fi
}

# bp_own PATH MODE OWNER GROUP: an existing file of root's making (in a root-owned directory)
# given exactly that mode and owner; under --check a drift line instead.
bp_own() {
    local path=$1 mode=$2 owner=$3 group=$4 want
    bp_mode "$mode"
    want="$BP_MODE $owner $group"
    bp_meta_of "$path"
    [[ $BP_M == "$want" ]] && return 0
    if ((BP_CHECK)); then bp_drift "$path is $BP_M, want $want"; return 0; fi
    chown -h "$owner:$group" -- "$path"
    chmod "$mode" -- "$path"
    bp_forget "$path"
    BP_CHANGES+=("fixed mode/owner of $path")
}

# bp_stage DEST MODE OWNER GROUP < content: a temp file beside DEST (its directory is root's),
# given its mode and owner before anything is in it, holding stdin; its path in BP_STAGED.
bp_stage() {
    bp_clean_tmp "$1"
    BP_STAGED=$(mktemp "${1%/*}/.${1##*/}.bp-XXXXXX")
    chown "$3:$4" -- "$BP_STAGED"
    chmod "$2" -- "$BP_STAGED"
    cat >"$BP_STAGED"
}

# bp_replace DEST MODE OWNER GROUP < content: staged beside DEST, then renamed over it.
bp_replace() {
    bp_stage "$@"
    mv -fT -- "$BP_STAGED" "$1"
    bp_forget "$1"
}

# True when DEST is a regular file (not a symlink) with the content of SRC.
bp_same_content() {
    [[ -f $2 && ! -L $2 ]] || return 1
    if [[ -n ${BP_SHA_CACHE[$2]-} && -n ${BP_BUNDLE_SHA[$1]-} ]]; then
        [[ ${BP_SHA_CACHE[$2]} == "${BP_BUNDLE_SHA[$1]}" ]]
        return
    fi
    cmp -s -- "$1" "$2"
}

# Install SRC at DEST with MODE OWNER GROUP when content, type or metadata differ. Optional
# trailing words are a validator command run on the temp file before it goes live.
# Sets BP_PUT_CHANGED=1 when DEST was (or, in --check, would be) changed.
BP_PUT_CHANGED=0
bp_put() {
    local src=$1 dest=$2 mode=$3 owner=$4 group=$5 tmp want
    shift 5
    BP_PUT_CHANGED=0
    bp_mode "$mode"
    want="$BP_MODE $owner $group"
    if bp_same_content "$src" "$dest"; then
        bp_meta_of "$dest"
        [[ $BP_M == "$want" ]] && return 0
        BP_PUT_CHANGED=1
        if ((BP_CHECK)); then bp_drift "$dest is $BP_M, want $want"; return 0; fi
        chown "$owner:$group" -- "$dest"
        chmod "$mode" -- "$dest"
        bp_forget "$dest"
        BP_CHANGED_FILES+=("$dest (mode/owner)")
        return 0
    fi
    BP_PUT_CHANGED=1
    if ((BP_CHECK)); then
        if [[ -e $dest || -L $dest ]]; then bp_drift "$dest differs from the bundle"; else bp_drift "$dest is missing"; fi
        # Only files of the bundle are shown: secrets (.env) never go through bp_put.
        if ((BP_DIFF)) && [[ -f $dest && ! -L $dest ]]; then
            diff -u --label "$dest (host)" --label "$dest (bundle)" -- "$dest" "$src" | sed 's/^/      /' || true
        fi
        return 0
    fi
    bp_clean_tmp "$dest"
    tmp=$(mktemp "${dest%/*}/.${dest##*/}.bp-XXXXXX")
    cat -- "$src" >"$tmp"
    chown "$owner:$group" -- "$tmp"
    chmod "$mode" -- "$tmp"
    if (($#)) && ! "$@" "$tmp"; then
        rm -f -- "$tmp"
        bp_die "$dest: the bundle's version failed validation (${*: -1}); the live file is unchanged"
    fi
    mv -fT -- "$tmp" "$dest"
    bp_forget "$dest"
    BP_CHANGED_FILES+=("$dest")
}

# Point symlink LINK at TARGET atomically (new link under a temp name, then rename over).
# Sets BP_PUT_CHANGED like bp_put.
# Symlink targets of whole directories from one find each (bp_links_load DIR...); bp_link_of
# answers from them, or with readlink for a link not gathered, into BP_LINK ('' for no link).
declare -A BP_LINK_CACHE=()
bp_links_load() {
    local path target
    while IFS=$'\t' read -r path target; do
        BP_LINK_CACHE[$path]=$target
    done < <(find "$@" -mindepth 1 -maxdepth 2 -type l -printf '%p\t%l\n' 2>/dev/null || true)
}
BP_LINK=
bp_link_of() {
    BP_LINK=
    [[ -L $1 ]] || return 0
    BP_LINK=${BP_LINK_CACHE[$1]-}
    [[ -n $BP_LINK ]] || BP_LINK=$(readlink -- "$1")
}

bp_symlink() {
    local target=$1 link=$2 tmp
    BP_PUT_CHANGED=0
    bp_link_of "$link"
    if [[ $BP_LINK == "$target" ]]; then return 0; fi
    BP_PUT_CHANGED=1
    if ((BP_CHECK)); then bp_drift "symlink $link should point to $target"; return 0; fi
    bp_clean_tmp "$link"
    tmp="${link%/*}/.${link##*/}.bp-$$"
    ln -sfn -- "$target" "$tmp"
    mv -fT -- "$tmp" "$link"
    BP_LINK_CACHE[$link]=$target
    BP_CHANGED_FILES+=("$link -> $target")
}

# --- 1. preconditions -------------------------------------------------------------------------

bp_preconditions() {
    local id version
    if [[ $(id -u) != 0 ]]; then
        bp_die "run as root: sudo bash $BP_BUNDLE/setup.sh"
    fi
    # shellcheck source=/dev/null
    id=$(. /etc/os-release && printf '%s' "${ID:-}")
    # shellcheck source=/dev/null
    version=$(. /etc/os-release && printf '%s' "${VERSION_ID:-}")
    if [[ $id != "$BP_OS_ID" || $version != "$BP_OS_VERSION" ]]; then
        bp_die "this bundle is for $BP_OS_ID $BP_OS_VERSION, but this host runs ${id:-?} ${version:-?}. Set host.os in sites.toml, rebuild and copy the bundle again. Nothing was changed."
    fi
    if ! ((BP_CHECK)); then
        if [[ ! -d $BP_STATE/basic-auth ]]; then
            install -d -m 0755 "$BP_STATE_ROOT"
            install -d -m 0700 "$BP_STATE" "$BP_STATE/pending" "$BP_STATE/current" "$BP_STATE/env" "$BP_STATE/static" "$BP_STATE/basic-auth"
        fi
        bp_lock
    fi
    bp_accounts_ours
}

# One apply at a time. The lock lives in the root-only state directory: a lock file other users
# can open would let any of them stall setup.sh forever. Its fd is closed for apt/dpkg (see
# bp_apt_install): a dpkg that outlives a killed setup.sh must not hold it.
BP_LOCK_FD=
BP_LOCK_WAIT=${BLUEPRINT_LOCK_WAIT:-600}
bp_lock() {
    exec {BP_LOCK_FD}>"$BP_STATE/lock"
    if ! flock -n "$BP_LOCK_FD"; then
        bp_info "another setup.sh is running on this host; waiting up to ${BP_LOCK_WAIT}s for it to finish"
        flock -w "$BP_LOCK_WAIT" "$BP_LOCK_FD" ||
            bp_die "another setup.sh still holds $BP_STATE/lock after ${BP_LOCK_WAIT}s (see: fuser -v $BP_STATE/lock); nothing was changed"
    fi
}

# --- accounts ---------------------------------------------------------------------------------

# Accounts blueprint created, one name a line. A site or deploy user that already exists but is
# not listed here is someone else's account (`ubuntu`, `tss`, …): taking it over would hand its
# files to a site, or overwrite how it logs in. Refused before any change.
BP_ACCOUNTS=$BP_STATE/accounts

bp_account_recorded() { [[ -f $BP_ACCOUNTS ]] && grep -qxF -- "$1" "$BP_ACCOUNTS"; }

bp_account_record() { # before the account is created: a run killed right after still owns it
    bp_account_recorded "$1" && return 0
    { bp_state_read accounts; printf '%s\n' "$1"; } | LC_ALL=C sort -u | bp_state_write accounts
}

# An account made by a blueprint version from before the record: a site user whose home is its
# site directory and who cannot log in, or a deploy user whose authorized_keys blueprint wrote
# (read as that user: root opens nothing inside a home another user controls).
bp_account_legacy() {
    local name=$1 kind=$2
    bp_user_exists "$name" || return 1
    case $kind in
    site) [[ ${BP_PASSWD[$name]#*:} == "$BP_SITES_ROOT/$name:/usr/sbin/nologin" ]] ;;
    deploy) runuser -u "$name" -- head -n 1 "/home/$name/.ssh/authorized_keys" 2>/dev/null |
        grep -qxF "# $BP_GENERATED_HEADER" ;;
    esac
}

bp_accounts_ours() {
    local name kind bad=()
    bp_accounts_load
    for name in "$BP_DEPLOY_USER" "${BP_SITES[@]}"; do
        kind=site
        [[ $name == "$BP_DEPLOY_USER" ]] && kind=deploy
        bp_user_exists "$name" || continue
        bp_account_recorded "$name" && continue
        if bp_account_legacy "$name" "$kind"; then
            ((BP_CHECK)) || bp_account_record "$name"
            continue
        fi
        bad+=("$name")
    done
    ((${#bad[@]} == 0)) && return 0
    bp_die "account(s) ${bad[*]} already exist on this host and were not created by blueprint; rename the site or deploy_user in sites.toml (blueprint never takes over an existing account). Nothing was changed."
}

# --check: actions an interrupted run still owes (restart, reload) are drift too.
bp_check_pending() {
    local f
    for f in "$BP_STATE"/pending/*; do
        [[ -e $f ]] && bp_drift "an interrupted run left a pending action: ${f##*/}"
    done
    return 0
}

# --- 2. packages ------------------------------------------------------------------------------

bp_missing_packages() {
    local p name status
    local -A installed=()
    # One dpkg-query for all of them (it names unknown packages on stderr and goes on).
    while read -r name status; do
        if [[ $status == installed ]]; then installed[$name]=1; fi
    done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${BP_PACKAGES[@]}" 2>/dev/null || true)
    BP_MISSING=()
    for p in "${BP_PACKAGES[@]}"; do
        [[ -n ${installed[$p]-} ]] || BP_MISSING+=("$p")
    done
}

# Our policy-rc.d, also one a killed run left behind; never someone else's.
bp_policy_rc_remove() {
    if [[ -f $BP_POLICY_RC ]] && grep -qxF -- "$BP_POLICY_MARK" "$BP_POLICY_RC"; then
        rm -f -- "$BP_POLICY_RC"
    fi
    return 0
}

# apt runs dpkg in its own session (on a pty), so when setup.sh is killed, dpkg may still be
# running: wait for its lock instead of failing.
bp_apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout=600 \
        -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef "$@" {BP_LOCK_FD}>&-
}

# dpkg --configure -a, waiting up to 10 minutes for a dpkg that is still running.
bp_dpkg_configure() {
    local i
    for ((i = 0; i < 300; i++)); do
        if DEBIAN_FRONTEND=noninteractive dpkg --configure -a --force-confold >"$BP_STATE/apt.log" 2>&1 {BP_LOCK_FD}>&-; then
            return 0
        fi
        grep -q 'lock.*locked by another process' "$BP_STATE/apt.log" || break
        ((i > 0)) || bp_info "waiting for another dpkg to finish"
        sleep 2
    done
    tail -n 20 "$BP_STATE/apt.log" >&2
    bp_die "dpkg --configure -a failed"
}

bp_packages() {
    bp_step "packages"
    bp_missing_packages
    # `dpkg --audit` lists packages a killed run left unpacked or half-configured (dependencies
    # included, which the list above does not cover).
    local audit
    audit=$(dpkg --audit 2>/dev/null || true)
    if ((BP_CHECK)); then
        ((${#BP_MISSING[@]} == 0)) || bp_drift "packages not installed: ${BP_MISSING[*]}"
        [[ -z $audit ]] || bp_drift "dpkg reports half-installed packages (dpkg --audit)"
        return 0
    fi
    if ((${#BP_MISSING[@]} == 0)) && [[ -z $audit ]]; then
        # One a killed run left behind would keep every future package's service from starting.
        bp_policy_rc_remove
        bp_info "all ${#BP_PACKAGES[@]} packages installed"
        return 0
    fi
    # A policy-rc.d that refuses every start: a package's service must not start with its
    # stock config (e.g. nginx's default site) before setup.sh has put ours in place.
    if [[ ! -e $BP_POLICY_RC ]]; then
        local tmp
        tmp=$(mktemp "$BP_POLICY_RC.bp-XXXXXX")
        printf '#!/bin/sh\n%s\nexit 101\n' "$BP_POLICY_MARK" >"$tmp"
        chmod 0755 "$tmp"
        mv -fT "$tmp" "$BP_POLICY_RC"
    fi
    trap 'bp_policy_rc_remove' EXIT
    # A run killed during dpkg leaves packages half-configured; apt refuses until this ran.
    if [[ -n $audit ]]; then
        bp_info "finishing an interrupted package installation (dpkg --configure -a)"
        bp_dpkg_configure
        BP_CHANGES+=("finished an interrupted package installation")
        bp_missing_packages
        if ((${#BP_MISSING[@]} == 0)); then
            bp_policy_rc_remove
            trap - EXIT
            return 0
        fi
    fi
    bp_info "installing: ${BP_MISSING[*]}"
    # The package lists a fresh image ships with are usually good enough; updating first would
    # cost time (and fail offline). Update only when the install fails.
    if ! bp_apt_install "${BP_MISSING[@]}" >"$BP_STATE/apt.log" 2>&1; then
        bp_info "install failed with the current package lists; running apt-get update"
        if ! { apt-get update -q {BP_LOCK_FD}>&- && bp_apt_install "${BP_MISSING[@]}"; } >>"$BP_STATE/apt.log" 2>&1; then
            tail -n 20 "$BP_STATE/apt.log" >&2
            bp_die "apt-get install failed (full log: $BP_STATE/apt.log)"
        fi
    fi
    bp_policy_rc_remove
    trap - EXIT
    BP_CHANGES+=("installed packages: ${BP_MISSING[*]}")
}

# --- 3. users and directories -----------------------------------------------------------------

# Users and groups from one getent each (a run asks about every site's user and group), reloaded
# after blueprint changes an account: BP_PASSWD[name]="gid:home:shell",
# BP_GROUP_GID[name]=gid, BP_GROUP_MEMBERS[name]="a,b".
declare -A BP_PASSWD=() BP_GROUP_GID=() BP_GROUP_MEMBERS=()
bp_accounts_load() {
    local name gid home shell members
    BP_PASSWD=()
    BP_GROUP_GID=()
    BP_GROUP_MEMBERS=()
    while IFS=: read -r name _ _ gid _ home shell; do
        BP_PASSWD[$name]=$gid:$home:$shell
    done < <(getent passwd)
    while IFS=: read -r name _ gid members; do
        BP_GROUP_GID[$name]=$gid
        BP_GROUP_MEMBERS[$name]=$members
    done < <(getent group)
}
bp_user_exists() { [[ -v BP_PASSWD[$1] ]]; }
bp_group_exists() { [[ -v BP_GROUP_GID[$1] ]]; }
# True when NAME's primary group is the group NAME.
bp_own_primary_group() { bp_user_exists "$1" && [[ ${BP_PASSWD[$1]%%:*} == "${BP_GROUP_GID[$1]-none}" ]]; }

# bp_account NAME system|login HOME SHELL: the user NAME with its own group NAME as primary
# group. Repairs every half-done state a killed `useradd` can leave: a group without its user,
# a user without its group (or with another primary group).
bp_account() {
    local name=$1 kind=$2 home=$3 shell=$4 args=()
    if bp_own_primary_group "$name"; then
        return 0
    fi
    if ((BP_CHECK)); then bp_drift "user $name or its group is missing"; return 0; fi
    bp_account_record "$name"
    [[ $kind == system ]] && args=(--system)
    if ! bp_group_exists "$name"; then
        groupadd "${args[@]}" "$name"
        BP_CHANGES+=("created group $name")
    fi
    if ! bp_user_exists "$name"; then
        if [[ $kind == system ]]; then
            useradd --system --gid "$name" --no-user-group --home-dir "$home" --no-create-home \
                --shell "$shell" "$name"
        else
            useradd --gid "$name" --no-user-group --create-home --home-dir "$home" --shell "$shell" "$name"
        fi
        BP_CHANGES+=("created user $name")
    else
        usermod -g "$name" "$name"
        BP_CHANGES+=("made $name the primary group of user $name")
    fi
    bp_accounts_load
}

bp_users() {
    bp_step "users and directories"
    local site entry path mode owner group home=/home/$BP_DEPLOY_USER
    # The deploy user: a normal login user (ssh with the admin keys, limited sudo). Its keys are
    # in a root-owned file (see the sshd drop-in); nothing of its home is managed but the home
    # itself, whose parent is root's.
    bp_account "$BP_DEPLOY_USER" login "$home" /bin/bash
    if bp_user_exists "$BP_DEPLOY_USER"; then
        bp_dir "$home" 0750 "$BP_DEPLOY_USER" "$BP_DEPLOY_USER"
        bp_legacy_keys_remove
    fi
    for site in "${BP_SITES[@]}"; do
        bp_account "$site" system "$BP_SITES_ROOT/$site" /usr/sbin/nologin
    done
    # One stat for every directory (and each site's .env, for the secrets step).
    local paths=("$home")
    for entry in "${BP_DIRS[@]}"; do paths+=("${entry%% *}"); done
    for site in "${BP_SITES[@]}"; do paths+=("$BP_SITES_ROOT/$site/shared/.env"); done
    bp_snapshot "${paths[@]}"
    for entry in "${BP_DIRS[@]}"; do
        read -r path mode owner group _ <<<"$entry"
        # A user that --check found missing has no directories to compare yet.
        if ((BP_CHECK)) && ! bp_group_exists "$group"; then continue; fi
        bp_dir "$path" "$mode" "$owner" "$group"
    done
    # nginx (www-data) is in no site's group: earlier versions added it for static sites.
    for site in "${BP_SITES[@]}"; do
        [[ -z ${BP_SITE_PUBLISHED[$site]} ]] || bp_static_readable "$site"
        [[ -z ${BP_SITE_UPLOADS_SERVED[$site]-} ]] || bp_uploads_readable "$site"
        if [[ ,${BP_GROUP_MEMBERS[$site]-}, == *,www-data,* ]]; then
            if ((BP_CHECK)); then
                bp_drift "www-data is in group $site"
            else
                gpasswd -q -d www-data "$site" >/dev/null
                BP_CHANGES+=("removed www-data from group $site")
                bp_pending_set nginx-reload
            fi
        fi
    done
}

# The directories of a site's live release that nginx serves (its `static` and `paths`)
# readable to nginx (www-data) as "other", which blueprint-deploy does for each release: releases
# made by hand or by an earlier version may lack it. Checked and repaired as the site user, since
# the release is the site's own tree.
bp_static_readable() {
    local site=$1 published dir release part parts fix=() link unreadable=()
    bp_user_exists "$site" || return 0
    link=$(readlink "$BP_SITES_ROOT/$site/current" 2>/dev/null) || return 0
    # Checked once per release (blueprint-deploy opens each release itself).
    bp_state_line "static/$site"
    [[ $BP_LINE == "$link" ]] && return 0
    release=$link
    [[ $release == /* ]] || release=$BP_SITES_ROOT/$site/$release
    for published in ${BP_SITE_PUBLISHED[$site]}; do
        [[ -d $release/$published ]] || continue
        # The directories on the way need "other" traverse; everything below, read.
        dir=$release
        fix=("$dir")
        IFS=/ read -ra parts <<<"$published"
        for part in "${parts[@]}"; do dir=$dir/$part; fix+=("$dir"); done
        if [[ -n $(runuser -u "$site" -- find "${fix[@]:0:${#fix[@]}-1}" -maxdepth 0 ! -perm -o+x -print -quit) ||
            -n $(runuser -u "$site" -- find "$dir" \( -type d ! -perm -o+rx \) -o \( -type f ! -perm -o+r \) -print -quit) ]]; then
            unreadable+=("$dir")
            ((BP_CHECK)) && continue
            runuser -u "$site" -- chmod o+x "${fix[@]:0:${#fix[@]}-1}"
            runuser -u "$site" -- chmod -R o+rX "$dir"
            BP_CHANGES+=("$site: made $dir readable to nginx")
        fi
    done
    if ((BP_CHECK)); then
        for dir in "${unreadable[@]}"; do bp_drift "$site: nginx cannot read all of $dir"; done
        [[ -n ${unreadable[*]-} ]] && return 0
    fi
    ((BP_CHECK)) || bp_state_put "static/$site" "$link"
}

# The uploads directory nginx serves (`uploads_url`) readable to nginx (www-data): an ACL entry
# on the directory and everything in it, and a default entry that what the app saves later
# inherits (the app's umask leaves "other" nothing, and nginx is in no site's group). Set by the
# site's user, who owns the tree: root changes nothing in it. Repaired whenever the default entry
# is missing (a restore unpacks the tree without ACLs).
bp_uploads_readable() {
    local site=$1 dir=${BP_SITE_UPLOADS_SERVED[$1]}
    bp_user_exists "$site" || return 0
    [[ -d $dir ]] || return 0
    # (uploads/ is an entry of root's shared/: the site can neither replace nor move it.)
    if getfacl -p --omit-header "$dir" 2>/dev/null | grep -qx 'default:user:www-data:r-x'; then
        return 0
    fi
    if ((BP_CHECK)); then
        bp_drift "$site: nginx cannot read $dir (no ACL for www-data)"
        return 0
    fi
    runuser -u "$site" -- setfacl -R -P -m u:www-data:rX "$dir"
    runuser -u "$site" -- find "$dir" -mindepth 1 -type d -exec setfacl -m d:u:www-data:rX {} +
    # Last: the entry checked above then says the whole tree is done (a run killed before it
    # does it all again).
    runuser -u "$site" -- setfacl -m d:u:www-data:rX "$dir"
    BP_CHANGES+=("$site: made $dir readable to nginx (ACL for www-data)")
}

# Earlier versions wrote the deploy user's keys into its ~/.ssh. Removed as that user (root never
# writes inside a home another user controls), and only the file blueprint wrote.
bp_legacy_keys_remove() {
    local keys=/home/$BP_DEPLOY_USER/.ssh/authorized_keys
    # Once per deploy user: no version since writes that file.
    bp_state_line legacy-keys
    [[ $BP_LINE == "$BP_DEPLOY_USER" ]] && return 0
    if runuser -u "$BP_DEPLOY_USER" -- head -n 1 "$keys" 2>/dev/null | grep -qxF "# $BP_GENERATED_HEADER"; then
        if ((BP_CHECK)); then bp_drift "$keys is the one earlier blueprint versions wrote"; return 0; fi
        runuser -u "$BP_DEPLOY_USER" -- rm -f -- "$keys"
        BP_CHANGES+=("removed $keys (the keys now live in /etc/ssh/authorized_keys)")
    fi
    ((BP_CHECK)) || bp_state_put legacy-keys "$BP_DEPLOY_USER"
}

# --- 4. secrets -------------------------------------------------------------------------------

# 64 hex characters from the kernel CSPRNG. Runs in a pipe: the value never is an argument.
bp_random() { head -c 32 /dev/urandom | od -An -tx1 -v | tr -d ' \n'; }

# A site's .env is root's (0600) in the root-owned shared/, read by systemd for the units. Read
# without following a symlink all the same: a host converted from the old layout, where shared/
# was the site's, may still have one planted there.
bp_env_read() { dd if="$1" iflag=nofollow status=none; }

# An env file's KEY=value lines into BP_ENV (the last of a key wins, as for systemd) and
# BP_ENV_KEYS (file order); values never reach a process's argv. Only a regular file is read.
# In a directory of root's (shared/ once setup.sh laid it out) nothing can swap the file between
# that test and the read, so bash reads it; anywhere else (`--check` on a host still in the old
# layout, where shared/ was the site's) it is read without following a link (bp_env_read).
declare -A BP_ENV=()
BP_ENV_KEYS=()
bp_env_load() {
    local owner
    BP_ENV=()
    BP_ENV_KEYS=()
    [[ -f $1 && ! -L $1 ]] || return 0
    bp_meta_of "${1%/*}"
    read -r _ owner _ <<<"$BP_M"
    if [[ $owner == root ]]; then bp_env_parse <"$1"; else bp_env_parse < <(bp_env_read "$1"); fi
}
bp_env_parse() { # stdin into BP_ENV and BP_ENV_KEYS
    local line
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
        [[ -v BP_ENV[${BASH_REMATCH[1]}] ]] || BP_ENV_KEYS+=("${BASH_REMATCH[1]}")
        BP_ENV[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
    done
}

# The database password lives only inside DATABASE_URL (one place, nothing to keep in sync):
# postgresql://<site>:<password>@127.0.0.1:5432/<site>. Into BP_PW; empty when the operator
# changed the URL.
BP_PW=
bp_db_password() {
    local site=$1
    BP_PW=
    bp_env_load "$BP_SITES_ROOT/$site/shared/.env"
    if [[ ${BP_ENV[DATABASE_URL]-} =~ ^postgresql://${site}:([0-9a-f]+)@127\.0\.0\.1:5432/${site}$ ]]; then
        BP_PW=${BASH_REMATCH[1]}
    fi
}

bp_secrets() {
    bp_step "secrets"
    local site env tmp key keys generated=() wanted=() have=() missing=() value
    for site in "${BP_SITES[@]}"; do
        env=$BP_SITES_ROOT/$site/shared/.env
        if [[ -L $env || (-e $env && ! -f $env) ]]; then
            # Reading a planted symlink as root would copy its target into the site's .env.
            bp_die "$env is not a regular file; remove it and re-run"
        fi
        wanted=()
        [[ ${BP_SITE_DATABASE[$site]} == postgres ]] && wanted+=(DATABASE_URL)
        read -ra generated <<<"${BP_SITE_GENERATED[$site]}"
        wanted+=("${generated[@]}")
        read -ra keys <<<"${BP_SITE_SECRETS[$site]}"
        wanted+=("${keys[@]}")
        bp_env_load "$env"
        have=("${BP_ENV_KEYS[@]}")
        missing=()
        for key in "${wanted[@]}"; do
            bp_in_list "$key" "${have[@]}" || missing+=("$key")
        done
        if ((BP_CHECK)); then
            [[ -f $env ]] || { bp_drift "$env is missing"; continue; }
            ((${#missing[@]} == 0)) || bp_drift "$env lacks ${missing[*]}"
            bp_own "$env" 0600 root root
        elif [[ ! -f $env || ${#missing[@]} -gt 0 ]]; then
            # Existing values are copied unchanged; only missing keys are appended, into a temp
            # file beside it (shared/ is root's) that is renamed into place.
            bp_clean_tmp "$env"
            tmp=$(mktemp "$BP_SITES_ROOT/$site/shared/..env.bp-XXXXXX")
            chmod 0600 "$tmp"
            {
                if [[ -s $env ]]; then
                    bp_env_read "$env"
                    [[ -z $(bp_env_read "$env" | tail -c 1) ]] || echo
                else
                    printf '# Secrets of site %s, written by blueprint setup.sh. Existing values are never\n' "$site"
                    printf '# overwritten. Fill in empty values, then re-run setup.sh (restarts the services).\n'
                fi
                for key in "${missing[@]}"; do
                    if [[ $key == DATABASE_URL ]]; then
                        value=$(bp_random)
                        printf 'DATABASE_URL=postgresql://%s:%s@127.0.0.1:5432/%s\n' "$site" "$value" "$site"
                    elif bp_in_list "$key" "${generated[@]}"; then
                        value=$(bp_random)
                        printf '%s=%s\n' "$key" "$value"
                    else
                        printf '%s=\n' "$key"
                    fi
                done
            } >"$tmp"
            mv -fT -- "$tmp" "$env"
            bp_forget "$env"
            bp_env_load "$env"
            BP_CHANGES+=("$env: added ${missing[*]:-(new file)}")
        else
            bp_own "$env" 0600 root root
        fi
        # Operator-supplied secrets still empty are listed in the summary.
        read -ra keys <<<"${BP_SITE_SECRETS[$site]}"
        for key in "${keys[@]}"; do
            [[ -n ${BP_ENV[$key]-} ]] || BP_AWAITING+=("$site: $key")
        done
    done
}

# Basic auth: per site, root's <site>.passwords (0600, "user:password" lines, generated once and
# never overwritten; the operator may edit a password) and the <site>.htpasswd nginx reads
# (0640 root:www-data, SHA-512 crypt hashes), both in BP_BASIC_AUTH_ROOT (root's, group www-data,
# laid out by BP_DIRS). The hashes are salted, so they are rewritten only when the planned users'
# passwords change (a digest in the state) or the file is missing: a re-run writes nothing.
bp_basic_auth() {
    local site users user pw ht line digest missing
    local -A pass
    for site in "${BP_SITES[@]}"; do
        read -ra users <<<"${BP_SITE_BASIC_AUTH[$site]-}"
        ((${#users[@]})) || continue
        pw=$BP_BASIC_AUTH_ROOT/$site.passwords
        ht=$BP_BASIC_AUTH_ROOT/$site.htpasswd
        pass=()
        if [[ -f $pw ]]; then
            while IFS= read -r line || [[ -n $line ]]; do
                if [[ $line == ?*:?* ]]; then pass[${line%%:*}]=${line#*:}; fi
            done <"$pw"
        fi
        missing=()
        for user in "${users[@]}"; do [[ -v pass[$user] ]] || missing+=("$user"); done
        if ((BP_CHECK)); then
            [[ -f $pw ]] || { bp_drift "$pw is missing"; continue; }
            ((${#missing[@]} == 0)) || bp_drift "$pw lacks ${missing[*]}"
        elif ((${#missing[@]})); then
            # New users are appended; the lines already there are copied unchanged.
            for user in "${missing[@]}"; do pass[$user]=$(bp_random); done
            {
                [[ ! -f $pw ]] || cat -- "$pw"
                for user in "${missing[@]}"; do printf '%s:%s\n' "$user" "${pass[$user]}"; done
            } | bp_replace "$pw" 0600 root root
            BP_CHANGES+=("$site: basic-auth password generated for ${missing[*]} (sudo cat $pw)")
        fi
        # What the hashes must match: the planned users and their passwords, as one digest.
        digest=$(for user in "${users[@]}"; do printf '%s:%s\n' "$user" "${pass[$user]-}"; done | sha256sum)
        digest=${digest%% *}
        bp_state_line "basic-auth/$site"
        if ((BP_CHECK)); then
            [[ -f $ht && $BP_LINE == "$digest" ]] || bp_drift "$ht does not match $pw"
        elif [[ ! -f $ht || $BP_LINE != "$digest" ]]; then
            # The password reaches openssl on stdin, never in an argument list.
            for user in "${users[@]}"; do
                printf '%s:%s\n' "$user" "$(printf '%s' "${pass[$user]}" | openssl passwd -6 -stdin)"
            done | bp_replace "$ht" 0640 root www-data
            bp_state_put "basic-auth/$site" "$digest"
            BP_CHANGES+=("$ht: ${users[*]}")
        fi
        [[ ! -f $ht ]] || bp_own "$ht" 0640 root www-data
        bp_own "$pw" 0600 root root
    done
}

# The off-host copy's secrets (BP_OFFSITE set): the restic repository's password and, for an
# sftp repository, the ssh key blueprint-backup logs in with, both made here once, in root's
# directory (laid out by BP_DIRS), and never replaced: a re-run keeps them, and a password put
# back by hand on a rebuilt host is the one used. The password is never printed; the public
# key is, in the summary, until a copy reaches the repository.
bp_offsite() {
    local key=$BP_OFFSITE_SSH_KEY tmp
    [[ -n $BP_OFFSITE ]] || return 0
    if [[ ! -e $BP_OFFSITE_PASSWORD ]]; then
        if ((BP_CHECK)); then
            bp_drift "$BP_OFFSITE_PASSWORD is missing"
        else
            bp_random | bp_create "$BP_OFFSITE_PASSWORD"
            BP_CHANGES+=("generated the off-host repository's password in $BP_OFFSITE_PASSWORD (keep a copy off the host)")
        fi
    fi
    [[ ! -e $BP_OFFSITE_PASSWORD ]] || bp_own "$BP_OFFSITE_PASSWORD" 0600 root root
    [[ -n $key ]] || return 0
    if [[ ! -e $key ]]; then
        if ((BP_CHECK)); then
            bp_drift "$key is missing"
        else
            # Made in a directory of its own beside it (what a killed run left goes first);
            # the public half goes live first, the private one last, as a new link.
            rm -rf -- "${key%/*}/.${key##*/}.bp-"*
            tmp=$(mktemp -d "${key%/*}/.${key##*/}.bp-XXXXXX")
            ssh-keygen -q -t ed25519 -N '' -C "blueprint-backup@$BP_HOST" -f "$tmp/key" </dev/null
            mv -fT -- "$tmp/key.pub" "$key.pub"
            ln -T -- "$tmp/key" "$key"
            rm -rf -- "$tmp"
            bp_forget "$key"
            bp_forget "$key.pub"
            BP_CHANGES+=("generated the ssh key of the off-host copy ($key.pub)")
        fi
    fi
    [[ ! -e $key ]] || bp_own "$key" 0600 root root
    [[ ! -e $key.pub ]] || bp_own "$key.pub" 0644 root root
}

# bp_create DEST < content: a new root 0600 file, written beside DEST and linked into place
# only while DEST does not exist (a link never replaces a file).
bp_create() {
    local dest=$1
    bp_stage "$dest" 0600 root root
    if ! ln -T -- "$BP_STAGED" "$dest"; then
        rm -f -- "$BP_STAGED"
        bp_die "$dest appeared while it was being made; nothing replaced it"
    fi
    rm -f -- "$BP_STAGED"
    bp_forget "$dest"
}

# --- 5. database ------------------------------------------------------------------------------

# psql as the postgres superuser, its script on stdin (not -f PATH: the bundle may sit in a
# directory the postgres user cannot read).
bp_psql() { (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -f -); }

# A site's database state that its SQL decides, as one digest computed by PostgreSQL: the
# SQL file's digest, the password in the site's .env, and the catalog rows the SQL asserts (the
# role's attributes, password verifier and oid; the database's oid, owner, encoding and ACL).
# What the SQL also sets inside the site's own database (the public schema's owner and ACL) is
# not in it: only the site's role and superusers can connect there to change it, and the role
# owns that database anyway. Needs psql variables bp_site, bp_sql and bp_pw; sets bp_fp.
# A missing role or database gives an empty digest (\gset would unset the variable on NULL).
BP_SQL_FINGERPRINT="SELECT coalesce((
  SELECT encode(sha256(convert_to(concat_ws(E'\\n', :'bp_sql', :'bp_pw',
    r.oid, r.rolpassword, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb,
    r.rolcanlogin, r.rolreplication, r.rolbypassrls, r.rolconnlimit, r.rolvaliduntil,
    d.oid, d.datdba = r.oid, d.encoding, d.datacl), 'UTF8')), 'hex')
    FROM pg_catalog.pg_authid r JOIN pg_catalog.pg_database d ON d.datname = :'bp_site'
   WHERE r.rolname = :'bp_site'), '') AS bp_fp \\gset"
BP_SQL_QUIET=("SET log_statement = 'none';" 'SET log_min_duration_statement = -1;'
    "SET log_min_error_statement = 'panic';")
BP_SQL_LOUD=('RESET log_statement;' 'RESET log_min_duration_statement;' 'RESET log_min_error_statement;')

# bp_sql_site N SITE: a site's SQL wrapped in its guard, for the one psql session. The password
# is the environment's BLUEPRINT_DB_PASSWORD_N. The digest statement carries it as a literal,
# so no logging setting may print it. When the digest equals the one recorded after the last
# apply, nothing of the site's SQL runs (a no-change run for 50 sites would otherwise spend most
# of its time re-hashing passwords and connecting to every database); otherwise the SQL runs and
# the new digest is printed as "BP_DB_FP SITE DIGEST" for bp_sql_apply to record.
bp_sql_site() {
    local n=$1 site=$2
    bp_bundle_digests
    # \getenv leaves a variable as it was when the environment lacks the name: unset first, so a
    # site without a password never gets the previous site's. (No \connect back to postgres: a
    # site's statements before its own \connect are cluster-wide, and a connection costs more
    # than the rest of a site's SQL; so do the catalogs the digest reads.)
    printf '%s\n' '\unset db_password' '\unset bp_pw' '\setenv BLUEPRINT_DB_PASSWORD' \
        "\\getenv bp_pw BLUEPRINT_DB_PASSWORD_$n" \
        '\if :{?bp_pw}' '\setenv BLUEPRINT_DB_PASSWORD :bp_pw' '\else' "\\set bp_pw ''" '\endif' \
        "\\set bp_site '$site'" "\\set bp_sql '${BP_BUNDLE_SHA[$BP_BUNDLE/sql/$site.sql]}'" \
        "\\set bp_known '${BP_DB_FP[$site]-}'" \
        "${BP_SQL_QUIET[@]}" "$BP_SQL_FINGERPRINT" "${BP_SQL_LOUD[@]}" \
        "SELECT :'bp_fp' = :'bp_known' AND :'bp_known' <> '' AS bp_intact \\gset" \
        '\if :bp_intact' '\else'
    cat -- "$BP_BUNDLE/sql/$site.sql"
    # After the SQL's \connect: a new session, so the settings again.
    printf '%s\n' "${BP_SQL_QUIET[@]}" "$BP_SQL_FINGERPRINT" "${BP_SQL_LOUD[@]}" \
        "\\echo BP_DB_FP $site :bp_fp" '\endif'
}

# bp_sql_apply PSQL...: the host's SQL and every site's, through ONE run of PSQL (a psql start
# through runuser costs about 70 ms a site). Each site's password reaches psql through its
# environment, never argv or the script: BLUEPRINT_DB_PASSWORD_<n>, copied with \setenv into the
# name the site's SQL reads. The passwords are exported in a subshell, to psql alone. Records
# each applied site's digest in the state record `database`, and names the sites applied.
declare -A BP_DB_FP=()
bp_sql_apply() {
    local site fp line rc=0 out n=0 applied=() sites=() passwords=()
    BP_DB_FP=()
    while read -r site fp; do
        [[ $fp =~ ^[0-9a-f]{64}$ ]] && BP_DB_FP[$site]=$fp
    done < <(bp_state_read database)
    for site in "${BP_SITES[@]}"; do
        [[ ${BP_SITE_DATABASE[$site]} == postgres ]] || continue
        sites+=("$site")
        bp_db_password "$site"
        passwords+=("$BP_PW")
        [[ -n $BP_PW ]] || bp_warn "$site: DATABASE_URL is not blueprint's; the role's password is left as it is"
    done
    out=$(
        for n in "${!passwords[@]}"; do
            [[ -n ${passwords[$n]} ]] && export "BLUEPRINT_DB_PASSWORD_$((n + 1))=${passwords[$n]}"
        done
        {
            cat -- "$BP_BUNDLE/sql/host.sql"
            for n in "${!sites[@]}"; do bp_sql_site "$((n + 1))" "${sites[$n]}"; done
        } | "$@"
    ) || rc=$?
    # What psql printed, in order; the digests of the sites it applied before any failure are
    # recorded, so a re-run after a fix does not redo them.
    while IFS= read -r line; do
        if [[ $line =~ ^BP_DB_FP\ ([^ ]+)\ ([0-9a-f]{64})$ ]]; then
            BP_DB_FP[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
            applied+=("${BASH_REMATCH[1]}")
        elif [[ -n $line ]]; then
            printf '%s\n' "$line"
        fi
    done <<<"$out"
    if ((${#applied[@]})); then
        for site in "${!BP_DB_FP[@]}"; do printf '%s %s\n' "$site" "${BP_DB_FP[$site]}"; done |
            LC_ALL=C sort | bp_state_write database
        for site in "${applied[@]}"; do BP_CHANGES+=("$site: database role, password and grants applied"); done
    fi
    return "$rc"
}

bp_database() {
    local site uses=0 i
    for site in "${BP_SITES[@]}"; do
        [[ ${BP_SITE_DATABASE[$site]} == postgres ]] && uses=1
    done
    ((uses)) || return 0
    bp_step "database"
    if ((BP_CHECK)); then
        systemctl is-enabled -q postgresql 2>/dev/null || bp_drift "postgresql is not enabled"
        return 0
    fi
    # A run killed inside the package's postinst may have left no cluster (pg_lsclusters reads
    # the same directories, at the cost of a perl start).
    if ! compgen -G "/etc/postgresql/*/*/postgresql.conf" >/dev/null; then
        bp_info "creating PostgreSQL cluster $BP_PG_MAJOR/main"
        pg_createcluster "$BP_PG_MAJOR" main >/dev/null
    fi
    # One systemctl for both units; a running cluster needs no start and no probe connection
    # (a psql start through runuser costs about 70 ms).
    local cluster=postgresql@$BP_PG_MAJOR-main
    bp_unit_states postgresql "$cluster"
    bp_unit_enabled postgresql || systemctl enable -q postgresql
    if ! bp_unit_active "$cluster"; then
        systemctl start postgresql
        for ((i = 0; i < 60; i++)); do
            (cd / && runuser -u postgres -- psql -X -q -c 'SELECT 1' >/dev/null 2>&1) && break
            sleep 0.5
        done
        ((i < 60)) || bp_die "PostgreSQL does not accept connections (see: journalctl -u $cluster)"
    fi
    bp_sql_apply bp_psql || bp_die "the database step failed (psql's message is above)"
}

# --- 6a. TLS bootstrap ------------------------------------------------------------------------

# A self-signed certificate for the site's domains, so nginx can start before a real one exists.
bp_placeholder() {
    local site=$1 dir=$BP_TLS/$1/placeholder domains san d tmpkey tmpcrt
    domains=${BP_SITE_DOMAINS[$site]}
    # Kept while it covers the same domains and is valid for another week (it lasts 30 days).
    # Its expiry is recorded beside it, so a re-run needs no openssl to know.
    local recorded='' expires=0
    [[ -f $dir/domains ]] && { IFS= read -r recorded <"$dir/domains" || true; }
    [[ -f $dir/expires ]] && { read -r expires <"$dir/expires" || true; }
    if [[ -f $dir/fullchain.pem && -f $dir/privkey.pem && $recorded == "$domains" ]]; then
        ((expires > EPOCHSECONDS + 604800)) && return 0
        if ((expires == 0)) && openssl x509 -checkend 604800 -noout -in "$dir/fullchain.pem" >/dev/null 2>&1; then
            return 0
        fi
    fi
    install -d -m 0700 "$dir"
    san=
    for d in $domains; do san+="${san:+,}DNS:$d"; done
    tmpkey=$(mktemp "$dir/.privkey.pem.bp-XXXXXX")
    tmpcrt=$(mktemp "$dir/.fullchain.pem.bp-XXXXXX")
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
        -subj "/CN=${domains%% *}" -addext "subjectAltName=$san" \
        -keyout "$tmpkey" -out "$tmpcrt" 2>/dev/null
    chmod 0600 "$tmpkey"
    chmod 0644 "$tmpcrt"
    # Key first: a certificate is only ever next to its own key.
    mv -fT "$tmpkey" "$dir/privkey.pem"
    mv -fT "$tmpcrt" "$dir/fullchain.pem"
    printf '%s' "$domains" >"$dir/domains"
    printf '%s\n' "$((EPOCHSECONDS + 30 * 86400))" >"$dir/expires"
    BP_CHANGES+=("$site: self-signed placeholder certificate")
    bp_pending_set nginx-reload
}

# True when the certificate FILE names every domain of SITE (domains added to a site need a new
# certificate even though the old one is still valid).
bp_cert_covers() {
    local file=$1 site=$2 sans d
    sans=$(openssl x509 -noout -ext subjectAltName -in "$file" 2>/dev/null | tr -d ' ' | tr ',' '\n') || return 1
    for d in ${BP_SITE_DOMAINS[$site]}; do
        grep -qxF "DNS:$d" <<<"$sans" || return 1
    done
}

bp_tls_links() { # bp_tls_links SITE FULLCHAIN PRIVKEY
    local site=$1 changed=0
    bp_symlink "$2" "$BP_TLS/$site/fullchain.pem"
    ((BP_PUT_CHANGED)) && changed=1
    bp_symlink "$3" "$BP_TLS/$site/privkey.pem"
    ((BP_PUT_CHANGED)) && changed=1
    if ((changed)) && ! ((BP_CHECK)); then bp_pending_set nginx-reload; fi
    return 0
}

bp_tls() {
    bp_step "TLS certificates"
    local site live
    bp_links_load "$BP_TLS"
    if ! ((BP_CHECK)); then
        [[ -d $BP_TLS && -d $BP_ACME_WEBROOT ]] || install -d -m 0755 /etc/blueprint "$BP_TLS" "$BP_ACME_WEBROOT"
    else
        [[ -d $BP_ACME_WEBROOT ]] || bp_drift "$BP_ACME_WEBROOT is missing"
    fi
    for site in "${BP_SITES[@]}"; do
        case ${BP_SITE_TLS[$site]} in
        acme)
            live=/etc/letsencrypt/live/$site
            if ((BP_CHECK)); then
                [[ -e $BP_TLS/$site/fullchain.pem && -e $BP_TLS/$site/privkey.pem ]] ||
                    bp_drift "$site: no certificate at $BP_TLS/$site"
            elif [[ -e $live/fullchain.pem && -e $live/privkey.pem ]]; then
                # certbot succeeded (maybe in a run that was killed before it switched over).
                bp_tls_links "$site" "$live/fullchain.pem" "$live/privkey.pem"
                bp_cert_covers "$live/fullchain.pem" "$site" || BP_ACME_RENEW+=("$site")
            else
                [[ -d $BP_TLS/$site ]] || install -d -m 0755 "$BP_TLS/$site"
                bp_placeholder "$site"
                bp_tls_links "$site" placeholder/fullchain.pem placeholder/privkey.pem
            fi
            ;;
        files)
            if [[ -e ${BP_SITE_TLS_CERT[$site]} && -e ${BP_SITE_TLS_KEY[$site]} ]]; then
                ((BP_CHECK)) || [[ -d $BP_TLS/$site ]] || install -d -m 0755 "$BP_TLS/$site"
                bp_tls_links "$site" "${BP_SITE_TLS_CERT[$site]}" "${BP_SITE_TLS_KEY[$site]}"
            elif ((BP_CHECK)); then
                # Like an apply: a missing file is served with the placeholder (and reported in
                # the summary), so only a site with no certificate at all is drift.
                [[ -e $BP_TLS/$site/fullchain.pem && -e $BP_TLS/$site/privkey.pem ]] ||
                    bp_drift "$site: no certificate at $BP_TLS/$site (${BP_SITE_TLS_CERT[$site]} or its key is missing)"
            else
                [[ -d $BP_TLS/$site ]] || install -d -m 0755 "$BP_TLS/$site"
                bp_placeholder "$site"
                bp_tls_links "$site" placeholder/fullchain.pem placeholder/privkey.pem
                bp_warn "$site: ${BP_SITE_TLS_CERT[$site]} or ${BP_SITE_TLS_KEY[$site]} does not exist; serving a self-signed placeholder"
            fi
            ;;
        esac
        bp_link_of "$BP_TLS/$site/fullchain.pem"
        if [[ ${BP_SITE_TLS[$site]} != none && $BP_LINK == placeholder/* ]]; then
            BP_PLACEHOLDERS+=("$site")
        fi
    done
}

# --- 6b. plain files (everything except nginx, which is staged and validated as a tree) -------

# sshd drop-in: validate the whole resulting sshd config, with the new drop-in taking precedence
# (sshd uses the first value it reads), without touching the live tree.
bp_validate_sshd() {
    local conf rc=0
    conf=$(mktemp /run/blueprint-sshd.XXXXXX)
    printf 'Include %s\nInclude /etc/ssh/sshd_config\n' "$1" >"$conf"
    mkdir -p /run/sshd
    sshd -t -f "$conf" || rc=$?
    rm -f -- "$conf"
    return "$rc"
}

# bp_validate NAME FILE: the validator plan.sh names for a file, run on its temp copy.
bp_validate() {
    case $1 in
    visudo) visudo -qcf "$2" ;;
    sshd) bp_validate_sshd "$2" ;;
    # At least one key the deploy user can log in with: with password logins off, a keys file
    # without one would lock the owner out.
    keys) ssh-keygen -lf "$2" >/dev/null 2>&1 ;;
    nft) nft -c -f "$2" ;;
    promtool-config) promtool check config "$2" >/dev/null ;;
    promtool-rules) promtool check rules "$2" >/dev/null ;;
    *) bp_die "blueprint bug: unknown validator $1" ;;
    esac
}

# bp_file ENTRY: install one BP_FILES entry ("path mode owner group stage validator actions").
# Its actions are recorded as pending before the new file goes live, so a kill between the
# two still ends in the action on the next run.
bp_file() {
    local path mode owner group stage validator actions action a
    read -r path mode owner group stage validator actions <<<"$1"
    # Every path is absolute and below a directory: ${path%/*} is its dirname, no process.
    if [[ ! -d ${path%/*} ]]; then
        if ((BP_CHECK)); then bp_drift "$path is missing"; return 0; fi
        install -d -m 0755 "${path%/*}"
    fi
    # A temp file a killed run left beside the live one goes, whether or not the file changes.
    ((BP_CHECK)) || bp_clean_tmp "$path"
    if [[ $actions != - ]] && ! ((BP_CHECK)) && ! bp_same_content "$BP_BUNDLE/files$path" "$path"; then
        IFS=, read -ra action <<<"$actions"
        for a in "${action[@]}"; do bp_pending_set "$a"; done
    fi
    if [[ $validator == - ]]; then
        bp_put "$BP_BUNDLE/files$path" "$path" "$mode" "$owner" "$group"
    else
        bp_put "$BP_BUNDLE/files$path" "$path" "$mode" "$owner" "$group" bp_validate "$validator"
    fi
}

# Entries of BP_FILES in STAGE (direct | nginx), into BP_STAGE_FILES.
bp_stage_files() {
    local entry rest
    BP_STAGE_FILES=()
    for entry in "${BP_FILES[@]}"; do
        rest=${entry#* * * * }
        [[ ${rest%% *} == "$1" ]] && BP_STAGE_FILES+=("$entry")
    done
    return 0
}

bp_files() {
    bp_step "files"
    local entry paths=(/etc/blueprint/PLAN.md)
    # One stat and one sha256sum for every file of the plan (the nginx step uses them too).
    bp_bundle_digests
    for entry in "${BP_FILES[@]}"; do paths+=("${entry%% *}"); done
    bp_snapshot "${paths[@]}"
    bp_stage_files direct
    for entry in "${BP_STAGE_FILES[@]}"; do bp_file "$entry"; done
    # The units' Documentation= points here.
    if ((BP_CHECK)) && [[ ! -d /etc/blueprint ]]; then
        bp_drift "/etc/blueprint/PLAN.md is missing"
    else
        ((BP_CHECK)) || [[ -d /etc/blueprint ]] || install -d -m 0755 /etc/blueprint
        bp_put "$BP_BUNDLE/PLAN.md" /etc/blueprint/PLAN.md 0644 root root
    fi
}

# --- 6c. nginx: stage, validate, swap ---------------------------------------------------------

# Sites blueprint applied before but that are no longer in the plan.
bp_removed_sites() {
    local site
    BP_REMOVED=()
    while read -r site; do
        [[ -n $site ]] || continue
        bp_in_list "$site" "${BP_SITES[@]}" || BP_REMOVED+=("$site")
    done < <(bp_state_read sites)
}

bp_nginx() {
    bp_step "nginx"
    local entry path mode owner group site stage=$BP_STAGING/nginx out
    bp_removed_sites
    bp_stage_files nginx
    bp_links_load /etc/nginx/sites-enabled
    if ((BP_CHECK)); then
        for entry in "${BP_STAGE_FILES[@]}"; do bp_file "$entry"; done
        for site in "${BP_SITES[@]}"; do
            bp_symlink "../sites-available/$site.conf" "/etc/nginx/sites-enabled/$site.conf"
        done
        for site in "${BP_REMOVED[@]}"; do
            [[ ! -e /etc/nginx/sites-enabled/$site.conf ]] || bp_drift "removed site $site is still enabled in nginx"
        done
        systemctl is-active -q nginx || bp_drift "nginx is not running"
        return 0
    fi

    # Nothing to change and nginx running: the live configuration is the one an earlier run
    # validated, so the scratch copy and `nginx -t` (most of this step) are skipped.
    if bp_nginx_current && systemctl is-active -q nginx; then
        # bp_file changes nothing here, but clears a temp file a killed run left beside one.
        for entry in "${BP_STAGE_FILES[@]}"; do bp_file "$entry"; done
        bp_nginx_apply
        return 0
    fi

    # The complete future /etc/nginx, in a scratch copy. Includes in nginx.conf are relative, so
    # `nginx -t -c $stage/nginx.conf` resolves them inside the copy.
    rm -rf -- "$stage"
    install -d -m 0700 "$BP_STAGING"
    cp -a /etc/nginx "$stage"
    for entry in "${BP_STAGE_FILES[@]}"; do
        read -r path mode owner group _ <<<"$entry"
        install -D -m "$mode" -o "$owner" -g "$group" "$BP_BUNDLE/files$path" "$stage/${path#/etc/nginx/}"
    done
    install -d -m 0755 "$stage/sites-enabled"
    for site in "${BP_SITES[@]}"; do
        ln -sfn "../sites-available/$site.conf" "$stage/sites-enabled/$site.conf"
    done
    for site in "${BP_REMOVED[@]}"; do
        rm -f -- "$stage/sites-enabled/$site.conf"
    done
    if ! out=$(nginx -t -q -c "$stage/nginx.conf" 2>&1); then
        printf '%s\n' "$out" | sed "s|$stage|/etc/nginx|g" >&2
        bp_die "the new nginx configuration does not pass \`nginx -t\`; /etc/nginx is unchanged"
    fi
    rm -rf -- "$stage"

    # Validated: install what differs (each file records its reload as pending first).
    for entry in "${BP_STAGE_FILES[@]}"; do bp_file "$entry"; done
    [[ -d /etc/nginx/sites-enabled ]] || install -d -m 0755 /etc/nginx/sites-enabled
    for site in "${BP_SITES[@]}"; do
        bp_link_of "/etc/nginx/sites-enabled/$site.conf"
        [[ $BP_LINK == "../sites-available/$site.conf" ]] || bp_pending_set nginx-reload
        bp_symlink "../sites-available/$site.conf" "/etc/nginx/sites-enabled/$site.conf"
    done
    for site in "${BP_REMOVED[@]}"; do
        if [[ -e /etc/nginx/sites-enabled/$site.conf || -L /etc/nginx/sites-enabled/$site.conf ]]; then
            bp_pending_set nginx-reload
            rm -f -- "/etc/nginx/sites-enabled/$site.conf"
            BP_CHANGES+=("disabled nginx site $site (removed from the plan)")
        fi
    done
    bp_nginx_apply
}

# True when every nginx file of the plan is in place with its mode and owner, every site is
# enabled, and no removed site still is.
bp_nginx_current() {
    local entry path mode owner group site
    for entry in "${BP_STAGE_FILES[@]}"; do
        read -r path mode owner group _ <<<"$entry"
        bp_same_content "$BP_BUNDLE/files$path" "$path" || return 1
        bp_meta_of "$path"
        bp_mode "$mode"
        [[ $BP_M == "$BP_MODE $owner $group" ]] || return 1
    done
    for site in "${BP_SITES[@]}"; do
        bp_link_of "/etc/nginx/sites-enabled/$site.conf"
        [[ $BP_LINK == "../sites-available/$site.conf" ]] || return 1
    done
    for site in "${BP_REMOVED[@]}"; do
        [[ ! -e /etc/nginx/sites-enabled/$site.conf && ! -L /etc/nginx/sites-enabled/$site.conf ]] || return 1
    done
}

# Reload nginx when something is pending, start it when it is not running.
bp_nginx_apply() {
    systemctl is-enabled -q nginx || systemctl enable -q nginx
    if ! systemctl is-active -q nginx; then
        systemctl start nginx
        BP_RESTARTED+=(nginx)
    elif bp_pending nginx-reload; then
        systemctl reload nginx
        BP_RELOADED+=(nginx)
    fi
    bp_pending_clear nginx-reload
}

# --- 7. systemd units -------------------------------------------------------------------------

bp_systemd() {
    bp_step "services"
    local unit site target line path sum
    local -A site_current=() site_env=()
    if ! ((BP_CHECK)) && bp_pending daemon-reload; then
        systemctl daemon-reload
        bp_pending_clear daemon-reload
    fi
    bp_unit_states "${BP_UNITS[@]}" "${BP_HOST_UNITS[@]}" "${BP_TIMERS[@]}" "${BP_TIMERS[@]/%/.timer}"
    bp_host_units
    bp_timers
    if ((BP_CHECK)); then
        for unit in "${BP_UNITS[@]}"; do
            if [[ ${BP_UNIT_ENABLED[$unit]} == 1 ]]; then
                bp_unit_enabled "$unit" || bp_drift "$unit.service is not enabled"
                if [[ -e $BP_SITES_ROOT/${BP_UNIT_SITE[$unit]}/current ]] && ! bp_unit_active "$unit"; then
                    bp_drift "$unit.service is not running"
                fi
            else
                ! bp_unit_enabled "$unit" || bp_drift "$unit.service is enabled but disabled in the plan"
            fi
            ! bp_pending "restart-$unit" || bp_drift "$unit.service has a pending restart"
        done
        return 0
    fi
    # Every site's release link and .env digest, one process each for all sites.
    while read -r path target; do
        site=${path#"$BP_SITES_ROOT"/}
        site_current[${site%%/*}]=$target
    done < <(find "$BP_SITES_ROOT" -mindepth 2 -maxdepth 2 -name current -type l -printf '%p %l\n' 2>/dev/null)
    while read -r sum path; do
        site=${path#"$BP_SITES_ROOT"/}
        site_env[${site%%/*}]=$sum
    done < <(for site in "${BP_SITES[@]}"; do printf '%s\0' "$BP_SITES_ROOT/$site/shared/.env"; done |
        xargs -0 sha256sum -- 2>/dev/null)
    for unit in "${BP_UNITS[@]}"; do
        site=${BP_UNIT_SITE[$unit]}
        if [[ ${BP_UNIT_ENABLED[$unit]} != 1 ]]; then
            if bp_unit_enabled "$unit"; then
                systemctl disable -q "$unit.service"
                BP_CHANGES+=("disabled $unit.service")
            fi
            if bp_unit_active "$unit"; then
                systemctl stop "$unit.service"
                BP_CHANGES+=("stopped $unit.service")
            fi
            bp_pending_clear "restart-$unit"
            continue
        fi
        if ! bp_unit_enabled "$unit"; then
            systemctl enable -q "$unit.service"
            BP_CHANGES+=("enabled $unit.service")
        fi
        target=${site_current[$site]-}
        if [[ -z $target || ! -e $BP_SITES_ROOT/$site/current ]]; then
            # ConditionPathExists would skip it anyway; nothing to run until a release exists.
            BP_WAITING+=("$unit")
            bp_pending_clear "restart-$unit"
            continue
        fi
        # Restart only for a reason: new unit file, new .env, new release, or not running.
        bp_state_line "current/$site"
        local recorded_current=$BP_LINE
        bp_state_line "env/$site"
        if bp_pending "restart-$unit" || [[ $recorded_current != "$target" ]] ||
            [[ $BP_LINE != "${site_env[$site]-}" ]] || ! bp_unit_active "$unit"; then
            if ! systemctl restart "$unit.service"; then
                bp_warn "$unit.service failed to start (journalctl -u $unit.service)"
                BP_UNIT_FAILURE=1
            fi
            BP_RESTARTED+=("$unit")
            bp_pending_clear "restart-$unit"
        fi
    done
    # Type=simple units report success at exec time; give a crashing release a moment to show.
    if ((${#BP_RESTARTED[@]})); then
        sleep 1
        for unit in "${BP_RESTARTED[@]}"; do
            [[ $unit == nginx ]] && continue
            # Timers carry their suffix; a bare name is a service.
            [[ $unit == *.* ]] || unit=$unit.service
            if ! systemctl is-active -q "$unit"; then
                bp_warn "$unit is not running after (re)start (journalctl -u $unit)"
                BP_UNIT_FAILURE=1
            fi
        done
    fi
    # Record what the running units now use (after the restarts above).
    for site in "${BP_SITES[@]}"; do
        [[ -z ${site_current[$site]-} ]] || bp_state_put "current/$site" "${site_current[$site]}"
        bp_state_put "env/$site" "${site_env[$site]-}"
    done
    # Which units blueprint manages, so a removed one can be stopped later.
    line=$(
        {
            for unit in "${BP_UNITS[@]}"; do printf '%s %s\n' "$unit" "${BP_UNIT_SITE[$unit]}"; done
            for unit in "${BP_TIMERS[@]}"; do printf '%s.timer %s\n' "$unit" "${BP_TIMER_SITE[$unit]}"; done
            # Units of removed sites stay recorded until their site is deleted by hand.
            while read -r line; do
                [[ -n $line ]] || continue
                unit=${line%% *}
                bp_planned_unit "$unit" || printf '%s\n' "$line"
            done < <(bp_state_read units)
        } | LC_ALL=C sort -u
    )
    [[ $line == "$(bp_state_read units)" ]] || printf '%s\n' "$line" | bp_state_write units
}

# blueprint's own units (not a site's): enabled, and (re)started when their files changed or
# they are not active. A oneshot that loads a ruleset stays active after it ran; a timer (named
# with its suffix) is active while it waits.
bp_host_units() {
    local unit name
    for unit in "${BP_HOST_UNITS[@]}"; do
        name=$unit
        [[ $name == *.* ]] || name=$unit.service
        if ((BP_CHECK)); then
            bp_unit_enabled "$unit" || bp_drift "$name is not enabled"
            bp_unit_active "$unit" || bp_drift "$name is not active"
            ! bp_pending "restart-$unit" || bp_drift "$name has a pending restart"
            continue
        fi
        if ! bp_unit_enabled "$unit"; then
            systemctl enable -q "$name"
            BP_CHANGES+=("enabled $name")
        fi
        if bp_pending "restart-$unit" || ! bp_unit_active "$unit"; then
            systemctl restart "$name" || bp_die "$name failed (journalctl -u $name)"
            BP_RESTARTED+=("$unit")
            bp_pending_clear "restart-$unit"
        fi
    done
}

# Jobs: each timer enabled and active (or disabled and stopped), restarted when its file changed.
# The job's own service is never started here (its timer does that); a failed last run is said.
bp_timers() {
    local unit timer
    for unit in "${BP_TIMERS[@]}"; do
        timer=$unit.timer
        if [[ ${BP_UNIT_ACTIVE[$unit]-} == failed ]]; then
            bp_warn "job $unit failed its last run (journalctl -u $unit.service; systemctl reset-failed $unit.service clears this)"
        fi
        if ((BP_CHECK)); then
            if [[ ${BP_TIMER_ENABLED[$unit]} == 1 ]]; then
                bp_unit_enabled "$timer" || bp_drift "$timer is not enabled"
                bp_unit_active "$timer" || bp_drift "$timer is not active"
            else
                ! bp_unit_enabled "$timer" || bp_drift "$timer is enabled but disabled in the plan"
            fi
            ! bp_pending "restart-$timer" || bp_drift "$timer has a pending restart"
            continue
        fi
        if [[ ${BP_TIMER_ENABLED[$unit]} != 1 ]]; then
            if bp_unit_enabled "$timer"; then
                systemctl disable -q "$timer"
                BP_CHANGES+=("disabled $timer")
            fi
            if bp_unit_active "$timer"; then
                systemctl stop "$timer"
                BP_CHANGES+=("stopped $timer")
            fi
            bp_pending_clear "restart-$timer"
            continue
        fi
        if ! bp_unit_enabled "$timer"; then
            systemctl enable -q "$timer"
            BP_CHANGES+=("enabled $timer")
        fi
        if bp_pending "restart-$timer" || ! bp_unit_active "$timer"; then
            if ! systemctl restart "$timer"; then
                bp_warn "$timer failed to start (journalctl -u $timer)"
                BP_UNIT_FAILURE=1
            fi
            BP_RESTARTED+=("$timer")
            bp_pending_clear "restart-$timer"
        fi
    done
}

# --- 8. removed sites and units ---------------------------------------------------------------

# Whether a name of the units record (a service without .service, a timer with .timer) is in
# the plan.
bp_planned_unit() {
    if [[ $1 == *.timer ]]; then bp_in_list "${1%.timer}" "${BP_TIMERS[@]}"; else bp_in_list "$1" "${BP_UNITS[@]}"; fi
}

bp_retire() {
    local line unit site
    bp_removed_sites
    # Units blueprint installed that are no longer in the plan: stopped and disabled, file kept.
    while read -r line; do
        [[ -n $line ]] || continue
        unit=${line%% *}
        bp_planned_unit "$unit" && continue
        # A recorded timer carries its suffix; a service does not.
        [[ $unit == *.timer ]] || unit=$unit.service
        if systemctl is-enabled -q "$unit" 2>/dev/null; then
            if ((BP_CHECK)); then bp_drift "$unit is no longer in the plan but enabled"; else
                systemctl disable -q "$unit"
                BP_CHANGES+=("disabled $unit (removed from the plan)")
            fi
        fi
        if systemctl is-active -q "$unit"; then
            if ((BP_CHECK)); then bp_drift "$unit is no longer in the plan but running"; else
                systemctl stop "$unit"
                BP_CHANGES+=("stopped $unit (removed from the plan)")
            fi
        fi
    done < <(bp_state_read units)
    if ! ((BP_CHECK)); then
        # Removed sites stay listed (for the summary) until their directory is deleted by hand.
        local -A retired=()
        for site in "${BP_REMOVED[@]}"; do retired[$site]=1; done
        if [[ -f $BP_STATE/retired ]]; then
            while read -r site; do [[ -z $site ]] || retired[$site]=1; done <"$BP_STATE/retired"
        fi
        BP_RETIRED=()
        for site in "${!retired[@]}"; do
            bp_in_list "$site" "${BP_SITES[@]}" && continue
            [[ -e $BP_SITES_ROOT/$site ]] && BP_RETIRED+=("$site")
        done
        # Sorted, and written only when it changes.
        if ((${#BP_RETIRED[@]})); then
            mapfile -t BP_RETIRED < <(printf '%s\n' "${BP_RETIRED[@]}" | LC_ALL=C sort)
        fi
        [[ ${BP_RETIRED[*]} == "$(bp_state_read retired | xargs)" ]] ||
            for site in "${BP_RETIRED[@]}"; do printf '%s\n' "$site"; done | bp_state_write retired
        [[ ${BP_SITES[*]} == "$(bp_state_read sites | xargs)" ]] ||
            printf '%s\n' "${BP_SITES[@]}" | bp_state_write sites
        return 0
    fi
    mapfile -t BP_RETIRED < <(bp_state_read retired)
}

# --- 9. host hardening ------------------------------------------------------------------------

bp_firewall() {
    ((BP_FIREWALL)) || return 0
    bp_step "firewall"
    # In a container the host's firewall is what counts, and ufw may lack the kernel access it
    # needs. BLUEPRINT_FIREWALL_IN_CONTAINER=1 applies it anyway (tests on container machines).
    if bp_is_container && [[ ${BLUEPRINT_FIREWALL_IN_CONTAINER:-0} != 1 ]]; then
        BP_SKIPPED+=("firewall (ufw): this host is a container")
        bp_info "skipped: container"
        return 0
    fi
    local status port net applied old=() want_ok=1 web="80/tcp, 443/tcp"
    status=$(ufw status verbose 2>/dev/null || true)
    # The networks 80 and 443 were last opened to (empty: everyone); their rules go when unplanned.
    bp_state_line firewall-web-from
    applied=$BP_LINE
    read -ra old <<<"$applied"
    grep -q '^Status: active' <<<"$status" || want_ok=0
    grep -q 'Default: deny (incoming)' <<<"$status" || want_ok=0
    grep -qE "^$BP_SSH_PORT/tcp +ALLOW IN +Anywhere *\$" <<<"$status" || want_ok=0
    for port in 80 443; do
        if ((${#BP_WEB_FROM[@]})); then
            for net in "${BP_WEB_FROM[@]}"; do
                grep -qE "^$port/tcp +ALLOW IN +${net//./\\.} *\$" <<<"$status" || want_ok=0
            done
            ! grep -qE "^$port/tcp( \(v6\))? +ALLOW IN +Anywhere" <<<"$status" || want_ok=0
        else
            grep -qE "^$port/tcp +ALLOW IN +Anywhere *\$" <<<"$status" || want_ok=0
        fi
    done
    [[ $applied == "${BP_WEB_FROM[*]}" ]] || want_ok=0
    ((want_ok)) && return 0
    if ((BP_CHECK)); then bp_drift "firewall is not active with the planned rules"; return 0; fi
    # Every network that may have a rule, recorded before any is added, so a run killed half
    # way still removes the rules of networks the next plan drops.
    bp_state_put firewall-web-from "$(printf '%s\n' "${old[@]}" "${BP_WEB_FROM[@]}" | LC_ALL=C sort -u | xargs)"
    # SSH first: enabling a deny-by-default firewall without it would lock us out. New rules are
    # added before old ones go, so no moment has 80/443 closed to a planned client.
    ufw allow "$BP_SSH_PORT/tcp" >/dev/null
    if ((${#BP_WEB_FROM[@]})); then
        for net in "${BP_WEB_FROM[@]}"; do
            for port in 80 443; do ufw allow from "$net" to any port "$port" proto tcp >/dev/null; done
        done
        for port in 80 443; do ufw delete allow "$port/tcp" >/dev/null 2>&1 || true; done
        web="80/tcp, 443/tcp from ${BP_WEB_FROM[*]}"
    else
        ufw allow 80/tcp >/dev/null
        ufw allow 443/tcp >/dev/null
    fi
    for net in "${old[@]}"; do
        bp_in_list "$net" "${BP_WEB_FROM[@]}" && continue
        for port in 80 443; do
            ufw delete allow from "$net" to any port "$port" proto tcp >/dev/null 2>&1 || true
        done
    done
    ufw default deny incoming >/dev/null
    ufw --force enable >/dev/null
    bp_state_put firewall-web-from "${BP_WEB_FROM[*]}"
    BP_CHANGES+=("firewall: deny incoming except $BP_SSH_PORT/tcp, $web")
}

bp_services_hardening() {
    if ((BP_FAIL2BAN)); then
        bp_step "fail2ban"
        if ((BP_CHECK)); then
            systemctl is-enabled -q fail2ban 2>/dev/null || bp_drift "fail2ban is not enabled"
        else
            systemctl is-enabled -q fail2ban || systemctl enable -q fail2ban
            if bp_pending fail2ban-restart || ! systemctl is-active -q fail2ban; then
                if systemctl restart fail2ban; then
                    BP_RESTARTED+=(fail2ban)
                else
                    bp_warn "fail2ban did not start (journalctl -u fail2ban)"
                fi
                bp_pending_clear fail2ban-restart
            fi
        fi
    fi
    if ! ((BP_CHECK)) && bp_pending ssh-reload; then
        bp_step "sshd"
        # Validated when the drop-in was installed. Restart, not reload: on SIGHUP sshd closes its
        # listening socket and re-executes itself, and `systemctl reload` returns before it
        # listens again, so a login right after setup.sh could be refused (seen on a slow VM).
        # ssh.service is Type=notify, so restart returns once the new sshd listens, and
        # KillMode=process keeps open sessions, this one included.
        if systemctl is-enabled -q ssh.socket 2>/dev/null; then
            # Ubuntu 24.04 socket-activates sshd: systemd listens, on the port a generator reads
            # from sshd_config at daemon-reload, and sshd ignores its own Port. Without both
            # steps a new ssh_port would be allowed by the firewall while nothing listens on it.
            # ssh.service requires the socket, so it restarts with it (sessions stay, as above).
            systemctl daemon-reload
            systemctl restart ssh.socket
        else
            systemctl try-restart ssh.service
        fi
        BP_RESTARTED+=(ssh)
        bp_pending_clear ssh-reload
    fi
}

# --- 10. certificates from Let's Encrypt ------------------------------------------------------

bp_acme() {
    local site d args
    ((${#BP_PLACEHOLDERS[@]} + ${#BP_ACME_RENEW[@]})) || return 0
    ((BP_CHECK)) && return 0
    bp_step "Let's Encrypt"
    if [[ ${BLUEPRINT_SKIP_ACME:-0} == 1 ]]; then
        BP_SKIPPED+=("certbot (BLUEPRINT_SKIP_ACME=1)")
        bp_info "skipped (BLUEPRINT_SKIP_ACME=1)"
        return 0
    fi
    local still=()
    for site in "${BP_PLACEHOLDERS[@]}" "${BP_ACME_RENEW[@]}"; do
        if [[ ${BP_SITE_TLS[$site]} != acme ]]; then still+=("$site"); continue; fi
        args=()
        for d in ${BP_SITE_DOMAINS[$site]}; do args+=(-d "$d"); done
        bp_info "$site: requesting a certificate for ${BP_SITE_DOMAINS[$site]}"
        if timeout 120 certbot certonly --webroot -w "$BP_ACME_WEBROOT" --cert-name "$site" "${args[@]}" \
            --email "$BP_ACME_EMAIL" --agree-tos --non-interactive --keep-until-expiring \
            >"$BP_STATE/certbot-$site.log" 2>&1 &&
            [[ -e /etc/letsencrypt/live/$site/fullchain.pem ]]; then
            bp_tls_links "$site" "/etc/letsencrypt/live/$site/fullchain.pem" "/etc/letsencrypt/live/$site/privkey.pem"
            BP_CHANGES+=("$site: Let's Encrypt certificate")
        elif bp_in_list "$site" "${BP_ACME_RENEW[@]}"; then
            bp_warn "$site: certbot failed; the current certificate does not cover ${BP_SITE_DOMAINS[$site]} (log: $BP_STATE/certbot-$site.log)"
        else
            bp_info "$site: certbot failed, keeping the placeholder (log: $BP_STATE/certbot-$site.log)"
            still+=("$site")
        fi
    done
    BP_PLACEHOLDERS=("${still[@]}")
    if bp_pending nginx-reload; then
        systemctl reload nginx
        BP_RELOADED+=(nginx)
        bp_pending_clear nginx-reload
    fi
}

# --- 11. summary ------------------------------------------------------------------------------

# The URL of PATH on SITE's first domain, through the local nginx, into BP_URL; the --resolve
# entry that sends it to 127.0.0.1 into BP_RESOLVE.
BP_URL=''
BP_RESOLVE=''
bp_probe_url() {
    local site=$1 path=$2 d scheme=https port=443
    d=${BP_SITE_DOMAINS[$site]%% *}
    [[ ${BP_SITE_TLS[$site]} == none ]] && { scheme=http; port=80; }
    BP_URL=$scheme://$d$path
    # A site answered on one address only is probed there.
    BP_RESOLVE=$d:$port:${BP_SITE_LISTEN[$site]:-127.0.0.1}
}

# bp_probe_all URL...: the HTTP status of every URL (000: no answer) into BP_PROBE_CODE, with
# one curl for all of them per round (a curl per probe costs more than the probes), asking
# again, BP_PROBE_ROUNDS times a second apart, while one does not answer 2xx/3xx: a service
# restarted a moment ago may still be starting. BP_PROBE_RESOLVE holds the --resolve entries.
declare -A BP_PROBE_CODE=()
BP_PROBE_RESOLVE=()
BP_PROBE_ROUNDS=10
bp_probe_all() {
    local round url code todo=("$@") left r
    for url in "$@"; do BP_PROBE_CODE[$url]=000; done
    for ((round = 0; round < BP_PROBE_ROUNDS && ${#todo[@]}; round++)); do
        ((round)) && sleep 1
        # The URLs go in a config on stdin, not argv: they are the bundle's, but a config keeps
        # the command line short for a host of many sites.
        while read -r code url; do
            [[ -v BP_PROBE_CODE[$url] ]] && BP_PROBE_CODE[$url]=$code
        done < <(
            {
                printf '%s\n' silent insecure parallel 'parallel-max = 32' 'max-time = 5' \
                    'write-out = "%{http_code} %{url_effective}\n"'
                for r in "${BP_PROBE_RESOLVE[@]}"; do printf 'resolve = "%s"\n' "$r"; done
                for url in "${todo[@]}"; do printf 'url = "%s"\noutput = "/dev/null"\n' "$url"; done
            } | curl --config - 2>/dev/null || true
        )
        left=()
        for url in "${todo[@]}"; do
            [[ ${BP_PROBE_CODE[$url]} =~ ^[23] ]] || left+=("$url")
        done
        todo=("${left[@]}")
    done
}

# Warns about every process of a site's unit that listens on anything but loopback, naming the
# unit and the address: nginx is meant to be the only public listener, and a firewall that is
# off, or a port it allows, would expose the app directly. Reads the live sockets (ss) and
# attributes each to its unit by the process's cgroup.
bp_bind_check() {
    local netid addr procs pid cgroup unit seen
    command -v ss >/dev/null 2>&1 || return 0
    # Builtins only after the one ss: this runs on every re-run, and nginx and sshd listen with
    # several processes each.
    while read -r netid _ _ _ addr _ procs; do
        case $addr in 127.* | '[::1]':* | '[::ffff:127.'*) continue ;; esac
        seen=' '
        while [[ $procs =~ pid=([0-9]+) ]]; do
            pid=${BASH_REMATCH[1]}
            procs=${procs#*"pid=$pid"}
            [[ $seen == *" $pid "* ]] && continue
            seen+="$pid "
            cgroup=
            { IFS= read -r -d '' cgroup <"/proc/$pid/cgroup"; } 2>/dev/null || [[ -n $cgroup ]] || continue
            for unit in "${BP_UNITS[@]}"; do
                [[ $cgroup == *"/$unit.service"* ]] || continue
                bp_warn "$unit listens on $addr ($netid), not on 127.0.0.1 only: make the app bind \$HOST (127.0.0.1)"
            done
        done
    done < <(ss -Hlntup 2>/dev/null)
}

# Each site's newest verified backup, as blueprint-backup reports it: a line for the summary,
# and a warning when it is older than the plan allows. (None yet is said, not warned: a fresh
# host's first backup is the timer's.)
#
# With an off-host copy (BP_OFFSITE), each line also says when a backup of the site last reached
# the repository; a failed copy of the newest backup, or a copy older than the plan allows, is
# warned about. Until any copy has arrived, the summary says what the repository needs: its
# directory (local) or blueprint's public key (sftp).
bp_backups() {
    local site id at copied lost age now line arrived=0
    ((${#BP_SITES[@]})) && [[ -n $BP_BACKUP_COMMAND && -x $BP_BACKUP_COMMAND ]] || return 0
    printf -v now '%(%s)T' -1
    while IFS=$'\t' read -r site id at copied lost; do
        bp_in_list "$site" "${BP_SITES[@]}" || continue
        [[ ${copied:--} == - ]] || arrived=1
        if [[ $id == - ]]; then
            BP_BACKUP_LINES+=("$site: no verified backup yet ($BP_BACKUP_COMMAND $site takes one now)")
            continue
        fi
        age=$((now - at))
        line="$site: $id, verified $((age / 3600))h ago"
        if ((age > BP_BACKUP_STALE_AFTER)); then
            bp_warn "$site: the newest verified backup ($id) is $((age / 3600))h old (see $BP_BACKUP_COMMAND $site --list and systemctl list-timers)"
        fi
        if [[ -n $BP_OFFSITE ]]; then
            if [[ ${lost:-0} == 1 ]]; then
                line+=", off-host copy FAILED"
                bp_warn "$site: backup $id was not copied off-host to $BP_OFFSITE (its unit's journal says why; $BP_BACKUP_COMMAND $site --offsite-copy retries)"
            elif [[ ${copied:--} == - ]]; then
                line+=", not copied off-host yet"
            else
                line+=", copied off-host $(((now - copied) / 3600))h ago"
                if ((now - copied > BP_BACKUP_STALE_AFTER)); then
                    bp_warn "$site: the newest off-host copy is $(((now - copied) / 3600))h old (see $BP_BACKUP_COMMAND $site --list)"
                fi
            fi
        fi
        BP_BACKUP_LINES+=("$line")
    done < <("$BP_BACKUP_COMMAND" --status)
    if [[ -n $BP_OFFSITE_DIR && ! -d $BP_OFFSITE_DIR ]]; then
        bp_warn "the off-host repository's directory $BP_OFFSITE_DIR does not exist: mount its disk, or create it (mkdir -m 0700 $BP_OFFSITE_DIR)"
    fi
    if [[ -n $BP_OFFSITE_SSH_KEY && $arrived == 0 && -f $BP_OFFSITE_SSH_KEY.pub ]]; then
        BP_OFFSITE_LINES+=("no backup has reached $BP_OFFSITE yet; let this key log in there (its user's ~/.ssh/authorized_keys): $(<"$BP_OFFSITE_SSH_KEY.pub")")
    fi
    if ((BP_CHECK)); then
        for line in "${BP_BACKUP_LINES[@]}"; do bp_info "backup: $line"; done
        for line in "${BP_OFFSITE_LINES[@]}"; do bp_info "offsite: $line"; done
    fi
}

bp_summary() {
    local unit site r code url n=0 i probes=() labels=() urls=() files=() owner
    bp_step "summary"
    # Every probe at once (each may retry for a service still starting), results in order.
    for unit in "${BP_UNITS[@]}"; do
        site=${BP_UNIT_SITE[$unit]}
        [[ ${BP_UNIT_ENABLED[$unit]} == 1 ]] || continue
        [[ -n ${BP_UNIT_HEALTH[$unit]} ]] || continue
        [[ -e $BP_SITES_ROOT/$site/current ]] || continue
        probes+=("$site ${BP_UNIT_HEALTH[$unit]}")
        labels+=("$site ($unit)")
    done
    for site in "${BP_SITES[@]}"; do
        [[ -n ${BP_SITE_STATIC[$site]} ]] || continue
        if [[ -e $BP_SITES_ROOT/$site/current ]]; then
            probes+=("$site /")
            labels+=("$site (static)")
        else
            BP_PROBES+=("$site (static): waiting for a release ($BP_SITES_ROOT/$site/current)")
        fi
    done
    if ((${#probes[@]})); then
        urls=()
        BP_PROBE_RESOLVE=()
        for i in "${!probes[@]}"; do
            # shellcheck disable=SC2086  # "site path": two words on purpose
            bp_probe_url ${probes[$i]}
            urls+=("$BP_URL")
            bp_in_list "$BP_RESOLVE" "${BP_PROBE_RESOLVE[@]}" || BP_PROBE_RESOLVE+=("$BP_RESOLVE")
        done
        bp_probe_all "${urls[@]}"
        for i in "${!probes[@]}"; do
            url=${urls[$i]}
            code=${BP_PROBE_CODE[$url]}
            BP_PROBES+=("${labels[$i]}: $url -> $code")
            [[ $code =~ ^[23] ]] || bp_warn "${labels[$i]%% *}: $url answers $code through nginx"
        done
    fi
    bp_bind_check

    bp_step_done
    printf 'files changed: %d\n' "${#BP_CHANGED_FILES[@]}"
    for r in "${BP_CHANGED_FILES[@]}"; do printf '  %s\n' "$r"; done
    printf 'other changes: %d\n' "${#BP_CHANGES[@]}"
    for r in "${BP_CHANGES[@]}"; do printf '  %s\n' "$r"; done
    printf 'restarted: %s\n' "${BP_RESTARTED[*]:-none}"
    printf 'reloaded: %s\n' "${BP_RELOADED[*]:-none}"
    for unit in "${BP_WAITING[@]}"; do printf 'waiting for a release: %s (deploy to %s/%s/current)\n' "$unit" "$BP_SITES_ROOT" "${BP_UNIT_SITE[$unit]}"; done
    for r in "${BP_PROBES[@]}"; do printf 'site %s\n' "$r"; done
    for r in "${BP_BACKUP_LINES[@]}"; do printf 'backup: %s\n' "$r"; done
    for r in "${BP_OFFSITE_LINES[@]}"; do printf 'offsite: %s\n' "$r"; done
    for r in "${BP_AWAITING[@]}"; do printf 'secret awaiting a value: %s (edit %s/%s/shared/.env, then re-run setup.sh)\n' "$r" "$BP_SITES_ROOT" "${r%%:*}"; done
    for site in "${BP_PLACEHOLDERS[@]}"; do printf 'certificate still a self-signed placeholder: %s\n' "$site"; done
    for r in "${BP_SKIPPED[@]}"; do printf 'skipped: %s\n' "$r"; done
    for site in "${BP_RETIRED[@]}"; do
        printf 'site %s was removed from the plan; its services are stopped, its data kept. To delete it:\n' "$site"
        printf '  rm -f /etc/nginx/sites-available/%s.conf /etc/logrotate.d/blueprint-%s\n' "$site" "$site"
        # Its units by name, from the record: a glob like <site>-*.service would also match
        # the units of a site named <site>-<more>.
        files=()
        while read -r unit owner; do
            [[ $owner == "$site" ]] || continue
            # A job's timer and its service.
            [[ $unit == *.timer ]] && files+=("/etc/systemd/system/$unit") && unit=${unit%.timer}
            files+=("/etc/systemd/system/$unit.service")
        done < <(bp_state_read units)
        ((${#files[@]})) && printf '  rm -f %s && systemctl daemon-reload\n' "${files[*]}"
        printf '  runuser -u postgres -- dropdb --if-exists %s && runuser -u postgres -- dropuser --if-exists %s\n' "$site" "$site"
        printf '  certbot delete --cert-name %s; rm -rf %s/%s\n' "$site" "$BP_TLS" "$site"
        printf '  rm -rf %s/%s %s/%s && userdel %s\n' "$BP_SITES_ROOT" "$site" "$BP_NGINX_LOG_ROOT" "$site" "$site"
    done
    for r in "${BP_WARNINGS[@]}"; do printf 'WARNING: %s\n' "$r"; done
    n=$((${#BP_CHANGED_FILES[@]} + ${#BP_CHANGES[@]} + ${#BP_RESTARTED[@]} + ${#BP_RELOADED[@]}))
    if ((n == 0)); then
        echo "no changes"
    fi
}

# --- main -------------------------------------------------------------------------------------

bp_usage() {
    cat <<EOF
usage: sudo bash setup.sh [--check [--diff]]
  (no option)  converge this host to the bundle (safe to re-run, also after an interruption)
  --check      change nothing; list every difference; exit 1 if anything differs, 0 if none
  --diff       with --check: show how each drifted file differs (never a secret)
environment:
  BLUEPRINT_SKIP_ACME=1               do not ask Let's Encrypt for certificates (placeholders stay)
  BLUEPRINT_FIREWALL_IN_CONTAINER=1   set up ufw even when this host is a container
EOF
}

bp_main() {
    case ${1:-} in
    "") BP_CHECK=0 ;;
    --check)
        BP_CHECK=1
        case ${2:-} in
        "") ;;
        --diff) BP_DIFF=1 ;;
        *) bp_usage >&2; return 2 ;;
        esac
        ;;
    -h | --help) bp_usage; return 0 ;;
    *) bp_usage >&2; return 2 ;;
    esac
    # Turn signals into a normal exit so EXIT traps (policy-rc.d removal) run.
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM
    bp_preconditions
    if ((BP_CHECK)); then
        bp_step "checking host $BP_HOST against the bundle (no changes are made)"
        bp_check_pending
    else
        bp_step "applying bundle for host $BP_HOST"
    fi
    bp_packages
    if ((BP_CHECK)) && ((${#BP_MISSING[@]})); then
        echo "drift: packages are missing; run setup.sh to apply (further checks skipped)"
        return 1
    fi
    bp_users
    bp_secrets
    bp_basic_auth
    bp_offsite
    bp_database
    bp_tls
    bp_files
    bp_nginx
    bp_systemd
    bp_retire
    bp_firewall
    bp_services_hardening
    bp_acme
    bp_backups
    if ((BP_CHECK)); then
        bp_step_done
        if ((${#BP_DRIFT[@]})); then
            printf 'drift: %d difference(s) between the bundle and this host\n' "${#BP_DRIFT[@]}"
            return 1
        fi
        echo "no drift: the host matches the bundle"
        return 0
    fi
    bp_summary
    bp_step_done
    if ((BP_UNIT_FAILURE)); then
        return 1
    fi
}
