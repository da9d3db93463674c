#!/usr/bin/env bash
# A SEPARATE RabbitMQ node for fault tests: its own node name, ports, data, logs, config and plugins,
# under one temp folder. It never touches the machine's main node (rabbit@localhost on 5672/15672):
# every rabbitmqctl call names this node with -n, and the script refuses the main node's name or ports.
#
#   rabbit-node.sh start      start (detached) and wait until AMQP and the management API answer
#   rabbit-node.sh stop       graceful stop (rabbitmqctl stop), waits until the OS process is gone
#   rabbit-node.sh kill       kill -9 of the node's OS process (the beam), waits until it is gone
#   rabbit-node.sh restart    stop then start (graceful broker restart)
#   rabbit-node.sh status     exit 0 if the node answers
#   rabbit-node.sh pid        print the OS pid of the node
#   rabbit-node.sh ctl ARGS   rabbitmqctl -n <this node> ARGS (alarms, close_all_connections, ...)
#   rabbit-node.sh env        print the node's URLs as shell assignments
#   rabbit-node.sh wipe       kill if running, then delete the node's folder
#
# Environment (all optional):
#   SIMPUL_RABBIT_NAME       node short name            default simpul-faults  (node: NAME@localhost)
#   SIMPUL_RABBIT_AMQP_PORT  AMQP port                  default 5682
#   SIMPUL_RABBIT_MGMT_PORT  management HTTP port       default 15682
#   SIMPUL_RABBIT_DIST_PORT  Erlang distribution port   default 25682
#   SIMPUL_RABBIT_DIR        folder for everything      default /tmp/simpul-rabbit-<NAME>
#   SIMPUL_RABBIT_TIMEOUT_S  wait per step              default 90
#   SIMPUL_RABBIT_PLUGINS    plugins, comma-separated   default rabbitmq_management
#                            (e.g. rabbitmq_management,rabbitmq_shovel,rabbitmq_shovel_management for levels)
#   SIMPUL_RABBIT_COOKIE_HOME a folder holding the .erlang.cookie the node and rabbitmqctl use (default: the
#                            rabbitmq user's home, i.e. the system cookie); ops/scripts/cluster.sh gives its
#                            nodes a cookie of their own so they can never reach or join the main node
#   SIMPUL_RABBIT_NETNS      run the node inside this network namespace (made by the caller, e.g.
#                            cluster.sh netns); with SIMPUL_RABBIT_IP its address there. The node is then
#                            NAME@IP (long names), listens and runs epmd on that address, and every
#                            command (rabbitmqctl, port checks) runs inside the namespace
#   SIMPUL_RABBIT_IP         the address to listen on   default 127.0.0.1
#   SIMPUL_RABBIT_EXTRA_CONF a file whose lines are appended to the node's rabbitmq.conf (e.g. a TLS
#                            listener; files it names should live in the node's folder, which is chowned)
#
# guest is allowed from loopback only (RabbitMQ's default), and everything listens on 127.0.0.1.
set -euo pipefail

NAME="${SIMPUL_RABBIT_NAME:-simpul-faults}"
NETNS="${SIMPUL_RABBIT_NETNS:-}"
IP="${SIMPUL_RABBIT_IP:-127.0.0.1}"
[[ "${IP}" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "bad SIMPUL_RABBIT_IP: ${IP}" >&2; exit 1; }
IN_NS=()
LONGNAMES=false
NODE="${NAME}@localhost"
EPMD_ADDRESS=127.0.0.1
if [ -n "${NETNS}" ]; then
    [[ "${NETNS}" =~ ^simpul-[a-z0-9-]+$ ]] || { echo "bad SIMPUL_RABBIT_NETNS: ${NETNS}" >&2; exit 1; }
    IN_NS=(ip netns exec "${NETNS}")
    LONGNAMES=true
    NODE="${NAME}@${IP}"
    EPMD_ADDRESS="${IP},127.0.0.1"
fi
AMQP_PORT="${SIMPUL_RABBIT_AMQP_PORT:-5682}"
MGMT_PORT="${SIMPUL_RABBIT_MGMT_PORT:-15682}"
DIST_PORT="${SIMPUL_RABBIT_DIST_PORT:-25682}"
DIR="${SIMPUL_RABBIT_DIR:-/tmp/simpul-rabbit-${NAME}}"
TIMEOUT_S="${SIMPUL_RABBIT_TIMEOUT_S:-90}"
PLUGINS="${SIMPUL_RABBIT_PLUGINS:-rabbitmq_management}"
EXTRA_CONF="${SIMPUL_RABBIT_EXTRA_CONF:-}"
[[ "${PLUGINS}" =~ ^[a-z_]+(,[a-z_]+)*$ ]] || { echo "bad SIMPUL_RABBIT_PLUGINS: ${PLUGINS}" >&2; exit 1; }
RABBIT_BIN="${SIMPUL_RABBIT_BIN:-/usr/lib/rabbitmq/bin}"

log() { printf '[rabbit-node %s] %s\n' "${NODE}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Never the main node.
[ "${NAME}" != "rabbit" ] || die "refusing the main node's name (rabbit@localhost)"
for port in "${AMQP_PORT}" "${MGMT_PORT}" "${DIST_PORT}"; do
    case "${port}" in 5672|15672|25672|5552|15692|4369) die "refusing port ${port} (the main node's)";; esac
done
[ -x "${RABBIT_BIN}/rabbitmq-server" ] || die "RabbitMQ is not installed (${RABBIT_BIN}/rabbitmq-server missing)"

# The node runs as the rabbitmq user when we are root (like the Debian wrappers do), with the system
# cookie, so this script's rabbitmqctl reaches it; files live in DIR, owned by that user.
RUN_AS=()
COOKIE_HOME="${HOME}"
if [ "$(id -u)" = 0 ] && id rabbitmq >/dev/null 2>&1; then
    RUN_AS=(runuser -u rabbitmq --)
    COOKIE_HOME="$(getent passwd rabbitmq | cut -d: -f6)"
fi
COOKIE_HOME="${SIMPUL_RABBIT_COOKIE_HOME:-${COOKIE_HOME}}"

node_env() {
    "${IN_NS[@]}" env HOME="${COOKIE_HOME}" \
        RABBITMQ_NODENAME="${NODE}" \
        RABBITMQ_USE_LONGNAME="${LONGNAMES}" \
        RABBITMQ_NODE_IP_ADDRESS="${IP}" \
        RABBITMQ_NODE_PORT="${AMQP_PORT}" \
        RABBITMQ_DIST_PORT="${DIST_PORT}" \
        RABBITMQ_BASE="${DIR}" \
        RABBITMQ_CONF_ENV_FILE="${DIR}/rabbitmq-env.conf" \
        RABBITMQ_CONFIG_FILE="${DIR}/rabbitmq.conf" \
        RABBITMQ_ADVANCED_CONFIG_FILE="${DIR}/advanced.config" \
        RABBITMQ_ENABLED_PLUGINS_FILE="${DIR}/enabled_plugins" \
        RABBITMQ_MNESIA_BASE="${DIR}/mnesia" \
        RABBITMQ_LOG_BASE="${DIR}/log" \
        RABBITMQ_PID_FILE="${DIR}/node.pid" \
        ERL_EPMD_ADDRESS="${EPMD_ADDRESS}" \
        "$@"
}

ctl() { node_env "${RUN_AS[@]}" "${RABBIT_BIN}/rabbitmqctl" -n "${NODE}" "$@"; }

port_open() { "${IN_NS[@]}" timeout 2 bash -c "exec 3<>/dev/tcp/${IP}/$1" 2>/dev/null; }

running() { ctl -q -t 5 ping >/dev/null 2>&1; }

os_pid() {
    if [ -s "${DIR}/node.pid" ] && kill -0 "$(cat "${DIR}/node.pid")" 2>/dev/null; then
        cat "${DIR}/node.pid"
        return 0
    fi
    # Fallback: the beam process whose command line names this node.
    pgrep -f -- "-sname ${NODE}( |$)|-name ${NODE}( |$)|nodename ${NODE}|${NAME}@localhost" | head -1
}

wait_until() {
    local what="$1"; shift
    local deadline=$((SECONDS + TIMEOUT_S))
    until "$@"; do
        ((SECONDS < deadline)) || die "timed out after ${TIMEOUT_S}s waiting for ${what}"
        sleep 0.5
    done
}

mgmt_answers() {
    "${IN_NS[@]}" curl -fsS -o /dev/null --max-time 3 -u guest:guest "http://${IP}:${MGMT_PORT}/api/overview" \
        2>/dev/null
}

prepare() {
    mkdir -p "${DIR}/mnesia" "${DIR}/log"
    : > "${DIR}/rabbitmq-env.conf"  # our own (empty): the system one names rabbit@localhost
    cat > "${DIR}/rabbitmq.conf" <<EOF
listeners.tcp.default = ${IP}:${AMQP_PORT}
management.tcp.ip = ${IP}
management.tcp.port = ${MGMT_PORT}
loopback_users.guest = true
log.file.level = warning
log.console = false
EOF
    if [ -n "${EXTRA_CONF}" ]; then
        cat -- "${EXTRA_CONF}" >> "${DIR}/rabbitmq.conf"
    fi
    echo "[]." > "${DIR}/advanced.config"
    echo "[${PLUGINS}]." > "${DIR}/enabled_plugins"
    if [ "${#RUN_AS[@]}" -gt 0 ]; then
        chown -R rabbitmq:rabbitmq "${DIR}"
    fi
}

start() {
    if running; then
        log "already running"
        return 0
    fi
    for port in "${AMQP_PORT}" "${MGMT_PORT}" "${DIST_PORT}"; do
        ! port_open "${port}" || die "port ${port} is in use by something else"
    done
    prepare
    log "starting (amqp ${AMQP_PORT}, management ${MGMT_PORT}, dist ${DIST_PORT}, data ${DIR})"
    (cd "${DIR}" && node_env RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {${IP//./,}}" \
        "${RUN_AS[@]}" "${RABBIT_BIN}/rabbitmq-server" -detached) \
        >>"${DIR}/log/startup.log" 2>&1
    wait_until "the node to answer" running
    ctl -q await_startup --timeout "${TIMEOUT_S}" >/dev/null
    wait_until "AMQP port ${AMQP_PORT}" port_open "${AMQP_PORT}"
    wait_until "management API on ${MGMT_PORT}" mgmt_answers
    log "ready (pid $(os_pid))"
}

wait_gone() {
    local pid="$1"
    local deadline=$((SECONDS + TIMEOUT_S))
    while [ -n "${pid}" ] && kill -0 "${pid}" 2>/dev/null; do
        ((SECONDS < deadline)) || die "process ${pid} did not exit"
        sleep 0.2
    done
}

stop() {
    local pid
    pid="$(os_pid || true)"
    if ! running; then
        log "not running"
        return 0
    fi
    ctl -q stop >/dev/null
    wait_gone "${pid}"
    log "stopped"
}

kill9() {
    local pid
    pid="$(os_pid || true)"
    [ -n "${pid}" ] || die "no OS process found for the node"
    kill -9 "${pid}"
    wait_gone "${pid}"
    log "killed -9 (pid ${pid})"
}

cmd="${1:-status}"
shift || true
case "${cmd}" in
    start) start ;;
    stop) stop ;;
    kill) kill9 ;;
    restart) stop; start ;;
    status) running ;;
    pid) os_pid ;;
    ctl) ctl "$@" ;;
    env)
        echo "SIMPUL_FAULT_NODE=${NODE}"
        echo "SIMPUL_FAULT_AMQP=amqp://guest:guest@${IP}:${AMQP_PORT}"
        echo "SIMPUL_FAULT_MGMT=http://guest:guest@${IP}:${MGMT_PORT}"
        echo "SIMPUL_FAULT_DIR=${DIR}"
        ;;
    wipe)
        if running; then kill9 || true; fi
        rm -rf -- "${DIR}"
        log "wiped ${DIR}"
        ;;
    *) die "unknown command ${cmd} (start|stop|kill|restart|status|pid|ctl|env|wipe)" ;;
esac
