"""GraphiQL from the project's own files, in a real browser (issue 13): headless Chromium (the Debian
package, through Playwright) opens the real server's /graphql, GraphiQL renders and runs
`{ __typename }`, no request leaves the server's own origin, and the page's Content-Security-Policy
reports no violation. Skipped, saying why, without Playwright or Chromium (CI installs them)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.app.support import ROOT
from tests.e2e.test_uvicorn import served
from tests.support import orm

if TYPE_CHECKING:
    from tests.support import TestDatabase


async def test_graphiql_renders_and_runs_a_query_from_local_files_only(
    fresh_database: TestDatabase, tmp_path: Path, browser: Any
) -> None:
    async with orm(fresh_database.url, migrate_first=True):
        pass
    async with served(fresh_database.url, tmp_path / "server.log", PYTHONPATH=str(ROOT)) as http:
        origin = str(http.base_url).rstrip("/")
        page = await browser.new_page()
        requested: list[str] = []
        console: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.on("console", lambda message: console.append(message.text))
        opened = await page.goto(f"{origin}/graphql")
        assert opened is not None and opened.status == 200
        assert "script-src 'self'" in (await opened.all_headers())["content-security-policy"]
        await page.wait_for_selector(".graphiql-container", timeout=20_000)
        await page.click(".graphiql-execute-button")
        await page.wait_for_function(
            "() => document.querySelector('.result-window')"
            " && document.querySelector('.result-window').innerText.includes('Query')",
            timeout=20_000,
        )
        result = await page.inner_text(".result-window")
        assert '"__typename": "Query"' in result, result
        # Tabs and history (headers: bearer tokens) live in the tab's memory, never in localStorage.
        assert await page.evaluate("() => window.localStorage.length") == 0
    outside = [url for url in requested if not (url.startswith(origin) or url.startswith("data:"))]
    assert not outside, outside
    assert any(url.endswith("/static/vendor/graphiql/graphiql.min.js") for url in requested), requested
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m], console
