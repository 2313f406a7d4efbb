#!/usr/bin/env bash
# Starts and stops a throwaway Redis server (Debian's package) on loopback, for the
# test suite, benchmarks and `Run a cluster` in the README. Nothing is configured
# system-wide: the server's files live in the directory given.
#
#   scripts/redis-server.sh start DIR PORT [OWNER_PID]
#       Starts redis-server on 127.0.0.1:PORT (no persistence: the cluster keeps
#       nothing there that outlives its nodes) and waits until it answers PING. With
#       OWNER_PID, a watchdog stops it and deletes DIR once that process is gone.
#   scripts/redis-server.sh stop DIR      Stops it (SHUTDOWN NOSAVE); DIR is kept.
#   scripts/redis-server.sh cli PORT ARGS...   Runs redis-cli against it.
set -euo pipefail

if ! command -v redis-server >/dev/null; then
    echo "redis-server: Redis is not installed (run scripts/install-deps.sh --test)" >&2
    exit 1
fi

command=${1:-}
case "$command" in
start)
    dir=$2 port=$3 owner=${4:-}
    mkdir -p "$dir"
    echo "$port" >"$dir/port"
    if ! redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save "" --appendonly no \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null; then
        echo "redis-server: could not start on port $port" >&2
        exit 1
    fi
    for _ in $(seq 100); do
        if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then break; fi
        sleep 0.1
    done
    if ! redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
        echo "redis-server: the server on port $port did not answer; its log ends:" >&2
        tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
        exit 1
    fi
    if [ -n "$owner" ]; then
        # shellcheck source=lib/watchdog.sh
        . "$(dirname "$0")/lib/watchdog.sh"
        cleanup() {
            [ -f "$dir/redis.pid" ] && kill -9 "$(cat "$dir/redis.pid")" 2>/dev/null || true
            rm -rf "$dir"
        }
        watch_owner "$owner" cleanup
    fi
    ;;
stop)
    dir=$2
    port=$(cat "$dir/port")
    redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 100); do
        [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null || break
        sleep 0.05
    done
    ;;
cli)
    port=$2
    shift 2
    redis-cli -h 127.0.0.1 -p "$port" "$@"
    ;;
*)
    echo "usage: $0 start DIR PORT [OWNER_PID] | stop DIR | cli PORT ARGS..." >&2
    exit 2
    ;;
esac
