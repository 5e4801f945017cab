#!/usr/bin/env bash
# Install the browser the browser test tier (tests/browser) drives: Debian's Chromium.
#
# Idempotent and fast when it is already there (a CI rerun costs one `test -x`).
# Playwright drives this binary directly (`playwright install` needs a download
# host this project does not rely on). Needs root, or passwordless sudo, and apt.
set -euo pipefail

CHROMIUM=/usr/lib/chromium/chromium
PACKAGES=(chromium fonts-liberation)

if [ -x "$CHROMIUM" ]; then
    echo "install-browser: Chromium is installed ($CHROMIUM)"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: no apt-get on this machine; install Chromium yourself so that" \
        "$CHROMIUM exists (Debian/Ubuntu package: chromium)" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "install-browser: installing Chromium needs root; run as root:" \
            "apt-get install -y ${PACKAGES[*]}" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-browser: apt-get install ${PACKAGES[*]} (about 30 s, 0.5 GB)"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
if [ ! -x "$CHROMIUM" ]; then
    echo "install-browser: apt-get installed chromium but $CHROMIUM is missing" >&2
    exit 1
fi
echo "install-browser: installed $("$CHROMIUM" --version 2>/dev/null || echo Chromium)"
