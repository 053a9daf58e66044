#!/usr/bin/env bash
# Command 1: install, migrate, load the demo and serve the platform on http://127.0.0.1:8000 —
# SQLite and no services. Celery runs on kombu's filesystem transport: one worker with beat inside it
# (`-B`) delivers notifications and runs the periodic scans, so reminders go out in this mode too.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
install_venv "."

export DEBUG="${DEBUG:-1}"
py=.venv/bin/python
$py manage.py compile_catalogues >/dev/null
$py manage.py migrate --noinput
$py manage.py seed_demo
$py manage.py collectstatic --noinput >/dev/null

.venv/bin/celery -A alliance worker -B --pool=threads --concurrency=2 --loglevel=INFO &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo "党建联盟平台: http://127.0.0.1:8000  (admin: http://127.0.0.1:8000/admin/, users in README)"
$py manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}" --noreload
