"""End to end in a real headless browser: Debian chromium driven by Playwright against ``nlpc ui`` and
``nlpc serve`` child processes on 127.0.0.1. Screenshots of each step go to artifacts/ui/ (git-ignored)."""

from __future__ import annotations

import shutil

import httpx
import pandas as pd
import pytest
from testkit.ui_servers import (
    API_KEY,
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    api_server,
    free_port,
    ui_server,
)

from nlp_classifier.defaults import EXAMPLE_TEXTS


@pytest.fixture(scope="module")
def servers(baseline_models_dir, tmp_path_factory):
    """(API URL, UI URL): both real processes, the API over a private copy of the session's baselines."""
    root = tmp_path_factory.mktemp("ui-browser")
    models = shutil.copytree(baseline_models_dir, root / "models")
    with api_server(models, root / "api.log") as api, ui_server(api, root / "ui.log") as ui:
        yield api, ui


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Debian chromium is not installed at {CHROMIUM}: `apt-get install chromium` (scripts/test.sh does it)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1500}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    yield tab
    context.close()


def shot(page, name: str) -> None:
    for table in page.get_by_test_id("stDataFrame").all():  # tables draw on a canvas, a moment after the page
        table.locator("canvas").first.wait_for()
    page.wait_for_timeout(1000)  # let the charts and tables finish drawing
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_analyse_switch_compare_batch_and_download_in_a_browser(page, servers, tmp_path):
    api, ui = servers
    page.goto(ui)
    page.get_by_role("heading", name="Analyse a text").wait_for()

    # analyse one text
    text = EXAMPLE_TEXTS[2]
    page.get_by_label("Text", exact=True).fill(text)
    page.get_by_role("button", name="Analyse", exact=True).click()
    page.get_by_role("heading", name="Toxicity breakdown").wait_for()
    expected = httpx.post(f"{api}/predict", json={"text": text}).json()
    assert page.get_by_test_id("stMetricValue").first.inner_text() == expected["predicted_label"]
    toxicity = httpx.post(f"{api}/predict/toxicity", json={"text": text}).json()
    page.get_by_text(f"flagged {', '.join(toxicity['flagged_categories'])}").wait_for()
    page.get_by_test_id("stVegaLiteChart").nth(1).wait_for()  # the probability and the toxicity charts
    shot(page, "ui-main")

    # switch the API's model with the key
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.locator("input[aria-label='API key']").fill(API_KEY)
    sidebar.locator("input[aria-label='API key']").press("Enter")
    sidebar.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="linear_svm", exact=True).click()
    sidebar.get_by_role("button", name="Make 'linear_svm' the API's current model").click()
    sidebar.get_by_text("The API's current model is now 'linear_svm'.").wait_for()
    assert httpx.get(f"{api}/models").json()["current_model"] == "linear_svm"
    shot(page, "switched")

    # compare the models side by side
    page.get_by_role("link", name="Compare").click()
    page.get_by_role("heading", name="Compare models").wait_for()
    page.get_by_role("button", name="Compare", exact=True).click()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    assert page.get_by_test_id("stAlert").count() == 0
    shot(page, "compare")

    # score a CSV whose text column is not called 'text', then download the result
    upload = tmp_path / "comments.csv"
    rows = ["have a lovely day", "you are a stupid idiot", "thanks, see you tomorrow"]
    pd.DataFrame({"id": [1, 2, 3], "body": rows}).to_csv(upload, index=False)
    page.get_by_role("link", name="Batch").click()
    page.get_by_role("heading", name="Score a file").wait_for()
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_text("comments.csv has no column named 'text'").wait_for()
    page.get_by_test_id("stMain").get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="body", exact=True).click()
    page.get_by_role("button", name="Score 3 rows").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the scored file").click()
    assert download.value.suggested_filename == "comments.scored.csv"
    scored = pd.read_csv(download.value.path())
    answers = httpx.post(f"{api}/predict", json={"texts": rows, "model": "linear_svm"}).json()["results"]
    assert list(scored["body"]) == rows and list(scored["id"]) == [1, 2, 3]
    assert list(scored["predicted_label"]) == [r["predicted_label"] for r in answers]
    assert list(scored["score_Hate Speech"]) == pytest.approx([r["scores"][1]["score"] for r in answers])
    shot(page, "batch")

    # the analysed text is in the session's history
    page.get_by_role("link", name="History").click()
    page.get_by_text("1 text analysed in this session").wait_for()
    shot(page, "history")
    assert "Traceback" not in page.content()


def test_a_browser_user_sees_a_clear_message_when_the_api_is_down(page, servers):
    _, ui = servers
    dead = f"http://127.0.0.1:{free_port()}"
    page.goto(ui)
    page.get_by_role("heading", name="Analyse a text").wait_for()
    url_box = page.get_by_test_id("stSidebar").locator("input[aria-label='API URL']")
    url_box.fill(dead)
    url_box.press("Enter")
    page.get_by_text(f"Cannot reach the API at {dead}").first.wait_for()
    page.get_by_text("Not connected to the API").wait_for()
    page.get_by_label("Text", exact=True).fill("hello")
    page.get_by_role("button", name="Analyse", exact=True).click()
    page.wait_for_timeout(1000)
    assert page.get_by_test_id("stMetricValue").count() == 0
    shot(page, "api-down")
    content = page.content()
    assert "Traceback" not in content and "ConnectError(" not in content
