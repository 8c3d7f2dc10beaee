"""The end-to-end tests share the app tests' empty-database and SMTP fixtures, and the browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.app.conftest import fresh_database, smtp  # noqa: F401


def chromium_binary() -> str | None:
    """`TESSERA_TEST_CHROMIUM`, else `chromium` on PATH (Debian's /usr/bin/chromium); Playwright never
    downloads a browser of its own."""
    configured = os.environ.get("TESSERA_TEST_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium through Playwright; the test is skipped, naming what is missing, without
    Playwright or a Chromium binary (CI installs the Debian package: .ci/run)."""
    async_api = pytest.importorskip(
        "playwright.async_api", reason="Playwright for Python is not installed (pip install -e '.[dev]')"
    )
    executable = chromium_binary()
    if executable is None:
        where = os.environ.get("TESSERA_TEST_CHROMIUM") or "no `chromium` on PATH"
        pytest.skip(f"no Chromium binary ({where}): apt-get install -y chromium, or set TESSERA_TEST_CHROMIUM")
    async with async_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            await launched.close()
