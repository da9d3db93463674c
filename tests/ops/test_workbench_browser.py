"""The workbench in headless Chromium (Playwright), clicked through as a regional engineer would: six steps
for three raw samples (an XLSX recap with two header rows, a SOAP response, a REST page), one rule edited in
the form and one in the TOML with the other side and the live results following, the downloaded node config
checked with ``simpul check-config``, and (the XLSX) a real node on that config filling the warehouse.

Screenshots of each step at 1366x768 go to ``tmp_path``; with ``SIMPUL_WORKBENCH_SCREENSHOTS=1`` they are
also copied to ``docs/img/workbench/`` (how the committed ones were made).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Page, expect

from adapters.file_drop import PLUGIN
from adapters.sqlite_sink.sink import SqliteSink
from hub.adapters import registry
from hub.admin.config_check import check_config_text
from hub.cli.root import main as simpul
from hub.node import Node
from hub.workbench.app import standalone_app
from tests.fixtures.workbench.samples import REST_PAGE, SKIP_RULE, SOAP_RESPONSE, write_recap
from tests.helpers import node_settings, until
from tests.ops.browser import open_page
from tests.ops.test_broker_metrics import MANAGEMENT_URL
from tests.ops.test_broker_metrics import amqp_url as amqp_url  # a fixture (a fresh vhost)

pytestmark = pytest.mark.ops
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img" / "workbench"


@pytest.fixture
async def workbench() -> AsyncIterator[str]:
    """``simpul workbench``'s application on an ephemeral port of 127.0.0.1; its page URL."""
    runner = web.AppRunner(standalone_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/workbench/"
    finally:
        await runner.cleanup()


@dataclass
class Walk:
    """One sample's way through: what is chosen in step 1 and 2, and the two edits of step 4."""

    kind: str
    schema: str
    sample: Path
    form_field: str
    form_source: str
    form_rule: str
    toml_line: str
    toml_field: str
    toml_rule: str  # the form's rule for toml_field once the TOML is edited ("custom": TOML only)
    read_option: str = ""
    live_url: str = ""  # read from this REST address (with X-API-KEY: k-bogor) instead of uploading


async def shot(page: Page, tmp_path: Path, name: str | None, step: int) -> None:
    """The page fits a 1366 px wide window (no sideways scrolling); a screenshot when ``name`` is given."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1366
    if name is None:
        return
    path = tmp_path / f"{name}-{step}.png"
    await page.screenshot(path=str(path))
    if os.environ.get("SIMPUL_WORKBENCH_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_IMG / f"langkah-{step}.png")


async def wait_js(page: Page, expression: str, timeout: float = 15.0) -> None:
    """Wait until ``expression`` is true in the page (polled: the page's CSP forbids eval, which
    ``wait_for_function`` needs)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await page.evaluate(expression):
        assert asyncio.get_running_loop().time() < deadline, f"never true: {expression}"
        await asyncio.sleep(0.1)


async def walk(
    page: Page, url: str, how: Walk, tmp_path: Path, screenshots: str | None = None
) -> dict[str, str]:
    """Steps 1-6 with the keyboard and mouse; the downloaded files' texts by name."""
    await page.goto(url)
    await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    # Step 1: kind, schema, office typed by name and picked from the list with the keyboard.
    await page.get_by_label("Jenis sumber", exact=True).select_option(how.kind)
    await page.get_by_label("Skema tujuan", exact=True).select_option(how.schema)
    await expect(page.locator("#schema-fields tbody tr").first).to_be_visible()
    # Every input has a label; going on without an office puts the error next to the office field.
    unlabelled = "[...document.querySelectorAll('input,select,textarea')].filter(e => !(e.labels?.length || e.getAttribute('aria-label'))).length"  # noqa: E501
    assert await page.evaluate(unlabelled) == 0
    await page.get_by_role("button", name="Lanjut →").click()
    await expect(page.locator("#office-err")).to_have_text("Pilih kantor dari daftar.")
    office = page.get_by_label("Kantor (nama atau kode wilayah)", exact=True)
    await office.fill("kab bogor")
    await expect(page.locator("#office-list li").first).to_have_text(re.compile("32.01"))
    await office.press("ArrowDown")
    await office.press("Enter")
    await expect(page.locator("#office-chosen")).to_have_text("32.01 · Kabupaten Bogor")
    await shot(page, tmp_path, screenshots, 1)
    await page.get_by_role("button", name="Lanjut →").click()
    # Step 2: the sample file.
    if how.live_url:
        await page.get_by_label("Sumber langsung").check()
        await page.get_by_label("Alamat (URL)", exact=True).fill(how.live_url)
        await page.get_by_label("Nama header otorisasi (boleh kosong)", exact=True).fill("X-API-KEY")
        await page.get_by_label("Isi header otorisasi", exact=True).fill("k-bogor")
    else:
        await page.get_by_label(re.compile("^Berkas sampel")).set_input_files(str(how.sample))
    await shot(page, tmp_path, screenshots, 2)
    await page.get_by_role("button", name="Baca sampel").click()
    # Step 3: the table as the adapter read it.
    await expect(page.locator("#step-3")).to_be_visible()
    await expect(page.locator("#rows tbody tr").first).to_be_visible()
    if how.read_option:  # the adapter's reading corrected by hand, then read again
        await page.locator("#readopt").fill(how.read_option)
        await page.get_by_role("button", name="Baca ulang").click()
        await wait_js(page, f"S.readResult.settings.record_path === {how.read_option!r}")
    await shot(page, tmp_path, screenshots, 3)
    await page.get_by_role("button", name="Lanjut →").click()
    # Step 4: the proposal; live counts appear.
    await expect(page.locator("#toml")).to_have_value(re.compile(r"\[sources\.mapping\.fields\]"))
    await expect(page.locator("#live-counts")).to_have_attribute("data-ok", re.compile(r"\d+"))
    results = "JSON.stringify([S.test.counts, S.test.records.map(r => [r.ok, r.payload, r.issues])])"
    before = await page.evaluate(results)
    # ... one rule edited in the form: the TOML follows, the live results change.
    row = page.locator(f'#mapping tr[data-field="{how.form_field}"]')
    await row.locator("input").fill(how.form_source)
    await row.locator("input").press("Tab")
    await row.locator("select").select_option(how.form_rule)
    pattern = rf'^"?{re.escape(how.form_field)}"? = .*{re.escape(how.form_source)}'
    await expect(page.locator("#toml")).to_have_value(re.compile(pattern, re.MULTILINE))
    await wait_js(page, f"{results} !== {json.dumps(before)}")
    await expect(row.locator("td").last).to_have_text("diubah manual")
    before = await page.evaluate(results)
    # ... one rule edited in the TOML: the form follows, the live results change again.
    toml = page.get_by_label("Blok sumber (TOML)", exact=True)
    good = await toml.input_value()
    await toml.fill(good + "\n[[sources]\n")
    await expect(page.locator("#toml-err")).to_contain_text("not valid TOML")
    await toml.fill(good)
    await expect(page.locator("#toml-err")).to_have_text("")
    await toml.fill(replace_lines(await toml.input_value(), how.toml_line))
    await expect(page.locator(f'#mapping tr[data-field="{how.toml_field}"] select')).to_have_value(
        how.toml_rule
    )
    await wait_js(page, f"{results} !== {json.dumps(before)}")
    await shot(page, tmp_path, screenshots, 4)
    await page.get_by_role("button", name="Lanjut →").click()
    # Step 5: every record, payload or issues, counts and reasons.
    await expect(page.locator("#records li").first).to_be_visible()
    await shot(page, tmp_path, screenshots, 5)
    await page.get_by_role("button", name="Lanjut →").click()
    # Step 6: the config is checked and downloaded.
    await expect(page.locator("#check")).to_have_attribute("data-valid", "true")
    await shot(page, tmp_path, screenshots, 6)
    files = {}
    for button in ("#dl-block", "#dl-config", "#dl-sample"):
        async with page.expect_download() as info:
            await page.locator(button).click()
        download = await info.value
        target = tmp_path / download.suggested_filename
        await download.save_as(str(target))
        files[download.suggested_filename] = str(target)
    # Back and forward keep the state: step 4 shows the edited TOML again.
    await page.go_back()
    await page.go_back()
    await expect(page.locator("#step-4")).to_be_visible()
    await expect(page.locator("#toml")).to_have_value(re.compile(re.escape(how.toml_line.splitlines()[0])))
    return files


def replace_lines(toml: str, new: str) -> str:
    """``toml`` with the lines of ``new`` in place of the lines setting the same keys, or of the proposal's
    ``# key: TODO ...`` comment for them (else at the end of the fields)."""
    lines = new.splitlines()
    keys = {line.split(" = ")[0] for line in lines}
    names = {k.strip('"') for k in keys}

    def replaced(line: str) -> bool:
        todo = re.match(r"^# (TODO )?([\w.]+)[: ]", line)
        return line.split(" = ")[0] in keys or bool(todo and todo.group(2) in names)

    kept = [line for line in toml.splitlines() if not replaced(line)]
    return "\n".join([*kept, *lines]) + "\n"


def check_config(path: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_config_text(Path(path).read_text()).valid
    assert simpul(["check-config", path]) == 0
    assert "valid" in capsys.readouterr().out


PIHAK = 'pihak = { each = { path = "pihak_terlibat", split = [" vs "] }, fields = { nama_pihak = "@" } }'


async def test_xlsx_recap_to_a_running_node(
    workbench: str, chromium: str, tmp_path: Path, amqp_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The two-header-row recap: title, blank, footer and signature rows skipped with why; the proposal
    leaves waktu_kejadian TODO (no column is named like it), so nothing maps until it is set in the form
    (``tanggal`` as a datetime); pihak split into parties in the TOML; the config passes check-config and
    a node on it stores 3 records and quarantines the one dated 31/02/2024."""
    recap = write_recap(tmp_path / "rekap_konflik_triwulan_i.xlsx")
    how = Walk("file_drop", "conflict_incident", recap, "waktu_kejadian", "tanggal", "datetime", PIHAK,
               "pihak", "custom")  # fmt: skip
    async with open_page(chromium, width=1366, height=768) as browser:
        page = browser.page
        files = await walk(page, workbench, how, tmp_path, screenshots="xlsx")
        assert await page.evaluate("S.readResult.header_rows[0].rows") == [4, 5]
        whys = await page.evaluate("S.readResult.skipped.map(s => s.why)")
        assert {"title", "blank", "footer", "signature"} <= set(whys)
        assert await page.evaluate("[S.test.counts.ok, S.test.counts.quarantined]") == [3, 1]
        assert await page.evaluate("S.test.reasons") == {"mapping_failed": 1}
        parties = await page.evaluate("S.test.records[0].payload.pihak.map(p => p.nama_pihak)")
        assert parties == ["Warga RW 05", "PT Maju Properti"]
        assert browser.page_errors == []
    check_config(files["node.toml"], capsys)
    config = tomllib.loads(await asyncio.to_thread(Path(files["node.toml"]).read_text))
    source = config["sources"][0]
    assert "tanggal" not in source["mapping"].get("ignore", [])  # read now: no longer in the ignore list
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(files[recap.name], inbox / recap.name)
    source["config"].update(path=str(inbox), settle_s=0, stop_when_idle=True)
    registry.register(PLUGIN)
    settings = node_settings(
        tmp_path, broker={"url": amqp_url, "management_url": MANAGEMENT_URL}, sources=[source]
    )
    async with Node(settings) as node:
        sink = node.sink
        assert isinstance(sink, SqliteSink)
        await until(lambda: sink.store.count() == 3 and node.quarantine_store.count() == 1, timeout=30)
        assert sink.store.count(schema_name="conflict_incident") == 3
        assert node.quarantine_store.counts_by_reason() == {"mapping_failed": 1}  # as step 5 said


async def test_soap_response(
    workbench: str, chromium: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The DPMPTSP research-permit response: the record path guessed (IzinPenelitian, not the Lokasi list
    inside it); the scope set in the form; in the TOML the applicant category, the locations and
    kode_wilayah as the issuing office (the proposal's kecamatan names are finer than a permit's kab/kota
    level: one permit would be quarantined as region_invalid)."""
    toml = ('kode_wilayah = { const = "32.01" }\n"pemohon.kategori" = { const = "mahasiswa" }\n'
            'lokasi = { const = ["32.01"] }')  # fmt: skip
    how = Walk("soap", "research_permit", SOAP_RESPONSE, "lingkup", "kabupaten_kota", "const", toml,
               "kode_wilayah", "const")  # fmt: skip
    async with open_page(chromium, width=1366, height=768) as browser:
        page = browser.page
        files = await walk(page, workbench, how, tmp_path)
        record_path = "CariIzinPenelitianResponse/return/IzinPenelitian"
        assert await page.evaluate("S.readResult.settings.record_path") == record_path
        assert await page.evaluate("[S.test.counts.ok, S.test.counts.quarantined]") == [2, 0]
        assert browser.page_errors == []
    check_config(files["node.toml"], capsys)


@pytest.fixture
async def rest_api() -> AsyncIterator[str]:
    """A regional REST API on 127.0.0.1 answering the page to the key ``k-bogor`` only; its URL."""

    async def page(request: web.Request) -> web.Response:
        if request.headers.get("X-API-KEY") != "k-bogor":
            return web.Response(status=401)
        return web.Response(body=REST_PAGE.read_bytes(), content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/v1/laporan", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/api/v1/laporan"
    finally:
        await runner.cleanup()


async def test_rest_page(
    workbench: str, rest_api: str, chromium: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A REST page read live from the API (with its key): the proposal leaves kode_wilayah TODO (one
    kecamatan of three is unknown), so it is set in the form (kecamatan names) and pihak in the TOML; the
    unknown kecamatan stays quarantined as mapping_failed; the NIK in the free text is shown redacted,
    as stored; the downloaded test sample is the page as the API answered it."""
    how = Walk("rest_poll", "conflict_incident", REST_PAGE, "kode_wilayah", "kecamatan", "region_kecamatan",
               PIHAK, "pihak", "custom", live_url=rest_api)  # fmt: skip
    async with open_page(chromium, width=1366, height=768) as browser:
        files = await walk(browser.page, workbench, how, tmp_path)
        page = browser.page
        assert await page.evaluate("[S.test.counts.ok, S.test.counts.quarantined]") == [2, 1]
        assert await page.evaluate("Object.keys(S.test.reasons)") == ["mapping_failed"]
        assert Path(files["page.json"]).read_bytes() == REST_PAGE.read_bytes()  # noqa: ASYNC240
        # A skip rule in the TOML: the made-up kecamatan's row is skipped, not quarantined, and says why.
        toml = page.get_by_label("Blok sumber (TOML)", exact=True)
        await toml.fill(await toml.input_value() + SKIP_RULE)
        await wait_js(page, "S.test.counts.skipped === 1")
        assert await page.evaluate("[S.test.counts.ok, S.test.counts.quarantined]") == [2, 0]
        await expect(page.locator("#test-skipped")).to_have_text(
            "Dilewati: rekaman 3 (aturan skip: laporan uji)"
        )
        # The English switch: labels and the form's rule names follow, the state stays.
        await page.get_by_role("button", name="English").click()
        await expect(page.get_by_label("Node config", exact=True)).to_have_value(
            re.compile(r"\[\[sources\]\]")
        )
        await page.get_by_role("button", name="4 Mapping").click()
        await expect(
            page.locator('#mapping tr[data-field="jenis_konflik"] select option:checked')
        ).to_have_text("copy as text")
        payload = await page.evaluate("S.test.records[0].payload")
        assert payload["kronologi"] == "Warga (NIK [NIK]) melaporkan pemagaran lahan."
        shown = await page.locator("#records").inner_text()  # step 5 (step 3 shows the raw sample as read)
        assert "[NIK]" in shown and "3201010101800099" not in shown
        assert browser.page_errors == []
    check_config(files["node.toml"], capsys)
