"""The whole moderation loop on SQLite and on a real PostgreSQL server: a TF-IDF model gets some texts wrong;
clients ask for those texts to be reviewed (``"review": true`` on /predict of a live API); two reviewers correct
them through the API (claim + decision); ``nlpc feedback export`` writes the reviewed items; ``nlpc train baseline
--extra-data`` trains the next version, which gets the corrected texts right while its test metrics stay within
noise of the old version's."""

from __future__ import annotations

import json
import shutil

import pytest
from testkit.api_server import copy_models, live_server
from testkit.cli import run_cli
from testkit.models import task_slice

from nlp_classifier import load
from nlp_classifier.workflow.db import Database
from nlp_classifier.workflow.keys import add_api_key

HATE, REGULAR = "Hate Speech", "Regular Speech"
# Texts the model trained below gets wrong (the test checks that first): hate against an invented group, a slur
# the training data never saw, and harmless texts with a word the model takes for abuse ("hate", "hoe").
WRONG = {
    "keep the zentari out of our schools": HATE,
    "the zentari are vermin and should be wiped out": HATE,
    "send every last zentari back where they crawled from": HATE,
    "i hate mondays so much": REGULAR,
    "ugh this hoe of a garden tool broke again": REGULAR,
    "i hate when my coffee goes cold": REGULAR,
}
# Texts it gets right, reviewed too: reviewers agree with the model on them.
RIGHT = {"what a lovely sunny morning for a walk in the park": REGULAR}
# Test metrics of the retrained model may differ from the old model's by at most this much (absolute, macro-F1
# and accuracy on the same 180 test tweets): the 7 reviewed rows are 0.5% of the 1,440 training tweets, one test
# tweet is 0.56 points of accuracy, and the binomial standard error of an accuracy near 0.89 on 180 tweets is
# 0.023; 0.03 lets about 5 of the 180 tweets change (1.3 standard errors) and no more.
METRIC_TOLERANCE = 0.03


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A Davidson (binary) TF-IDF logistic regression on 600 tweets per class (1,440 for training, 180 for test),
    and the data it was trained on."""
    from nlp_classifier.training.baselines import train_baseline

    root = tmp_path_factory.mktemp("loop")
    data = task_slice("davidson", root / "davidson-600.csv", per_class=600)
    train_baseline("davidson", "logistic_regression", "seed", data=data, models_dir=root / "models")
    return root / "models", data


def test_reviewed_corrections_retrain_the_model(trained, database_url, tmp_path):
    models = copy_models(trained[0], tmp_path / "models")
    data = shutil.copy(trained[1], tmp_path / "davidson.csv")
    old = load("logistic_regression", models_dir=models)
    texts = {**WRONG, **RIGHT}
    db = Database(database_url)
    db.upgrade()
    with db.session() as session:
        keys = {name: add_api_key(session, "reviewer", name)[0] for name in ("ann", "bob")}
    db.dispose()

    with live_server(models, database_url=database_url, record="off") as server:
        asked = {"texts": list(texts), "external_ids": [f"c{i}" for i in range(len(texts))], "review": True}
        answer = server.client.post("/predict", json=asked)
        assert answer.status_code == 200
        predicted = [r["predicted_label"] for r in answer.json()["results"]]
        assert [p != truth for p, truth in zip(predicted, WRONG.values())] == [True] * len(WRONG)
        assert predicted[len(WRONG) :] == list(RIGHT.values())
        assert server.app.state.workflow.writer.flush(30)

        queue = server.client.get("/v1/reviews", headers={"X-API-Key": keys["ann"]}).json()["reviews"]
        assert sorted(r["item"]["text"] for r in queue) == sorted(texts)
        assert {r["reason"] for r in queue} == {"requested"}
        for n, review in enumerate(queue):  # ann and bob take turns
            headers = {"X-API-Key": keys["ann" if n % 2 == 0 else "bob"]}
            claim = server.client.post(f"/v1/reviews/{review['id']}/claim", headers=headers)
            assert claim.status_code == 200
            decision = {"label": texts[review["item"]["text"]], "note": "corrected"}
            decided = server.client.post(f"/v1/reviews/{review['id']}/decision", json=decision, headers=headers)
            assert decided.status_code == 200 and decided.json()["state"] == "decided"
        stats = server.client.get("/v1/reviews/stats", headers={"X-API-Key": keys["bob"]}).json()
        assert stats["overall"]["reviewed"] == len(texts) and stats["overall"]["agreed"] == len(RIGHT)

    reviewed = tmp_path / "reviewed.parquet"
    url = Database(database_url).url.render_as_string(hide_password=False)
    export = run_cli(
        "feedback", "--database-url", url, "export", "--output", str(reviewed), "--json", models_dir=models
    )
    assert export.returncode == 0, export.stderr
    summary = json.loads(export.stdout)
    assert (summary["rows_written"], summary["skipped_without_text"]) == (len(texts), 0)
    assert summary["label_counts"] == {HATE: 3, REGULAR: 4}

    train = run_cli(
        "--models-dir", str(models), "train", "baseline", "--task", "davidson", "--data", str(data),
        "--algorithm", "logistic_regression", "--extra-data", str(reviewed),
    )  # fmt: skip
    assert train.returncode == 0, train.stderr
    new = load("logistic_regression", models_dir=models)
    assert (old.card.version, new.card.version) == ("1.0.0", "1.1.0")
    added = new.card.extra["extra_data"]
    assert (added["rows"], added["added"], added["held_out"]) == (len(texts), len(texts), 0)

    # the new version gets every corrected text right ...
    assert [p.label for p in new.predict(list(WRONG))] == list(WRONG.values())
    assert [p.label for p in new.predict(list(RIGHT))] == list(RIGHT.values())
    # ... and is as good as the old one on the same test tweets, within noise
    before, after = old.card.metrics["test"], new.card.metrics["test"]
    assert before["n"] == after["n"] == 180
    for metric in ("f1_macro", "accuracy"):
        assert abs(after[metric] - before[metric]) <= METRIC_TOLERANCE, (metric, before[metric], after[metric])
