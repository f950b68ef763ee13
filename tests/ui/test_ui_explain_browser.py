"""The Analyse page's word highlighting in a real headless browser (Debian chromium driven by Playwright)
against ``nlpc ui`` and ``nlpc serve`` child processes: the coloured spans are the words of the API's
explanation, red (towards) and green (against) as the API scored them."""

from __future__ import annotations

import httpx
import pytest
from testkit.models import train_small_baseline
from testkit.ui_servers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, api_server, ui_server

TEXT = "you are a stupid worthless idiot 😡, go away &amp; never come back"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """(API URL, UI URL) over a small binary Davidson baseline (the current model) and a Jigsaw one."""
    root = tmp_path_factory.mktemp("ui-explain")
    models = root / "models"
    models.mkdir()
    for task in ("davidson", "jigsaw"):
        train_small_baseline(task, models, root)
    with api_server(models, root / "api.log") as api, ui_server(api, root / "ui.log") as ui:
        yield api, ui


@pytest.fixture(scope="module")
def page(servers):
    if not CHROMIUM.is_file():
        pytest.fail(f"Debian chromium is not installed at {CHROMIUM}: `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tab = browser.new_context(viewport={"width": 1400, "height": 1500}).new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        yield tab
        browser.close()


def test_analyse_highlights_the_explained_words(page, servers):
    api, ui = servers
    page.goto(ui)
    page.get_by_role("heading", name="Analyse a text").wait_for()
    page.get_by_label("Text", exact=True).fill(TEXT)
    page.get_by_role("button", name="Analyse", exact=True).click()
    page.get_by_role("heading", name="Why").wait_for()
    spans = page.locator("span.nlpc-word")
    spans.first.wait_for()
    expected = httpx.post(f"{api}/predict", json={"text": TEXT, "explain": True}).json()["explanation"]
    shown = [(s.inner_text(), s.get_attribute("class"), s.get_attribute("title")) for s in spans.all()]
    assert [word for word, _, _ in shown] == [w["word"] for w in expected["words"]]
    for (_, classes, title), word in zip(shown, expected["words"]):
        kind = "towards" if word["score"] > 0 else "against" if word["score"] < 0 else "neutral"
        assert classes.split() == ["nlpc-word", kind]
        assert title == f"{word['score']:+.4f}"
    top = max(expected["words"], key=lambda w: w["score"])
    assert page.locator("span.nlpc-word.towards", has_text=top["word"]).count() >= 1
    assert page.locator("div.nlpc-explanation").inner_text().strip() == TEXT
    page.get_by_text(f"Words in red push towards {expected['label']}").wait_for()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "explain.png"))

    # switched off: the same analysis without highlighting
    toggle = page.get_by_test_id("stCheckbox").filter(has_text="Explain")
    assert toggle.locator("input").is_checked()
    toggle.locator("label").first.click()
    assert not toggle.locator("input").is_checked()
    page.get_by_role("button", name="Analyse", exact=True).click()
    page.get_by_role("heading", name="Why").wait_for(state="detached")
    page.wait_for_function("() => document.querySelectorAll('span.nlpc-word').length === 0")
    page.get_by_role("heading", name="Toxicity breakdown").first.wait_for()
    assert page.get_by_role("heading", name="Why").count() == 0
