#!/usr/bin/env bash
# Command 2: install everything and run the whole test suite, browser tests included; exits non-zero
# when any test fails. With DATABASE_URL and REDIS_URL set it runs on PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
install_venv ".[test]"

# The browser tests drive Debian's chromium (Playwright's own download cannot be reached here).
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium for the browser tests …"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    echo "The browser tests need chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)." >&2
    exit 1
  fi
fi

DEBUG=1 .venv/bin/python manage.py compile_catalogues >/dev/null
exec .venv/bin/python -m pytest "$@"
