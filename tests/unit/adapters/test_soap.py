"""The soap source: parsing (namespaces, xsi:nil, repeated elements, text kept), faults, windows, cursor."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import ValidationError

from adapters.soap import PLUGIN, SoapSource, SoapSourceConfig
from adapters.soap.client import SoapClient, render
from adapters.soap.sample import guess_record_path
from adapters.soap.simulator import RECORD_PATH, REQUEST_TEMPLATE, SkpService, generate_permits, serve
from adapters.soap.source import CURSOR_KEY
from adapters.soap.xml import SOAP11_NS, SOAP12_NS, element_value, find_records, parse_envelope
from hub.adapters import registry
from hub.adapters.model import AdapterContext, SourceBatch
from hub.adapters.runner import Backoff, SourceRunner
from hub.adapters.state import StateStore
from hub.errors import FatalError, MappingError, SourceUnavailable
from hub.metrics import Metrics
from hub.model.records import MappedRecord, SourceRecord, revision_of
from hub.node import Node
from hub.testing.fakes import FakeSink
from hub.transport.memory import MemoryTransport
from hub.transport.topology import default_topology
from schemas.envelope import SourceIdentity, make_record_key
from schemas.regions import default_index
from tests.helpers import node_settings, until

FIXTURES = Path(__file__).parents[2] / "fixtures" / "soap"
SYSTEM = "sicantik-bogor"
LISTS = ["Lokasi", "Anggota"]


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _records(name: str, path: str = RECORD_PATH, lists: list[str] = LISTS) -> list[Any]:
    body, _version = parse_envelope(_fixture(name))
    elements = find_records(body, path.split("/"))
    assert elements is not None
    return [element_value(e, lists) for e in elements]


def _config(url: str = "http://127.0.0.1:1/ws", **changes: Any) -> SoapSourceConfig:
    base: dict[str, Any] = {
        "url": url,
        "envelope_template": REQUEST_TEMPLATE,
        "record_path": RECORD_PATH,
        "id_field": "NomorSKP",
        "revision_field": "Versi",
        "withdraw_field": "Dicabut",
        "list_fields": LISTS,
        "start_date": "2024-03-01",
        "window_days": 7,
        "once": True,
    }
    base.update(changes)
    return SoapSourceConfig.model_validate(base)


def _context(tmp_path: Path, name: str = "skp-bogor") -> AdapterContext:
    return AdapterContext(
        name=name,
        schema="research_permit",
        identity=SourceIdentity(system=SYSTEM, office="32.01", adapter=name),
        state=StateStore(tmp_path / "state.sqlite3"),
        state_dir=tmp_path,
        metrics=Metrics(),
    )


@pytest.fixture
async def skp() -> AsyncIterator[tuple[SkpService, str]]:
    """The simulated DPMPTSP service on a free port: (service, endpoint URL)."""
    service = SkpService(generate_permits(40, date(2024, 3, 1), days=20))
    runner, url = await serve(service)
    try:
        yield service, url
    finally:
        await runner.cleanup()


@pytest.fixture
async def canned() -> AsyncIterator[Callable[[int, bytes, str], str]]:
    """A server answering every POST with a given status and body; returns a function that sets it."""
    answer: dict[str, Any] = {"status": 200, "body": b"", "ctype": "text/xml"}

    async def handle(_request: web.Request) -> web.Response:
        return web.Response(status=answer["status"], body=answer["body"], content_type=answer["ctype"])

    app = web.Application()
    app.router.add_post("/ws", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = getattr(site._server, "sockets", [])[0].getsockname()[1]

    def set_answer(status: int, body: bytes, ctype: str = "text/xml") -> str:
        answer.update(status=status, body=body, ctype=ctype)
        return f"http://127.0.0.1:{port}/ws"

    try:
        yield set_answer
    finally:
        await runner.cleanup()


async def _fetch(url: str, **changes: Any) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as session:
        return await SoapClient(_config(url, **changes), session).fetch(date(2024, 3, 1), date(2024, 3, 8))


# --- parsing ----------------------------------------------------------------------------------------------


def test_namespaces_and_prefixes_are_dropped_to_local_names() -> None:
    """ns2:/default-namespace (1.1) and tns: on every element (1.2) parse to the same local names."""
    soap11 = _records("response_soap11_permits.xml")
    soap12 = _records("response_soap12_permits.xml")
    assert [r["NomorSKP"] for r in soap11] == ["070/0412/Kesbangpol/2024", "070/0413/Kesbangpol/2024"]
    assert soap12[0]["NomorSKP"] == "503/0088/DPMPTSP/2024"
    assert soap11[0]["Pemohon"]["Institusi"] == "Institut Pertanian Bogor"
    assert soap12[0]["Pemohon"]["Nama"] == "Dewi Lestari"
    assert parse_envelope(_fixture("response_soap12_permits.xml"))[1] == "1.2"


def test_xsi_nil_becomes_none_and_an_empty_element_an_empty_string() -> None:
    """xsi:nil="true" (any prefix) is None; <Catatan></Catatan> without nil is ""."""
    soap11 = _records("response_soap11_permits.xml")
    assert soap11[0]["Pemohon"]["Paspor"] is None
    assert soap11[1]["TglTerbit"] is None and soap11[1]["Pemohon"]["NIK"] is None
    assert _records("response_soap12_permits.xml")[0]["Catatan"] == ""


def test_repeated_elements_become_lists_and_list_fields_are_always_lists() -> None:
    """Two <Lokasi> are a list; one <Lokasi> or <Anggota> is a list of one when listed in list_fields."""
    first, second = _records("response_soap11_permits.xml")
    assert [loc["Kecamatan"] for loc in first["Lokasi"]] == ["Cibinong", "Citeureup"]
    assert first["Anggota"] == [{"Nama": "Siti Rahmawati"}]
    assert second["Lokasi"] == [{"KodeBPS": "3201150", "Kecamatan": "Ciawi"}]
    unlisted = _records("response_soap11_permits.xml", lists=[])
    assert isinstance(unlisted[0]["Lokasi"], list) and unlisted[1]["Lokasi"] == {
        "KodeBPS": "3201150",
        "Kecamatan": "Ciawi",
    }


def test_yn_flags_bps_codes_and_numbers_stay_text() -> None:
    """Y/N flags, BPS codes and a code with a leading zero are left as strings for the mapping."""
    first, second = _records("response_soap11_permits.xml")
    assert first["Dicabut"] == "N" and second["Pemohon"]["WNA"] == "Y"
    assert first["Lokasi"][0]["KodeBPS"] == "3201050"
    assert first["KodeKlasifikasi"] == "0701" and first["Versi"] == "3"


def test_empty_result_and_missing_operation_element() -> None:
    """A response without records gives []; a missing operation element is None (caller: fatal)."""
    assert _records("response_soap11_empty.xml") == []
    body, _ = parse_envelope(_fixture("response_soap11_empty.xml"))
    assert find_records(body, ["SomeOtherResponse", "return"]) is None


@pytest.mark.parametrize(
    "name", ["response_soap11_permits.xml", "response_soap12_permits.xml", "response_soap11_empty.xml"]
)
def test_guessed_record_path_is_the_record_not_a_list_inside_it(name: str) -> None:
    """Lokasi repeats inside each permit (3 elements against 2 permits) and Pemohon is a nested object:
    both are fields of the permit. A one-permit page finds the permit too; an empty page its wrapper."""
    body, _version = parse_envelope(_fixture(name))
    expected = "CariIzinPenelitianResponse/return" if "empty" in name else RECORD_PATH
    assert guess_record_path(body) == expected


def test_guessed_record_path_passes_over_a_repeated_wrapper_of_records() -> None:
    """Pages that each hold several records (children not leaves): the records inside are the records."""
    lists = "<Lokasi><Kode>1</Kode></Lokasi><Lokasi><Kode>2</Kode></Lokasi>"
    item = "<Item><No>{n}</No><Nama>x</Nama>" + lists + "</Item>"
    page = "<Halaman>" + item.format(n=1) + item.format(n=2) + "</Halaman>"
    envelope = (
        f'<s:Envelope xmlns:s="{SOAP11_NS}"><s:Body><CariResponse><return>'
        f"{page}{page}</return></CariResponse></s:Body></s:Envelope>"
    )
    body, _version = parse_envelope(envelope.encode())
    assert guess_record_path(body) == "CariResponse/return/Halaman/Item"


def test_render_fills_the_window_placeholders() -> None:
    """{start}, {end} (exclusive) and {last} (inclusive) are rendered with the configured format."""
    text = render("<a>{start}</a><b>{end}</b><c>{last}</c>", date(2024, 3, 1), date(2024, 3, 8), "%d-%m-%Y")
    assert text == "<a>01-03-2024</a><b>08-03-2024</b><c>07-03-2024</c>"


def test_revision_from_integers_and_timestamps() -> None:
    """Digits stay integers; ISO date-times become epoch ms (naive ones in the configured zone)."""
    from zoneinfo import ZoneInfo

    wib = ZoneInfo("Asia/Jakarta")
    assert revision_of("3", wib) == 3
    aware = revision_of("2024-03-08T14:30:00+07:00", wib)
    assert aware == revision_of("2024-03-08 14:30:00", wib) == 1709883000000
    assert revision_of("kemarin", wib) is None and revision_of(None, wib) is None


# --- faults and HTTP errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "status", "error"),
    [
        ("fault_soap11_server.xml", 500, SourceUnavailable),
        ("fault_soap12_receiver.xml", 500, SourceUnavailable),
        ("fault_soap11_client.xml", 500, FatalError),
        ("fault_soap12_sender.xml", 400, FatalError),
    ],
)
async def test_faults_are_classified_by_code(
    canned: Callable[[int, bytes, str], str], fixture: str, status: int, error: type[Exception]
) -> None:
    """Server/Receiver faults are retriable, Client/Sender faults fatal, whatever the HTTP status."""
    url = canned(status, _fixture(fixture), "text/xml")
    with pytest.raises(error, match="SOAP fault") as caught:
        await _fetch(url)
    assert f"HTTP {status}" in str(caught.value)


async def test_fault_text_is_redacted_in_the_error(canned: Callable[[int, bytes, str], str]) -> None:
    """A NIK echoed in a fault string never reaches the error message (and so the logs)."""
    url = canned(500, _fixture("fault_soap11_client.xml"), "text/xml")
    with pytest.raises(FatalError) as caught:
        await _fetch(url)
    assert "3201010101800099" not in str(caught.value) and "[NIK]" in str(caught.value)
    assert "Client.Authentication" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (503, b"<html><body>Service Unavailable</body></html>", SourceUnavailable),
        (502, b"", SourceUnavailable),
        (429, b"slow down", SourceUnavailable),
        (401, b"<html>Unauthorized</html>", FatalError),
        (404, b"<html>Not Found</html>", FatalError),
        (
            200,
            b'<?xml version="1.0"?><S:Envelope xmlns:S="' + SOAP11_NS.encode() + b'"><S:Bo',
            SourceUnavailable,
        ),
        (200, b"<html><body>Sedang pemeliharaan</body></html>", SourceUnavailable),
    ],
)
async def test_http_errors_without_a_fault(
    canned: Callable[[int, bytes, str], str], status: int, body: bytes, error: type[Exception]
) -> None:
    """5xx/429, a truncated or non-SOAP 200 are retriable; 401 and 404 are fatal."""
    url = canned(status, body, "text/html")
    with pytest.raises(error):
        await _fetch(url)


async def test_entity_expansion_is_refused_as_fatal(canned: Callable[[int, bytes, str], str]) -> None:
    """A response with DTD entities is refused by defusedxml; the adapter stops instead of parsing it."""
    url = canned(200, _fixture("entity_expansion.xml"), "text/xml")
    with pytest.raises(FatalError, match="forbidden"):
        await _fetch(url)


async def test_wrong_record_path_is_fatal(canned: Callable[[int, bytes, str], str]) -> None:
    """A record_path whose first element is not in the response names the problem and stops."""
    url = canned(200, _fixture("response_soap11_permits.xml"), "text/xml")
    with pytest.raises(FatalError, match="record_path"):
        await _fetch(url, record_path="CariIzinUsahaResponse/return/Izin")


async def test_unreachable_service_is_retriable() -> None:
    """Connection refused is SourceUnavailable, not fatal."""
    with pytest.raises(SourceUnavailable):
        await _fetch("http://127.0.0.1:9/ws")


async def test_oversized_response_is_fatal(canned: Callable[[int, bytes, str], str]) -> None:
    """A response above max_response_bytes stops the adapter with a hint to shrink the window."""
    url = canned(200, _fixture("response_soap11_permits.xml"), "text/xml")
    with pytest.raises(FatalError, match="window_days"):
        await _fetch(url, max_response_bytes=1024)


# --- config ----------------------------------------------------------------------------------------------


def test_config_needs_exactly_one_template_with_a_start_placeholder(tmp_path: Path) -> None:
    """Both or neither template, a template without {start}, an unknown zone: refused before start."""
    with pytest.raises(ValidationError, match="exactly one"):
        _config(template_file=str(FIXTURES / "request_soap11.xml"))
    with pytest.raises(ValidationError, match="start"):
        _config(envelope_template="<x/>")
    with pytest.raises(ValidationError, match="time zone"):
        _config(timezone="Asia/Bogor")
    with pytest.raises(ValidationError, match="extra"):
        _config(surprise=1)
    from_file = _config(envelope_template=None, template_file=str(FIXTURES / "request_soap11.xml"))
    assert "{last}" in from_file.template()
    assert all(f.description for f in SoapSourceConfig.model_fields.values())


# --- windows and cursor ----------------------------------------------------------------------------------


async def _drain(source: SoapSource, commit: bool = True, limit: int | None = None) -> list[SourceBatch]:
    batches = []
    async for batch in source.read():
        batches.append(batch)
        if commit:
            await batch.commit()
        if limit is not None and len(batches) >= limit:
            break
    return batches


async def test_windows_run_from_start_date_to_today_and_the_cursor_stops_at_today(
    tmp_path: Path, skp: tuple[SkpService, str]
) -> None:
    """Windows of 7 days up to today; every record read once; the stored cursor is today (re-read)."""
    service, url = skp
    context = _context(tmp_path)
    source = SoapSource(_config(url), context, today=lambda: date(2024, 3, 20))
    await source.start()
    try:
        batches = await _drain(source)
    finally:
        await source.stop()
    assert service.windows == [
        ("2024-03-01", "2024-03-07"),
        ("2024-03-08", "2024-03-14"),
        ("2024-03-15", "2024-03-20"),
    ]
    expected = {p.nomor for p in service.permits if p.tgl_update[:10] <= "2024-03-20"}
    assert {r.source_record_id for b in batches for r in b.records} == expected
    assert context.state.get(context.name, CURSOR_KEY) == "2024-03-20"


async def test_cursor_moves_only_when_the_last_batch_of_a_window_commits(
    tmp_path: Path, skp: tuple[SkpService, str]
) -> None:
    """With batch_size 2, a window's first batches store nothing; its last one stores the window end."""
    _service, url = skp
    context = _context(tmp_path)
    source = SoapSource(_config(url, batch_size=2), context, today=lambda: date(2024, 3, 20))
    await source.start()
    try:
        seen: list[str | None] = []
        async for batch in source.read():
            await batch.commit()
            seen.append(context.state.get(context.name, CURSOR_KEY))
            if seen[-1] == "2024-03-08":
                break
    finally:
        await source.stop()
    assert len(seen) > 1 and set(seen[:-1]) == {None}


async def test_unconfirmed_window_is_read_again_after_a_restart(
    tmp_path: Path, skp: tuple[SkpService, str]
) -> None:
    """A crash before the commit leaves the cursor; the next start reads the same window again."""
    service, url = skp
    context = _context(tmp_path)
    first = SoapSource(_config(url), context, today=lambda: date(2024, 3, 20))
    await first.start()
    committed = await _drain(first, limit=1)  # window 1 committed
    uncommitted = await _drain(first, commit=False, limit=1)  # window 2 read, "crashed" before commit
    await first.stop()
    assert committed and uncommitted
    assert context.state.get(context.name, CURSOR_KEY) == "2024-03-08"
    service.windows.clear()
    second = SoapSource(_config(url), context, today=lambda: date(2024, 3, 20))
    await second.start()
    again = await _drain(second, limit=1)
    await second.stop()
    assert service.windows[0] == ("2024-03-08", "2024-03-14")
    assert [r.source_record_id for r in again[0].records] == [
        r.source_record_id for r in uncommitted[0].records
    ]


async def test_records_carry_identity_revision_and_withdraw_op(
    tmp_path: Path, skp: tuple[SkpService, str]
) -> None:
    """Id from NomorSKP, revision from Versi, Dicabut=Y gives a withdraw op."""
    service, url = skp
    service.permits[0].versi = 4
    service.permits[0].dicabut = True
    source = SoapSource(_config(url), _context(tmp_path), today=lambda: date(2024, 3, 20))
    await source.start()
    records = [r for b in await _drain(source) for r in b.records]
    await source.stop()
    by_id = {r.source_record_id: r for r in records}
    first = by_id[service.permits[0].nomor]
    assert first.revision == 4 and first.op == "withdraw" and first.schema == "research_permit"
    assert {r.op for r in records if r is not first} == {"upsert"}


async def test_soap12_requests_work_against_the_simulator(
    tmp_path: Path, skp: tuple[SkpService, str]
) -> None:
    """A SOAP 1.2 request (application/soap+xml with action) gets a 1.2 answer that parses the same."""
    _service, url = skp
    template = REQUEST_TEMPLATE.replace(SOAP11_NS, SOAP12_NS)
    config = _config(url, soap_version="1.2", envelope_template=template, action="urn:CariIzinPenelitian")
    source = SoapSource(config, _context(tmp_path), today=lambda: date(2024, 3, 10))
    await source.start()
    records = [r for b in await _drain(source) for r in b.records]
    await source.stop()
    assert records and all(r.source_record_id and r.revision == 1 for r in records)


async def test_client_fault_from_the_service_is_fatal_for_the_runner(
    tmp_path: Path, skp: tuple[SkpService, str], memory_node: Node
) -> None:
    """A Client fault (bad credentials) stops the adapter with the fault named; nothing is committed."""
    service, url = skp
    service.api_key = "rahasia"
    context = _context(tmp_path)
    source = SoapSource(_config(url), context, today=lambda: date(2024, 3, 20))
    runner = SourceRunner("skp", source, memory_node.pipeline, _permit_mapper)
    await asyncio.wait_for(runner.run(), 10)
    assert runner.state == "failed" and "FatalError" in (runner.last_error or "")
    assert context.state.get(context.name, CURSOR_KEY) is None


# --- through a node ---------------------------------------------------------------------------------------


def _permit_mapper(record: SourceRecord) -> MappedRecord:
    """A Python mapping of the simulator's SKP records to research_permit (BPS names -> kode wilayah)."""
    raw: Any = record.raw
    try:
        index = default_index()
        pemohon = raw["Pemohon"]
        wna = pemohon["WNA"] == "Y"
        payload = {
            "nomor_skp": raw["NomorSKP"],
            "kode_wilayah": "32.01",
            "tanggal_pengajuan": raw["TglPengajuan"],
            "tanggal_terbit": raw["TglTerbit"],
            "status": raw["Status"].lower(),
            "pemohon": {
                "nama": pemohon["Nama"],
                "kewarganegaraan": pemohon["Kewarganegaraan"],
                "nik_token": None if wna else pemohon["NIK"],
                "paspor_token": pemohon["Paspor"] if wna else None,
                "kategori": "dosen_peneliti" if wna else "mahasiswa",
                "institusi": pemohon["Institusi"],
            },
            "jumlah_anggota_tim": 1 + len(raw.get("Anggota", [])),
            "judul": raw["JudulPenelitian"],
            "lingkup": "kabupaten_kota",
            "lokasi": [
                index.resolve(loc["Kecamatan"], parent="32.01", level=3).code for loc in raw["Lokasi"]
            ],
            "periode_mulai": raw["PeriodeMulai"],
            "periode_selesai": raw["PeriodeSelesai"],
        }
    except (KeyError, TypeError) as exc:
        raise MappingError(f"field missing: {exc}") from None
    assert record.source_record_id is not None and record.revision is not None
    return MappedRecord(payload, record.source_record_id, record.revision, record.op)


async def test_permits_reach_the_sink_through_a_node_despite_server_faults(
    tmp_path: Path, skp: tuple[SkpService, str]
) -> None:
    """Two Server faults and a 503 are retried; all 40 permits land once; a second run re-reads only today."""
    service, url = skp
    service.fail_next("server", 2)
    service.fail_next("http503")
    settings = node_settings(tmp_path)
    sink = FakeSink()
    node = Node(settings, transport=MemoryTransport(default_topology()), sink=sink)
    async with node:
        context = _context(tmp_path)
        source = SoapSource(_config(url), context, today=lambda: date(2024, 3, 25))
        runner = SourceRunner("skp", source, node.pipeline, _permit_mapper, Backoff(0.01, 0.05))
        await asyncio.wait_for(runner.run(), 20)
        assert runner.state == "stopped", runner.last_error
        assert service.calls == 3 + 4  # three failed calls retried, then four windows
        await until(lambda: len(sink.rows) == 40, timeout=10)
        assert node.quarantine_store.count() == 0
        key = make_record_key("research_permit", SYSTEM, service.permits[9].nomor)
        assert sink.rows[key][2].payload["pemohon"]["kewarganegaraan"] == "JP"
        assert context.state.get(context.name, CURSOR_KEY) == "2024-03-25"
        service.windows.clear()
        again = SourceRunner(
            "skp",
            SoapSource(_config(url), context, today=lambda: date(2024, 3, 25)),
            node.pipeline,
            _permit_mapper,
        )
        await asyncio.wait_for(again.run(), 10)
        assert service.windows == [("2024-03-25", "2024-03-25")]
        assert len(sink.rows) == 40


def test_plugin_declares_a_source() -> None:
    """The package exports a source plugin named soap that the registry can hold."""
    registry.register(PLUGIN)
    assert registry.get("soap").role == "source" and PLUGIN.config_model is SoapSourceConfig


# --- the adapter contract kit, with a declarative mapping -------------------------------------------------


def lokasi_codes(_value: Any, raw: Any) -> list[str]:
    """Mapping hook: the research locations' kecamatan names -> Kemendagri codes within Kab. Bogor."""
    index = default_index()
    return [index.resolve(loc["Kecamatan"], parent="32.01", level=3).code for loc in raw.get("Lokasi", [])]


SKP_MAPPING: dict[str, Any] = {
    "version": "sicantik-bogor/1",
    "fields": {
        "nomor_skp": "NomorSKP",
        "kode_wilayah": {"const": "32.01"},
        "tanggal_pengajuan": {"path": "TglPengajuan", "parse": "date"},
        "tanggal_terbit": {"path": "TglTerbit", "parse": "date"},
        "status": {"path": "Status", "case": "lower"},
        "pemohon.nama": "Pemohon.Nama",
        "pemohon.kewarganegaraan": "Pemohon.Kewarganegaraan",
        "pemohon.nik_token": {"path": "Pemohon.NIK", "pii": "nik"},
        "pemohon.paspor_token": {"path": "Pemohon.Paspor", "pii": "passport"},
        "pemohon.kategori": {"path": "Pemohon.WNA", "map": {"Y": "dosen_peneliti", "N": "mahasiswa"}},
        "pemohon.institusi": "Pemohon.Institusi",
        "judul": "JudulPenelitian",
        "lingkup": {"const": "kabupaten_kota"},
        "lokasi": {"python": "tests.unit.adapters.test_soap:lokasi_codes"},
        "periode_mulai": {"path": "PeriodeMulai", "parse": "date"},
        "periode_selesai": {"path": "PeriodeSelesai", "parse": "date"},
    },
}


async def test_soap_source_passes_the_contract_kit_with_a_declarative_mapping(
    skp: tuple[SkpService, str],
) -> None:
    """The kit's checks: config model, identity on every record, no state before commit, through a node
    into the sink with the mapping (Y/N and nil handled there), and nothing re-read after the commit."""
    from hub.testing.contract import check_source_contract

    service, url = skp
    config = _config(url, window_days=366).model_dump(mode="json")
    report = await check_source_contract(
        PLUGIN,
        config,
        schema="research_permit",
        expect_records=len(service.permits),
        mapping=SKP_MAPPING,
        system=SYSTEM,
        office="32.01",
    )
    assert report.applied == 40 and report.quarantined == 0 and report.reread == 0
