#!/usr/bin/env bash
# Installs the Debian packages readstates builds against, when missing; with --test
# also what the test suite runs (a PostgreSQL server, Python for a third-party client).
# Safe to run again: it only calls apt-get when a package is not installed.
set -euo pipefail

packages=(pkg-config libwebsockets-dev libssl-dev libcap-dev libsqlite3-dev)
if [ "${1:-}" = "--test" ]; then
    packages+=(postgresql)
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
