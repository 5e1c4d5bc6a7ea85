#!/usr/bin/env bash
# A real Debian 12 VM (qemu, TCG software emulation: no KVM here) for what the systemd-nspawn
# machine of tests/machine/ cannot show: a kernel of its own (firewall rules in netfilter,
# sysctl, modules, swap) and `systemd-detect-virt --container` = none.
#
#   tests/vm/vm.sh image                 build (once, cached) and print the image dir
#   tests/vm/vm.sh boot  STATE_DIR       boot a throwaway VM, wait for ssh, write STATE_DIR/state.env
#   tests/vm/vm.sh ssh   STATE_DIR CMD.. ssh root@vm CMD (exit status = the remote command's)
#   tests/vm/vm.sh scp   STATE_DIR SRC DEST   recursive copy, VM paths written vm:/path
#   tests/vm/vm.sh stop  STATE_DIR       kill this VM's qemu (only its recorded pid), drop its overlay
#
# Needs root. Environment: BPV_CACHE (default /var/tmp/blueprint-vm), BPV_MEM (MiB, default 2048),
# BPV_SMP (default 2), BPV_BOOT_TIMEOUT (s until ssh answers, default 180), BPV_FORWARDS (extra
# guest TCP ports forwarded to 127.0.0.1, e.g. "8080"; 22, 80 and 443 always are).
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source-path=SCRIPTDIR source=../machine/lib.sh
. "$here/../machine/lib.sh"

CACHE=${BPV_CACHE:-/var/tmp/blueprint-vm}
DISK_SIZE=4G

# --- qemu ----------------------------------------------------------------------------------------

# Sets QEMU (binary) and QEMU_DATA (-L firmware dirs). Prefer the packaged qemu; when apt cannot
# install it (here: qemu-utils from bookworm-backports Breaks bookworm's qemu-system-common), the
# bookworm .debs are unpacked into the cache instead of touching the host's installed packages.
find_qemu() {
  local dir=$CACHE/qemu
  QEMU_DATA=()
  if command -v qemu-system-x86_64 >/dev/null || { [ ! -d "$dir" ] &&
    { log "installing qemu-system-x86"; DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends --no-remove qemu-system-x86 >/dev/null 2>&1; }; }; then
    QEMU=$(command -v qemu-system-x86_64)
    return 0
  fi
  if [ ! -x "$dir/root/usr/bin/qemu-system-x86_64" ]; then
    log "apt cannot install qemu-system-x86 next to the host's packages; unpacking it into $dir"
    mkdir -p "$CACHE"
    (
      exec 8>"$CACHE/qemu.lock"
      flock 8
      [ -x "$dir/root/usr/bin/qemu-system-x86_64" ] && exit 0
      rm -rf "$dir.tmp"
      mkdir -p "$dir.tmp/debs"
      # _apt cannot write into a root-owned dir: download as root, quietly.
      # qemu-system-common only for its TCG accelerator module (accel-tcg-x86_64.so).
      (cd "$dir.tmp/debs" && apt-get download qemu-system-x86 qemu-system-common qemu-system-data seabios 2>/dev/null >&2)
      # The emulator's shared libraries (the Depends of qemu-system-x86 that are libraries), only
      # the missing ones; --no-remove: never resolve a conflict by removing a host package.
      local lib libs=()
      for lib in $(apt-cache depends qemu-system-x86 | sed -n 's/^ *Depends: \(lib[^ ]*\|zlib1g\)$/\1/p' | sort -u); do
        dpkg-query -W -f '${Status}' "$lib" 2>/dev/null | grep -q 'install ok installed' || libs+=("$lib")
      done
      [ ${#libs[@]} = 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends --no-remove "${libs[@]}" >&2
      for d in "$dir.tmp"/debs/*.deb; do dpkg -x "$d" "$dir.tmp/root"; done
      rm -rf "$dir.tmp/debs" "$dir"
      mv "$dir.tmp" "$dir"
    )
  fi
  QEMU=$dir/root/usr/bin/qemu-system-x86_64
  QEMU_DATA=(-L "$dir/root/usr/share/qemu" -L "$dir/root/usr/share/seabios")
  export QEMU_MODULE_DIR=$dir/root/usr/lib/x86_64-linux-gnu/qemu
}

# --- image ---------------------------------------------------------------------------------------

# The recipe: a copy of the tests/machine root (bundle .debs in its apt cache, apt lists kept)
# plus a kernel, a DHCP network, an fstab for /dev/vda and a fixed root key, written with
# mkfs.ext4 -d (no loop mount needed). Its text is hashed into the cache key (see image_dir).
build_image() {
  local out=$1 base=$2 root=$1/root
  log "copying $base"
  cp -a "$base" "$root"

  # The kernel's initramfs must find the root disk and (later) the NIC without udev guessing:
  # MODULES=most already includes them, listing them makes it explicit.
  mkdir -p "$root/etc/initramfs-tools"
  printf '%s\n' virtio_pci virtio_blk virtio_net ext4 >>"$root/etc/initramfs-tools/modules"

  # Install the kernel inside the copy, and python3: Debian 12 cloud images have it (cloud-init)
  # and Ubuntu 24.04 ships it, while the debootstrap minbase does not; ufw is written in Python,
  # and installing plus byte-compiling Python under software emulation cost minutes of every run.
  # The .debs go to a private archive dir so the image's apt
  # cache (the bundle's packages) is left exactly as image.sh made it; the image's own apt lists
  # are tried first (same versions as the rest of the image), fresh private lists if the mirror
  # no longer has that kernel.
  cp -L /etc/resolv.conf "$root/etc/resolv.conf.host"
  mv "$root/etc/resolv.conf" "$root/etc/resolv.conf.image"
  mv "$root/etc/resolv.conf.host" "$root/etc/resolv.conf"
  mkdir -p "$root/var/tmp/kdebs/partial" "$root/var/tmp/klists/partial"
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount --make-rslave "$root/dev"
  local rc=0
  chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 sh -ec '
    inst() { apt-get -o Dir::Cache::archives=/var/tmp/kdebs "$@" install -y --no-install-recommends linux-image-amd64 initramfs-tools python3; }
    inst || { apt-get -o Dir::State::Lists=/var/tmp/klists update && inst -o Dir::State::Lists=/var/tmp/klists; }
  ' >&2 || rc=$?
  umount -R "$root/dev" || umount -l "$root/dev"
  umount "$root/proc" || umount -l "$root/proc"
  rm -rf "$root/var/tmp/kdebs" "$root/var/tmp/klists"
  mv "$root/etc/resolv.conf.image" "$root/etc/resolv.conf"
  [ "$rc" = 0 ] || die "kernel installation failed ($rc)"

  cp -L "$root/vmlinuz" "$out/vmlinuz"
  cp -L "$root/initrd.img" "$out/initrd.img"
  basename "$(readlink -f "$root/vmlinuz")" | sed 's/^vmlinuz-//' >"$out/kernel-version"

  # The VM has a real root disk (the container had none, hence image.sh's empty fstab).
  echo '/dev/vda / ext4 errors=remount-ro 0 1' >"$root/etc/fstab"

  # eth0 (net.ifnames=0 on the command line) by DHCP from qemu's slirp; wait-online stays masked
  # (image.sh) so nothing waits for it. DNS stays image.sh's 127.0.0.1 resolver: fails at once.
  cat >"$root/etc/systemd/network/10-eth0.network" <<'EOF'
[Match]
Name=eth0

[Network]
DHCP=ipv4

[DHCPv4]
UseDNS=no
UseNTP=no
EOF
  chroot "$root" systemctl enable --quiet systemd-networkd.service
  # A writable disk with an empty machine-id would be a "first boot" (firstboot prompts on the
  # console): give the image a fixed id; every run starts from the same pristine image anyway.
  chroot "$root" systemctl mask --quiet systemd-firstboot.service
  chroot "$root" systemd-machine-id-setup >/dev/null 2>&1 || true

  echo blueprint-vm >"$root/etc/hostname"
  sed -i 's/blueprint-machine/blueprint-vm/' "$root/etc/hosts"

  # A fixed key pair, generated at build time, baked into root's authorized_keys; the private key
  # stays in the cache dir (0600). Each run boots a qcow2 overlay, so nothing persists between runs.
  ssh-keygen -q -t ed25519 -N '' -C blueprint-vm -f "$out/id_ed25519"
  install -m 0600 "$out/id_ed25519.pub" "$root/root/.ssh/authorized_keys"

  log "writing the ${DISK_SIZE} ext4 disk"
  mkfs.ext4 -q -F -L root -d "$root" "$out/disk.img" "$DISK_SIZE" >&2
  rm -rf --one-file-system "$root"
}

# The cache key: the recipe's text and the base image (whose dir name is image.sh's recipe hash).
image_dir() {
  local base=$1 hash
  hash=$( { declare -f build_image; echo "$DISK_SIZE $base"; } | sha256sum | cut -c1-16)
  echo "$CACHE/$hash"
}

cmd_image() {
  local base dest tmp start
  base=$("$here/../machine/image.sh")
  dest=$(image_dir "$base")
  if [ -e "$dest/complete" ]; then echo "$dest"; return 0; fi
  mkdir -p "$CACHE"
  # fd 9 holds the lock; the build runs with it closed so no leftover child can keep it.
  exec 9>"$dest.lock"
  flock 9
  if [ ! -e "$dest/complete" ]; then
    local old
    for old in "$dest".build.*; do
      [ -e "$old" ] || continue
      log "removing stale $old"
      awk -v d="$old" 'index($2, d "/") == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
      rm -rf --one-file-system "$old"
    done
    rm -rf "$dest"
    tmp=$(mktemp -d "$dest.build.XXXXXX")
    start=$(date +%s)
    if ! ( exec 9>&-; build_image "$tmp" "$base" ); then
      rm -rf --one-file-system "$tmp"
      die "image build failed"
    fi
    touch "$tmp/complete"
    mv "$tmp" "$dest"   # atomic publish
    log "built $dest in $(( $(date +%s) - start )) s (kernel $(cat "$dest/kernel-version"))"
  fi
  exec 9>&-
  echo "$dest"
}

# --- boot / stop ---------------------------------------------------------------------------------

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return 0; }
  done
}

state() { printf '%s=%q\n' "$1" "$2" >>"$S/state.env"; }

cmd_boot() {
  S=$(mkdir -p "$1" && cd "$1" && pwd)
  [ ! -e "$S/state.env" ] || die "$S/state.env exists: stop that VM first"
  local img t0 port fwd hostfwd pid
  need_tools ssh:openssh-client ss:iproute2 curl:curl
  find_qemu
  img=$(cmd_image)
  t0=$(date +%s.%N)
  # Per-run copy-on-write overlay: the cached image stays pristine.
  qemu-img create -q -f qcow2 -b "$img/disk.img" -F raw "$S/run.qcow2"
  : >"$S/state.env"
  state STATE_DIR "$S"; state IMAGE "$img"; state KEY "$img/id_ed25519"
  for _ in 1 2 3 4 5; do
    hostfwd=""
    declare -A ports=()
    for fwd in 22 80 443 ${BPV_FORWARDS:-}; do
      port=$(free_port)
      ports[$fwd]=$port
      hostfwd+=",hostfwd=tcp:127.0.0.1:$port-:$fwd"
    done
    # restrict=on: the guest reaches nothing outside (slirp still serves it DHCP); the forwards
    # listen on 127.0.0.1 only. -display/-monitor none: nothing on stdio, console to a file.
    # The child gets stdin /dev/null, output to a log and fd 9 (image lock) closed; setsid makes
    # it its own session so a caller's Ctrl-C reaches it only through stop.
    # shellcheck disable=SC2094
    setsid "$QEMU" "${QEMU_DATA[@]}" -machine q35 -cpu max -accel tcg,thread=multi,tb-size=512 \
      -m "${BPV_MEM:-2048}" -smp "${BPV_SMP:-2}" -display none -monitor none -no-reboot \
      -serial "file:$S/console.log" \
      -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
      -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 mitigations=off" \
      -drive "file=$S/run.qcow2,format=qcow2,if=virtio,cache=unsafe" \
      -netdev "user,id=n,restrict=on$hostfwd" -device virtio-net-pci,netdev=n,romfile= \
      -pidfile "$S/qemu.pid" </dev/null >"$S/qemu.log" 2>&1 9>&- &
    pid=$!
    sleep 1
    if alive "$pid"; then break; fi
    grep -q 'Could not set up host forwarding' "$S/qemu.log" || { cat "$S/qemu.log" >&2; die "qemu did not start"; }
    log "a forwarded port was taken, retrying"
  done
  state QEMU_PID "$pid"; state QEMU_START "$(start_time "$pid")"
  state SSH_PORT "${ports[22]}"; state HTTP_PORT "${ports[80]}"; state HTTPS_PORT "${ports[443]}"
  for fwd in ${BPV_FORWARDS:-}; do state "FWD_$fwd" "${ports[$fwd]}"; done
  load_state "$S"
  ssh_opts
  local deadline=$(( $(date +%s) + ${BPV_BOOT_TIMEOUT:-180} ))
  until ssh "${SSH_OPTS[@]}" -p "$SSH_PORT" root@127.0.0.1 true 2>/dev/null; do
    if ! alive "$QEMU_PID" "$QEMU_START" || [ "$(date +%s)" -ge "$deadline" ]; then
      log "VM not reachable by ssh after ${BPV_BOOT_TIMEOUT:-180} s; end of console.log:"
      tail -n 40 "$S/console.log" >&2 || true
      cmd_stop "$S"
      exit 1
    fi
    sleep 2
  done
  local st
  st=$(ssh "${SSH_OPTS[@]}" -p "$SSH_PORT" root@127.0.0.1 'timeout 120 systemctl is-system-running --wait' 2>/dev/null || true)
  state SYSTEM_STATE "$st"
  state BOOT_SECONDS "$(elapsed "$t0")"
  log "VM up in $(elapsed "$t0") s ($st), ssh on 127.0.0.1:$SSH_PORT"
}

cmd_stop() {
  local dir=$1
  [ -f "$dir/state.env" ] || return 0
  load_state "$dir"
  # Only the pid this boot recorded, and only if it is still the same process (start time).
  if alive "${QEMU_PID:-}" "${QEMU_START:-}"; then
    kill -TERM "$QEMU_PID" 2>/dev/null || true
    for _ in $(seq 50); do alive "$QEMU_PID" "$QEMU_START" || break; sleep 0.1; done
    if alive "$QEMU_PID" "$QEMU_START"; then kill -KILL "$QEMU_PID" 2>/dev/null || true; fi
  fi
  rm -f "$dir/run.qcow2"
  mv "$dir/state.env" "$dir/state.env.stopped"
}

cmd_ssh() {
  load_state "$1"; shift
  ssh_opts
  exec ssh "${SSH_OPTS[@]}" -p "$SSH_PORT" root@127.0.0.1 "$@"
}

cmd_scp() {
  load_state "$1"
  ssh_opts
  exec scp "${SSH_OPTS[@]}" -q -r -P "$SSH_PORT" "${2/#vm:/root@127.0.0.1:}" "${3/#vm:/root@127.0.0.1:}"
}

[ "$(id -u)" = 0 ] || die "must run as root"
case ${1:-} in
  image) cmd_image ;;
  boot) [ $# = 2 ] || die "usage: vm.sh boot STATE_DIR"; cmd_boot "$2" ;;
  stop) [ $# = 2 ] || die "usage: vm.sh stop STATE_DIR"; cmd_stop "$2" ;;
  ssh) [ $# -ge 2 ] || die "usage: vm.sh ssh STATE_DIR [CMD...]"; shift; cmd_ssh "$@" ;;
  scp) [ $# = 4 ] || die "usage: vm.sh scp STATE_DIR SRC DEST"; shift; cmd_scp "$@" ;;
  *) die "usage: vm.sh image | boot DIR | stop DIR | ssh DIR [CMD...] | scp DIR SRC DEST" ;;
esac
