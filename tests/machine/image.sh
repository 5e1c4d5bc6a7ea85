#!/usr/bin/env bash
# Build (once) and cache the root filesystem of a "fresh machine" for blueprint bundle tests:
# Debian 12 (default) or Ubuntu 24.04.  Prints the path of the root directory on stdout
# (everything else goes to stderr), e.g.
#   root=$(tests/machine/image.sh)
#   root=$(BPM_OS=ubuntu-24.04 tests/machine/image.sh)
#
# The image lives in $BPM_CACHE/<hash>/root where <hash> is a sha256 of this
# script (which contains the package lists and mirrors) and the OS.  Editing this file
# therefore produces a new image; old ones can be deleted by hand.
#
# Environment:
#   BPM_OS       debian-12 (default) or ubuntu-24.04
#   BPM_CACHE    cache directory (default /var/tmp/blueprint-machine)
#   BPM_MIRROR   archive mirror   (default http://deb.debian.org/debian or http://archive.ubuntu.com/ubuntu)
#   BPM_SECURITY security mirror  (default http://deb.debian.org/debian-security or http://security.ubuntu.com/ubuntu)
set -euo pipefail

# Installed into the image: what a fresh Debian 12 / Ubuntu 24.04 server already has, plus
# curl for tests that run inside the machine.
BASE_PACKAGES="
systemd
systemd-sysv
dbus
openssh-server
openssh-sftp-server
ca-certificates
iproute2
procps
curl
"

# Downloaded into the image's apt cache but NOT installed: what the bundle's
# setup.sh installs.  The machine has no internet, so everything the bundle
# needs must be in /var/cache/apt/archives.  Edit this list (one per line).
BUNDLE_PACKAGES="
acl
nginx
postgresql
sudo
ufw
fail2ban
unattended-upgrades
certbot
openssl
logrotate
nftables
nodejs
python3
sqlite3
restic
prometheus
prometheus-node-exporter
"

OS=${BPM_OS:-debian-12}
case $OS in
debian-12)
  SUITE=bookworm
  MIRROR=${BPM_MIRROR:-http://deb.debian.org/debian}
  SECURITY=${BPM_SECURITY:-http://deb.debian.org/debian-security}
  COMPONENTS=main
  ;;
ubuntu-24.04)
  SUITE=noble
  MIRROR=${BPM_MIRROR:-http://archive.ubuntu.com/ubuntu}
  SECURITY=${BPM_SECURITY:-http://security.ubuntu.com/ubuntu}
  # certbot and fail2ban are in universe.
  COMPONENTS="main universe"
  ;;
*)
  echo "image.sh: BPM_OS must be debian-12 or ubuntu-24.04, not '$OS'" >&2
  exit 2
  ;;
esac
CACHE=${BPM_CACHE:-/var/tmp/blueprint-machine}

# Debian's debootstrap has no script and no keyring for Ubuntu 24.04. The script is Ubuntu's
# usual one (gutsy's, which every later release links to); the key is the Ubuntu archive's 2018
# signing key, taken from noble's own ubuntu-keyring package, which is pinned by its digest, and
# then checked against the key's published fingerprint before anything is trusted with it.
UBUNTU_KEYRING_DEB=pool/main/u/ubuntu-keyring/ubuntu-keyring_2023.11.28.1_all.deb
UBUNTU_KEYRING_SHA256=36de43b15853ccae0028e9a767613770c704833f82586f28eb262f0311adb8a8
UBUNTU_ARCHIVE_KEY=F6ECB3762474EDA9D21B7022871920D1991BC93C

log() { printf 'image.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"

# The recipe hash covers this script (package lists included) and the mirrors.
self=$(readlink -f "${BASH_SOURCE[0]}")
hash=$( { cat "$self"; echo "$OS $MIRROR $SECURITY $SUITE"; } | sha256sum | cut -c1-16)
dest=$CACHE/$hash
marker=$dest/complete

# Fast path: already built.
if [ -e "$marker" ]; then
  echo "$dest/root"
  exit 0
fi

# Install host tools on a fresh CI machine.
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y debootstrap >&2 || { apt-get update >&2 && apt-get install -y debootstrap >&2; }
fi

mkdir -p "$CACHE"

# Serialise builds of the same recipe.  fd 9 holds the lock; every command that
# might leave a process behind runs with fd 9 closed (see build below) so no
# long-lived child keeps the lock after we exit.
exec 9>"$CACHE/$hash.lock"
if ! flock -n 9; then
  log "another build of $hash is running, waiting for it"
  flock 9
fi
# Someone else may have finished while we waited.
if [ -e "$marker" ]; then
  echo "$dest/root"
  exit 0
fi

# Unmount anything below a path (an interrupted debootstrap can leave proc/sys
# mounted), deepest first, then delete it without crossing filesystems.
remove_tree() {
  local dir=$1 m
  [ -e "$dir" ] || return 0
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

# Leftovers of interrupted builds of this recipe (we hold the lock, so nobody
# else is using them) and an unmarked destination (should not exist).
for old in "$CACHE"/.build-"$hash".*; do
  [ -e "$old" ] && { log "removing stale $old"; remove_tree "$old"; }
done
[ -e "$dest" ] && remove_tree "$dest"

tmp=$(mktemp -d "$CACHE/.build-$hash.XXXXXX")
trap 'remove_tree "$tmp"' EXIT
root=$tmp/root

# Writes to $1 a keyring holding only the Ubuntu archive key (see UBUNTU_* above).
ubuntu_keyring() {
  local out=$1 deb=$tmp/ubuntu-keyring.deb gnupg=$tmp/gnupg found
  curl -fsS --retry 3 -o "$deb" "$MIRROR/$UBUNTU_KEYRING_DEB"
  echo "$UBUNTU_KEYRING_SHA256  $deb" | sha256sum -c --quiet - >&2 ||
    die "$UBUNTU_KEYRING_DEB does not have the pinned digest"
  dpkg-deb -x "$deb" "$tmp/ubuntu-keyring"
  install -d -m 700 "$gnupg"
  found=$(gpg --homedir "$gnupg" --batch --with-colons --show-keys \
    "$tmp/ubuntu-keyring/usr/share/keyrings/ubuntu-archive-keyring.gpg" | awk -F: '$1 == "fpr" {print $10}')
  grep -qx "$UBUNTU_ARCHIVE_KEY" <<<"$found" || die "the Ubuntu archive key $UBUNTU_ARCHIVE_KEY is not in the keyring"
  gpg --homedir "$gnupg" --batch --quiet --import "$tmp/ubuntu-keyring/usr/share/keyrings/ubuntu-archive-keyring.gpg"
  gpg --homedir "$gnupg" --batch --export "$UBUNTU_ARCHIVE_KEY" >"$out"
  [[ -s $out ]] || die "could not export the Ubuntu archive key"
}

build() {
  local include
  include=$(echo "$BASE_PACKAGES" | xargs | tr ' ' ,)

  log "debootstrap $OS ($SUITE) from $MIRROR into $root"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  if [[ $OS == ubuntu-24.04 ]]; then
    keyring=$tmp/ubuntu-archive.gpg
    ubuntu_keyring "$keyring"
    debootstrap --variant=minbase --keyring="$keyring" --components="${COMPONENTS// /,}" \
      --include="$include" "$SUITE" "$root" "$MIRROR" /usr/share/debootstrap/scripts/gutsy >&2
    keyring=/usr/share/keyrings/ubuntu-archive-keyring.gpg
  else
    debootstrap --variant=minbase --include="$include" "$SUITE" "$root" "$MIRROR" >&2
  fi

  # Same suites as a real machine so versions match security updates.
  rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*
  cat >"$root/etc/apt/sources.list.d/${OS%%-*}.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: $COMPONENTS
Signed-By: $keyring

Types: deb
URIs: $SECURITY
Suites: $SUITE-security
Components: $COMPONENTS
Signed-By: $keyring
EOF

  # Networked steps inside the chroot need the host's resolver for now.
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"

  # Bring the base up to date with -updates/-security, then download (only)
  # what the bundle will install.  The apt lists stay in the image so that an
  # offline `apt-get install` works without `apt-get update`.
  local pkgs
  pkgs=$(echo "$BUNDLE_PACKAGES" | xargs)
  log "updating base and downloading bundle packages: $pkgs"
  chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 sh -c '
    set -e
    apt-get update
    apt-get -y dist-upgrade
    apt-get clean
    apt-get install -y --download-only '"$pkgs"'
  ' >&2

  configure
}

configure() {
  log "configuring image"

  # The container has no block devices; an fstab entry makes a remount unit fail.
  : >"$root/etc/fstab"

  # Units that are useless in a test container or grab the dpkg lock / the
  # network at random times while setup.sh runs.  Masking (rather than
  # disabling) also covers units pulled in later by installed packages.
  chroot "$root" systemctl mask --quiet \
    systemd-timesyncd.service \
    apt-daily.timer apt-daily.service \
    apt-daily-upgrade.timer apt-daily-upgrade.service \
    e2scrub_all.timer e2scrub_all.service e2scrub_reap.service \
    fstrim.timer fstrim.service \
    man-db.timer dpkg-db-backup.timer \
    systemd-networkd-wait-online.service \
    getty@tty1.service console-getty.service

  # DNS fails immediately: nothing listens on 127.0.0.1:53 in the machine.
  rm -f "$root/etc/resolv.conf"
  cat >"$root/etc/resolv.conf" <<'EOF'
# blueprint test machine: no network, fail fast
nameserver 127.0.0.1
options timeout:1 attempts:1
EOF

  # Any accidental network access by apt fails fast instead of retrying.
  cat >"$root/etc/apt/apt.conf.d/90blueprint-offline" <<'EOF'
Acquire::Retries "0";
Acquire::http::Timeout "5";
Acquire::https::Timeout "5";
Acquire::ftp::Timeout "5";
EOF

  echo blueprint-machine >"$root/etc/hostname"
  cat >"$root/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	blueprint-machine
::1	localhost ip6-localhost ip6-loopback
EOF

  # Empty machine-id: each boot gets a transient one (and it is not a "first
  # boot", so systemd-firstboot never prompts on the console).
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"

  # Tell tests inside the machine what the bundle is expected to install.
  mkdir -p "$root/etc/blueprint-machine"
  echo "$BUNDLE_PACKAGES" | xargs -n1 >"$root/etc/blueprint-machine/bundle-packages"

  # Root has no usable password; login is by the key boot.sh injects.
  chroot "$root" usermod -p '*' root
  install -d -m 700 "$root/root/.ssh"

  # Host keys are normally generated by openssh-server's postinst; make sure.
  chroot "$root" ssh-keygen -A >&2
  # Debian starts sshd as ssh.service; Ubuntu 24.04 socket-activates it (ssh.socket, enabled by
  # the package), as a fresh Ubuntu server does: each image keeps its distribution's way.
  if [[ $OS == debian-12 ]]; then
    chroot "$root" systemctl enable --quiet ssh.service
  fi

  # Don't let sshd do reverse DNS on the test's connections.
  echo 'UseDNS no' >"$root/etc/ssh/sshd_config.d/blueprint-test.conf"

  # Keep the journal in memory: faster, and the overlay stays small.
  mkdir -p "$root/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=volatile\n' >"$root/etc/systemd/journald.conf.d/blueprint-test.conf"
}

start=$(date +%s)
( exec 9>&-; build )
touch "$root/../complete"
# Atomic publish: the directory appears complete (with marker) or not at all.
mv "$tmp" "$dest"
trap - EXIT
log "built $dest in $(( $(date +%s) - start )) s ($(du -sh "$dest" | cut -f1))"
echo "$dest/root"
