"""A simulated source system for the ``amqp_source``: an early-warning app (SIDINI style, Kab. Banggai)
that publishes its reports to an exchange on **its own** RabbitMQ vhost.

Every message is ``{"event", "event_id", "versi", "dikirim", "laporan": <early_warning payload>}``;
``per_message`` > 1 sends a JSON array of such events in one message. Publishes are persistent and
confirmed (the app is a well-behaved publisher; what Simpul must prove is its own side), through
``hub.transport.amqp_foreign.ForeignPublisher`` (only the transport imports aio-pika).
"""

from __future__ import annotations

import copy
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from hub.transport.amqp_foreign import ForeignPublisher
from schemas.payloads.early_warning import EXAMPLE
from schemas.pii import NIK_PATTERN

EXCHANGE = "sidini.events"
ROUTING_KEY = "laporan.dibuat"
OFFICE = "72.01"  # Kab. Banggai, Sulawesi Tengah
WITA = timezone(timedelta(hours=8))
_KATEGORI = ["Potensi Konflik SARA", "Sengketa Lahan", "Unjuk Rasa", "Konflik Antarwarga"]
_KELURAHAN = ["72.01.04.1031", "72.01.04.1009", "72.01.04.1011"]  # Karaton, Luwuk, Soho


def event_id(i: int) -> str:
    """The deterministic id of report ``i`` (a UUID, as the app generates them). A UUID whose digits
    happen to form a NIK-shaped run is skipped: the schema rightly refuses such an id."""
    salt = 0
    while True:
        candidate = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sidini-banggai/{i}/{salt}"))
        if not NIK_PATTERN.search(candidate):
            return candidate
        salt += 1


def early_warning_event(i: int, versi: int = 1) -> dict[str, Any]:
    """Report ``i`` at version ``versi``: an event around a valid ``early_warning`` payload."""
    sent = datetime(2024, 2, 10, 21, 14, 3, tzinfo=WITA) + timedelta(minutes=i)
    laporan = copy.deepcopy(EXAMPLE)
    laporan.update(
        sumber_id=event_id(i),
        waktu_laporan=sent.isoformat(),
        kode_wilayah=_KELURAHAN[i % len(_KELURAHAN)],
        kategori=_KATEGORI[i % len(_KATEGORI)],
        tingkat=["rendah", "sedang", "tinggi"][(i + versi) % 3],
    )
    return {
        "event": "laporan.dibuat" if versi == 1 else "laporan.diperbarui",
        "event_id": event_id(i),
        "versi": versi,
        "dikirim": sent.isoformat(),
        "laporan": laporan,
    }


class EarlyWarningApp:
    """The app's publisher. ``await start()``, ``publish(events)``, ``close()``."""

    def __init__(self, url: str, exchange: str = EXCHANGE) -> None:
        self._publisher = ForeignPublisher(url, exchange)

    async def start(self) -> None:
        """Connect and declare the app's durable topic exchange."""
        await self._publisher.start()

    async def publish(self, events: list[dict[str, Any]], per_message: int = 1) -> int:
        """Publish ``events``, ``per_message`` to a message (1 = an object, more = an array); returns
        the number of messages."""
        count = 0
        for i in range(0, len(events), per_message):
            chunk = events[i : i + per_message]
            body = orjson.dumps(chunk[0] if per_message == 1 else chunk)
            await self._publisher.publish(
                body,
                ROUTING_KEY,
                content_type="application/json",
                message_id=chunk[0]["event_id"] if per_message == 1 else None,
            )
            count += 1
        return count

    async def publish_raw(self, body: bytes) -> None:
        """Publish any body (for poison-message tests)."""
        await self._publisher.publish(body, ROUTING_KEY)

    async def close(self) -> None:
        await self._publisher.close()


def source_config(url: str, **changes: Any) -> dict[str, Any]:
    """An ``amqp_source`` config for this app: Simpul's own queue bound to the app's exchange."""
    config: dict[str, Any] = {
        "url": url,
        "exchange": EXCHANGE,
        "binding_keys": ["laporan.#"],
        "id_path": "event_id",
        "revision_path": "versi",
        "payload_path": "laporan",
    }
    config.update(changes)
    return config
