#!/usr/bin/env bash
# Make sure a local RabbitMQ is installed, running, and serving the management API. Idempotent.
#
# - installs the Debian package if rabbitmq-server is missing (needs root; no sudo is used);
# - starts the node detached if it does not answer, and waits for `rabbitmqctl await_startup`
#   and for the AMQP port;
# - enables rabbitmq_management (Simpul applies its dead-letter policies through the HTTP API) and,
#   for later work, shovel, federation and stream (with their management extensions);
# - waits until the management API answers on its port.
#
# It never stops or restarts a running node and does not touch any other setting.
#
# Environment (all optional):
#   RABBITMQ_HOST           default 127.0.0.1
#   RABBITMQ_AMQP_PORT      default 5672
#   RABBITMQ_MGMT_PORT      default 15672
#   RABBITMQ_MGMT_USER      default guest
#   RABBITMQ_MGMT_PASSWORD  default guest
#   ENSURE_TIMEOUT_S        default 120 (per wait)
#   ENSURE_PLUGINS          default "rabbitmq_management rabbitmq_shovel rabbitmq_shovel_management
#                           rabbitmq_federation rabbitmq_federation_management rabbitmq_stream
#                           rabbitmq_stream_management"
set -euo pipefail

HOST="${RABBITMQ_HOST:-127.0.0.1}"
AMQP_PORT="${RABBITMQ_AMQP_PORT:-5672}"
MGMT_PORT="${RABBITMQ_MGMT_PORT:-15672}"
MGMT_USER="${RABBITMQ_MGMT_USER:-guest}"
MGMT_PASSWORD="${RABBITMQ_MGMT_PASSWORD:-guest}"
TIMEOUT_S="${ENSURE_TIMEOUT_S:-120}"
PLUGINS="${ENSURE_PLUGINS:-rabbitmq_management rabbitmq_shovel rabbitmq_shovel_management rabbitmq_federation rabbitmq_federation_management rabbitmq_stream rabbitmq_stream_management}"

log() { printf '[ensure-rabbitmq] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# port_open HOST PORT: true if a TCP connect succeeds (bash /dev/tcp, no extra tools needed).
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# wait_for DESCRIPTION COMMAND...: retry COMMAND every second until it succeeds or TIMEOUT_S passes.
wait_for() {
    local what="$1"; shift
    local deadline=$((SECONDS + TIMEOUT_S))
    until "$@"; do
        if ((SECONDS >= deadline)); then
            die "timed out after ${TIMEOUT_S}s waiting for ${what}"
        fi
        sleep 1
    done
    log "${what}: ok"
}

node_running() { rabbitmqctl -q status >/dev/null 2>&1; }

mgmt_answers() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null --max-time 3 -u "${MGMT_USER}:${MGMT_PASSWORD}" \
            "http://${HOST}:${MGMT_PORT}/api/overview"
    else
        port_open "${HOST}" "${MGMT_PORT}"
    fi
}

# 1. Install if missing.
if ! command -v rabbitmq-server >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "rabbitmq-server is not installed. Install it as root with: sudo apt-get update && sudo apt-get install -y rabbitmq-server"
    log "installing rabbitmq-server (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y rabbitmq-server
    command -v curl >/dev/null 2>&1 || apt-get install -y curl || log "curl not installed; port check only"
fi

# 2. Start if not running. The package may have started it already (systemd); do not start twice.
if node_running; then
    log "node already running"
else
    log "starting rabbitmq-server -detached"
    rabbitmq-server -detached
fi
wait_for "rabbitmqctl await_startup" rabbitmqctl -q await_startup --timeout "${TIMEOUT_S}"
wait_for "AMQP port ${HOST}:${AMQP_PORT}" port_open "${HOST}" "${AMQP_PORT}"

# 3. Plugins. `rabbitmq-plugins enable` against a running node is idempotent and applies at once.
missing=()
enabled="$(rabbitmq-plugins list -E -m 2>/dev/null || true)"  # explicitly enabled only
for plugin in ${PLUGINS}; do
    if ! grep -qx "${plugin}" <<<"${enabled}"; then
        missing+=("${plugin}")
    fi
done
if ((${#missing[@]})); then
    log "enabling plugins: ${missing[*]}"
    rabbitmq-plugins enable "${missing[@]}"
else
    log "plugins already enabled: ${PLUGINS}"
fi

# 4. Management API.
wait_for "management API http://${HOST}:${MGMT_PORT}" mgmt_answers
log "RabbitMQ is ready (amqp ${HOST}:${AMQP_PORT}, management ${HOST}:${MGMT_PORT})"
