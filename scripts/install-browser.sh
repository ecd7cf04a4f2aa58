#!/bin/sh
# Debian's chromium for the dashboard's browser test (tests/market/test_market_dashboard.py,
# driven by Playwright with executable_path: no browser download).  Run by `make install`;
# does nothing when chromium is already there (or $OMNIDSL_CHROMIUM names one).
set -eu
if [ -n "${OMNIDSL_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: chromium is missing and there is no apt-get to install it: install chromium" \
         "(the browser test needs it) or set OMNIDSL_CHROMIUM to a chromium binary" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing chromium (Debian package) for the dashboard's browser test ..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium
command -v chromium >/dev/null 2>&1 || { echo "error: chromium did not install" >&2; exit 1; }
