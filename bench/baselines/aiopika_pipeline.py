"""Baseline (a): plain aio-pika, as a competent team would write it without Simpul.

Producer: validate each payload with pydantic, wrap it in the envelope, publish it persistent to a durable
quorum queue with publisher confirms, 1,000 confirms in flight. Consumer: prefetch 1,000, validate the
envelope and payload with pydantic, write to the PostgreSQL warehouse in batches of 100 (one upsert
statement per batch, COMMIT), then ack the batch with one ``multiple=True`` ack. ``--per-message N``
carries N records per message (a JSON array) instead of one.

    python -m bench.baselines.aiopika_pipeline --role consumer --url AMQP --schema S --records N
    python -m bench.baselines.aiopika_pipeline --role producer --url AMQP --records N
"""

from __future__ import annotations

import asyncio
import contextlib

import aio_pika
from pydantic import TypeAdapter

from bench.baselines.common import QUEUE, QUEUE_ARGS, Records, check, envelope, make_sink, ready, run_role
from schemas.envelope import Envelope

IN_FLIGHT = 1000
PREFETCH = 1000
ACK_EVERY = 100
_MANY = TypeAdapter(list[Envelope])


async def producer(url: str, records: int, per_message: int) -> None:
    conn = await aio_pika.connect_robust(url)
    async with conn:
        channel = await conn.channel(publisher_confirms=True)
        await channel.declare_queue(QUEUE, durable=True, arguments=QUEUE_ARGS)
        exchange = channel.default_exchange
        slots = asyncio.Semaphore(IN_FLIGHT)
        source = Records()
        ready(role="producer")

        async def publish(body: bytes, message_id: str) -> None:
            try:
                await exchange.publish(
                    aio_pika.Message(
                        body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id=message_id
                    ),
                    routing_key=QUEUE,
                )
            finally:
                slots.release()

        tasks = set()
        for start in range(0, records, per_message):
            envs = [envelope(i, source.raw(i)) for i in range(start, min(start + per_message, records))]
            body = envs[0].model_dump_json().encode() if per_message == 1 else _MANY.dump_json(envs)
            await slots.acquire()
            task = asyncio.create_task(publish(body, envs[0].message_id))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)


async def consumer(url: str, schema: str, records: int, per_message: int) -> None:
    sink = make_sink(schema)
    await sink.start()
    conn = await aio_pika.connect_robust(url)
    async with conn:
        channel = await conn.channel()
        await channel.set_qos(prefetch_count=PREFETCH)
        queue = await channel.declare_queue(QUEUE, durable=True, arguments=QUEUE_ARGS)
        ready(role="consumer")
        envs: list[Envelope] = []
        last: aio_pika.abc.AbstractIncomingMessage | None = None
        unacked = 0
        done = 0
        # One record per message: ack (and write) every 100 messages. Batched messages: every 32
        # messages (3,200 records), like Simpul's sink.
        ack_every = ACK_EVERY if per_message == 1 else max(1, 3200 // per_message)
        inbox: asyncio.Queue[aio_pika.abc.AbstractIncomingMessage] = asyncio.Queue()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            inbox.put_nowait(message)  # bounded by the prefetch

        await queue.consume(on_message)
        while done < records:
            message = None
            with contextlib.suppress(TimeoutError):
                message = await asyncio.wait_for(inbox.get(), timeout=0.02)
            if message is not None:
                if per_message == 1:
                    envs.append(check(Envelope.model_validate_json(message.body)))
                else:
                    envs.extend(check(e) for e in _MANY.validate_json(message.body))
                last = message
                unacked += 1
            if last is not None and (unacked >= ack_every or (message is None and envs)):
                await sink.write(envs)
                await last.ack(multiple=True)
                done += len(envs)
                envs, last, unacked = [], None, 0
    await sink.close()


def main() -> None:
    run_role(__doc__, producer, consumer)


if __name__ == "__main__":
    main()
