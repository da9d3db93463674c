"""Shared helpers for tests: example payloads, ingest items, node settings, and AMQP connections that
leave nothing behind."""

from __future__ import annotations

import asyncio
import copy
import importlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
from yarl import URL

from hub.settings import Settings, load_settings
from schemas import catalog as schema_catalog
from schemas.envelope import (
    Envelope,
    SourceIdentity,
    make_idempotency_key,
    make_message_id,
    make_record_key,
)

ENVELOPE_T0 = datetime(2024, 3, 6, 3, 0, tzinfo=UTC)
SAMPLES = Path(__file__).resolve().parent / "fixtures" / "samples"
"""The regional systems' sample files, carried in the repository (tests read nothing outside it)."""

OFFICE_BOGOR = "32.01"
KEY_BOGOR = "key-bogor"
KEY_PUSAT = "key-pusat"
TOKEN_READ = "admin-read-token"
TOKEN_ACT = "admin-act-token"


def example(schema: str) -> dict[str, Any]:
    """A fresh copy of the schema's valid example payload."""
    return copy.deepcopy(importlib.import_module(f"schemas.payloads.{schema}").EXAMPLE)


def item(schema: str, rid: str, revision: int = 1, **data_changes: Any) -> dict[str, Any]:
    """An ingest item with the schema's example payload (changed by ``data_changes``)."""
    data = example(schema)
    data.update(data_changes)
    return {"id": rid, "revision": revision, "data": data}


def node_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test node: dev keys, ephemeral HTTP port, state under ``tmp_path``."""
    base: dict[str, Any] = {
        "dev_mode": True,
        "node": "test-node",
        "state_dir": str(tmp_path / "state"),
        "http": {
            "port": 0,
            "api_keys": {
                KEY_BOGOR: {"system": "sitimdu-bogor", "office": OFFICE_BOGOR},
                KEY_PUSAT: {"system": "simpolpum", "office": "pusat"},
            },
        },
        "sink": {"sqlite_path": str(tmp_path / "warehouse.sqlite3"), "linger_ms": 1},
        "batch": {"linger_ms": 1},
        "admin_tokens": {
            TOKEN_READ: {"name": "ops-reader", "role": "read"},
            TOKEN_ACT: {"name": "ops-jabar", "role": "act"},
        },
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return load_settings(None, **base)


def stall_publishes(transport: Any) -> asyncio.Event:
    """Make ``transport.publish`` wait (no confirm) until the returned event is set."""
    gate = asyncio.Event()
    publish = transport.publish

    async def stalled(*args: Any, **kwargs: Any) -> None:
        await gate.wait()
        await publish(*args, **kwargs)

    transport.publish = stalled
    return gate


async def until(check: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until ``check()`` is truthy, polling: the state lives in stores and threads, not in events."""
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def connect_or_close(url: str, *, timeout: float | None = None) -> aio_pika.abc.AbstractConnection:
    """``aio_pika.connect(url, timeout=timeout)``, except that a connection that fails to open is closed.

    ``aio_pika.connect`` drops it unclosed: it stays in a reference cycle (the error's traceback and
    aiormq's futures) until the cyclic collector frees it, and then aio-pika's ``Connection.__del__``
    passes a new ``close()`` coroutine to ``asyncio.ensure_future``. When the collector runs in a thread
    without an event loop (over TLS there is one: the executor thread in which aiormq builds the SSL
    context, and the one that joins it when the loop shuts down) that raises before a task is made,
    aio-pika swallows the error, and "coroutine 'Connection.close' was never awaited" is reported. (The
    hub's own transport closes such a connection in :func:`hub.transport.amqp_connection.connect`.)"""
    connection = aio_pika.Connection(URL(url))
    try:
        await connection.connect(timeout=timeout)
    except BaseException:
        await connection.close()
        raise
    return connection


async def stop_leftover_reconnect_tasks() -> list[asyncio.Task[Any]]:
    """The reconnect tasks of aio-pika's robust connections still running (``connection_factory``
    coroutines), each stopped: cancelled until a cancel lands between its connect attempts. Returns
    them, so a test asserts there were none (stopped first, so one that fails leaves nothing running)."""
    left = [
        t for t in asyncio.all_tasks() if "connection_factory" in getattr(t.get_coro(), "__qualname__", "")
    ]
    for task in left:
        for _ in range(100):
            if task.done():
                break
            task.cancel()
            await asyncio.wait([task], timeout=0.05)
    return left


async def close_vhost_connections(vhost: str) -> int:
    """Close every connection into ``vhost`` with rabbitmqctl (the management API's listing lags seconds)."""
    proc = await asyncio.create_subprocess_exec(
        "rabbitmqctl",
        "list_connections",
        "-q",
        "--no-table-headers",
        "name",
        "vhost",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await proc.communicate()
    names = [line.rsplit("\t", 1)[0] for line in out.decode().splitlines() if line.endswith("\t" + vhost)]
    for name in names:
        closer = await asyncio.create_subprocess_exec(
            "rabbitmqctl",
            "close_connection",
            name,
            "simpul test: forced close",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await closer.wait()
    return len(names)


def make_envelope(
    schema: str = "research_permit",
    rid: str = "R-1",
    revision: int = 1,
    *,
    kode: str = "32.01",
    office: str = "32.01",
    system: str = "sicantik-bogor",
    **payload_changes: Any,
) -> Envelope:
    """A valid envelope built with the real identity rules around the schema's example payload."""
    record_key = make_record_key(schema, system, rid)
    idem = make_idempotency_key(record_key, revision)
    payload = example(schema) | {"kode_wilayah": kode} | payload_changes
    return Envelope(
        message_id=make_message_id(idem),
        schema_name=schema,
        schema_version=schema_catalog.get(schema).version,
        source_record_id=rid,
        revision=revision,
        record_key=record_key,
        idempotency_key=idem,
        source=SourceIdentity(system=system, office=office, adapter="test"),
        kode_wilayah=kode,
        region_ref="Kepmendagri 300.2.2-2138/2025",
        reported_at=ENVELOPE_T0,
        received_at=ENVELOPE_T0,
        payload=payload,
    )
