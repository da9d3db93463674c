"""A simulated early-warning app (``../shared/samples/webhook_early_warning.json``) that pushes signed events.

Each event is a ``laporan.dibuat`` body with a fresh event id (``X-Event-Id`` and ``event_id``), signed
``X-Signature: sha256=<hex HMAC of the raw body>``. Places are real kecamatan/kelurahan of one kabupaten
(default Kab. Banggai, 72.01) from the region index, coordinates are strings, reporters anonymous.

Delivery retries like the app: on 5xx, 409, timeouts and connection errors, with exponential back-off
(a ``Retry-After`` is honoured, capped by ``retry_after_cap_s`` so tests stay fast), the *same* bytes
every time; 2xx ends it (202 accepted, 200 duplicate), other 4xx give up (nothing to fix by retrying).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import aiohttp
import orjson

from adapters.webhook.signature import sign
from schemas.regions import default_index

WITA = timezone(timedelta(hours=8))
# The app's categories (those the example mapping ops/examples/sidini_early_warning.toml knows).
_KATEGORI = (
    ("Potensi Konflik SARA", "Penolakan pembangunan rumah ibadah"),
    ("Potensi Kerawanan Pilkada", "Rencana aksi massa menolak hasil rekapitulasi suara"),
    ("Hambatan Ekonomi: Kenaikan Harga", "Antrean panjang dan keributan kecil di pangkalan elpiji"),
    ("Potensi Radikalisme", "Penyebaran selebaran bernada intoleran di sekitar pasar"),
    ("Gangguan Keamanan", "Perkelahian antarkelompok pemuda setelah pesta panen"),
    ("Gangguan Adat dan Budaya", "Sengketa penggunaan tanah ulayat untuk pesta adat"),
)


@dataclass
class Delivery:
    """What happened to one event: every status seen (0 = no answer), and whether it got a 2xx."""

    event_id: str
    body: bytes = field(repr=False)
    statuses: list[int] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return bool(self.statuses) and 200 <= self.statuses[-1] < 300


class EarlyWarningApp:
    """Generates and pushes events to ``url``. Deterministic for a seed."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        kabupaten: str = "72.01",
        seed: int = 3,
        max_attempts: int = 10,
        backoff_s: float = 0.1,
        retry_after_cap_s: float = 0.5,
        timeout_s: float = 30.0,
    ) -> None:
        self.url = url
        self._secret = secret
        self._rng = random.Random(seed)
        self._places = _places(kabupaten)
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._retry_after_cap_s = retry_after_cap_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._start = datetime(2024, 2, 10, 21, 0, tzinfo=WITA)
        self._count = 0

    def event(self) -> tuple[str, bytes]:
        """A new event: its id and body bytes (the same bytes are re-sent on every retry)."""
        rng, (kab, kec, kel) = self._rng, self._rng.choice(self._places)
        event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        kategori, judul = rng.choice(_KATEGORI)
        self._count += 1
        sent = self._start + timedelta(minutes=7 * self._count, seconds=rng.randint(0, 59))
        body = {
            "event": "laporan.dibuat",
            "event_id": event_id,
            "dikirim": sent.isoformat(),
            "laporan": {
                "kategori": kategori,
                "judul": judul,
                "lokasi": {
                    "kab": kab,
                    "kec": kec,
                    "kel": kel,
                    "lat": f"{rng.uniform(-1.2, -0.6):.4f}",
                    "lng": f"{rng.uniform(122.4, 123.2):.4f}",
                },
                "uraian": f"{judul}. Dilaporkan warga sekitar, situasi dipantau FKDM dan Babinsa.",
                "foto": [f"https://dini.example.go.id/f/{rng.randint(1000, 9999)}.jpg"],
                "anonim": True,
                "pelapor": None,
                "fkdm": f"FKDM Kec. {kec}",
            },
        }
        return event_id, orjson.dumps(body)

    def headers(self, event_id: str, body: bytes) -> dict[str, str]:
        """The headers the app sends with ``body``."""
        return {
            "X-Event-Id": event_id,
            "X-Signature": sign(self._secret, body),
            "Content-Type": "application/json",
        }

    async def push(self, session: aiohttp.ClientSession, event_id: str, body: bytes) -> Delivery:
        """Send one event until a 2xx, a permanent 4xx, or ``max_attempts``."""
        delivery = Delivery(event_id, body)
        for attempt in range(self._max_attempts):
            wait = self._backoff_s * 2**attempt
            try:
                async with session.post(self.url, data=body, headers=self.headers(event_id, body)) as resp:
                    delivery.statuses.append(resp.status)
                    if resp.status < 300 or (resp.status < 500 and resp.status != 409):
                        return delivery
                    wait = max(wait, min(float(resp.headers.get("Retry-After", 0)), self._retry_after_cap_s))
            except (aiohttp.ClientError, TimeoutError):
                delivery.statuses.append(0)
            await asyncio.sleep(min(wait, 5.0))
        return delivery

    async def run(self, count: int, concurrency: int = 4) -> list[Delivery]:
        """Generate ``count`` events and push them, ``concurrency`` at a time; deliveries in event order."""
        events = [self.event() for _ in range(count)]
        gate = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(timeout=self._timeout) as session:

            async def one(event_id: str, body: bytes) -> Delivery:
                async with gate:
                    return await self.push(session, event_id, body)

            return list(await asyncio.gather(*(one(e, b) for e, b in events)))


def _places(kabupaten: str) -> list[tuple[str, str, str]]:
    """(kab, kec, kel) names as the app writes them: "Kab. Banggai", "Luwuk", "Karaton"."""
    index = default_index()
    kab = index.get(kabupaten)
    if kab is None:
        raise ValueError(f"unknown kabupaten {kabupaten!r}")
    label = kab.name.replace("Kabupaten ", "Kab. ")
    places = [
        (label, kec.name, kel.name) for kec in index.children(kab.code) for kel in index.children(kec.code)
    ]
    if not places:
        raise ValueError(f"no kelurahan/desa under {kabupaten!r}")
    return places
