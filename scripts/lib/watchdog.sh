# Sourced by the scripts that start a throwaway server for a test run
# (postgres-server.sh, redis-server.sh).
#
# watch_owner OWNER_PID COMMAND...
#   Runs COMMAND (a function or program: stop the server, delete its files) once the
#   process OWNER_PID is gone, from a background subshell, so that a test run that
#   crashed leaves nothing running.
watch_owner() {
    local owner=$1
    shift
    (
        trap '' HUP
        # Keep no descriptor of the caller's open (bash may hold a copy of its stderr
        # pipe here), or the caller's read of that pipe never ends.
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
        done
        while kill -0 "$owner" 2>/dev/null; do sleep 1; done
        "$@"
    ) </dev/null >/dev/null 2>&1 &
}
