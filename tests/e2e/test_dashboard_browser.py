"""The forecast page in a real browser: Debian's headless Chromium, driven by Playwright, opens
GET /series/{id}/dashboard on `lead-ai serve` with the API key. The chart is drawn from the series'
points, the page asks for nothing but itself, its Content-Security-Policy blocks nothing it needs, and a
screenshot is saved (the test's output directory; LEAD_AI_SCREENSHOT=path saves a copy there too)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import SERIES, Served

CHROMIUM = Path(os.environ.get("LEAD_AI_CHROMIUM", "/usr/bin/chromium"))
# What works on these machines (see ../shared/FINDINGS.md): no sandbox as root, no GPU, and none of
# Chromium's own background connections (the closed network refuses them, many at a time).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _coordinates(d: str) -> int:
    return len(re.findall(r"[ML]", d))


@pytest.fixture(scope="module")
def browser() -> Any:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make browser` installs Debian's chromium (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def test_the_forecast_page_renders_its_chart_offline_under_its_csp(
    trained: Served, browser: Any, tmp_path: Path
) -> None:
    # Given a trained series on `lead-ai serve`, and a browser that sends the API key and records every
    # request and console message of the page
    url = f"{trained.base_url}/series/{SERIES}/dashboard"
    context = browser.new_context(
        extra_http_headers={"x-api-key": trained.api_key}, viewport={"width": 1100, "height": 900}
    )
    page = context.new_page()
    requests: list[str] = []
    console: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    # When it opens the page
    response = page.goto(url, wait_until="networkidle")
    # Then the page is HTML under a strict policy: nothing may be fetched, its one stylesheet is pinned by hash
    assert response is not None and response.status == 200
    headers = response.headers
    assert headers["content-type"].startswith("text/html")
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy and "style-src 'sha256-" in policy
    # and it asked for nothing but itself, and nothing was blocked or failed
    assert requests == [url]
    assert [line for line in console if line.startswith(("error", "pageerror"))] == []
    # and the chart is drawn from the series' points: 14 days of hourly observations, 168 forecast hours
    assert page.title() == f"Lead forecast: {SERIES}"
    observed = page.locator("svg path.observed")
    forecast = page.locator("svg path.forecast")
    assert (
        _coordinates(observed.get_attribute("d") or "")
        == int(observed.get_attribute("data-points") or 0)
        == 14 * 24
    )
    assert _coordinates(forecast.get_attribute("d") or "") == 168
    assert len((page.locator("svg polygon.band").get_attribute("points") or "").split()) == 2 * 168
    assert page.locator("svg rect.agents").count() == 168
    # rendered with a size (the stylesheet applied), with a title, a description and axis labels in words
    box = page.locator("figure svg").first.bounding_box()
    assert box is not None and box["width"] > 800 and box["height"] > 250
    assert page.locator("svg[role=img] title#chart-title").count() == 1
    chart_text = page.locator("figure svg").first.text_content() or ""
    assert "Leads per 1h" in chart_text and "Date and time (UTC)" in chart_text
    # and the numbers behind it are tables: 168 forecast rows, 336 observed rows
    assert page.locator("details table").nth(0).locator("tbody tr").count() == 168
    assert page.locator("details table").nth(1).locator("tbody tr").count() == 336
    # A picture for people: the test's output, and where LEAD_AI_SCREENSHOT says
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    if os.environ.get("LEAD_AI_SCREENSHOT"):
        shutil.copy(shot, os.environ["LEAD_AI_SCREENSHOT"])
    context.close()


def test_the_page_answers_errors_as_json_like_every_route(served: Served) -> None:
    # Given a series that does not exist, and an id that breaks the rules
    status, body = served.json("GET", "/series/nobody-here/dashboard")
    assert status == 404 and body["error"] in {"model_not_found", "series_not_found"}
    status, body = served.json("GET", "/series/bad%20id/dashboard")
    assert status == 400 and body["field"] == "series_id"
