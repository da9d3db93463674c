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
  log=.venv/pip-install.log
  .venv/bin/python -m pip install --quiet --upgrade pip >"$log" 2>&1 || true
  if ! .venv/bin/python -m pip install --quiet -e ".[dev]" >>"$log" 2>&1 \
     || ! .venv/bin/python -c "import hub, aio_pika, aiohttp, pydantic, structlog, prometheus_client"; then
    echo "setup: installing the Python packages failed; pip said:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  touch "$stamp"
fi
bash ops/scripts/ensure-rabbitmq.sh
