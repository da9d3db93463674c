"""Putting a transport's topology on RabbitMQ: dead-letter policies through the management API, then
exchanges, queues and bindings over AMQP, then a check that the policies are in effect.

:meth:`AmqpTransport.start <hub.transport.amqp.AmqpTransport.start>` PUTs the dead-letter policies
(:func:`apply_policies`) *first*, then declares durable topic exchanges, durable quorum queues and bindings
(:func:`declare`), then checks through the management API that every work queue shows the policy as
effective (:func:`verify_policies`), or raises :class:`~hub.errors.TopologyError`. A cluster has several
management APIs: they are tried in the order of ``management_url`` and ``management_urls`` until one
answers.

Why policies and not queue arguments for the dead-letter exchange and delivery limit: queue arguments are
fixed when a queue is created (re-declaring with different ones fails with PRECONDITION_FAILED and changing
them means deleting the queue and its messages), while a policy can be changed at runtime, by the hub or an
operator, and RabbitMQ applies it to the existing queue at once. The policy is applied before the queues are
declared so a new queue never exists without dead-lettering, even for a moment.

One of the modules of the hub allowed to import aio-pika and aiormq (only ``hub.transport.amqp*`` may); of
the hub it imports ``hub.errors``, ``amqp_delivery``'s link errors and the ``topology``, ``policies`` and
``management`` modules of this package.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

import structlog
from aio_pika.abc import AbstractRobustConnection
from aiormq.exceptions import ChannelAccessRefused, ChannelPreconditionFailed

from hub.errors import BrokerUnavailable, TopologyError
from hub.transport.amqp_delivery import LINK_ERRORS
from hub.transport.management import ManagementClient, ManagementError
from hub.transport.policies import QueuePolicy
from hub.transport.topology import Topology

log = structlog.get_logger("hub.transport.amqp")  # the transport's logger name, as before the split


async def declare(connection: AbstractRobustConnection, topology: Topology) -> None:
    """Declare ``topology``'s durable exchanges, durable quorum queues and bindings (idempotent) on a
    short-lived channel of ``connection``.

    Raises :class:`~hub.errors.TopologyError` if an entity exists with other settings or may not be
    declared.
    """
    channel = await connection.channel(publisher_confirms=False)
    entity = ""
    try:
        for spec in topology.exchanges:
            entity = f"exchange {spec.name!r}"
            await channel.declare_exchange(spec.name, spec.type, durable=True)
        queues = {}
        for q in topology.queues:
            entity = f"queue {q.name!r}"
            queues[q.name] = await channel.declare_queue(q.name, durable=True, arguments=dict(q.arguments()))
        for binding in topology.bindings:
            entity = f"binding {binding.exchange} -> {binding.queue} ({binding.pattern})"
            await queues[binding.queue].bind(binding.exchange, binding.pattern)
    except ChannelPreconditionFailed:
        raise TopologyError(f"{entity} already exists with different settings") from None
    except ChannelAccessRefused:
        raise TopologyError(f"not allowed to declare {entity}") from None
    finally:
        with contextlib.suppress(*LINK_ERRORS):
            await asyncio.wait_for(channel.close(), timeout=5)


async def apply_policies(management_urls: Sequence[str], vhost: str, policies: list[QueuePolicy]) -> None:
    """PUT ``policies`` into ``vhost`` through the first management API that answers."""
    if not policies:
        return

    async def work(api: ManagementClient) -> None:
        for policy in policies:
            body = policy.as_api_body()
            await api.put_policy(
                vhost,
                policy.name,
                pattern=body["pattern"],
                definition=body["definition"],
                apply_to=body["apply-to"],
                priority=body["priority"],
            )
            log.info("policy_applied", vhost=vhost, policy=policy.name, queues=list(policy.queues))

    await _on_first_answering(management_urls, "apply policies", work)


async def verify_policies(
    management_urls: Sequence[str], vhost: str, policies: list[QueuePolicy], *, timeout: float
) -> None:
    """Check that every work queue has our policy in effect, polling up to ``timeout`` seconds.

    The queue's effective ``policy`` name is read from ``GET /api/queues/{vhost}?disable_stats=true``
    (the queue records: current at once) and the policy's definition from ``GET /api/policies``;
    when ``GET /api/queues/{vhost}/{name}`` already carries ``effective_policy_definition`` (it comes
    from the statistics database, which lags 5-10 s behind a new quorum queue) that must match too.
    """
    expected = {queue: policy for policy in policies for queue in policy.queues}
    if not expected:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pending = dict(expected)
    seen: dict[str, str | None] = {}

    async def work(api: ManagementClient) -> None:
        for policy in policies:
            stored = await api.get_policy(vhost, policy.name)
            if stored is None or stored.get("definition") != dict(policy.definition):
                raise TopologyError(f"policy {policy.name!r} is missing or was changed concurrently")
        while pending:
            records = {q.get("name"): q for q in await api.list_queues(vhost, stats=False)}
            for queue, policy in list(pending.items()):
                seen[queue] = (records.get(queue) or {}).get("policy")
                if seen[queue] != policy.name:
                    continue
                detail = await api.get_queue(vhost, queue) or {}
                effective = detail.get("effective_policy_definition")
                if effective and any(effective.get(k) != v for k, v in policy.definition.items()):
                    seen[queue] = f"{policy.name} (effective definition differs)"
                    continue
                del pending[queue]
            if not pending:
                break
            if loop.time() >= deadline:
                queue = sorted(pending)[0]
                raise TopologyError(
                    f"queue {queue!r} does not show dead-letter policy {pending[queue].name!r} "
                    f"as effective (effective policy: {seen.get(queue)!r}); a policy of "
                    "higher priority may override it"
                )
            await asyncio.sleep(0.2)

    await _on_first_answering(management_urls, "verify policies", work)
    log.info("policies_verified", vhost=vhost, queues=sorted(expected))


async def _on_first_answering(
    management_urls: Sequence[str], what: str, work: Callable[[ManagementClient], Awaitable[None]]
) -> None:
    """Run ``work`` against the first management API that answers (a cluster lists several)."""
    for index, url in enumerate(management_urls):
        try:
            async with ManagementClient(url) as api:
                await work(api)
            return
        except ManagementError as exc:
            if exc.unreachable and index + 1 < len(management_urls):
                log.warning("management_api_unreachable", action="next_address", what=what)
                continue
            raise _management_failure(exc, what) from None


def _management_failure(exc: ManagementError, what: str) -> Exception:
    if exc.unreachable:
        return BrokerUnavailable(f"management API unreachable, cannot {what}: {exc}")
    return TopologyError(f"management API refused to {what}: {exc}")
