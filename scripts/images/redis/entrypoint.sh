#!/bin/sh
# As the official redis image: `redis-server ARGS` (or bare ARGS starting with '-') runs the
# server with ARGS, so testcontainers' `redis-server --requirepass X` applies; it listens on all
# interfaces without protected mode, persistence off; any other command is run as given.
set -eu
case "${1:-redis-server}" in -*) set -- redis-server "$@" ;; esac
[ $# -gt 0 ] || set -- redis-server
if [ "$1" != redis-server ]; then
    exec "$@"
fi
shift
exec setpriv --reuid=redis --regid=redis --init-groups redis-server --bind '* -::*' \
    --protected-mode no --save '' --appendonly no --dir /tmp "$@"
