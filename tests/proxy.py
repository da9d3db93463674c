"""A faulty TCP link for the fault suite: blackhole, per-chunk latency, bandwidth cap and resets.

``FaultyLink`` forwards 127.0.0.1:<port> to a target. ``blackhole`` drops bytes both ways while the
sockets stay open (a dead link as heartbeats and confirms see it; healing it while a connection survived
leaves a byte stream with holes, which TCP never produces, so use it only for links that stay dead);
``stall()`` stops forwarding without losing a byte, as TCP sees a dead link (sends pile up, heartbeats are
missed, peers give up on their own), and ``heal()`` lets the held bytes flow on; ``latency_s`` delays
every chunk; ``rate_bps`` caps throughput per direction (a slow link); ``reset_every`` aborts a
connection after that many forwarded chunks (a lossy link as TCP shows it: connections die, bytes in
flight are lost).
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import quote


class FaultyLink:
    def __init__(self, target_host: str = "127.0.0.1", target_port: int = 5672) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.blackhole = False
        self.latency_s = 0.0
        self.rate_bps = 0
        self.reset_every = 0
        self.resets = 0
        self.port = 0
        self._chunks = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def url_for(self, vhost: str) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/{quote(vhost, safe='')}"

    def stall(self) -> None:
        """Stop forwarding; nothing is lost (bytes wait in socket buffers until ``heal``)."""
        self._flowing.clear()

    def heal(self) -> None:
        self._flowing.set()
        self.blackhole = False
        self.latency_s = 0.0
        self.rate_bps = 0
        self.reset_every = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.close()
            return
        pair = (writer, up_writer)
        self._writers.update(pair)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst, pair))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                if self.blackhole:
                    continue
                if self.latency_s:
                    await asyncio.sleep(self.latency_s)
                if self.rate_bps:
                    await asyncio.sleep(len(data) / self.rate_bps)
                self._chunks += 1
                if self.reset_every and self._chunks % self.reset_every == 0:
                    self.resets += 1
                    for w in pair:
                        with contextlib.suppress(Exception):
                            w.transport.abort()
                    return
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
