#!/usr/bin/env bash
# The slow fault suite (issue 7): starts a separate RabbitMQ node of its own (ops/scripts/rabbit-node.sh,
# simpul-faults@localhost on 5682/15682, data under /tmp, with the shovel plugin for the levels scenarios),
# runs every scenario marked `slow` (tests/faults: test_slow, test_process_kill, test_levels_faults), prints the
# results table (scenario, how injected, lost, duplicates applied, recovery time), then stops and wipes
# that node. The machine's main broker (5672) is only used through fresh vhosts, never reconfigured.
#
#   ops/scripts/faults.sh                      the slow set (about 10 minutes on 2 CPUs)
#   ops/scripts/faults.sh --all                fast and slow scenarios
#   ops/scripts/faults.sh --markdown out.md    also write the table as Markdown
#   ops/scripts/faults.sh -- -k alarm          pass arguments to pytest
#
# The cluster scenarios (tests/faults/test_cluster.py, test_cluster_partition.py; issue 19) start and wipe
# their own 3-node clusters through ops/scripts/cluster.sh (on 5751-5753, and inside network namespaces
# simpul-n1..3 for the partition rows; root is needed for those), about 15 more minutes.
#
# The fast scenarios run with the normal test command (ops/scripts/test.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
[ -x .venv/bin/python ] || bash ops/scripts/setup.sh
bash ops/scripts/ensure-rabbitmq.sh
# The same plugins as tests/faults/own_node.py asks for when it starts the node itself.
export SIMPUL_RABBIT_PLUGINS="${SIMPUL_RABBIT_PLUGINS:-rabbitmq_management,rabbitmq_shovel,rabbitmq_shovel_management}"
bash ops/scripts/rabbit-node.sh start
status=0
.venv/bin/python -m tests.faults.run "$@" || status=$?
bash ops/scripts/rabbit-node.sh wipe || true
exit "$status"
