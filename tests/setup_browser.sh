#!/usr/bin/env bash
# Make sure a Chromium that Playwright can drive is on this machine.
# Debian's package is used; Playwright's browser download does not work offline.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "Chromium is missing: install it (Debian: apt-get install chromium) to run the browser tests." >&2
exit 1
