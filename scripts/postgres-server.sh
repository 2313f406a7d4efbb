#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL server (Debian's package) on loopback, for
# the test suite and for benchmarks. Nothing is configured system-wide: the cluster
# lives in the directory given, owned by the `postgres` user when run as root
# (initdb refuses to run as root).
#
#   scripts/postgres-server.sh start DIR PORT [OWNER_PID]
#       Creates a cluster in DIR on first use (user `readstates`, database
#       `readstates`, trust auth on loopback only), starts it on 127.0.0.1:PORT and
#       waits until it accepts connections. With OWNER_PID, a watchdog stops the
#       server and deletes DIR once that process is gone (a test run that crashed
#       leaves nothing running).
#   scripts/postgres-server.sh stop DIR       Fast shutdown; DIR is kept.
#   scripts/postgres-server.sh createdb PORT NAME   Creates an empty database.
#   scripts/postgres-server.sh url PORT [NAME]      Prints the connection URL.
#   scripts/postgres-server.sh sql PORT NAME SQL    Runs SQL in database NAME (psql;
#       stops at the first error).
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
    echo "postgres-server: PostgreSQL is not installed (run scripts/install-deps.sh --test)" >&2
    exit 1
fi

# Runs a PostgreSQL binary as the cluster's owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

command=${1:-}
case "$command" in
start)
    dir=$2 port=$3 owner=${4:-}
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        as_owner "$bindir/initdb" -D "$dir" -U readstates --auth=trust -E UTF8 --no-sync >/dev/null
    fi
    # Loopback only; the socket lives in the cluster directory, not /var/run.
    # On failure, the server's own log says why (a port taken, shared memory, ...);
    # the caller's error carries it, since a watchdog may delete DIR soon after.
    if ! as_owner "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" \
        start >/dev/null; then
        echo "postgres-server: the server on port $port did not start; its log ends:" >&2
        tail -n 20 "$dir/server.log" >&2 2>/dev/null || true
        exit 1
    fi
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U readstates readstates 2>/dev/null || true
    if [ -n "$owner" ]; then
        # shellcheck source=lib/watchdog.sh
        . "$(dirname "$0")/lib/watchdog.sh"
        cleanup() {
            as_owner "$bindir/pg_ctl" -D "$dir" -m immediate stop >/dev/null 2>&1 || true
            rm -rf "$dir"
        }
        watch_owner "$owner" cleanup
    fi
    ;;
stop)
    dir=$2
    as_owner "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    ;;
createdb)
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$2" -U readstates "$3"
    ;;
sql)
    as_owner "$bindir/psql" -h 127.0.0.1 -p "$2" -U readstates -d "$3" -v ON_ERROR_STOP=1 -q -X -c "$4"
    ;;
url)
    echo "postgres://readstates@127.0.0.1:$2/${3:-readstates}?sslmode=disable"
    ;;
*)
    echo "usage: $0 start DIR PORT [OWNER_PID] | stop DIR | createdb PORT NAME | url PORT [NAME] | sql PORT NAME SQL" >&2
    exit 2
    ;;
esac
