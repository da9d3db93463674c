"""The status page in headless Chromium (Playwright): what it shows, and pausing an adapter from the page."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest
from playwright.async_api import expect

from hub.node import Node
from tests.helpers import TOKEN_ACT, TOKEN_READ, item, until
from tests.ops.browser import open_page
from tests.unit.test_http_ingest import post
from tests.unit.test_status_page import TICK_PROVINCES

TILE_STATES = "Object.fromEntries([...document.querySelectorAll('#provinces .tile')].map(t => [t.dataset.province, t.dataset.silence]))"  # noqa: E501
ADAPTER_ROW = '#adapters tr[data-adapter="ticker-jabar"]'

pytestmark = pytest.mark.ops


async def prepare(node: Node) -> None:
    """Records flowing from 5 provinces, 3 quarantined, Bali last heard 10 h ago and Papua 30 h ago."""
    await until(lambda: node.runners[0].records_offered >= 10)
    bad = [item("ormas_registration", f"Q{i}", kode_wilayah="32.98.99") for i in range(3)]
    status, _body, _ = await post(node, "ormas_registration", bad, query="?on_invalid=quarantine")
    assert status == 202
    await until(lambda: node.quarantine_store.count() == 3)
    now = time.time()
    node.metrics.last_record.labels(adapter="rest-bali", province="52").set(now - 10 * 3600)
    node.metrics.last_record.labels(adapter="rest-papua", province="91").set(now - 30 * 3600)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_status_page_shows_the_node_and_pauses_an_adapter(
    ticking_node: Node, chromium: str, tmp_path: Path
) -> None:
    """Act token: adapters, throughput, quarantine, 38 coloured provinces; Pause works; screenshot saved."""
    await prepare(ticking_node)
    base = f"http://127.0.0.1:{ticking_node.http_port}"
    async with open_page(chromium) as browser:
        page = browser.page
        await page.goto(f"{base}/status#token={TOKEN_ACT}")
        await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
        assert await page.evaluate("location.hash") == ""  # the token left the address bar
        assert await page.locator("#role").text_content() == "ops-jabar (act)"
        assert await page.locator("#node-name").text_content() == "test-node · pusat"
        row = page.locator(ADAPTER_ROW)
        assert await row.get_attribute("data-state") == "running"
        pause = row.get_by_role("button")
        assert await pause.text_content() == "Pause"
        assert int(await row.locator(".records").text_content() or "0") >= 10
        rate = await page.locator('[data-rate="published"]').text_content() or ""
        assert rate.endswith(" /s") and float(rate.split()[0]) > 0
        assert await page.locator("#quarantine-open").text_content() == "3"
        queues = await page.evaluate(
            "[...document.querySelectorAll('#queues tr[data-queue]')]"
            ".map(r => [r.dataset.queue, r.cells[2].textContent])"
        )
        assert queues == [["dead_letter", "0"], ["quarantine", "1"], ["sqlite_warehouse", "1"]]
        assert await page.locator("#quarantine-reasons li").all_text_contents() == ["validation_failed — 3"]
        tiles = await page.evaluate(TILE_STATES)
        assert len(tiles) == 38
        assert {p: tiles[p] for p in TICK_PROVINCES} == dict.fromkeys(TICK_PROVINCES, "fresh")
        assert tiles["52"] == "late" and tiles["91"] == "silent" and tiles["33"] == "never"
        assert sum(1 for s in tiles.values() if s == "never") == 38 - len(TICK_PROVINCES) - 2
        papua = page.locator('[data-province="91"]')
        assert await papua.evaluate("tile => getComputedStyle(tile).backgroundColor") == "rgb(198, 40, 40)"
        assert "91" in (await papua.text_content() or "")

        await pause.click()  # as a person does: a real mouse click on the button
        await page.wait_for_selector(f'{ADAPTER_ROW}[data-state="paused"]')
        assert await row.get_by_role("button").text_content() == "Resume"
        assert "ticker-jabar: pause done" in (await page.locator("#message").text_content() or "")
        assert ticking_node.runners[0].paused
        shot = await page.screenshot(path=tmp_path / "status-page.png", full_page=True)
        assert browser.page_errors == []
    width, height = png_size(shot)
    assert width == 1400 and height > 600 and len(shot) > 20_000
    assert (tmp_path / "status-page.png").stat().st_size == len(shot)
    audit = ticking_node.audit.recent(10)
    assert any(a["action"] == "adapter.pause" and a["actor"] == "ops-jabar" for a in audit)


async def test_read_token_sees_no_buttons_and_a_bad_token_is_refused(
    ticking_node: Node, chromium: str, tmp_path: Path
) -> None:
    """Read token: the page shows state but no pause buttons; an unknown token gets a 401 message."""
    await prepare(ticking_node)
    base = f"http://127.0.0.1:{ticking_node.http_port}"
    async with open_page(chromium) as browser:
        page = browser.page
        await page.goto(f"{base}/status#token={TOKEN_READ}")
        await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
        assert await page.locator("#role").text_content() == "ops-reader (read)"
        assert await page.locator(ADAPTER_ROW).get_attribute("data-state") == "running"
        assert await page.locator("#adapters button").count() == 0

        await page.evaluate("sessionStorage.clear()")
        await page.goto(f"{base}/status#token=not-a-token")
        message = page.locator("#message")
        await expect(message).to_contain_text("401")  # waits, polling without eval (the page's CSP has none)
        assert "not accepted" in (await message.text_content() or "")
        assert await page.locator("#content").is_hidden()  # hidden for real, not only by attribute
        await page.screenshot(path=tmp_path / "status-page-refused.png")
        assert browser.page_errors == []
    assert not ticking_node.runners[0].paused
