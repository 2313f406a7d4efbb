#!/usr/bin/env bash
# Installs the Debian packages readstates builds and tests against, when missing.
# Safe to run again: it only calls apt-get when a package is not installed.
set -euo pipefail

packages=(pkg-config libwebsockets-dev libssl-dev libcap-dev libsqlite3-dev)

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
