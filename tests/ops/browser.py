"""Pages in a real headless browser: Playwright for Python driving Debian's Chromium.

Playwright's own browser builds are never downloaded: ``launch(executable_path=...)`` starts the Chromium
that ``ops/scripts/install-ops-tools.sh`` installs from Debian. ``open_page`` yields a page whose
uncaught JavaScript errors are collected in ``page_errors`` (a test asserts there are none).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from playwright.async_api import Page, async_playwright

# Chromium on a machine without a network: no background fetches, no component updates, no sandbox (root).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


@dataclass
class BrowserPage:
    """A Playwright page plus what the page threw (``pageerror`` events), in order."""

    page: Page
    page_errors: list[str] = field(default_factory=list)


@asynccontextmanager
async def open_page(chromium: str, *, width: int = 1400, height: int = 1200) -> AsyncIterator[BrowserPage]:
    """A fresh browser (own profile) with one page of ``width`` x ``height``; closed on exit."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
        try:
            context = await browser.new_context(viewport={"width": width, "height": height})
            page = await context.new_page()
            page.set_default_timeout(15_000)
            result = BrowserPage(page)
            page.on("pageerror", lambda error: result.page_errors.append(str(error)))
            yield result
        finally:
            await browser.close()
