"""The moderation workflow's API against a live uvicorn, on SQLite and on a real PostgreSQL server: recording,
the review queue, roles, feedback (ours and Perspective's suggestscore), deleting an external id, bad input that
writes nothing, and eight reviewers deciding the same 200 items at once."""

from __future__ import annotations

import json
import logging
import threading

import pytest
from sqlalchemy import func, select
from testkit.api_server import API_KEY, live_server
from testkit.models import train_small_baseline

from nlp_classifier.tasks import BINARY_LABELS
from nlp_classifier.workflow.db import Database
from nlp_classifier.workflow.keys import add_api_key
from nlp_classifier.workflow.models import AuditEntry, Feedback, Item, Prediction, Review
from nlp_classifier.workflow.records import text_hash

TEXTS = [
    "Thanks for the help yesterday, the meeting went great!",
    "shut up you stupid idiot, nobody wants you here",
    "I hope you have a wonderful birthday",
    "You are a worthless piece of trash and everyone hates you",
]
EVERYTHING = "0.0-1.0"  # a band every score falls in: every recorded prediction is queued
NOTHING = "1.0-1.0"  # a band no score of these models reaches


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Small real Davidson (binary) and Jigsaw baselines, trained in seconds."""
    path = tmp_path_factory.mktemp("workflow-api") / "models"
    work = tmp_path_factory.mktemp("workflow-api-data")
    train_small_baseline("davidson", path, work)
    train_small_baseline("davidson", path, work, algorithm="linear_svm")
    train_small_baseline("jigsaw", path, work)
    return path


@pytest.fixture
def keys(db) -> dict[str, str]:
    """A key per role, made the way `nlpc db add-key` makes them."""
    made = {}
    with db.session() as session:
        for name, role in [("carol", "client"), ("ann", "reviewer"), ("bob", "reviewer"), ("dave", "admin")]:
            made[name], _ = add_api_key(session, role, name)
    return made


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def counts(db: Database) -> tuple[int, ...]:
    with db.session() as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(t)) or 0)
            for t in (Item, Prediction, Review, Feedback, AuditEntry)
        )


def flush(server) -> None:
    assert server.app.state.workflow.writer.flush(30)


def metric(server, name: str) -> float:
    total = 0.0
    for line in server.client.get("/metrics").text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_recording_all_predictions_and_only_hashes_when_asked(models, db, database_url):
    settings = {"record": "all", "store_text": False, "review_band": NOTHING}
    with live_server(models, database_url=database_url, **settings) as server:
        batch = server.client.post("/predict", json={"texts": TEXTS[:3], "external_ids": ["a", None, "c"]})
        assert batch.status_code == 200
        single = server.client.post("/predict", json={"text": TEXTS[3], "model": "linear_svm", "threshold": 0.4})
        toxicity = server.client.post("/predict/toxicity", json={"text": TEXTS[1]})
        moderation = server.client.post("/v1/moderations", json={"input": TEXTS[1]})
        analyze = {"comment": {"text": TEXTS[1]}, "requestedAttributes": {"TOXICITY": {}}}
        perspective = server.client.post("/v1alpha1/comments:analyze", json=analyze)
        assert all(r.status_code == 200 for r in (single, toxicity, moderation, perspective))
        flush(server)
        assert metric(server, "nlpc_records_written_total") == 7
        assert metric(server, "nlpc_records_lost_total") == 0
    with db.session() as session:
        items = session.scalars(select(Item).order_by(Item.id)).all()
        assert [i.text for i in items] == [None] * 7
        assert [i.text_hash for i in items[:4]] == [text_hash(t) for t in TEXTS]
        assert [i.external_id for i in items[:3]] == ["a", None, "c"]
        predictions = session.scalars(select(Prediction).order_by(Prediction.id)).all()
        first = batch.json()["results"][0]
        assert predictions[0].model == "logistic_regression" and predictions[0].model_version
        assert predictions[0].scores == pytest.approx({s["label"]: s["score"] for s in first["scores"]})
        assert predictions[0].label == first["predicted_label"]
        assert (predictions[3].model, predictions[3].threshold) == ("linear_svm", 0.4)
        assert {p.model for p in predictions[4:]} == {"logistic_regression_jigsaw"}
        assert session.scalar(select(func.count()).select_from(Review)) == 0  # no score is in the band


def test_perspective_do_not_store_keeps_only_the_hash_and_no_log_of_the_text(models, db, database_url, caplog):
    """A Perspective client sends doNotStore: true for a comment that must not be kept. The field was accepted
    and ignored: with recording on, the text was stored (and logged with NLPC_LOG_TEXTS)."""
    settings = {"record": "all", "review_band": NOTHING, "log_texts": True}
    kept, private = "a comment that may be kept", "a private comment not to be stored"
    caplog.set_level(logging.INFO)
    with live_server(models, database_url=database_url, **settings) as server:
        for text, do_not_store in ((kept, None), (private, True)):
            body = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}}
            if do_not_store:
                body["doNotStore"] = True
            assert server.client.post("/v1alpha1/comments:analyze", json=body).status_code == 200
        flush(server)
    with db.session() as session:
        items = session.scalars(select(Item).order_by(Item.id)).all()
        assert [(i.text, i.text_hash) for i in items] == [(kept, text_hash(kept)), (None, text_hash(private))]
    logged = " ".join(str(record.__dict__) for record in caplog.records)
    assert kept in logged and private not in logged  # the request log keeps texts (log_texts) but not this one


def test_band_per_model_and_requested_reviews(models, db, database_url):
    bands = {"logistic_regression": EVERYTHING}
    with live_server(
        models, database_url=database_url, record="uncertain", review_band=NOTHING, review_bands=bands
    ) as server:
        assert server.client.post("/predict", json={"texts": TEXTS[:2]}).status_code == 200
        assert server.client.post("/predict", json={"texts": TEXTS[:2], "model": "linear_svm"}).status_code == 200
        asked = {"text": TEXTS[2], "model": "linear_svm", "external_id": "post-9", "channel": "forum", "review": True}
        assert server.client.post("/predict", json=asked).status_code == 200
        assert server.client.post("/predict", json=asked).status_code == 200  # asking twice queues once
        no_id = server.client.post("/predict", json={"text": TEXTS[2], "review": True})
        assert no_id.status_code == 422 and "external_id" in no_id.json()["detail"][0]["msg"]
        flush(server)
    with db.session() as session:
        reviews = session.scalars(select(Review).order_by(Review.id)).all()
        assert [(r.model, r.reason) for r in reviews] == [
            ("logistic_regression", "band"),
            ("logistic_regression", "band"),
            ("linear_svm", "requested"),
        ]
        assert reviews[0].labels == BINARY_LABELS and 0 <= reviews[0].priority <= 1
        asked_item = session.get(Item, reviews[2].item_id)
        assert asked_item is not None and (asked_item.external_id, asked_item.channel) == ("post-9", "forum")
        assert session.scalar(select(func.count()).select_from(Prediction)) == 4  # 2 in band + the 2 requests


def test_review_queue_roles_and_bad_input(models, db, keys, database_url):
    bands = {"logistic_regression": EVERYTHING}
    settings = {"record": "all", "review_band": NOTHING, "review_bands": bands}
    with live_server(models, database_url=database_url, **settings) as server:
        client = server.client
        assert (
            client.post("/predict", json={"texts": TEXTS, "external_ids": ["t0", "t1", "t2", "t3"]}).status_code == 200
        )
        flush(server)

        # roles: no key 401, a client key 403, reviewer and admin keys (ours and NLPC_API_KEYS') fine
        missing = client.get("/v1/reviews")
        assert missing.status_code == 401 and "X-API-Key" in missing.json()["error"]["message"]
        wrong_role = client.get("/v1/reviews", headers=auth(keys["carol"]))
        assert wrong_role.status_code == 403
        assert "needs the reviewer role; the key 'carol' has the client role" in wrong_role.json()["error"]["message"]
        assert client.get("/v1/reviews", headers=auth("nope")).status_code == 403
        assert client.get("/v1/reviews", headers=auth(API_KEY)).status_code == 200
        unfiltered = client.get("/v1/reviews?status=decided", headers=auth(API_KEY))  # `state` is the filter
        assert unfiltered.status_code == 422 and unfiltered.json()["error"]["param"] == "query.status"
        forbidden = client.delete("/v1/items/t0", headers=auth(keys["ann"]))
        assert forbidden.status_code == 403 and "admin role" in forbidden.json()["error"]["message"]
        assert (
            client.post("/predict", json={"text": "hi", "model": "linear_svm"}, headers=auth(keys["carol"])).status_code
            == 200
        )

        flush(server)
        page = client.get("/v1/reviews", params={"limit": 3}, headers=auth(keys["ann"])).json()
        priorities = [r["priority"] for r in page["reviews"]]
        assert len(priorities) == 3 and priorities == sorted(priorities, reverse=True) and page["next_cursor"]
        rest = client.get("/v1/reviews", params={"cursor": page["next_cursor"]}, headers=auth(keys["ann"])).json()
        assert len(rest["reviews"]) == 1 and rest["next_cursor"] is None
        bad_cursor = client.get("/v1/reviews", params={"cursor": "zzz"}, headers=auth(keys["ann"]))
        assert bad_cursor.status_code == 422 and "cursor" in bad_cursor.json()["error"]["message"]
        first = page["reviews"][0]
        assert first["item"]["text"] in TEXTS and first["labels"] == BINARY_LABELS

        before = counts(db)
        unknown = client.post("/v1/reviews/999999/decision", json={"label": "Hate Speech"}, headers=auth(keys["ann"]))
        assert unknown.status_code == 404 and "no review with id 999999" in unknown.json()["error"]["message"]
        assert client.get("/v1/reviews/999999", headers=auth(keys["ann"])).status_code == 404
        bad_label = client.post(
            f"/v1/reviews/{first['id']}/decision", json={"label": "spam"}, headers=auth(keys["ann"])
        )
        assert bad_label.status_code == 422
        assert (
            "'spam' is not one of the model's labels: Regular Speech, Hate Speech"
            in bad_label.json()["error"]["message"]
        )
        assert bad_label.json()["error"]["param"] == "label"
        assert counts(db) == before  # nothing written

        claimed = client.post(f"/v1/reviews/{first['id']}/claim", headers=auth(keys["ann"])).json()
        assert (claimed["state"], claimed["claimed_by"]) == ("claimed", "ann")
        held = client.post(
            f"/v1/reviews/{first['id']}/decision", json={"label": "Hate Speech"}, headers=auth(keys["bob"])
        )
        assert held.status_code == 409 and "claimed by ann" in held.json()["error"]["message"]
        decision = {"label": "Regular Speech", "note": "sarcasm"}
        decided = client.post(f"/v1/reviews/{first['id']}/decision", json=decision, headers=auth(keys["ann"])).json()
        assert (decided["state"], decided["decided_label"], decided["reviewer"], decided["note"]) == (
            "decided",
            "Regular Speech",
            "ann",
            "sarcasm",
        )
        again = client.post(f"/v1/reviews/{first['id']}/decision", json=decision, headers=auth(keys["bob"]))
        assert again.status_code == 409 and "already decided (by ann)" in again.json()["error"]["message"]
        not_yours = client.post(f"/v1/reviews/{first['id']}/undo", headers=auth(keys["bob"]))
        assert not_yours.status_code == 409

        stats = client.get("/v1/reviews/stats", headers=auth(keys["ann"])).json()
        assert stats["queue"] == {"pending": 3, "claimed": 0, "decided": 1}
        agreed = int(first["predicted_label"] == "Regular Speech")
        assert (stats["overall"]["reviewed"], stats["overall"]["agreed"]) == (1, agreed)
        assert stats["by_model"][0]["model"] == "logistic_regression"
        assert [d["reviewed"] for d in stats["by_day"]] == [1]
        assert len(stats["overturned"]) == 1 - agreed

        undone = client.post(f"/v1/reviews/{first['id']}/undo", headers=auth(keys["ann"])).json()
        assert (undone["state"], undone["decided_label"]) == ("pending", None)
        pending = client.get("/v1/reviews", params={"state": "pending"}, headers=auth(keys["ann"])).json()
        assert len(pending["reviews"]) == 4
    with db.session() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity == "review").order_by(AuditEntry.id)
        ).all()
        assert actions == ["claim", "decide", "undo"]


def test_feedback_suggestscore_and_forgetting(models, db, keys, database_url):
    settings = {"record": "all", "max_text_chars": 200, "review_band": NOTHING}
    with live_server(models, database_url=database_url, **settings) as server:
        client = server.client
        assert client.post("/predict", json={"text": TEXTS[1], "external_id": "c-1"}).status_code == 200
        flush(server)
        before = counts(db)
        wrong = {"external_id": "c-1", "model": "logistic_regression", "label": "spam"}
        refused = client.post("/v1/feedback", json=wrong, headers=auth(keys["ann"]))
        assert (
            refused.status_code == 422
            and "not one of logistic_regression's labels" in refused.json()["error"]["message"]
        )
        too_long = client.post("/v1/feedback", json={"text": "x" * 201, "label": "a"}, headers=auth(keys["ann"]))
        assert too_long.status_code == 422 and "the limit is 200" in too_long.json()["error"]["message"]
        assert client.post("/v1/feedback", json={"external_id": "c-1", "label": "a"}).status_code == 401
        as_client = client.post("/v1/feedback", json={"external_id": "c-1", "label": "a"}, headers=auth(keys["carol"]))
        assert as_client.status_code == 403
        long_predict = {"text": "x" * 201, "external_id": "c-2", "review": True}
        refused_predict = client.post("/predict", json=long_predict)
        assert refused_predict.status_code == 422 and "the limit is 200" in refused_predict.json()["detail"][0]["msg"]
        long_comment = {"comment": {"text": "x" * 201}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}}}
        refused_p = client.post("/v1alpha1/comments:suggestscore", json=long_comment, headers=auth(keys["ann"]))
        assert refused_p.status_code == 422 and refused_p.json()["error"]["status"] == "INVALID_ARGUMENT"
        flush(server)
        assert counts(db) == before

        good = {"external_id": "c-1", "model": "logistic_regression", "label": "Regular Speech"}
        answer = client.post("/v1/feedback", json=good, headers=auth(keys["ann"]))
        assert answer.status_code == 200 and answer.json()["item_id"] is not None
        suggestion = {
            "comment": {"text": TEXTS[3]},
            "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.9}}, "INSULT": {"summaryScore": {"value": 1}}},
            "languages": ["en"],
            "communityId": "forum",
            "clientToken": "tok-7",
        }
        suggested = client.post(f"/v1alpha1/comments:suggestscore?key={keys['bob']}", json=suggestion)
        assert suggested.status_code == 200 and suggested.json()["clientToken"] == "tok-7"
        with db.session() as session:
            rows = session.scalars(select(Feedback).order_by(Feedback.id)).all()
            assert [(f.source, f.submitted_by, f.label) for f in rows] == [
                ("api", "ann", "Regular Speech"),
                ("perspective", "bob", None),
            ]
            assert rows[1].scores == {"toxic": 0.9, "insult": 1.0} and rows[1].channel == "forum"

        # a misspelt ?channel= used to be ignored: the delete reached every channel
        misspelt = client.delete("/v1/items/c-1?chanel=forum", headers=auth(keys["dave"]))
        assert misspelt.status_code == 422 and misspelt.json()["error"]["param"] == "query.chanel"
        assert "this route's query parameters: channel" in misspelt.json()["error"]["message"]
        gone = client.delete("/v1/items/c-1", headers=auth(keys["dave"]))
        assert gone.json() == {"items": 1, "predictions": 1, "reviews": 0, "feedback": 1}
        assert client.delete("/v1/items/c-1", headers=auth(API_KEY)).json()["items"] == 0
    with db.session() as session:
        assert session.scalar(select(func.count()).where(Item.external_id == "c-1")) == 0
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "forget")).first()
        assert entry is not None and entry.actor == "dave" and entry.entity_id == text_hash("c-1")


def test_an_external_id_with_a_slash_can_be_deleted_and_a_blank_or_overlong_one_is_refused(models, db, database_url):
    """External ids such as "forum/thread/12" are recorded by /predict, but DELETE /v1/items/forum%2Fthread%2F12
    was a 404 (the router matched one path segment), so a data-protection request could not reach them. A blank
    id or one over the 200 characters /predict takes matched nothing and answered zeros; the CLI refuses both."""
    with live_server(models, database_url=database_url, record="all") as server:
        client = server.client
        for external_id in ("forum/thread/12", "forum/thread/13/"):
            assert client.post("/predict", json={"text": TEXTS[1], "external_id": external_id}).status_code == 200
        flush(server)
        admin = auth(API_KEY)
        assert client.delete("/v1/items/forum%2Fthread%2F12", headers=admin).json()["items"] == 1
        assert client.delete("/v1/items/forum/thread/13/", headers=admin).json()["items"] == 1
        for bad, message in (("%20%20", "should match pattern"), ("x" * 201, "at most 200 characters")):
            refused = client.delete(f"/v1/items/{bad}", headers=admin)
            assert refused.status_code == 422 and message in refused.json()["error"]["message"], refused.text
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 0


def test_eight_reviewers_decide_200_items_exactly_once(models, db, keys, database_url):
    bands = {"logistic_regression": EVERYTHING}
    reviewers = {}
    with db.session() as session:
        for i in range(8):
            reviewers[f"reviewer-{i}"], _ = add_api_key(session, "reviewer", f"reviewer-{i}")
    with live_server(models, database_url=database_url, record="all", review_bands=bands) as server:
        texts = [f"{TEXTS[i % 4]} #{i}" for i in range(200)]
        for start in range(0, 200, 100):
            assert server.client.post("/predict", json={"texts": texts[start : start + 100]}).status_code == 200
        flush(server)
        ids = [
            r["id"]
            for r in server.client.get("/v1/reviews", params={"limit": 500}, headers=auth(API_KEY)).json()["reviews"]
        ]
        assert len(ids) == 200
        statuses: dict[str, list[int]] = {}
        wins: dict[str, list[int]] = {}

        def decide(name: str, key: str, order: list[int]) -> None:
            import httpx

            with httpx.Client(base_url=server.url, timeout=60, headers=auth(key)) as client:
                for review_id in order:
                    response = client.post(f"/v1/reviews/{review_id}/decision", json={"label": "Hate Speech"})
                    statuses.setdefault(name, []).append(response.status_code)
                    if response.status_code == 200:
                        wins.setdefault(name, []).append(review_id)

        threads = [
            threading.Thread(target=decide, args=(name, key, ids if i % 2 else list(reversed(ids))))
            for i, (name, key) in enumerate(reviewers.items())
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    every_status = [s for codes in statuses.values() for s in codes]
    assert len(every_status) == 8 * 200 and set(every_status) <= {200, 409}
    assert sorted(i for won in wins.values() for i in won) == sorted(ids)
    with db.session() as session:
        assert session.scalar(select(func.count()).where(Review.state == "decided")) == 200
        entries = session.execute(
            select(AuditEntry.entity_id, AuditEntry.actor).where(AuditEntry.action == "decide")
        ).all()
        assert sorted(int(e) for e, _ in entries) == sorted(ids)
        winner = {review_id: name for name, won in wins.items() for review_id in won}
        assert all(winner[int(e)] == actor for e, actor in entries)
        assert {r.reviewer for r in session.scalars(select(Review))} <= set(reviewers)


def test_a_review_explains_its_text_with_the_reviewed_model(models, db, keys, database_url):
    settings = {"record": "all", "review_band": EVERYTHING}
    with live_server(models, database_url=database_url, **settings) as server:
        client = server.client
        answer = client.post("/predict", json={"text": TEXTS[3], "model": "linear_svm", "external_id": "x1"}).json()
        flush(server)
        (review,) = client.get("/v1/reviews", headers=auth(keys["ann"])).json()["reviews"]
        assert client.get(f"/v1/reviews/{review['id']}/explanation").status_code == 401
        assert client.get(f"/v1/reviews/{review['id']}/explanation", headers=auth(keys["carol"])).status_code == 403
        got = client.get(f"/v1/reviews/{review['id']}/explanation", headers=auth(keys["ann"]))
        assert got.status_code == 200
        explained = got.json()
        # the model that made the prediction (linear_svm, not the current default) and the label it predicted
        assert explained["label"] == answer["predicted_label"] == review["predicted_label"]
        assert explained["method"] == "linear" and explained["text"] == TEXTS[3]
        assert [w["word"] for w in explained["words"]] == [TEXTS[3][w["start"] : w["end"]] for w in explained["words"]]
        direct = client.post("/predict", json={"text": TEXTS[3], "model": "linear_svm", "explain": True}).json()
        assert explained["words"] == direct["explanation"]["words"]
        missing = client.get("/v1/reviews/999999/explanation", headers=auth(keys["ann"]))
        assert missing.status_code == 404
    hashed = {"record": "all", "review_band": EVERYTHING, "store_text": False}
    with live_server(models, database_url=database_url, **hashed) as server:
        server.client.post("/predict", json={"text": TEXTS[0], "external_id": "x2"})
        flush(server)
        reviews = server.client.get("/v1/reviews", headers=auth(keys["ann"])).json()["reviews"]
        no_text = next(r for r in reviews if r["item"]["text"] is None)
        refused = server.client.get(f"/v1/reviews/{no_text['id']}/explanation", headers=auth(keys["ann"]))
        assert refused.status_code == 404 and "stored without its text" in refused.json()["error"]["message"]


def test_a_key_listed_and_removed_from_the_command_line_stops_working(models, db, database_url):
    """`nlpc db list-keys` shows names and roles, never a key; `nlpc db remove-key` makes a live API refuse the key
    (here at once: the API's key cache is off)."""
    from testkit.cli import run_cli

    def db_cli(*args: str, check: bool = True):
        return run_cli("db", "--database-url", database_url, *args, check=check)

    made = db_cli("add-key", "--role", "reviewer", "--name", "erin")
    key = made.stdout.strip().splitlines()[-1]
    db_cli("add-key", "--role", "admin", "--name", "frank")
    listed = db_cli("list-keys", "--json")
    assert [(k["name"], k["role"]) for k in json.loads(listed.stdout)] == [("erin", "reviewer"), ("frank", "admin")]
    assert key not in listed.stdout and key not in db_cli("list-keys").stdout
    with live_server(models, database_url=database_url, key_cache_seconds=0) as server:
        assert server.client.get("/v1/reviews", headers=auth(key)).status_code == 200
        removed = db_cli("remove-key", "erin")
        assert "removed the API key 'erin'" in removed.stdout
        refused = server.client.get("/v1/reviews", headers=auth(key))
        assert refused.status_code == 403
    assert [k["name"] for k in json.loads(db_cli("list-keys", "--json").stdout)] == ["frank"]
    again = db_cli("remove-key", "erin", check=False)
    assert again.returncode == 2 and "no API key named 'erin'" in again.stderr
    with db.session() as session:  # both changes are in the audit log, as the API's own are
        changes = session.scalars(select(AuditEntry).where(AuditEntry.entity == "api_key").order_by(AuditEntry.id))
        assert [c.action for c in changes] == ["add", "add", "remove"]
