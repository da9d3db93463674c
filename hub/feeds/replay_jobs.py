"""Replays started from the admin API: each runs in the background on its own connection, with progress.

``ReplayJobs.start`` checks the request, starts ``hub.feeds.replay.replay`` as a task and returns the job
at once; ``get`` reports its state (``running``, ``done``, ``failed`` with the error) and the figures so
far. A failed replay can simply be started again: replays are idempotent (``hub.feeds.replay``).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from hub.errors import ConfigError, NotFound, RequestError, SimpulError
from hub.feeds.replay import CONSUMER_PATTERN, ReplayFilter, ReplayResult, replay, replay_queue
from hub.settings import Settings
from hub.transport.base import StreamOffset, Transport

log = structlog.get_logger(__name__)

TransportFor = Callable[[str], Transport]  # consumer name -> a transport with that consumer's replay topology


@dataclass
class ReplayJob:
    """One replay: what was asked, by whom, and how far it got."""

    job_id: str
    consumer: str
    schema: str | None
    region: str | None
    since: str
    requested_by: str
    started_at: datetime
    state: str = "running"
    error: str | None = None
    result: ReplayResult | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def view(self) -> dict[str, Any]:
        r = self.result
        return {
            "job_id": self.job_id,
            "state": self.state,
            "consumer": self.consumer,
            "queue": r.queue if r else None,
            "schema": self.schema,
            "region": self.region,
            "since": self.since,
            "requested_by": self.requested_by,
            "started_at": self.started_at.isoformat(),
            "error": self.error,
            "messages_read": r.messages_read if r else 0,
            "records_matched": r.records_matched if r else 0,
            "messages_published": r.messages_published if r else 0,
            "end_offset": r.end_offset if r else None,
            "last_offset": r.last if r else None,
        }


def amqp_replay_transports(settings: Settings) -> TransportFor:
    """Transports on the node's broker, each declaring one consumer's replay topology (``simpul replay``
    and the admin API use the same)."""
    from hub.feeds.replay import replay_topology
    from hub.transport.amqp import AmqpTransport
    from hub.transport.topology import with_replicas

    b = settings.broker

    def transport_for(consumer: str) -> Transport:
        # The same replica count as the node's own topology: the feed stream is re-declared here, and
        # RabbitMQ refuses a re-declaration with another x-initial-cluster-size.
        topology = replay_topology(b.prefix, consumer, feed_max_age=settings.feed.max_age)
        return AmqpTransport(
            b.url,
            with_replicas(topology, b.replicas),
            urls=b.urls,
            management_url=b.management_url,
            management_urls=b.management_urls,
            heartbeat=b.heartbeat_s,
            publish_timeout=b.publish_timeout_s,
            name=f"{settings.node}:replay",
        )

    return transport_for


class ReplayJobs:
    """The node's replay jobs (kept in memory: a restarted node forgets them; the replays are idempotent)."""

    def __init__(self, transport_for: TransportFor, prefix: str) -> None:
        self._transport_for = transport_for
        self._prefix = prefix
        self._jobs: dict[str, ReplayJob] = {}

    def start(self, body: dict[str, Any], requested_by: str) -> ReplayJob:
        """Start a replay for ``{"to", "since", "schema"?, "region"?}``; raises ``RequestError`` (400)."""
        from hub.feeds.replay import parse_since
        from schemas.regions.model import normalize_code

        consumer = body.get("to")
        if not isinstance(consumer, str) or not re.match(CONSUMER_PATTERN, consumer):
            raise RequestError("'to' names the consumer: lower-case letters, digits, _ and -")
        since_text = str(body.get("since", "first"))
        try:
            since: StreamOffset = parse_since(since_text)
        except ConfigError as exc:
            raise RequestError(f"'since' {exc}") from None
        schema, region = body.get("schema"), body.get("region")
        if schema is not None and not isinstance(schema, str):
            raise RequestError("'schema' is a schema name")
        if region is not None:
            region = normalize_code(str(region))
            if region is None:
                raise RequestError("'region' is not a kode wilayah")
        job = ReplayJob(
            uuid.uuid4().hex[:12], consumer, schema, region, since_text, requested_by, datetime.now(UTC)
        )
        job.result = ReplayResult(consumer, replay_queue(self._prefix, consumer))
        job.task = asyncio.create_task(self._run(job, since), name=f"replay-{job.job_id}")
        self._jobs[job.job_id] = job
        return job

    def get(self, job_id: str) -> ReplayJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no replay job {job_id!r}")
        return job

    def list(self) -> list[ReplayJob]:
        return sorted(self._jobs.values(), key=lambda j: j.started_at, reverse=True)

    async def close(self) -> None:
        tasks = [j.task for j in self._jobs.values() if j.task is not None and not j.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, job: ReplayJob, since: StreamOffset) -> None:
        transport = self._transport_for(job.consumer)

        def progress(result: ReplayResult) -> None:
            job.result = result

        try:
            await transport.start()
            job.result = await replay(
                transport,
                consumer=job.consumer,
                since=since,
                where=ReplayFilter(job.schema, job.region),
                prefix=self._prefix,
                progress=progress,
            )
            job.state = "done"
        except SimpulError as exc:
            job.state, job.error = "failed", str(exc)
        except asyncio.CancelledError:
            job.state, job.error = "failed", "cancelled (node stopping)"
            raise
        finally:
            await transport.close()
            log.info("replay_job_ended", job=job.job_id, consumer=job.consumer, state=job.state)
