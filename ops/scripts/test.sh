#!/usr/bin/env bash
# README command 2: set up what is needed, then run lint, type checks, the import contracts (the layers
# of docs/design.md) and the whole test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bash "$root/ops/scripts/setup.sh"
cd "$root"
# Test-only tools: independent catalogue validators (pip, npm) and promtool + chromium (Debian).
bash ops/scripts/install-validators.sh
bash ops/scripts/install-ops-tools.sh
.venv/bin/ruff check hub adapters schemas tests bench tools
.venv/bin/mypy
.venv/bin/lint-imports
exec .venv/bin/python -m pytest -q --durations=15 "$@"
