"""A simulated SOAP service: the research-permit (SKP) register of a DPMPTSP, for tests and ``simpul demo``.

``SkpService`` answers ``CariIzinPenelitian(TanggalAwal, TanggalAkhir)`` (both inclusive, by the record's
``TglUpdate``) in SOAP 1.1 or 1.2, whichever the request used. Its records look like what such services
return: a ``ns2:`` response prefix over a default namespace, ``xsi:nil`` dates, ``Y``/``N`` flags, BPS
location codes, a repeated ``Lokasi`` element, test NIKs only. Faults can be switched on with
``fail_next(kind, times)``: ``server`` (Server/Receiver fault), ``client`` (Client/Sender fault),
``http503`` (a proxy's HTML page) and ``truncated`` (a cut-off 200 answer).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from aiohttp import web

from adapters.soap.xml import SOAP11_NS, SOAP12_NS, local

NS = "http://dpmptsp.bogorkab.go.id/ws/izinpenelitian"
PATH = "/ws/izin-penelitian"

REQUEST_TEMPLATE = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="{SOAP11_NS}" xmlns:izn="{NS}">
  <soapenv:Header/>
  <soapenv:Body>
    <izn:CariIzinPenelitian>
      <izn:TanggalAwal>{{start}}</izn:TanggalAwal>
      <izn:TanggalAkhir>{{last}}</izn:TanggalAkhir>
    </izn:CariIzinPenelitian>
  </soapenv:Body>
</soapenv:Envelope>"""
"""The request for SOAP 1.1; ``REQUEST_TEMPLATE.replace(SOAP11_NS, SOAP12_NS)`` is the 1.2 one."""

RECORD_PATH = "CariIzinPenelitianResponse/return/IzinPenelitian"

_NAMES = ["Budi Santoso", "Siti Rahmawati", "Ahmad Fauzi", "Dewi Lestari", "Rizky Pratama", "Nur Aini"]
_INSTITUTIONS = ["Institut Pertanian Bogor", "Universitas Indonesia", "Universitas Pakuan", "LIPI/BRIN"]
_TOPICS = [
    "Partisipasi Pemilih Pemula pada Pemilu 2024",
    "Peran FKUB dalam Pencegahan Konflik Sosial",
    "Dinamika Ormas Kepemudaan",
    "Ketahanan Ekonomi Petani Padi",
]
_KECAMATAN = [
    ("3201010", "Nanggung"),
    ("3201050", "Cibinong"),
    ("3201070", "Citeureup"),
    ("3201150", "Ciawi"),
]
_STATUS = ["DIAJUKAN", "DIPROSES", "DITERBITKAN", "DITOLAK"]


@dataclass
class Permit:
    """One SKP record as the service stores it. ``versi`` grows on every change (the revision)."""

    nomor: str
    tgl_pengajuan: date
    tgl_update: str
    status: str
    nama: str
    nik: str | None
    paspor: str | None
    kewarganegaraan: str
    institusi: str
    judul: str
    lokasi: list[tuple[str, str]]
    periode: tuple[date, date]
    versi: int = 1
    dicabut: bool = False
    anggota: list[str] = field(default_factory=list)

    def xml(self) -> str:
        """The ``IzinPenelitian`` element (default namespace ``NS``)."""
        terbit = self.tgl_pengajuan + timedelta(days=5)
        issued = self.status == "DITERBITKAN"
        nil = ' xsi:nil="true"/>'
        ident = f"<NIK>{self.nik}</NIK>" if self.nik else "<NIK" + nil
        passport = f"<Paspor>{escape(self.paspor)}</Paspor>" if self.paspor else "<Paspor" + nil
        lokasi = "".join(
            f"<Lokasi><KodeBPS>{code}</KodeBPS><Kecamatan>{escape(name)}</Kecamatan></Lokasi>"
            for code, name in self.lokasi
        )
        anggota = "".join(f"<Anggota><Nama>{escape(n)}</Nama></Anggota>" for n in self.anggota)
        return (
            f"<IzinPenelitian><NomorSKP>{escape(self.nomor)}</NomorSKP><Versi>{self.versi}</Versi>"
            f"<TglUpdate>{self.tgl_update}</TglUpdate>"
            f"<TglPengajuan>{self.tgl_pengajuan.isoformat()}</TglPengajuan>"
            + (f"<TglTerbit>{terbit.isoformat()}</TglTerbit>" if issued else "<TglTerbit" + nil)
            + f"<Status>{self.status}</Status><Dicabut>{'Y' if self.dicabut else 'N'}</Dicabut>"
            f"<Pemohon><Nama>{escape(self.nama)}</Nama>{ident}{passport}"
            f"<Kewarganegaraan>{self.kewarganegaraan}</Kewarganegaraan>"
            f"<WNA>{'N' if self.kewarganegaraan == 'ID' else 'Y'}</WNA>"
            f"<Institusi>{escape(self.institusi)}</Institusi></Pemohon>"
            f"<JudulPenelitian>{escape(self.judul)}</JudulPenelitian>{lokasi}{anggota}"
            f"<PeriodeMulai>{self.periode[0].isoformat()}</PeriodeMulai>"
            f"<PeriodeSelesai>{self.periode[1].isoformat()}</PeriodeSelesai></IzinPenelitian>"
        )


def generate_permits(count: int, first_day: date, *, days: int = 30, seed: int = 7) -> list[Permit]:
    """``count`` realistic permits updated over ``days`` days from ``first_day`` (deterministic)."""
    rng = random.Random(seed)
    permits = []
    for i in range(count):
        applied = first_day + timedelta(days=rng.randrange(days))
        foreign = i % 10 == 9
        start = applied + timedelta(days=10)
        permits.append(
            Permit(
                nomor=f"070/{i + 1:04d}/Kesbangpol/{applied.year}",
                tgl_pengajuan=applied,
                tgl_update=f"{applied.isoformat()}T{9 + i % 8:02d}:{i % 60:02d}:00+07:00",
                status=_STATUS[i % len(_STATUS)],
                nama="Kenji Watanabe" if foreign else rng.choice(_NAMES),
                nik=None if foreign else "3201010101800099",
                paspor="TZ1234567" if foreign else None,
                kewarganegaraan="JP" if foreign else "ID",
                institusi=rng.choice(_INSTITUTIONS),
                judul=f"{rng.choice(_TOPICS)} di Kabupaten Bogor",
                lokasi=rng.sample(_KECAMATAN, k=1 + i % 2),
                periode=(start, start + timedelta(days=60)),
                anggota=[rng.choice(_NAMES)] if i % 3 == 0 else [],
            )
        )
    return permits


def _envelope(version: str, body: str) -> str:
    ns = SOAP12_NS if version == "1.2" else SOAP11_NS
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="{ns}" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><S:Body>{body}</S:Body></S:Envelope>'
    )


def fault_body(version: str, family: str, reason: str) -> str:
    """A SOAP fault envelope; ``family`` is Server/Client (1.1) or Receiver/Sender (1.2)."""
    if version == "1.2":
        code = {"Server": "Receiver", "Client": "Sender"}.get(family, family)
        return _envelope(
            version,
            f"<S:Fault><S:Code><S:Value>S:{code}</S:Value></S:Code><S:Reason>"
            f'<S:Text xml:lang="id">{escape(reason)}</S:Text></S:Reason></S:Fault>',
        )
    return _envelope(
        version,
        f"<S:Fault><faultcode>S:{family}</faultcode><faultstring>{escape(reason)}</faultstring></S:Fault>",
    )


class SkpService:
    """The simulated service; ``app()`` is its aiohttp application. ``calls`` counts requests."""

    def __init__(self, permits: list[Permit] | None = None, *, api_key: str | None = None) -> None:
        self.permits = permits if permits is not None else generate_permits(40, date(2024, 3, 1))
        self.api_key = api_key
        self.calls = 0
        self.windows: list[tuple[str, str]] = []
        self._faults: list[str] = []

    def fail_next(self, kind: str, times: int = 1) -> None:
        """Answer the next ``times`` calls with a fault: server, client, http503 or truncated."""
        self._faults.extend([kind] * times)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(PATH, self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        version = "1.2" if request.content_type == "application/soap+xml" else "1.1"
        ctype = "application/soap+xml" if version == "1.2" else "text/xml"
        if self._faults:
            return self._fault(self._faults.pop(0), version, ctype)
        if self.api_key is not None and request.headers.get("X-Api-Key") != self.api_key:
            return web.Response(
                status=500 if version == "1.1" else 400,
                text=fault_body(version, "Client", "Otentikasi gagal: API key tidak valid"),
                content_type=ctype,
            )
        params = _params(await request.read())
        awal, akhir = params.get("TanggalAwal", ""), params.get("TanggalAkhir", "")
        self.windows.append((awal, akhir))
        rows = [p for p in self.permits if awal <= p.tgl_update[:10] <= akhir]
        body = (
            f'<ns2:CariIzinPenelitianResponse xmlns:ns2="{NS}"><ns2:return xmlns="{NS}">'
            f"<JumlahData>{len(rows)}</JumlahData>{''.join(p.xml() for p in rows)}"
            "</ns2:return></ns2:CariIzinPenelitianResponse>"
        )
        return web.Response(text=_envelope(version, body), content_type=ctype)

    def _fault(self, kind: str, version: str, ctype: str) -> web.Response:
        if kind == "http503":
            return web.Response(
                status=503, text="<html><body>Service Unavailable</body></html>", content_type="text/html"
            )
        if kind == "truncated":
            return web.Response(text=_envelope(version, "<ns2:CariIzin")[:120], content_type=ctype)
        if kind == "client":
            return web.Response(
                status=500 if version == "1.1" else 400,
                text=fault_body(version, "Client", "Parameter TanggalAwal tidak valid"),
                content_type=ctype,
            )
        return web.Response(
            status=500,
            text=fault_body(version, "Server", "Database sedang dalam pemeliharaan"),
            content_type=ctype,
        )


def _params(body: bytes) -> dict[str, str]:
    """Leaf elements of the request body by local name (the operation's parameters)."""
    root = SafeET.fromstring(body)
    return {local(e.tag): (e.text or "").strip() for e in root.iter() if len(e) == 0}


async def serve(service: SkpService, host: str = "127.0.0.1", port: int = 0) -> tuple[web.AppRunner, str]:
    """Start ``service`` on ``host:port`` (0 = any free port); returns the runner and the endpoint URL."""
    runner = web.AppRunner(service.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []  # aiohttp keeps the bound socket here
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, f"http://{host}:{bound}{PATH}"


def service_records(service: SkpService) -> list[dict[str, Any]]:
    """A summary of what the service holds, for assertions: number, version, withdrawn flag."""
    return [{"nomor": p.nomor, "versi": p.versi, "dicabut": p.dicabut} for p in service.permits]
