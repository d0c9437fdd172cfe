"""The Dagster web UI in a real browser: headless Chromium (Debian's, driven by Playwright) on a
webserver bound to loopback. Opens the asset lineage, sees every group, launches a
materialisation and watches it succeed; the screenshots are kept as test artifacts."""

import os
import time

import pytest

from cbi_platform_tests.browser import ARTIFACTS, CHROMIUM, dagster_ui_page
from cbi_platform_tests.deploy.conftest import start_webserver, stop_server

GROUPS = ["features", "forecasts", "ingest_ags", "ingest_biofuel", "ingest_energy", "ingest_macro", "ingest_market",
          "ingest_news", "ingest_positioning", "models", "reports", "risk"]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
    home = tmp_path_factory.mktemp("ui_home")
    # runs launch straight from the webserver: no daemon runs in this test
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\nrun_coordinator:\n"
                                       "  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n")
    env = {**os.environ, "DAGSTER_HOME": str(home), "CBI_DATA_DIR": str(home / "data")}
    log = home / "webserver.log"
    process, url = start_webserver(env, log)
    yield url
    stop_server(process, log)


@pytest.fixture(scope="module")
def page(webserver):
    with dagster_ui_page(webserver) as tab:
        yield tab


def test_the_lineage_shows_every_group(page, webserver):
    page.goto(f"{webserver}/asset-groups", wait_until="networkidle")
    page.wait_for_timeout(1500)
    text = page.inner_text("body")
    assert [g for g in GROUPS if g not in text] == []
    page.screenshot(path=str(ARTIFACTS / "webui_lineage.png"))


def test_schedules_and_sensors_are_listed(page, webserver):
    page.goto(f"{webserver}/automation", wait_until="networkidle")
    page.wait_for_timeout(1500)
    text = page.inner_text("body")
    for name in ("fred_at_release", "weekly_retraining", "news_feeds_changed", "forecast_drift"):
        assert name in text
    page.screenshot(path=str(ARTIFACTS / "webui_automation.png"))


def test_launching_a_materialisation_from_the_ui_succeeds(page, webserver):
    page.goto(f"{webserver}/assets/features/futures_returns", wait_until="networkidle")
    page.wait_for_timeout(1000)
    page.locator("button:has-text('Materialize')").first.click()
    page.wait_for_timeout(1000)
    confirm = page.get_by_role("button", name="Confirm")  # "upstream not materialised yet" warning
    if confirm.count():
        confirm.click()
    deadline = time.monotonic() + 150
    status = ""
    while time.monotonic() < deadline:
        page.goto(f"{webserver}/runs", wait_until="networkidle")
        page.wait_for_timeout(1500)
        status = page.inner_text("body")
        if "Success" in status or "Failure" in status:
            break
    page.screenshot(path=str(ARTIFACTS / "webui_run.png"))
    assert "features / futures_returns" in status and "Success" in status, status[-600:]
