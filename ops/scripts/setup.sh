#!/usr/bin/env bash
# Prepare a machine to run Simpul from this checkout: a virtualenv with the package and its dev tools,
# and a running local RabbitMQ with the plugins Simpul uses. Idempotent; safe to run repeatedly.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "Simpul needs Python >= 3.11 (found: $("$python" --version 2>&1))." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.simpul-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Simpul and its dev tools into .venv ..." >&2
  .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install --quiet -e ".[dev]" 2>&1 | grep -v "is ignored" >&2 || true
  .venv/bin/python -c "import hub, aio_pika, aiohttp, pydantic, structlog, prometheus_client" \
    || { echo "setup: installing the Python packages failed" >&2; exit 1; }
  touch "$stamp"
fi
bash ops/scripts/ensure-rabbitmq.sh
