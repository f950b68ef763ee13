"""End to end in a real headless browser: Debian chromium driven by Playwright against ``nlpc ui`` and
``nlpc serve`` child processes on 127.0.0.1. Screenshots of each step go to artifacts/ui/ (git-ignored)."""

from __future__ import annotations

import fcntl
import shutil
import time

import httpx
import pandas as pd
import pytest
from testkit.tiny_transformers import make_tiny_model
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
from nlp_classifier.training.background_status import LOG_NAME, RUNNING, SUCCEEDED, format_progress, write_status


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


def test_the_sidebar_follows_a_background_training_until_the_api_switches(page, hate_models_dir, tmp_path):
    """Without a reload: the progress of the training ``make run`` started moves on in the sidebar, and when the API
    switches models the page follows it."""
    models = shutil.copytree(hate_models_dir, tmp_path / "models")
    log = models / LOG_NAME
    log.write_text(format_progress(1200, 5625, 0.21, {"loss": 0.2}, 20 * 60, 62 * 60 + 5) + "\n")
    write_status(models, new_run=True, state=RUNNING, model="minilm_hate", command="make minilm", log=str(log))
    with (
        log.open("a") as training,
        api_server(models, tmp_path / "api.log", default_model=None) as api,
        ui_server(api, tmp_path / "ui.log", "--refresh-seconds", "1") as ui,
    ):
        fcntl.flock(training, fcntl.LOCK_EX)  # held the way a running background training holds it
        page.goto(ui)
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text("step 1,200 of 5,625, about 62 min of training left", exact=False).wait_for()
        assert httpx.get(f"{api}/models").json()["current_model"] == "logistic_regression_hate_char"

        training.write(format_progress(2400, 5625, 0.43, {"loss": 0.2}, 40 * 60, 54 * 60) + "\n")
        training.flush()
        sidebar.get_by_text("step 2,400 of 5,625, about 54 min of training left", exact=False).wait_for()
        shot(page, "training-progress")

        # the last step: the model is saved into the folder, then tested, exported and calibrated for a while
        training.write(format_progress(5625, 5625, 1.0, {"loss": 0.1}, 57 * 60, 0) + "\n")
        training.flush()
        make_tiny_model(models, "minilm_hate", "hate")
        for _ in range(100):  # the API re-reads the folder's cards every few seconds
            if "minilm_hate" in httpx.get(f"{api}/models").json()["models"]:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the API never listed the saved minilm_hate")
        sidebar.get_by_text("has finished training (5,625 steps) and is being tested", exact=False).wait_for()

        # the training ends and the API switches (here to another model of the folder, as `nlpc run` would)
        switched = httpx.post(
            f"{api}/models/switch",
            json={"model_name": "logistic_regression", "if_current": "logistic_regression_hate_char"},
            headers={"X-API-Key": API_KEY},
        )
        assert switched.status_code == 200
        write_status(models, state=SUCCEEDED, exit_status=0)
        fcntl.flock(training, fcntl.LOCK_UN)
        sidebar.get_by_text(
            "The API's current model is now 'logistic_regression' (it was 'logistic_regression_hate_char')"
        ).wait_for()
        sidebar.get_by_text("logistic_regression · tfidf · task davidson").wait_for()  # the picked model's details
        assert "the API's current model" in sidebar.inner_text()
        assert sidebar.get_by_text("is the TF-IDF fallback", exact=False).count() == 0
        shot(page, "training-switched")


# Markdown and Streamlit's own codes in the texts: the Review page must show each exactly as typed.
REVIEW_TEXTS = {
    "post-1": "have a *lovely* weekend, everyone :)",
    "post-2": "you are a stupid idiot & everyone hates you #loser",
    "post-3": "thanks for the [quick](http://example.com) reply - it cost $5, not $10 :smile:",
}


@pytest.fixture(scope="module")
def review_servers(tmp_path_factory):
    """(API URL, UI URL, reviewer key): the API records into its own SQLite database, with a reviewer key made the
    way `nlpc db add-key` makes it and three texts a client asked to have reviewed."""
    from testkit.models import train_small_baseline

    from nlp_classifier.workflow.db import Database
    from nlp_classifier.workflow.keys import add_api_key

    root = tmp_path_factory.mktemp("ui-review")
    train_small_baseline("davidson", root / "models", root)
    url = f"sqlite:///{root / 'nlpc.db'}"
    db = Database(url)
    db.upgrade()
    with db.session() as session:
        key, _ = add_api_key(session, "reviewer", "rita")
    db.dispose()
    with api_server(root / "models", root / "api.log", database_url=url) as api, ui_server(api, root / "ui.log") as ui:
        body = {"texts": list(REVIEW_TEXTS.values()), "external_ids": list(REVIEW_TEXTS), "review": True}
        assert httpx.post(f"{api}/predict", json=body).status_code == 200
        for _ in range(100):  # predictions are recorded by a background writer
            if len(httpx.get(f"{api}/v1/reviews", headers={"X-API-Key": key}).json()["reviews"]) == 3:
                break
            time.sleep(0.1)
        yield api, ui, key


def test_review_by_button_and_keyboard_undo_and_insights_in_a_browser(page, review_servers):
    api, ui, key = review_servers
    headers = {"X-API-Key": key}

    def review_of(external_id: str) -> dict:
        reviews = httpx.get(f"{api}/v1/reviews", headers=headers, params={"limit": 10}).json()["reviews"]
        return next(r for r in reviews if r["item"]["external_id"] == external_id)

    def shown(other_than: str | None = None) -> str:
        """The external id of the text the Review page shows (once it is not ``other_than``'s any more)."""
        box = page.locator(".st-key-review_text")
        seen = ""
        for _ in range(100):
            seen = box.inner_text().strip() if box.count() else ""
            found = [eid for eid, t in REVIEW_TEXTS.items() if t == seen and eid != other_than]
            if found:
                return found[0]
            page.wait_for_timeout(200)
        raise AssertionError(f"the Review page shows {seen!r}")

    def press(key: str) -> None:
        """A key pressed on the page (not in the note box, where keys are typing)."""
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.keyboard.press(key)

    def decide_by_key(number: int, external_id: str) -> None:
        """Press a decision's number key once its button is on the page; press again only while the item is still
        undecided (a key pressed while Streamlit is still drawing the page can be missed)."""
        page.get_by_role("button", name=f"{number} · {labels[number - 1]}").wait_for()
        for _ in range(3):
            press(str(number))
            for _ in range(50):
                if review_of(external_id)["state"] == "decided":
                    return
                page.wait_for_timeout(200)
        raise AssertionError(f"key {number} did not decide {external_id}")

    def metric(name: str) -> str:
        return page.get_by_test_id("stMetric").filter(has_text=name).get_by_test_id("stMetricValue").inner_text()

    page.goto(ui)
    page.get_by_role("heading", name="Analyse a text").wait_for()
    key_box = page.get_by_test_id("stSidebar").locator("input[aria-label='API key']")
    key_box.fill(key)
    key_box.press("Enter")
    page.get_by_role("link", name="Review").click()
    page.get_by_role("heading", name="Review").wait_for()

    # the most uncertain pending item is claimed for rita and shown with its scores
    first = shown()
    before = review_of(first)
    assert (before["state"], before["claimed_by"]) == ("claimed", "rita")
    labels = before["labels"]
    assert labels == ["Regular Speech", "Hate Speech"]
    predicted = httpx.post(f"{api}/predict", json={"text": REVIEW_TEXTS[first]}).json()
    assert before["scores"] == pytest.approx({s["label"]: s["score"] for s in predicted["scores"]})
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    page.get_by_text(f"Review {before['id']} · model {before['model']}").wait_for()
    shot(page, "review")

    # decide it with a button, with a note
    page.get_by_label("Note (optional)").fill("checked by hand")
    page.get_by_label("Note (optional)").press("Enter")
    page.get_by_role("button", name=f"2 · {labels[1]}").click()
    page.get_by_text(f"Review {before['id']} decided: {labels[1]}.").wait_for()
    decided = review_of(first)
    assert (decided["state"], decided["decided_label"], decided["reviewer"], decided["note"]) == (
        "decided",
        labels[1],
        "rita",
        "checked by hand",
    )

    # the next item, decided with the keyboard
    second = shown(other_than=first)
    decide_by_key(1, second)
    second_id = review_of(second)["id"]
    page.get_by_text(f"Review {second_id} decided: {labels[0]}.").wait_for()
    assert (review_of(second)["state"], review_of(second)["decided_label"]) == ("decided", labels[0])

    # U undoes the last decision: the item is back, claimed again, and shown
    press("u")
    page.get_by_text(f"Decision on review {second_id} undone").wait_for()
    undone = review_of(second)
    assert (undone["state"], undone["decided_label"], undone["claimed_by"]) == ("claimed", None, "rita")
    assert shown() == second
    shot(page, "review-undone")

    # Insights: one decision so far, from the API's own statistics
    page.get_by_role("link", name="Insights").click()
    page.get_by_role("heading", name="Agreement over time").wait_for()
    stats = httpx.get(f"{api}/v1/reviews/stats", headers=headers).json()
    # the undone item and the third one (claimed when it was shown after the second decision) are held by rita
    assert stats["queue"] == {"pending": 0, "claimed": 2, "decided": 1}
    assert (metric("Pending"), metric("Claimed"), metric("Decided")) == ("0", "2", "1")
    agreement = stats["overall"]["agreement"]
    assert metric("Agreement") == f"{agreement:.1%}"
    shot(page, "insights-1")

    # decide the undone item again (by key), and the statistics follow
    page.get_by_role("link", name="Review").click()
    assert shown() == second
    decide_by_key(2, second)
    page.get_by_text(f"Review {second_id} decided: {labels[1]}.").wait_for()
    page.get_by_role("link", name="Insights").click()
    page.get_by_role("heading", name="Agreement over time").wait_for()
    stats = httpx.get(f"{api}/v1/reviews/stats", headers=headers).json()
    assert stats["queue"]["decided"] == 2
    page.get_by_test_id("stMetric").filter(has_text="Decided").get_by_text("2").wait_for()
    assert metric("Agreement") == f"{stats['overall']['agreement']:.1%}"
    overturned = sum(o["count"] for o in stats["overturned"])
    assert overturned == 2 - stats["overall"]["agreed"]
    page.get_by_test_id("stVegaLiteChart").nth(2 if overturned else 1).wait_for()
    shot(page, "insights-2")
    assert "Traceback" not in page.content()
