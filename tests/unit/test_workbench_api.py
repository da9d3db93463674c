"""The workbench's JSON API (aiohttp test client): answers for the three samples, the caps, the 4xx shapes,
uploads kept in memory only and never logged, the node's act-role guard, and the OpenAPI paths."""

from __future__ import annotations

import builtins
import io
import tempfile
import tomllib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient, TestServer

from hub.catalog.openapi import openapi_document
from hub.node import Node
from hub.workbench import engine
from hub.workbench.app import MAX_JSON_BYTES, MAX_SAMPLE_BYTES, region_candidates, standalone_app
from tests.fixtures.workbench.samples import REST_PAGE, SKIP_RULE, SOAP_RESPONSE, write_recap
from tests.helpers import TOKEN_ACT, TOKEN_READ

NIK = "3201010101800099"  # in the REST page's free text and the SOAP applicant


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(standalone_app())) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def recap(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_recap(tmp_path_factory.mktemp("wb") / "rekap.xlsx").read_bytes()


def form(sample: bytes | None, name: str = "sample.bin", **fields: str) -> FormData:
    data = FormData()
    for key, value in fields.items():
        data.add_field(key, value)
    if sample is not None:
        data.add_field("sample", sample, filename=name, content_type="application/octet-stream")
    return data


async def post(client: TestClient[Any, Any], path: str, data: Any = None, **kw: Any) -> tuple[int, Any]:
    async with client.post(f"/workbench/api/{path}", data=data, **kw) as response:
        body = await response.json() if response.content_type == "application/json" else await response.read()
        return response.status, body


def assert_problem(body: Any, field: str | None) -> None:
    """Our problem shape; no stack trace, no Python exception text."""
    assert set(body) == {"error", "message", "field"} or set(body) == {"error", "message"}
    assert body.get("field") == field
    assert "Traceback" not in body["message"] and NIK not in body["message"]


async def test_read_shows_the_recap_as_file_drop_reads_it(client: TestClient[Any, Any], recap: bytes) -> None:
    status, body = await post(client, "read", form(recap, "rekap.xlsx", kind="file_drop"))
    assert status == 200
    assert body["header_rows"] == [{"sheet": "Triwulan I", "rows": [4, 5], "columns": body["columns"]}]
    assert "korban_md" in body["columns"] and len(body["rows"]) == 4
    whys = {s["where"]: s["why"] for s in body["skipped"]}
    assert whys["sheet Triwulan I, row 1"] == "title" and whys["sheet Triwulan I, row 11"] in (
        "total",
        "footer",
    )
    assert whys["sheet Triwulan I, row 13"] == "signature" and whys["sheet Triwulan I, row 10"] == "blank"


async def test_propose_then_test_answers_the_documented_shapes(client: TestClient[Any, Any]) -> None:
    sample = SOAP_RESPONSE.read_bytes()
    status, proposal = await post(
        client, "propose", form(sample, "r.xml", kind="soap", schema="research_permit", office="32.01")
    )
    assert status == 200
    block = tomllib.loads(proposal["toml"])["sources"][0]
    assert block["config"]["record_path"] == "CariIzinPenelitianResponse/return/IzinPenelitian"
    rows = {r["field"]: r for r in proposal["fields"]}
    assert rows["nomor_skp"]["source"] == "NomorSKP" and rows["nomor_skp"]["confidence"] == 1.0
    assert rows["pemohon.nik_token"]["rule"] == "nik" and rows["lingkup"]["todo"]
    assert "# lingkup: TODO: no source field fits (enum, required)" in proposal["toml"]
    status, result = await post(client, "test", form(sample, "r.xml", toml=proposal["toml"]))
    assert status == 200
    assert result["read"] == 2 and result["counts"] == {"ok": 0, "quarantined": 2, "skipped": 0}
    record = result["records"][0]
    assert set(record) >= {"id", "ok", "payload", "issues"} and record["payload"] is None
    assert {
        "stage": "schema",
        "loc": "data.lingkup",
        "rule": "missing",
        "message": "Field required",
    } in record["issues"]
    status, config = await post(client, "config", json={"toml": proposal["toml"]})
    assert status == 200 and config["valid"], config["problems"]


async def test_rows_a_skip_rule_drops_count_as_skipped(client: TestClient[Any, Any]) -> None:
    """A mapping's skip rule: the row is neither ok nor quarantined; it is listed with the rule's reason."""
    sample = REST_PAGE.read_bytes()
    proposal = engine.propose("rest_poll", "conflict_incident", "32.01", sample, "p.json")
    toml = proposal["toml"].replace(
        "# kode_wilayah: TODO", 'kode_wilayah = { region = { kecamatan = "kecamatan" } }\n# was TODO'
    )
    status, result = await post(client, "test", form(sample, "p.json", toml=toml))
    assert status == 200 and result["counts"] == {"ok": 2, "quarantined": 1, "skipped": 0}
    assert result["reasons"] == {"mapping_failed": 1}
    status, result = await post(client, "test", form(sample, "p.json", toml=toml + SKIP_RULE))
    assert status == 200 and result["counts"] == {"ok": 2, "quarantined": 0, "skipped": 1}
    assert result["skipped"] == [{"where": "record 3", "why": "skip rule: laporan uji"}]
    assert result["reasons"] == {} and len(result["records"]) == 2


async def test_read_options_steer_the_adapter(client: TestClient[Any, Any], recap: bytes) -> None:
    """The engineer may correct what the adapter guessed: a SOAP record path, a header row."""
    inner = "CariIzinPenelitianResponse/return/IzinPenelitian/Lokasi"
    options = f'{{"record_path": "{inner}"}}'
    status, body = await post(
        client, "read", form(SOAP_RESPONSE.read_bytes(), "r.xml", kind="soap", options=options)
    )
    assert status == 200 and len(body["rows"]) == 3 and body["columns"] == ["KodeBPS", "Kecamatan"]
    status, body = await post(
        client, "read", form(recap, "r.xlsx", kind="file_drop", options='{"header_row": 5}')
    )
    assert status == 200 and body["header_rows"][0]["rows"][0] == 5
    status, body = await post(
        client, "read", form(recap, "r.xlsx", kind="file_drop", options='{"header_row": 0}')
    )
    assert status == 400 and body["field"] == "config" and "header_row" in body["message"]


async def test_form_and_toml_round_trip(client: TestClient[Any, Any]) -> None:
    """Rows -> TOML -> rows keeps every source and rule; a rule the form cannot express stays custom; a
    column the form now reads leaves the proposal's ignore list."""
    proposal = engine.propose("rest_poll", "conflict_incident", "32.01", REST_PAGE.read_bytes(), "p.json")
    assert tomllib.loads(proposal["toml"])["sources"][0]["mapping"]["ignore"] == ["id_laporan", "kecamatan"]
    rows = proposal["fields"]
    next(r for r in rows if r["field"] == "kode_wilayah").update(source="kecamatan", rule="region_kecamatan")
    status, rendered = await post(client, "render", json={"toml": proposal["toml"], "fields": rows})
    assert status == 200
    assert 'kode_wilayah = { region = { kecamatan = "kecamatan" } }' in rendered["toml"]
    assert tomllib.loads(rendered["toml"])["sources"][0]["mapping"]["ignore"] == ["id_laporan"]
    # Only those two lines changed: the proposal's comments and every other rule are kept as written.
    changed = ("kode_wilayah", "# kode_wilayah", "ignore = ")
    assert [line for line in rendered["toml"].splitlines() if not line.startswith(changed)] == [
        line for line in proposal["toml"].splitlines() if not line.startswith(changed)
    ]
    status, parsed = await post(
        client, "parse", json={"toml": rendered["toml"] + 'skala = { const = "lokal", case = "upper" }\n'}
    )
    assert status == 200
    back = {r["field"]: (r["source"], r["rule"]) for r in parsed["fields"]}
    assert back == {r["field"]: (r["source"], r["rule"]) for r in rows} | {"skala": ("", "custom")}


@pytest.mark.parametrize(
    ("path", "data", "status", "field"),
    [
        ("read", b"kind=file_drop", 400, "sample"),  # not multipart
        ("read", None, 400, "sample"),  # multipart without the file
        ("read", "unknown-kind", 400, "kind"),
        ("read", "options", 400, "options"),
        ("read", "broken-xlsx", 400, "sample"),
        ("propose", "bad-office", 400, "office"),
        ("propose", "bad-schema", 400, "schema"),
        ("test", "bad-toml", 400, "toml"),
    ],
)
async def test_bad_input_gets_a_4xx_problem(
    client: TestClient[Any, Any], path: str, data: Any, status: int, field: str
) -> None:
    sample = REST_PAGE.read_bytes()
    bodies: dict[str, Any] = {
        "unknown-kind": form(sample, "p.json", kind="ftp"),
        "options": form(sample, "p.json", kind="rest_poll", options="[1"),
        "broken-xlsx": form(b"PK\x03\x04 not really a workbook", "x.xlsx", kind="file_drop"),
        "bad-office": form(sample, "p.json", kind="rest_poll", schema="conflict_incident", office="32.01.01"),
        "bad-schema": form(sample, "p.json", kind="rest_poll", schema="nope", office="32.01"),
        "bad-toml": form(sample, "p.json", toml="[[sources]\nname ="),
    }
    if data is None:
        data = form(None, kind="rest_poll")
    got, body = await post(client, path, bodies.get(data, data))
    assert got == status
    assert_problem(body, field)


async def test_caps_answer_413(client: TestClient[Any, Any]) -> None:
    status, body = await post(
        client, "read", form(b"x" * (MAX_SAMPLE_BYTES + 1), "big.csv", kind="file_drop")
    )
    assert status == 413 and body["error"] == "body_too_large"
    status, body = await post(client, "render", data=b"{" + b" " * MAX_JSON_BYTES + b"}")
    assert status == 413 and body["error"] == "body_too_large"


async def test_json_helpers_refuse_bad_bodies(client: TestClient[Any, Any]) -> None:
    for path, payload in (("render", b"[]"), ("parse", b"not json"), ("config", b'{"toml": 3}')):
        status, body = await post(client, path, data=payload)
        assert status == 400
        assert_problem(body, "toml" if path == "config" else "body")
    status, body = await post(client, "render", json={"toml": "x = 1", "fields": "no"})
    assert status == 400 and body["field"] == "fields"
    async with client.get("/workbench/api/schemas/nope") as response:
        assert response.status == 404 and (await response.json())["field"] == "schema"
    async with client.get("/workbench/api/regions") as response:
        assert response.status == 400 and (await response.json())["field"] == "q"


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every file opened for writing and every temporary file made while the test runs."""
    seen: list[str] = []
    real_open = builtins.open

    def tracking_open(file: Any, mode: str = "r", *args: Any, **kw: Any) -> Any:
        if any(flag in mode for flag in "wax+"):
            seen.append(str(file))
        return real_open(file, mode, *args, **kw)

    monkeypatch.setattr(builtins, "open", tracking_open)
    monkeypatch.setattr(io, "open", tracking_open)
    for name in ("mkstemp", "NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile", "mkdtemp"):
        real = getattr(tempfile, name)
        monkeypatch.setattr(tempfile, name, lambda *a, _n=name, _r=real, **k: seen.append(_n) or _r(*a, **k))
    yield seen


async def test_uploads_stay_in_memory_and_out_of_the_logs(
    client: TestClient[Any, Any],
    recap: bytes,
    writes: list[str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """read, propose and test of a workbook, a SOAP response and a REST page (and a broken file, which is
    logged by type) write no file and print no value of the sample."""
    soap, rest = SOAP_RESPONSE.read_bytes(), REST_PAGE.read_bytes()
    assert (await post(client, "read", form(recap, "r.xlsx", kind="file_drop")))[0] == 200
    asked = form(rest, "p.json", kind="rest_poll", schema="conflict_incident", office="32.01")
    status, proposal = await post(client, "propose", asked)
    assert status == 200
    assert (await post(client, "test", form(rest, "p.json", toml=proposal["toml"])))[0] == 200
    assert (await post(client, "read", form(soap, "r.xml", kind="soap")))[0] == 200
    assert (await post(client, "read", form(b"<Envelope>" + NIK.encode(), "x.xml", kind="soap")))[0] == 400
    assert writes == []
    (tmp_path / "tracker.txt").write_text("the tracker sees a write")
    assert writes == [str(tmp_path / "tracker.txt")]
    out = capsys.readouterr()
    assert NIK not in out.out + out.err and "Budi Santoso" not in out.out + out.err


def test_offices_are_found_by_name_or_code() -> None:
    assert region_candidates("kab bogor")[0]["code"] == "32.01"
    assert region_candidates("9603")[0]["name"] == "Kabupaten Raja Ampat"
    assert region_candidates("pusat")[0]["code"] == "pusat"
    assert {r["code"] for r in region_candidates("bogor")} == {"32.01", "32.71"}
    assert all(r["code"].count(".") <= 1 for r in region_candidates("cibinong"))  # offices only: no kecamatan


async def test_probe_reads_a_rest_url_and_a_database(client: TestClient[Any, Any]) -> None:
    """A REST page from a local server with the typed header; rows of a SELECT from PostgreSQL, limited."""
    seen: list[str] = []

    async def page(request: web.Request) -> web.Response:
        seen.append(request.headers.get("X-API-KEY", ""))
        return web.Response(body=REST_PAGE.read_bytes(), content_type="application/json")

    upstream = web.Application()
    upstream.router.add_get("/api/laporan", page)
    async with TestServer(upstream) as server:
        url = str(server.make_url("/api/laporan"))
        payload = {"kind": "rest_poll", "url": url, "header_name": "X-API-KEY", "header_value": "k1"}
        status, body = await post(client, "probe", json=payload)
    assert status == 200 and body == REST_PAGE.read_bytes() and seen == ["k1"]
    query = "SELECT g AS id, now() AS updated_at FROM generate_series(1, 80) AS g"
    payload = {"kind": "sql_poll", "dsn": "postgresql://postgres@127.0.0.1:5432/postgres", "query": query}
    status, body = await post(client, "probe", json=payload)
    assert status == 200 and body.count(b'"id"') == 50  # the limit
    status, body = await post(client, "probe", json={**payload, "query": "DELETE FROM x"})
    assert status == 400 and body["field"] == "query"
    status, body = await post(client, "probe", json={"kind": "rest_poll", "url": "file:///etc/passwd"})
    assert status == 400 and body["field"] == "url"
    status, body = await post(client, "probe", json={"kind": "rest_poll", "url": "http://127.0.0.1:9/x"})
    assert status == 400 and body["field"] == "url"


async def test_a_node_serves_the_workbench_to_act_tokens(memory_node: Node) -> None:
    base = f"http://127.0.0.1:{memory_node.http_port}/workbench"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/") as response:
            assert response.status == 200 and "Meja kerja Simpul" in await response.text()
        for token, expected in ((None, 401), (TOKEN_READ, 403), (TOKEN_ACT, 200)):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with http.get(f"{base}/api/schemas", headers=headers) as response:
                assert response.status == expected
                body = await response.json()
                assert ("error" in body) == (expected != 200)


def test_openapi_documents_the_workbench() -> None:
    paths = openapi_document()["paths"]
    for path in ("read", "propose", "test", "probe", "render", "parse", "config"):
        assert "post" in paths[f"/workbench/api/{path}"]
    read = paths["/workbench/api/read"]["post"]
    assert "multipart/form-data" in read["requestBody"]["content"] and "413" in read["responses"]


def test_cli_verb_parses_its_port() -> None:
    from hub.cli.root import _DELEGATED, _parser

    args = _parser().parse_args(["workbench", "--port", "8099"])
    assert args.command == "workbench" and args.port == 8099
    assert _parser().parse_args(["workbench"]).port == 8090
    assert _DELEGATED["workbench"] == "hub.cli.workbench:dispatch"
