#!/usr/bin/env bash
# Lint the map's own scripts (dashboard/app/static/js/*.js) with ESLint, at the version
# pinned in package-lock.json; the rules are in eslint.config.mjs. Extra arguments go to
# eslint (e.g. --fix). Exit status: eslint's (0: no problem).
set -euo pipefail
cd "$(dirname "$0")/.."

# ESLint 9 runs on Node.js 18.18 or later: Debian 12's nodejs (18.20) is enough.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's nodejs and npm for the JavaScript lint..."
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }; then
      echo "apt-get could not install nodejs and npm." >&2
    fi
  fi
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Node.js and npm are missing: install them (Debian: apt-get install nodejs npm) to lint the JavaScript." >&2
  exit 1
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 18 || (a === 18 && b >= 18) ? 0 : 1)'; then
  echo "Node.js $(node --version) is too old for ESLint 9: it needs 18.18 or later." >&2
  exit 1
fi

# node_modules/ (git-ignored) is installed from the lock file, again whenever the lock
# file is newer than the last install (npm ci writes node_modules/.package-lock.json).
if [ ! -x node_modules/.bin/eslint ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

exec node_modules/.bin/eslint "$@" dashboard/app/static/js/*.js
