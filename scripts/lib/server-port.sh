# Sourced by the benchmark scripts that start a server on port 0.

# server_port LOG: the port a server started with `--port 0` names in its "serving"
# log line, once it has (waits up to 10 s); nothing if it never does.
server_port() {
    local port=""
    for _ in $(seq 100); do
        port=$(grep -o '127\.0\.0\.1:[0-9]*' "$1" 2>/dev/null | head -1 | cut -d: -f2 || true)
        [ -n "$port" ] && break
        sleep 0.1
    done
    echo "$port"
}
