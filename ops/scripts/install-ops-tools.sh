#!/usr/bin/env bash
# Install the tools the operations tests use (tests/ops/), only when missing:
#   * promtool  (Debian package `prometheus`): `promtool check metrics|rules`, `promtool test rules`;
#   * chromium  (Debian package `chromium`):  the status page rendered and driven headless.
# Idempotent: a tool already on PATH is left alone, and `apt-get update` runs only when something must be
# installed. Needs root (no sudo is used); without root, or when a package cannot be installed, it says
# so and exits 0: the tests that need that tool then skip with the reason written to
# var/ops-tools.status (read by tests/ops/conftest.py). Pass --strict to exit 1 instead.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
strict=0
[ "${1:-}" = "--strict" ] && strict=1
status_dir="$root/var"
status_file="$status_dir/ops-tools.status"
mkdir -p "$status_dir"
: >"$status_file"

log() { printf '[install-ops-tools] %s\n' "$*" >&2; }

# tool -> Debian package
declare -A package=([promtool]=prometheus [chromium]=chromium)
missing=()
for tool in promtool chromium; do
  if command -v "$tool" >/dev/null 2>&1; then
    log "$tool: already installed ($(command -v "$tool"))"
  else
    missing+=("$tool")
  fi
done

failed=0
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    for tool in "${missing[@]}"; do
      echo "$tool: not installed and install-ops-tools.sh is not root (apt-get install -y ${package[$tool]})" >>"$status_file"
      log "$tool missing; run as root: apt-get update && apt-get install -y ${package[$tool]}"
    done
    failed=1
  else
    export DEBIAN_FRONTEND=noninteractive
    log "apt-get update"
    if ! apt-get update -qq >"$status_dir/ops-tools-apt.log" 2>&1; then
      log "apt-get update failed (see var/ops-tools-apt.log)"
    fi
    for tool in "${missing[@]}"; do
      pkg="${package[$tool]}"
      log "apt-get install -y --no-install-recommends $pkg (for $tool)"
      # prometheus's postinst would start a Prometheus server; policy-rc.d 101 keeps services down.
      if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        added_policy=1
      fi
      if apt-get install -y -qq --no-install-recommends "$pkg" >>"$status_dir/ops-tools-apt.log" 2>&1 \
         && command -v "$tool" >/dev/null 2>&1; then
        log "$tool: installed ($(command -v "$tool"))"
      else
        reason="$(tail -n 3 "$status_dir/ops-tools-apt.log" | tr '\n' ' ' | cut -c1-300)"
        echo "$tool: apt-get install $pkg failed: $reason" >>"$status_file"
        log "$tool: apt-get install $pkg failed (see var/ops-tools-apt.log)"
        failed=1
      fi
      if [ "${added_policy:-0}" = 1 ]; then
        rm -f /usr/sbin/policy-rc.d
        added_policy=0
      fi
    done
  fi
fi
if command -v promtool >/dev/null 2>&1; then
  log "promtool: $(promtool --version 2>&1 | head -n 1)"
fi
if command -v chromium >/dev/null 2>&1; then
  log "chromium: $(chromium --version 2>/dev/null | head -n 1)"
fi
if ((failed && strict)); then
  exit 1
fi
exit 0
