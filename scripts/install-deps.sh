#!/usr/bin/env bash
# Installs the Debian packages readstates builds against, when missing; with --test
# also what the test suite runs (PostgreSQL and Redis servers, Python for a third-party client,
# tmux for the chat client in a terminal, headless Chromium and its driver for the web
# client, driven by selenium).
# Safe to run again: it only calls apt-get when a package is not installed.
set -euo pipefail

packages=(pkg-config libwebsockets-dev libev-dev libssl-dev libcap-dev libsqlite3-dev zlib1g-dev libhiredis-dev)
if [ "${1:-}" = "--test" ]; then
    packages+=(postgresql redis-server python3-pip openssl tmux chromium chromium-driver)
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The third-party WebSocket client the gateway tests run, and the browser driver of the
# web client's tests (from PyPI).
if [ "${1:-}" = "--test" ]; then
    for module in websockets selenium; do
        if ! python3 -c "import $module" 2>/dev/null; then
            echo "installing: $module (PyPI)" >&2
            python3 -m pip install --quiet "$module" 2>/dev/null \
                || python3 -m pip install --quiet --break-system-packages "$module"
        fi
    done
fi
