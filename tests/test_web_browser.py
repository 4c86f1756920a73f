"""`catalog serve` in a real browser: Debian's Chromium driven by Playwright (which downloads no browser).

Chromium is found on PATH (`chromium`, as Debian's package installs it; `.ci/run` installs it). Without
it these tests fail when the CI variable is set, and are skipped with the reason otherwise. Screenshots
are kept under pytest's temporary folder, and also in ./test-artifacts/ when CATALOG_TEST_ARTIFACTS is set.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.app import Catalog
from catalog.testing.webserver import ServeProcess

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # the dev extra brings it; in CI its absence is a failure, not a skip
    if os.environ.get("CI"):
        raise
    pytest.skip("playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

WITHIN = 1.5  # seconds: how close the player must be to the hit's start


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "Chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: the browser tests must run in CI")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path)  # Debian's: Playwright downloads none
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folders = [tmp_path_factory.mktemp("browser-artifacts")]
    if os.environ.get("CATALOG_TEST_ARTIFACTS"):
        folders.append(Path.cwd() / "test-artifacts")
        folders[-1].mkdir(exist_ok=True)
    return folders


def screenshot(page: Page, artifacts: list[Path], name: str) -> None:
    data = page.screenshot(full_page=True)
    for folder in artifacts:
        (folder / f"{name}.png").write_bytes(data)


@pytest.fixture(scope="module")
def served(synced_samples: Path) -> Iterator[str]:
    with ServeProcess(config=synced_samples) as server:
        yield server.url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 720, "height": 300})
    opened = context.new_page()
    yield opened
    context.close()


def spoken(config: Path, query: str) -> tuple[int, float]:
    """(item id, start) of the first spoken moment the library finds for `query`."""
    with Catalog.open(config) as cat:
        hit = next(hit for hit in cat.search(query) if hit.start is not None)
    assert hit.start is not None
    return hit.item_id, hit.start


def current_time(page: Page, player: str) -> Any:
    return page.evaluate("id => document.getElementById(id).currentTime", player)


def test_clicking_a_spoken_hit_plays_it_from_its_second(
    served: str, synced_samples: Path, page: Page, artifacts: list[Path]
) -> None:
    item_id, start = spoken(synced_samples, "armistice")
    assert item_id == 5
    page.goto(f"{served}/?q=armistice&mode=lexical")
    page.click("a.hit")
    page.wait_for_function(
        "([id, start, within]) => { const p = document.getElementById(id);"
        " return p.readyState >= 1 && Math.abs(p.currentTime - start) < within; }",
        arg=["player-5", start, WITHIN],
        timeout=10_000,
    )
    assert abs(current_time(page, "player-5") - start) < WITHIN
    assert page.url == f"{served}/?q=armistice&mode=lexical"  # played in the page, not followed
    screenshot(page, artifacts, "search-armistice")


def test_item_page_scrolls_the_hit_line_into_view_and_lines_seek(
    served: str, synced_samples: Path, page: Page, artifacts: list[Path]
) -> None:
    _item, start = spoken(synced_samples, "armistice")
    page.goto(f"{served}/item/5?t={int(start)}")
    hit = page.locator(".line.hit")
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text("Armistice, not peace, is the most likely outcome this year.")
    expect(hit).to_be_in_viewport()
    assert page.evaluate("window.scrollY") > 0  # the page is taller than the window: it was scrolled to the line
    page.wait_for_function("() => Math.abs(document.getElementById('player-5').currentTime - 13.26) < 1.5")
    screenshot(page, artifacts, "item-5-hit")
    line = page.locator(".line", has_text="This week we ask")
    seek = float(line.get_attribute("data-seek") or "nan")
    line.click()
    page.wait_for_function(
        "s => Math.abs(document.getElementById('player-5').currentTime - s) < 1.5", arg=seek, timeout=10_000
    )


def test_feed_text_runs_no_script_and_javascript_links_are_not_links(
    hostile_catalog: Path, page: Page, artifacts: list[Path]
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with ServeProcess(config=hostile_catalog) as server:
        for path, name in (
            ("/?q=pineapple", "hostile-search"),
            ("/item/1", "hostile-item"),
            ("/status", "hostile-status"),
        ):
            page.goto(server.url + path)
            page.wait_for_load_state("load")
            assert page.evaluate("typeof window.pwned") == "undefined"
            assert page.locator('a[href^="javascript:" i]').count() == 0
            screenshot(page, artifacts, name)
        page.goto(server.url + "/?q=pineapple")
        expect(page.locator("a.title")).to_have_text(
            '<script>window.pwned = "title"; alert(1)</script> Pineapple report'
        )
        expect(page.locator("span.source")).to_have_text("javascript:window.pwned='link';alert(2)")
    assert dialogs == []


def test_an_anchor_to_a_line_highlights_it_in_view(served: str, page: Page) -> None:
    page.goto(f"{served}/item/5#t13")
    line = page.locator(".line:target")
    expect(line).to_contain_text("Armistice, not peace, is the most likely outcome this year.")
    expect(line).to_be_in_viewport()
    assert page.evaluate("getComputedStyle(document.querySelector('.line:target')).backgroundColor") == (
        "rgb(255, 243, 191)"  # the hit colour of style.css
    )
