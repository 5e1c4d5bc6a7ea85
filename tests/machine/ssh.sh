#!/usr/bin/env bash
# Run a command as root on a machine started by boot.sh:
#
#   tests/machine/ssh.sh STATE_DIR CMD [ARG...]
#   tests/machine/ssh.sh STATE_DIR            # interactive shell
#
# Like plain ssh, the remote side joins CMD and ARGs with spaces and runs the
# result with the remote shell, so quote accordingly:
#   ssh.sh "$S" 'systemctl is-active nginx && echo ok'
# Exit status is that of the remote command (255 for ssh errors).
set -euo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -ge 1 ] || { echo "usage: $0 STATE_DIR [CMD...]" >&2; exit 2; }
load_state "$1"; shift
ssh_opts
tty=()
[ $# -eq 0 ] && [ -t 0 ] && tty=(-t)
exec ssh "${SSH_OPTS[@]}" "${tty[@]}" -p "$SSH_PORT" root@127.0.0.1 "$@"
