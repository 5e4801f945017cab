#!/bin/sh
# What the official postgres image's entrypoint does that testcontainers relies on:
# POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB create the superuser and database on first
# start (POSTGRES_HOST_AUTH_METHOD as well); the server listens on all interfaces with
# scram-sha-256 for remote hosts; arguments that start with '-' are postgres options; any
# other command is run as given.
set -eu
case "${1:-postgres}" in -*) set -- postgres "$@" ;; esac
[ $# -gt 0 ] || set -- postgres
if [ "$1" != postgres ]; then
    exec "$@"
fi
shift
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
template=/usr/share/golden-path/pgdata
user="${POSTGRES_USER:-postgres}"
database="${POSTGRES_DB:-$user}"
method="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$method" != trust ]; then
        echo "Error: Database is uninitialized and superuser password is not specified." >&2
        echo "       Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)." >&2
        exit 1
    fi
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    sql=""
    if [ "$user" = postgres ] && [ -s "$template/PG_VERSION" ]; then
        as_postgres cp -a "$template/." "$PGDATA/"
        if [ -n "${POSTGRES_PASSWORD:-}" ]; then
            quoted="$(printf '%s' "$POSTGRES_PASSWORD" | sed "s/'/''/g")"
            sql="ALTER ROLE postgres PASSWORD '$quoted';"
        fi
    else
        pwfile="$(mktemp)"
        printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
        chown postgres "$pwfile"
        as_postgres initdb --username="$user" --pwfile="$pwfile" --encoding=UTF8 --locale=C \
            --no-sync --no-instructions -D "$PGDATA" >/dev/null
        rm -f "$pwfile"
    fi
    printf 'local all all trust\nhost all all all %s\n' "$method" >"$PGDATA/pg_hba.conf"
    printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
    if [ "$database" != postgres ]; then
        sql="$sql
CREATE DATABASE \"$database\";"
    fi
    if [ -n "$sql" ]; then
        printf '%s\n' "$sql" | as_postgres postgres --single -D "$PGDATA" -c fsync=off \
            -c log_min_messages=warning postgres >/dev/null
    fi
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" "$@"
