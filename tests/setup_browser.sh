#!/usr/bin/env bash
# Make sure a Chromium that Playwright can drive is on this machine.
# Debian's package is used; Playwright's browser download does not work offline.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    exit 0
  fi
  echo "apt-get could not install chromium." >&2
fi
echo "Chromium is missing: install it (Debian: apt-get install chromium) to run the browser tests." >&2
# Without it the rest of the suite still runs: the browser tests are skipped and the end of
# the run says so loudly. A CI machine must run everything.
if [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; then
  exit 1
fi
echo "*** The browser tests will be SKIPPED on this machine (CI=true makes this an error). ***" >&2
exit 0
