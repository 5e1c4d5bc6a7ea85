#!/usr/bin/env bash
# Copy files to or from a machine started by boot.sh (always recursive):
#
#   tests/machine/scp.sh STATE_DIR SRC DEST
#
# Write machine paths with a "machine:" prefix, e.g.
#   scp.sh "$S" out/example.com machine:/root/bundle     # upload a directory
#   scp.sh "$S" machine:/var/log/nginx/error.log ./       # download
set -euo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -eq 3 ] || { echo "usage: $0 STATE_DIR SRC DEST  (machine paths as machine:/path)" >&2; exit 2; }
load_state "$1"
ssh_opts
map() { case $1 in machine:*) echo "root@127.0.0.1:${1#machine:}" ;; *) echo "$1" ;; esac; }
exec scp "${SSH_OPTS[@]}" -r -P "$SSH_PORT" "$(map "$2")" "$(map "$3")"
