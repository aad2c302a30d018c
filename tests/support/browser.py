"""A real browser for the public pages: Debian's Chromium driven by
Playwright (the pip package brings the driver, never a browser of its own).

Missing Chromium: the tests skip with how to get it, and fail under CI
(`.ci/run` installs the package there; tests/support/tools.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, async_playwright

from tests.support.tools import required_tool

# Headless, and nothing that reaches outside the machine: without the
# background-networking flags Chromium keeps dialling Google's hosts, which a
# closed network refuses.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    mobile: bool


# A cheap Android phone and an office desktop.
PHONE = Viewport("phone", 360, 740, mobile=True)
DESKTOP = Viewport("desktop", 1366, 768, mobile=False)
VIEWPORTS = (PHONE, DESKTOP)


def chromium_path() -> str:
    return required_tool(
        "chromium",
        "Debian's package chromium: apt-get install chromium",
        Path("/usr/bin/chromium"),
    )


@asynccontextmanager
async def chromium(executable: str) -> AsyncIterator[Browser]:
    """One headless Chromium for the test session."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, args=FLAGS, timeout=60_000
        )
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def opened(
    browser: Browser, viewport: Viewport, *, locale: str = "id-ID"
) -> AsyncIterator[BrowserContext]:
    """A fresh context (no cookies) the size of `viewport`, JavaScript off:
    every public page must work without it."""
    context = await browser.new_context(
        viewport={"width": viewport.width, "height": viewport.height},
        is_mobile=viewport.mobile,
        has_touch=viewport.mobile,
        device_scale_factor=2 if viewport.mobile else 1,
        java_script_enabled=False,
        locale=locale,
    )
    context.set_default_timeout(30_000)
    try:
        yield context
    finally:
        await context.close()
