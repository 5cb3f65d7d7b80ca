"""Log into the Airflow UI in headless Chromium, open the sync metrics page from the navigation, check it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM, PASSWORD, ApiServer
from tests.metrics import world
from tests.metrics.home import ROOT

# The README's screenshot; refreshed only on request, so a test run leaves the work tree clean.
SCREENSHOT = ROOT / "docs" / "images" / "metrics-page.png"
UPDATE_SCREENSHOT = os.environ.get("DSG_UPDATE_SCREENSHOT") == "1"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: scripts/install_browser.sh"),
]


@pytest.fixture
def browser_page() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1440, "height": 1400})
        finally:
            browser.close()


def test_metrics_page_from_the_airflow_navigation(
    api_server: ApiServer, browser_page: Any, tmp_path: Path
) -> None:
    page = browser_page
    page.goto(f"{api_server.url}/")
    page.wait_for_url("**/auth/login**", timeout=30_000)  # not logged in: the UI sends us to log in
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/auth/login" not in url, timeout=30_000)

    open_from_navigation(page)
    frame = page.frame_locator("iframe").first
    runs = frame.locator("[data-figure=runs]")
    runs.wait_for(timeout=30_000)

    # The page's default window is the last 24 hours; no seeded run lies near its edge.
    expected = world.expected(world.build(api_server.seeded_at), api_server.seeded_at - timedelta(hours=24))
    assert runs.inner_text() == str(sum(sum(e["runs"].values()) for e in expected.values()))
    assert frame.locator("[data-figure=assets-synced]").inner_text() == str(
        sum(e["assets_synced"] for e in expected.values())
    )
    assert frame.locator("[data-figure=late-rules]").inner_text() == "1"
    waiting = [
        job
        for rule in world.build(api_server.seeded_at)
        for run in rule.runs
        for job in run.jobs
        if job.state in ("scheduled", "queued")
    ]
    assert frame.locator("[data-figure=waiting-jobs]").inner_text() == str(len(waiting))
    pool = frame.locator("#pools tr[data-pool=datasphere_sync]")
    assert pool.locator("[data-slot=used]").inner_text() == str(world.POOL_SLOTS)  # running + queued
    assert pool.locator("[data-slot=total]").inner_text() == str(world.POOL_SLOTS)
    assert frame.locator("#freshness tr[data-rule=finance] .badge").inner_text() == "late"
    assert frame.locator("#freshness tr[data-rule=sales] .badge").inner_text() == "ok"
    log_link = frame.locator("#failures a").first
    assert log_link.get_attribute("href") == (
        "/dags/datasphere_sync__sales/runs/s2/tasks/sync_stage_0/mapped/0?try_number=2"
    )
    body = frame.locator("body").inner_text()
    for secret in world.SECRETS:
        assert secret not in body

    screenshot = SCREENSHOT if UPDATE_SCREENSHOT else tmp_path / SCREENSHOT.name
    page.screenshot(path=str(screenshot), full_page=False)
    assert screenshot.stat().st_size > 10_000  # a rendered page, not a blank frame


def open_from_navigation(page: Any) -> None:
    """Click "Sync metrics" in the UI's navigation (it sits in the Browse menu)."""
    entry = page.get_by_role("menuitem", name="Sync metrics")
    if not entry.count():
        page.get_by_role("button", name="Browse").click()
    entry.first.click()
    page.wait_for_url("**/plugin/datasphere-sync**", timeout=30_000)
