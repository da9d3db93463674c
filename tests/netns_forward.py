"""TCP forwarders from this process's network namespace into another one (Linux, root).

The partition scenarios run the RabbitMQ nodes in namespaces of their own (``cluster.sh netns``), where
the addresses 10.231.0.x exist; the hubs under test run in the test process. ``Forwarder(ns)`` runs an
event loop on a thread that has entered namespace ``ns`` (``setns(2)`` changes the calling thread only):
its listening sockets are made on the caller's thread (here, 127.0.0.1) and its outgoing connections on
its own (inside ``ns``). A hub given the forwarders of ``simpul-n3`` thus reaches the cluster exactly as a
machine next to node 3 would: when node 3's link is cut, only node 3 is reachable through them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import socket
import threading
from concurrent.futures import Future

CLONE_NEWNET = 0x40000000


def _enter(netns: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({netns}): {os.strerror(err)}")
    finally:
        os.close(fd)


class Forwarder:
    """``forward(host, port)`` gives a 127.0.0.1 port whose connections go to ``host:port`` from ``netns``."""

    def __init__(self, netns: str) -> None:
        self.netns = netns
        self._loop = asyncio.new_event_loop()
        self._ready: Future[None] = Future()
        self._servers: list[asyncio.Server] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._run, name=f"forward:{netns}", daemon=True)
        self._thread.start()
        self._ready.result(timeout=10)

    def _run(self) -> None:
        try:
            _enter(self.netns)
        except OSError as exc:
            self._ready.set_exception(exc)
            return
        asyncio.set_event_loop(self._loop)
        self._ready.set_result(None)
        self._loop.run_forever()

    def forward(self, host: str, port: int) -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # made here: this namespace
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        local_port = int(listener.getsockname()[1])

        async def serve() -> None:
            server = await asyncio.start_server(lambda r, w: self._handle(r, w, host, port), sock=listener)
            self._servers.append(server)

        asyncio.run_coroutine_threadsafe(serve(), self._loop).result(timeout=10)
        return local_port

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int
    ) -> None:
        self._writers.add(writer)
        try:
            # Made on this thread: inside the namespace. A cut link times out here, as it would there.
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
        except (OSError, TimeoutError):
            writer.close()
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.discard(writer)
        self._writers.discard(up_writer)

    def close(self) -> None:
        async def shut() -> None:
            for server in self._servers:
                server.close()
            for writer in list(self._writers):
                with contextlib.suppress(Exception):
                    writer.close()

        if self._loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(shut(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
