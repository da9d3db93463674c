"""The broker's own latency floor: a quorum queue at a fixed rate, one message per record, with publisher
confirms, in plain aio-pika (no Simpul code in the path).

    .venv/bin/python -m bench.broker_latency [--rate 1000] [--seconds 8]

Prints publish -> delivery and publish -> confirm percentiles in milliseconds. Compare with the latency
section of ``bench.run_all`` (``received_at`` -> warehouse transaction start): what RabbitMQ alone takes of
the p99 budget on this machine. Uses a queue of its own in the default vhost and deletes it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aio_pika

from bench.common import AMQP_BASE

QUEUE = "simpul-bench-broker-latency"


def _percentiles(name: str, values: list[float]) -> str:
    values = sorted(values)
    n = len(values)
    return (
        f"{name}: n={n} p50 {values[n // 2]:.1f} ms, p99 {values[min(n - 1, int(n * 0.99))]:.1f} ms, "
        f"max {values[-1]:.1f} ms"
    )


async def measure(rate: float, seconds: float) -> tuple[list[float], list[float]]:
    """(publish -> delivery, publish -> confirm) latencies in ms of ``rate * seconds`` messages."""
    connection = await aio_pika.connect(AMQP_BASE + "/")
    delivered: list[float] = []
    confirmed: list[float] = []
    total = int(rate * seconds)
    all_delivered = asyncio.Event()
    try:
        publish_channel = await connection.channel(publisher_confirms=True)
        queue = await publish_channel.declare_queue(QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
        consume_channel = await connection.channel()
        await consume_channel.set_qos(prefetch_count=128)

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            delivered.append((time.time() - float(message.body.decode())) * 1000)
            await message.ack()
            if len(delivered) >= total:
                all_delivered.set()

        await (await consume_channel.get_queue(QUEUE)).consume(on_message)

        async def publish() -> None:
            sent = time.time()
            await publish_channel.default_exchange.publish(
                aio_pika.Message(str(sent).encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=QUEUE,
            )
            confirmed.append((time.time() - sent) * 1000)

        started = time.monotonic()
        tasks = []
        for i in range(total):
            wait = started + i / rate - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(publish()))
        await asyncio.gather(*tasks)
        try:
            await asyncio.wait_for(all_delivered.wait(), 10)
        except TimeoutError:
            print(f"only {len(delivered)} of {total} delivered within 10 s")
        await consume_channel.close()
        await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()
    return delivered, confirmed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    delivered, confirmed = asyncio.run(measure(args.rate, args.seconds))
    print(_percentiles("publish -> delivery", delivered))
    print(_percentiles("publish -> confirm", confirmed))


if __name__ == "__main__":
    main()
