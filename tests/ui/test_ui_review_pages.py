"""The Review and Insights pages, run by Streamlit's AppTest against a live ``nlpc serve`` that records into its own
SQLite database: what they show must be what the review API answers (scores, states, statistics), and missing
or wrong keys, an empty queue and items stored without text get a message."""

from __future__ import annotations

import html
import re
import time

import httpx
import pytest
from streamlit.testing.v1 import AppTest
from testkit.models import train_small_baseline
from testkit.streamlit_charts import chart_layers
from testkit.ui_servers import API_KEY, api_server

from nlp_classifier.explain.html import word_class
from nlp_classifier.ui import APP_PATH
from nlp_classifier.workflow.db import Database
from nlp_classifier.workflow.keys import add_api_key
from nlp_classifier.workflow.records import PredictionRecord, record_predictions

TEXTS = {"r-1": "have a lovely weekend everyone", "r-2": "you are a stupid idiot and everyone hates you"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(API URL, {name: key}, database URL): the API over a small Davidson baseline, recording into a SQLite file
    that already holds two reviewers' keys and a client's."""
    root = tmp_path_factory.mktemp("ui-review-pages")
    train_small_baseline("davidson", root / "models", root)
    url = f"sqlite:///{root / 'nlpc.db'}"
    db = Database(url)
    db.upgrade()
    with db.session() as session:
        keys = {
            name: add_api_key(session, role, name)[0]
            for name, role in [("ann", "reviewer"), ("bob", "reviewer"), ("cy", "client")]
        }
    db.dispose()
    with api_server(root / "models", root / "api.log", database_url=url) as api:
        yield api, keys, url


def page(api: str, view: str, key: str | None) -> AppTest:
    at = AppTest.from_file(str(APP_PATH), default_timeout=60)
    at.session_state["api_url"] = api
    at.session_state["api_key"] = key or ""
    at.switch_page(f"views/{view}.py")
    return at.run()


def reviews(api: str, key: str) -> list[dict]:
    return httpx.get(f"{api}/v1/reviews", headers={"X-API-Key": key}, params={"limit": 100}).json()["reviews"]


def texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


def test_the_pages_ask_for_a_reviewer_key(served):
    api, keys, _ = served
    for view in ("review", "insights"):
        at = page(api, view, None)
        assert not at.exception and "a reviewer API key: enter it in the sidebar" in texts(at.info)
        at = page(api, view, keys["cy"])
        assert not at.exception
        message = texts(at.error)
        assert "(403)" in message and "needs the reviewer role" in message and "'cy' has the client role" in message


def test_review_shows_the_api_answer_decides_and_undoes(served):
    api, keys, _ = served
    body = {"texts": list(TEXTS.values()), "external_ids": list(TEXTS), "review": True}
    assert httpx.post(f"{api}/predict", json=body).status_code == 200
    deadline = time.monotonic() + 30
    while len([r for r in reviews(api, keys["ann"]) if r["item"]["external_id"] in TEXTS]) < 2:
        assert time.monotonic() < deadline, "the requested reviews were not recorded"
        time.sleep(0.1)

    at = page(api, "review", keys["ann"])
    assert not at.exception
    shown = {r["id"]: r for r in reviews(api, keys["ann"])}
    (held,) = [r for r in shown.values() if r["state"] == "claimed"]  # the page claimed exactly one, for ann
    assert held["claimed_by"] == "ann" and held["item"]["text"] in texts(at.markdown)
    assert at.metric[0].value == held["predicted_label"]
    # the words that made the score, coloured: the spans are the API's explanation of this review, in order
    explained = httpx.get(f"{api}/v1/reviews/{held['id']}/explanation", headers={"X-API-Key": keys["ann"]}).json()
    assert explained["label"] == held["predicted_label"]
    (highlight,) = [m for m in at.markdown if 'class="nlpc-explanation"' in str(m.value)]
    spans = re.findall(r'class="nlpc-word (towards|against|neutral)"[^>]*>([^<]*)</span>', str(highlight.value))
    assert [word for _, word in spans] == [html.escape(w["word"]) for w in explained["words"]]
    assert [kind for kind, _ in spans] == [word_class(w["score"]) for w in explained["words"]]
    assert f"Why the model said **{held['predicted_label']}**" in texts(at.caption)
    assert sum(held["scores"].values()) == pytest.approx(1.0) and set(held["scores"]) == set(held["labels"])
    (chart,) = [e for e in at.main if getattr(e, "type", None) == "vega_lite_chart"]
    bars = chart_layers(chart)[0]
    assert dict(zip(bars["label"], bars["probability"])) == pytest.approx(held["scores"])
    flagged = set(bars.loc[bars["status"] == "flagged", "label"])
    assert flagged == set(held["flagged"])
    assert [b.label for b in at.button if b.key.startswith("review_decide_")] == [
        f"{n} · {label}" for n, label in enumerate(held["labels"], start=1)
    ]
    assert at.button(key="review_undo").disabled

    at.text_input(key="review_note").input("looked twice")
    at.button(key="review_decide_2").click().run()
    decided = httpx.get(f"{api}/v1/reviews/{held['id']}", headers={"X-API-Key": keys["ann"]}).json()
    assert (decided["state"], decided["decided_label"], decided["note"]) == (
        "decided",
        held["labels"][1],
        "looked twice",
    )
    assert f"Review {held['id']} decided: {held['labels'][1]}." in texts(at.success)
    assert at.text_input(key="review_note").value == ""  # the note is cleared for the next item
    assert not at.button(key="review_undo").disabled

    at.button(key="review_undo").click().run()
    undone = httpx.get(f"{api}/v1/reviews/{held['id']}", headers={"X-API-Key": keys["ann"]}).json()
    assert (undone["state"], undone["decided_label"], undone["claimed_by"]) == ("claimed", None, "ann")
    assert f"Decision on review {held['id']} undone" in texts(at.info)
    assert held["item"]["text"] in texts(at.markdown)  # shown again

    stats = httpx.get(f"{api}/v1/reviews/stats", headers={"X-API-Key": keys["ann"]}).json()
    insights = page(api, "insights", keys["ann"])
    assert not insights.exception
    values = {m.label: m.value for m in insights.metric}
    assert values["Pending"] == str(stats["queue"]["pending"]) and values["Claimed"] == str(stats["queue"]["claimed"])
    assert values["Decided"] == str(stats["queue"]["decided"]) == "0"


def test_an_item_stored_without_text_and_an_empty_queue(served):
    api, keys, url = served
    db = Database(url)
    for review in reviews(api, keys["ann"]):  # decide whatever earlier tests left, through the API
        if review["state"] != "decided":
            headers = {"X-API-Key": keys["ann"]}
            httpx.post(f"{api}/v1/reviews/{review['id']}/claim", headers=headers)
            httpx.post(
                f"{api}/v1/reviews/{review['id']}/decision", json={"label": review["labels"][0]}, headers=headers
            )
    at = page(api, "review", keys["ann"])
    assert "The queue is empty" in texts(at.success)

    hidden = PredictionRecord(
        text="a text kept as a hash only",
        model="logistic_regression",
        model_version="1.0.0",
        labels=["Regular Speech", "Hate Speech"],
        scores={"Regular Speech": 0.4, "Hate Speech": 0.6},
        label="Hate Speech",
        flagged=["Hate Speech"],
        external_id="hidden-1",
        queue="requested",
        score=0.6,
    )
    with db.session() as session:
        record_predictions(session, [hidden], store_text=False)
    db.dispose()
    at.run()
    assert "This item was stored without its text (SHA-256" in texts(at.warning)
    insights = page(api, "insights", keys["ann"])
    values = {m.label: m.value for m in insights.metric}
    assert values["Claimed"] == "1" and int(values["Decided"]) >= 2


def test_an_item_taken_over_after_its_claim_lapsed_is_not_shown_any_more(served):
    from datetime import timedelta

    from sqlalchemy import update

    from nlp_classifier.workflow.models import Review, utcnow

    api, keys, url = served
    body = {"text": "an item someone else takes over", "external_id": "t-1", "review": True}
    assert httpx.post(f"{api}/predict", json=body).status_code == 200
    deadline = time.monotonic() + 30
    while not [r for r in reviews(api, keys["ann"]) if r["item"]["external_id"] == "t-1"]:
        assert time.monotonic() < deadline, "the requested review was not recorded"
        time.sleep(0.1)
    at = page(api, "review", keys["ann"])
    assert "an item someone else takes over" in texts(at.markdown)
    (taken,) = [r for r in reviews(api, keys["ann"]) if r["item"]["external_id"] == "t-1"]
    assert taken["claimed_by"] == "ann"

    db = Database(url)  # ann's claim lapses (older than NLPC_REVIEW_CLAIM_MINUTES), and bob takes the item over
    with db.session() as session:
        session.execute(update(Review).where(Review.id == taken["id"]).values(claimed_at=utcnow() - timedelta(days=1)))
    db.dispose()
    claim = httpx.post(f"{api}/v1/reviews/{taken['id']}/claim", headers={"X-API-Key": keys["bob"]})
    assert claim.status_code == 200 and claim.json()["claimed_by"] == "bob"

    at.run()
    assert not at.exception
    assert "an item someone else takes over" not in texts(at.markdown)
    assert "The queue is empty" in texts(at.success)


def queued(api: str, key: str, external_id: str) -> dict:
    """The review of ``external_id``, once the API's writer has recorded it."""
    deadline = time.monotonic() + 30
    while not (found := [r for r in reviews(api, key) if r["item"]["external_id"] == external_id]):
        assert time.monotonic() < deadline, f"the requested review of {external_id} was not recorded"
        time.sleep(0.1)
    return found[0]


def shown_after_deciding_the_others(at: AppTest, text: str) -> AppTest:
    """Decide whatever the Review page shows (earlier tests' items) until it shows ``text``."""
    while text not in texts(at.markdown):
        assert not at.exception and "The queue is empty" not in texts(at.success), f"{text!r} was never shown"
        at.button(key="review_decide_1").click().run()
    return at


def test_an_item_deleted_while_a_reviewer_holds_or_decided_it_does_not_stick_the_page(served):
    """An admin deletes items (``DELETE /v1/items/ID``, e.g. a data-protection request): one the reviewer's page
    holds, and the one the reviewer decided last. The page moves on instead of showing the same 404 on every run,
    and Undo says the decision is gone and stops offering it."""
    api, keys, _ = served
    admin = {"X-API-Key": API_KEY}

    def queue(external_id: str, text: str) -> dict:
        body = {"text": text, "external_id": external_id, "review": True}
        assert httpx.post(f"{api}/predict", json=body).status_code == 200
        return queued(api, keys["bob"], external_id)

    queue("g-1", "an item held then deleted")
    at = shown_after_deciding_the_others(page(api, "review", keys["bob"]), "an item held then deleted")
    assert httpx.delete(f"{api}/v1/items/g-1", headers=admin).json()["reviews"] == 1
    at.run()
    assert not at.exception and not at.error
    assert "an item held then deleted" not in texts(at.markdown)

    decided = queue("g-2", "an item decided then deleted")
    shown_after_deciding_the_others(at.run(), "an item decided then deleted")
    at.button(key="review_decide_1").click().run()
    assert at.button(key="review_undo").label.endswith(f"(review {decided['id']})")
    assert httpx.delete(f"{api}/v1/items/g-2", headers=admin).json()["reviews"] == 1
    at.button(key="review_undo").click().run()
    assert not at.exception and not at.error
    assert f"Review {decided['id']} no longer exists" in texts(at.warning)
    assert f"(review {decided['id']})" not in at.button(key="review_undo").label
