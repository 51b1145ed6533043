"""The playground in headless Chromium (the system browser, driven by Playwright): type a
query with a typo, see the underline and the "did you mean", evaluate against a profile, and
save a screenshot as a test artifact."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components import component_missing

from .support import EXAMPLES, SERVER_KEY, Served, serve

pytestmark = [pytest.mark.service, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("playground")
    shutil.copy(EXAMPLES / "audiences.yaml", tmp / "audiences.yaml")
    with serve(tmp, "--audiences", "audiences.yaml") as running:
        yield running


@pytest.fixture(scope="module")
def system_chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        component_missing(f"no system Chromium at {CHROMIUM} (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def test_typo_underlined_with_did_you_mean_then_evaluated(
    served: Served, system_chromium: Any, tmp_path: Path
) -> None:
    page = system_chromium.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(10_000)
    page.goto(served.url + "/playground")
    page.fill("#key", SERVER_KEY)
    page.click("#query")
    page.keyboard.type('user\'s emial ends with "@acme.com"')

    underline = page.locator('#highlight .diag[data-code="Q202"]')
    underline.wait_for()
    assert underline.inner_text() == "emial"
    assert "did you mean email?" in page.locator("#diagnostics li").first.inner_text()
    box = underline.bounding_box()
    assert box is not None and box["width"] > 0
    # the underline sits under the typed word: same place as the text in the editor
    editor = page.locator("#query").bounding_box()
    assert editor is not None and editor["x"] < box["x"] < editor["x"] + editor["width"]
    decoration = underline.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "underline" in decoration

    page.click("#diagnostics button.fix")  # "use email"
    page.wait_for_function(
        "() => document.querySelector('#query').value.startsWith(\"user's email\")")
    page.locator("#diagnostics li").first.wait_for(state="detached")

    page.fill("#variables", '{"user": {"email": "ada@acme.com", "plan": "pro"}}')
    page.click("#evaluate")
    page.wait_for_function("() => document.querySelector('#decision').className === 'match'")
    assert page.locator("#decision").inner_text() == "match"
    assert "ada@acme.com" in page.locator("#explanation").inner_text()

    # completion: after `user's ` the attributes are offered
    page.fill("#query", "user's em")
    page.click("#query")
    page.keyboard.press("End")
    page.locator("#completions button", has_text="email").first.wait_for()

    shot = tmp_path / "playground.png"
    page.fill("#query", 'user\'s emial ends with "@acme.com"')
    page.locator('#highlight .diag[data-code="Q202"]').wait_for()
    page.screenshot(path=str(shot), full_page=True)
    print(f"playground screenshot: {shot}")
    assert shot.stat().st_size > 10_000
    page.close()
