#!/usr/bin/env bash
# The whole test suite, runnable on a fresh Debian 12 machine as root: installs the real tools
# every generated artifact is checked with, then runs every test. CI calls exactly this.
#
#   bash tests/run.sh
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

# Real consumers of the bundle: bash/shellcheck, nginx, systemd-analyze, logrotate, PostgreSQL;
# sshd, visudo and fail2ban-client for the host drop-ins; debootstrap/systemd-nspawn/socat/openssh
# for the fresh-machine tests.
packages=(
    shellcheck nginx-light logrotate postgresql openssl
    systemd-container debootstrap socat iproute2 openssh-client curl testssl.sh
    openssh-server sudo fail2ban python3-systemd
)
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
cargo build --locked --quiet
cargo test --locked --quiet 2>&1
# The bundle applied to freshly booted machines (systemd-nspawn), as a user would: scp + ssh.
# Run after the cargo tests so the machines do not compete with them for the two cores.
bash tests/e2e/e2e.sh
E2E_OS=ubuntu-24.04 bash tests/e2e/e2e.sh
# The one full VM (qemu, its own kernel): what a container cannot show, the firewall in the
# kernel. Last and alone: software emulation needs both cores.
bash tests/vm/firewall.sh
