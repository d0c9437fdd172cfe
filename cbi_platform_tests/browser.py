"""Headless Chromium (Debian's, installed by .ci/run) driven by Playwright, for the tests that
look at what a person would see: the Dagster UI and the forecast report."""

import contextlib
import os
from pathlib import Path

from cbi_platform.lib.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(os.environ.get("CBI_TEST_ARTIFACTS", PROJECT_ROOT / "data" / "test-artifacts"))


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 900):
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


@contextlib.contextmanager
def dagster_ui_page(url: str):
    """A page on the Dagster UI at `url`, on the asset graph, without the first-visit "Join the
    community" dialog. The dialog's Skip button sends the `setNuxSeen` mutation; sending it before
    the page opens keeps the dialog away however late it would render (clicking Skip after a fixed
    wait missed it on a slow machine, and its backdrop then swallowed the test's clicks)."""
    import httpx

    response = httpx.post(f"{url}/graphql", json={"query": "mutation { setNuxSeen }"}, timeout=30)
    response.raise_for_status()
    seen = response.json()
    if (seen.get("data") or {}).get("setNuxSeen") is not True:
        raise RuntimeError(f"the Dagster UI at {url} did not record the community dialog as seen: {seen}")
    with browser_page() as page:
        page.goto(f"{url}/asset-groups", wait_until="networkidle")
        yield page
