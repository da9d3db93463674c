#!/usr/bin/env bash
# README command 1: set up what is needed, then run the whole-flow demo. Extra arguments go to `simpul demo`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bash "$root/ops/scripts/setup.sh"
cd "$root"
exec .venv/bin/simpul demo "$@"
