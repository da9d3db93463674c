#!/usr/bin/env bash
# A local N-node RabbitMQ cluster (default 3) for cluster tests and demos, from the Debian rabbitmq-server
# package, each node started by ops/scripts/rabbit-node.sh with a name, ports and folder of its own:
#
#   node i (1..N): simpul-c<i>@localhost, AMQP 5750+i, management 15750+i, Erlang distribution 25750+i,
#                  data and logs under $SIMPUL_CLUSTER_DIR/c<i> (default /tmp/simpul-cluster/c<i>)
#
# Plugins: management, shovel, shovel_management (what Simpul uses: policies through the HTTP API, level
# shovels). The nodes share an Erlang cookie of their own ($SIMPUL_CLUSTER_DIR/home/.erlang.cookie), not the
# system one, so they can neither reach nor join the machine's main node (rabbit@localhost on
# 5672/15672/25672), which this script never names. Partition handling: pause_minority (a node that sees
# only a minority of the cluster stops serving clients, so a minority never accepts or confirms work that a
# majority does not know about; see docs/operations.md).
#
#   cluster.sh start [N]          start N nodes (default 3, or the size of an existing cluster), join nodes
#                                 2..N to node 1 with `rabbitmqctl join_cluster`, and wait until
#                                 `rabbitmqctl cluster_status` shows all N running; prints the status
#   cluster.sh status             one line per node; exit 0 only if every node runs and sees all N running
#   cluster.sh stop               stop every node of the cluster (graceful, kill -9 of its own pid if that
#                                 fails); data stays, `start` brings the same cluster back
#   cluster.sh wipe               kill -9 every node of the cluster, then delete the cluster's folder
#   cluster.sh env                the nodes' URLs as shell assignments (SIMPUL_CLUSTER_AMQP_<i>, ...)
#   cluster.sh node I CMD [ARGS]  rabbit-node.sh CMD for node I (start|stop|kill|restart|status|pid|ctl ...)
#
# Environment: SIMPUL_CLUSTER_DIR (default /tmp/simpul-cluster), SIMPUL_CLUSTER_PORT_BASE (default 5750:
# AMQP base+i, management 10000+base+i, distribution 20000+base+i), SIMPUL_RABBIT_TIMEOUT_S (per wait).
#
# Network namespaces (for real partitions): with SIMPUL_CLUSTER_NETNS=1 (default folder
# /tmp/simpul-cluster-netns) node i runs inside namespace simpul-n<i> as simpul-c<i>@10.231.0.<i>, its only
# link a veth pair to a bridge that lives in a namespace of its own (simpul-sw); the 10.231.0.0/24
# addresses exist only inside these namespaces, nothing is added to the machine's own network. guest may
# log in over the bridge (loopback_users = none): nothing outside the namespaces can reach it. Their
# net_ticktime is 10 s, so a cut link becomes a partition (and pause_minority acts) within ~10-15 s.
#   cluster.sh netns up|down      make / delete the namespaces, the bridge and the veth pairs
#   cluster.sh cut I | heal I     take node I's link to the bridge down / up (a partition of node I)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NETNS_MODE="${SIMPUL_CLUSTER_NETNS:-0}"
if [ "${NETNS_MODE}" = 1 ]; then
    DIR="${SIMPUL_CLUSTER_DIR:-/tmp/simpul-cluster-netns}"
else
    DIR="${SIMPUL_CLUSTER_DIR:-/tmp/simpul-cluster}"
fi
SUBNET=10.231.0
SWITCH=simpul-sw
BASE="${SIMPUL_CLUSTER_PORT_BASE:-5750}"
TIMEOUT_S="${SIMPUL_RABBIT_TIMEOUT_S:-120}"
PLUGINS="rabbitmq_management,rabbitmq_shovel,rabbitmq_shovel_management"
[[ "${BASE}" =~ ^[0-9]+$ ]] && ((BASE >= 1024 && BASE <= 9000)) || { echo "bad SIMPUL_CLUSTER_PORT_BASE" >&2; exit 1; }

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

size() {
    if [ -s "${DIR}/size" ]; then cat "${DIR}/size"; else echo 3; fi
}

# host I: the host part of node I's name.
host() { if [ "${NETNS_MODE}" = 1 ]; then echo "${SUBNET}.$1"; else echo localhost; fi; }

# node_do I ARGS...: rabbit-node.sh ARGS for node I, with that node's name, ports, folder and our cookie.
node_do() {
    local i="$1"; shift
    local ns="" ip=127.0.0.1
    if [ "${NETNS_MODE}" = 1 ]; then ns="simpul-n${i}"; ip="${SUBNET}.${i}"; fi
    SIMPUL_RABBIT_NETNS="${ns}" \
    SIMPUL_RABBIT_IP="${ip}" \
    SIMPUL_RABBIT_NAME="simpul-c${i}" \
    SIMPUL_RABBIT_AMQP_PORT="$((BASE + i))" \
    SIMPUL_RABBIT_MGMT_PORT="$((10000 + BASE + i))" \
    SIMPUL_RABBIT_DIST_PORT="$((20000 + BASE + i))" \
    SIMPUL_RABBIT_DIR="${DIR}/c${i}" \
    SIMPUL_RABBIT_PLUGINS="${PLUGINS}" \
    SIMPUL_RABBIT_COOKIE_HOME="${DIR}/home" \
    SIMPUL_RABBIT_EXTRA_CONF="${DIR}/cluster.conf" \
    SIMPUL_RABBIT_TIMEOUT_S="${TIMEOUT_S}" \
        bash "${here}/rabbit-node.sh" "$@"
}

prepare() {
    mkdir -p "${DIR}/home"
    if [ ! -s "${DIR}/home/.erlang.cookie" ]; then
        # 20 upper-case letters, like the cookie Erlang makes itself.
        python3 -c 'import secrets, string; print("".join(secrets.choice(string.ascii_uppercase) for _ in range(20)), end="")' \
            > "${DIR}/home/.erlang.cookie"
    fi
    chmod 400 "${DIR}/home/.erlang.cookie"
    cat > "${DIR}/cluster.conf" <<EOF
cluster_name = simpul-cluster
cluster_partition_handling = pause_minority
EOF
    if [ "${NETNS_MODE}" = 1 ]; then
        # net_ticktime 10 s (default 60): a cut link is seen as a partition within about 10-15 s.
        printf 'loopback_users = none\nnet_ticktime = 10\n' >> "${DIR}/cluster.conf"
    fi
    if [ "$(id -u)" = 0 ] && id rabbitmq >/dev/null 2>&1; then
        chown -R rabbitmq:rabbitmq "${DIR}/home"
    fi
}

# running_count I: how many nodes node I's cluster_status lists as running (0 if it does not answer).
running_count() {
    node_do "$1" ctl -q cluster_status --formatter json 2>/dev/null \
        | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("running_nodes", [])))' 2>/dev/null \
        || echo 0
}

all_running() {
    local n="$1" i
    for ((i = 1; i <= n; i++)); do
        [ "$(running_count "$i")" = "$n" ] || return 1
    done
}

start() {
    local n="${1:-$(size)}"
    [[ "${n}" =~ ^[0-9]+$ ]] && ((n >= 1 && n <= 9)) || die "cluster size must be 1..9"
    if [ -s "${DIR}/size" ] && [ "$(cat "${DIR}/size")" != "${n}" ]; then
        die "${DIR} holds a cluster of $(cat "${DIR}/size") nodes; wipe it first"
    fi
    prepare
    echo "${n}" > "${DIR}/size"
    log "starting ${n} nodes under ${DIR}"
    # In parallel: a node restarted from existing data waits for its peers before it finishes booting.
    local pids=() i status=0
    for ((i = 1; i <= n; i++)); do
        node_do "$i" start & pids+=("$!")
    done
    for i in "${pids[@]}"; do wait "$i" || status=1; done
    ((status == 0)) || die "a node failed to start (logs under ${DIR}/c*/log)"
    for ((i = 2; i <= n; i++)); do
        [ ! -e "${DIR}/c${i}/joined" ] || continue
        log "joining simpul-c${i}@$(host "$i") to simpul-c1@$(host 1)"
        node_do "$i" ctl -q stop_app >/dev/null
        node_do "$i" ctl -q join_cluster "simpul-c1@$(host 1)" >>"${DIR}/join.log" 2>&1 || die "join_cluster failed (see ${DIR}/join.log)"
        node_do "$i" ctl -q start_app >/dev/null
        touch "${DIR}/c${i}/joined"
    done
    local deadline=$((SECONDS + TIMEOUT_S))
    until all_running "${n}"; do
        ((SECONDS < deadline)) || die "cluster_status did not show ${n} running nodes within ${TIMEOUT_S}s"
        sleep 1
    done
    log "ready: ${n} nodes running"
    status_lines "${n}"
}

status_lines() {
    local n="$1" i ok=0 seen
    for ((i = 1; i <= n; i++)); do
        if node_do "$i" status 2>/dev/null; then
            seen="$(running_count "$i")"
            printf 'simpul-c%s@%s  running  amqp=%s  management=%s  dist=%s  sees %s/%s running\n' \
                "$i" "$(host "$i")" "$((BASE + i))" "$((10000 + BASE + i))" "$((20000 + BASE + i))" "${seen}" "${n}"
            [ "${seen}" = "${n}" ] || ok=1
        else
            printf 'simpul-c%s@%s  down\n' "$i" "$(host "$i")"
            ok=1
        fi
    done
    return "${ok}"
}

stop() {
    local n i
    n="$(size)"
    for ((i = n; i >= 1; i--)); do
        node_do "$i" stop 2>/dev/null || node_do "$i" kill 2>/dev/null || true
    done
    log "stopped"
}

netns_up() {
    local n="${1:-3}" i
    ip netns add "${SWITCH}"
    ip -n "${SWITCH}" link add br0 type bridge
    ip -n "${SWITCH}" link set br0 up
    for ((i = 1; i <= n; i++)); do
        ip netns add "simpul-n${i}"
        ip -n "simpul-n${i}" link set lo up
        # Both ends are created inside the namespaces: nothing appears in the machine's own namespace.
        ip -n "${SWITCH}" link add "sv${i}" type veth peer name eth0 netns "simpul-n${i}"
        ip -n "${SWITCH}" link set "sv${i}" master br0 up
        ip -n "simpul-n${i}" addr add "${SUBNET}.${i}/24" dev eth0
        ip -n "simpul-n${i}" link set eth0 up
    done
    log "namespaces ${SWITCH} and simpul-n1..${n} up (${SUBNET}.0/24 inside them only)"
}

netns_down() {
    local ns
    for ns in $(ip netns list | awk '{print $1}' | grep -E '^simpul-(sw|n[0-9])$' || true); do
        ip netns del "${ns}"
    done
    log "namespaces deleted"
}

cmd="${1:-status}"
shift || true
case "${cmd}" in
    start) start "$@" ;;
    status) [ -d "${DIR}" ] || { log "no cluster under ${DIR}"; exit 1; }; status_lines "$(size)" ;;
    stop) [ -d "${DIR}" ] || exit 0; stop ;;
    wipe)
        # kill -9 (rabbit-node.sh wipe) rather than a graceful stop: the data is deleted anyway.
        if [ -d "${DIR}" ]; then
            for ((i = 1; i <= $(size); i++)); do node_do "$i" wipe 2>/dev/null || true; done
            rm -rf -- "${DIR}"
        fi
        log "wiped ${DIR}"
        ;;
    env)
        for ((i = 1; i <= $(size); i++)); do
            ip=127.0.0.1; [ "${NETNS_MODE}" = 1 ] && ip="${SUBNET}.${i}"
            echo "SIMPUL_CLUSTER_AMQP_${i}=amqp://guest:guest@${ip}:$((BASE + i))"
            echo "SIMPUL_CLUSTER_MGMT_${i}=http://guest:guest@${ip}:$((10000 + BASE + i))"
        done
        ;;
    netns)
        case "${1:-}" in
            up) netns_down; netns_up "${2:-3}" ;;
            down) netns_down ;;
            *) die "usage: cluster.sh netns up [N]|down" ;;
        esac
        ;;
    cut|heal)
        [[ "${1:-}" =~ ^[1-9]$ ]] || die "usage: cluster.sh ${cmd} I"
        state=down; [ "${cmd}" = heal ] && state=up
        ip -n "${SWITCH}" link set "sv$1" "${state}"
        log "node $1's link ${state}"
        ;;
    node)
        [ "$#" -ge 2 ] || die "usage: cluster.sh node I CMD [ARGS]"
        i="$1"; shift
        [[ "${i}" =~ ^[1-9]$ ]] || die "bad node index ${i}"
        node_do "$i" "$@"
        ;;
    *) die "unknown command ${cmd} (start [N]|status|stop|wipe|env|node I CMD|netns up|down|cut I|heal I)" ;;
esac
