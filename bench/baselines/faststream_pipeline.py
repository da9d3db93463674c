"""Baseline (b): FastStream ``RabbitBroker``, per record or batched (``list[Envelope]``, 100 per message).

Settings as FastStream documents them for reliable delivery: persistent messages (``persist=True``) to a
durable quorum queue, publisher confirms (the channel default), ``AckPolicy.REJECT_ON_ERROR`` (ack after
the handler returned), a channel prefetch bounding unacked messages. Handlers take the pydantic model as
their argument (FastStream validates it) and re-validate the payload; writes go through the shared
``GroupWriter`` (batched upserts, the handler returns after COMMIT). The producer keeps 1,000 publishes
in flight (per record) or 10 (batched).

    python -m bench.baselines.faststream_pipeline --role consumer --url AMQP --schema S --records N
    python -m bench.baselines.faststream_pipeline --role producer --url AMQP --records N [--per-message 100]
"""

from __future__ import annotations

import asyncio

from faststream import AckPolicy
from faststream.rabbit import Channel, QueueType, RabbitBroker, RabbitQueue

from bench.baselines.common import QUEUE, GroupWriter, Records, check, envelope, make_sink, ready, run_role
from schemas.envelope import Envelope

_QUEUE = RabbitQueue(QUEUE, queue_type=QueueType.QUORUM, durable=True)  # FastStream's own quorum queue


async def producer(url: str, records: int, per_message: int) -> None:
    broker = RabbitBroker(url, logger=None)
    async with broker:
        await broker.start()
        await broker.declare_queue(_QUEUE)
        slots = asyncio.Semaphore(1000 if per_message == 1 else 10)
        source = Records()
        ready(role="producer")

        async def publish(message: object, message_id: str) -> None:
            try:
                await broker.publish(message, queue=_QUEUE, persist=True, message_id=message_id)
            finally:
                slots.release()

        tasks = set()
        for start in range(0, records, per_message):
            envs = [envelope(i, source.raw(i)) for i in range(start, min(start + per_message, records))]
            await slots.acquire()
            task = asyncio.create_task(publish(envs[0] if per_message == 1 else envs, envs[0].message_id))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)


async def consumer(url: str, schema: str, records: int, per_message: int) -> None:
    sink = make_sink(schema)
    await sink.start()
    writer = GroupWriter(sink)
    broker = RabbitBroker(url, logger=None)
    done = asyncio.Event()
    seen = 0
    # Per record: up to 1,000 unacked (handlers run concurrently, joining group commits). Batched: 32
    # messages of 100 (3,200 records in flight, like Simpul's sink).
    channel = Channel(prefetch_count=1000 if per_message == 1 else 32)

    def count(n: int) -> None:
        nonlocal seen
        seen += n
        if seen >= records:
            done.set()

    if per_message == 1:

        @broker.subscriber(_QUEUE, channel=channel, ack_policy=AckPolicy.REJECT_ON_ERROR)
        async def one(env: Envelope) -> None:
            await writer.put([check(env)])
            count(1)

    else:

        @broker.subscriber(_QUEUE, channel=channel, ack_policy=AckPolicy.REJECT_ON_ERROR)
        async def many(envs: list[Envelope]) -> None:
            await writer.put([check(e) for e in envs])
            count(len(envs))

    async with broker:
        await broker.start()
        ready(role="consumer")
        await done.wait()
        await asyncio.sleep(0.2)  # the last acks leave
    await sink.close()


def main() -> None:
    run_role(__doc__, producer, consumer)


if __name__ == "__main__":
    main()
