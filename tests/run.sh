#!/usr/bin/env bash
# The whole test suite, runnable on a fresh Debian 12 machine as root: installs the real tools
# every generated artifact is checked with, runs the static gates (rustfmt, clippy with the MSRV,
# and shellcheck on every script), then every test. CI calls exactly this.
#
#   bash tests/run.sh
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

# Real consumers of the bundle: bash/shellcheck, nginx, systemd-analyze, logrotate, PostgreSQL;
# sshd, visudo, fail2ban-client and promtool for the host drop-ins; restic and ssh for the off-host copy; debootstrap/systemd-nspawn/socat/openssh
# for the fresh-machine tests; Debian's Go toolchain for the real apps tests/e2e/apps.sh builds
# (with npm and pip, which the runner has; Debian's nodejs/npm when it has no npm).
packages=(
    shellcheck nginx-light logrotate postgresql openssl
    systemd-container debootstrap socat iproute2 openssh-client curl testssl.sh
    openssh-server sudo fail2ban python3-systemd nftables golang-go prometheus restic
)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "tests/run.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Keep package scripts from starting nginx/PostgreSQL on the test machine.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# gixy-ng (static nginx analysis) comes from PyPI.
if ! command -v gixy >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check gixy-ng==0.2.59
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
fi

export CI="${CI:-}"

# Static gates, before any test runs. rustfmt and clippy are rustup components a minimal toolchain
# may lack.
if command -v rustup >/dev/null 2>&1; then
    for component in rustfmt clippy; do
        rustup component list --installed | grep -q "^$component-" || rustup component add "$component"
    done
fi
# Formatting: the package (src, tests, benches), and the fuzz target (its own workspace).
cargo fmt --check
rustfmt --check --edition 2021 fuzz/fuzz_targets/*.rs
# Every clippy warning is an error. This is also the MSRV check: only a newer toolchain than
# Cargo.toml's `rust-version` exists here, so no `cargo +1.88` build; instead clippy's
# `incompatible_msrv` lint (denied in Cargo.toml) reads rust-version and rejects every std item
# stabilized after it. Its limits: clippy exempts #[test] functions from it, and it sees std APIs,
# not language features.
cargo clippy --locked --all-targets --quiet -- -D warnings
# The MSRV, continued: no locked dependency may declare a newer `rust-version` than ours.
cargo metadata --locked --format-version 1 | python3 -c '
import json, sys
meta = json.load(sys.stdin)
version = lambda v: tuple(int(x) for x in (v.split(".") + ["0", "0"])[:3])
packages = {p["id"]: p for p in meta["packages"]}
msrv = packages[meta["resolve"]["root"]]["rust_version"]
late = [
    "%s %s needs Rust %s" % (p["name"], p["version"], p["rust_version"])
    for p in (packages[n["id"]] for n in meta["resolve"]["nodes"])
    if p["rust_version"] and version(p["rust_version"]) > version(msrv)
]
if late:
    sys.exit("dependencies newer than the MSRV %s:\n  %s" % (msrv, "\n  ".join(late)))
'
# Every shell script in the repo, by name (*.sh) or shebang, under `shellcheck -x` at its default
# severity (.shellcheckrc resolves `source=` paths from each script's directory). Left out: the
# templates blueprints/*.j2 and the committed bundle out/, whose rendered scripts
# tests/validate/bash.rs checks for every bundle.
mapfile -t scripts < <(
    git ls-files -z |
        xargs -0 awk 'FNR == 1 { if (FILENAME ~ /\.sh$/ || /^#!.*[\/ ](ba)?sh([ \t]|$)/) print FILENAME; nextfile }' |
        grep -v -e '^out/' -e '\.j2$'
)
shellcheck -x "${scripts[@]}"

cargo build --locked --quiet
cargo test --locked --quiet 2>&1
# The machines share this kernel and cannot load modules: nftables (the bundle's ports ruleset,
# ufw's iptables-nft) needs nf_tables loaded here first.
nft list tables >/dev/null
# The bundle applied to freshly booted machines (systemd-nspawn), as a user would: scp + ssh.
# Run after the cargo tests so the machines do not compete with them for the two cores.
bash tests/e2e/e2e.sh
E2E_OS=ubuntu-24.04 bash tests/e2e/e2e.sh
# Real apps (FastAPI + PostgreSQL, SQLite, Go, Next.js) built from the registries and run under
# the generated units on fresh Debian 12 and Ubuntu 24.04 machines.
bash tests/e2e/apps.sh
# The one full VM (qemu, its own kernel): what a container cannot show, the firewall in the
# kernel. Last and alone: software emulation needs both cores.
bash tests/vm/firewall.sh
