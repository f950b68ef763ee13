"""The web UI's pages, run by Streamlit's own test harness (AppTest) against a live ``nlpc serve`` on 127.0.0.1:
what each page shows must be what the API answers for the same request."""

from __future__ import annotations

import fcntl
import io
import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from testkit.cli import run_cli
from testkit.streamlit_charts import chart_layers
from testkit.tiny_transformers import make_tiny_model
from testkit.ui_servers import API_KEY, api_server, free_port

from nlp_classifier.defaults import EXAMPLE_TEXTS
from nlp_classifier.registry import list_cards
from nlp_classifier.training.background_status import LOG_NAME, RUNNING, format_progress, write_status
from nlp_classifier.ui import APP_PATH
from nlp_classifier.ui.client import ApiClient, ApiError

TOXICITY_MODEL = "logistic_regression_jigsaw"
HATE = "Hate Speech"
HATE_MODEL = "logistic_regression_hate_char"


@pytest.fixture(scope="module")
def models(baseline_models_dir, tmp_path_factory):
    """A private copy of the session's baselines (one test removes a model from it for a while)."""
    return shutil.copytree(baseline_models_dir, tmp_path_factory.mktemp("ui-pages") / "models")


@pytest.fixture(scope="module")
def api(models, tmp_path_factory):
    with api_server(models, tmp_path_factory.mktemp("ui-pages-logs") / "api.log") as url:
        yield url


@pytest.fixture
def app(api):
    """The UI's main script after its first run, pointed at the live API."""
    return started_app(api)


def started_app(url: str) -> AppTest:
    """The UI's main script after a first run without an exception, pointed at the API at ``url``."""
    at = AppTest.from_file(str(APP_PATH), default_timeout=60)
    at.session_state["api_url"] = url
    at.run()
    assert not at.exception
    return at


def api_post(api: str, path: str, **body) -> dict:
    response = httpx.post(f"{api}{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def wait_for_models(api: str, condition, timeout: float = 30.0) -> None:
    """Poll ``GET /models`` until ``condition(model names)`` holds."""
    deadline = time.monotonic() + timeout
    while not condition(set(httpx.get(f"{api}/models").json()["models"])):
        assert time.monotonic() < deadline, "the API's model list did not change"
        time.sleep(0.25)


def charts(at: AppTest) -> list:
    return [e for e in at.main if getattr(e, "type", None) == "vega_lite_chart"]


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page that has ``column``."""
    (frame,) = [d.value for d in at.dataframe if column in d.value.columns]
    return frame


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def analyse(at: AppTest, text: str) -> AppTest:
    at.text_area(key="analyse_text").input(text)
    return at.button(key="analyse_button").click().run()


# --- model picker -----------------------------------------------------------------------------------------
def test_model_picker_shows_every_model_with_its_card_facts(app, api):
    body = httpx.get(f"{api}/models").json()
    picker = app.selectbox(key="model")
    assert picker.value == body["current_model"] == "logistic_regression"
    assert picker.options == ["linear_svm", "logistic_regression (current)", f"{TOXICITY_MODEL} (toxicity)"]
    details = texts(app.sidebar.markdown)
    info = body["models"]["logistic_regression"]
    assert "tfidf" in details and "task `davidson`" in details and f"version {info['version']}" in details
    assert f"f1_macro {info['test_metrics']['f1_macro']:.3f}" in details
    assert f"latency: {info['avg_inference_time_ms']:.2f} ms" in details and "current model" in details

    app.switch_page("views/compare.py").run()
    table = table_with(app, "latency ms").set_index("model")
    assert list(table.index) == sorted(body["models"])
    for name, info in body["models"].items():
        assert table.loc[name, "test f1_macro"] == pytest.approx(info["test_metrics"]["f1_macro"], abs=1e-4)
        assert table.loc[name, "latency ms"] == pytest.approx(info["avg_inference_time_ms"], abs=0.01)
        assert table.loc[name, "task"] == info["task"] and table.loc[name, "family"] == info["type"]


def test_switching_the_model_needs_the_api_key(app, api):
    app.selectbox(key="model").set_value("linear_svm").run()
    assert "linear_svm" in texts(app.sidebar.markdown)
    app.button(key="switch_model").click().run()
    assert "needs an API key" in texts(app.sidebar.error)
    app.text_input(key="api_key").input("not-the-key")
    app.button(key="switch_model").click().run()
    assert "the API key is not valid" in texts(app.sidebar.error)
    assert httpx.get(f"{api}/models").json()["current_model"] == "logistic_regression"

    app.text_input(key="api_key").input(API_KEY)
    app.button(key="switch_model").click().run()
    assert not app.exception
    assert "The API's current model is now 'linear_svm'" in texts(app.sidebar.success)
    assert httpx.get(f"{api}/models").json()["current_model"] == "linear_svm"
    assert app.selectbox(key="model").value == "linear_svm" and not app.sidebar.button  # nothing left to switch
    restore = httpx.post(
        f"{api}/models/switch", json={"model_name": "logistic_regression"}, headers={"X-API-Key": API_KEY}
    )
    assert restore.status_code == 200


def test_a_model_that_disappears_from_the_api_is_reported(app, api, models):
    app.selectbox(key="model").set_value("linear_svm").run()
    card = next(c for c in list_cards(models) if c.name == "linear_svm").path
    hidden = card.with_name(card.name + ".hidden")
    card.rename(hidden)
    try:
        wait_for_models(api, lambda names: "linear_svm" not in names)  # the API re-reads its folder every few s
        app.run()
        assert not app.exception
        assert "Model 'linear_svm' is no longer served by the API; using 'logistic_regression'" in texts(
            app.sidebar.warning
        )
        assert app.selectbox(key="model").value == "logistic_regression"
    finally:
        hidden.rename(card)
        wait_for_models(api, lambda names: "linear_svm" in names)
    with pytest.raises(ApiError) as missing:  # what a page shows when a request names an unknown model
        ApiClient(api).predict(["hello"], model="no_such_model")
    assert missing.value.status == 404 and "Not found (/predict): no model named 'no_such_model'" in str(missing.value)


# --- analyse ------------------------------------------------------------------------------------------------
def test_analyse_shows_the_api_answer_chart_and_toxicity_breakdown(app, api):
    app.selectbox(key="analyse_example").select_index(2).run()
    text = app.text_area(key="analyse_text").value
    assert text == EXAMPLE_TEXTS[2]
    app.button(key="analyse_button").click().run()
    assert not app.exception

    expected = api_post(api, "/predict", text=text, model="logistic_regression")
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Predicted label"] == expected["predicted_label"]
    assert metrics["Confidence"] == f"{expected['confidence']:.1%}"
    assert metrics["Inference time"].endswith(" ms")
    assert "Model **logistic_regression** · the model’s own thresholds" in texts(app.caption)

    bars, _, ticks = chart_layers(charts(app)[0])
    assert dict(zip(bars["label"], bars["probability"])) == pytest.approx(
        {s["label"]: s["score"] for s in expected["scores"]}
    )
    assert list(ticks["label"]) == [HATE] and list(ticks["threshold"]) == [0.5]  # binary: the positive label

    toxicity = api_post(api, "/predict/toxicity", text=text)
    assert toxicity["model"] == TOXICITY_MODEL and toxicity["flagged_categories"]
    verdict = texts(app.error)
    assert f"Toxic (model {TOXICITY_MODEL})" in verdict
    assert all(category in verdict for category in toxicity["flagged_categories"])
    table = table_with(app, "category")
    assert list(table.loc[table["flagged"] == "yes", "category"]) == toxicity["flagged_categories"]
    tox_bars, _, tox_ticks = chart_layers(charts(app)[1])
    assert len(tox_bars) == 6 and len(tox_ticks) == 6  # multi-label: every label has its own threshold
    models_body = httpx.get(f"{api}/models").json()
    assert dict(zip(tox_ticks["label"], tox_ticks["threshold"])) == pytest.approx(
        models_body["models"][TOXICITY_MODEL]["thresholds"]
    )

    app.switch_page("views/history.py").run()
    history = table_with(app, "flagged categories")
    assert list(history["text"]) == [text] and list(history["label"]) == [expected["predicted_label"]]
    assert list(history["flagged categories"]) == [", ".join(toxicity["flagged_categories"])]
    app.button(key="clear_history").click().run()
    assert "Nothing analysed yet" in texts(app.info)


def test_a_custom_threshold_changes_the_decision_like_the_api(app, api):
    text = EXAMPLE_TEXTS[2]
    default = api_post(api, "/predict", text=text)
    hate = next(s["score"] for s in default["scores"] if s["label"] == HATE)
    assert default["predicted_label"] == HATE and hate < 0.99
    threshold = round(hate + 0.01, 2)
    raised = api_post(api, "/predict", text=text, threshold=threshold)
    assert raised["predicted_label"] == "Regular Speech"

    app.toggle(key="analyse_override").set_value(True).run()
    app.slider(key="analyse_threshold").set_value(threshold)
    analyse(app, text)
    assert {m.label: m.value for m in app.metric}["Predicted label"] == "Regular Speech"
    assert "Nothing flagged." in texts(app.caption)  # a harmless label is never flagged
    _, _, ticks = chart_layers(charts(app)[0])
    assert list(ticks["threshold"]) == [pytest.approx(threshold)]


def test_the_hate_model_is_the_default_and_a_benign_text_flags_nothing(hate_models_dir, tmp_path):
    models = shutil.copytree(hate_models_dir, tmp_path / "models")
    with api_server(models, tmp_path / "api.log", default_model=None) as url:
        at = started_app(url)
        picker = at.selectbox(key="model")
        assert picker.value == HATE_MODEL == httpx.get(f"{url}/models").json()["current_model"]
        assert f"{HATE_MODEL} (current)" in picker.options and "linear_svm" in picker.options
        details = texts(at.sidebar.markdown)
        assert "task `hate`" in details and "the API's current model" in details
        # the TF-IDF fallback is served because there is no minilm_hate: the sidebar says so and how to get it
        assert "`make minilm` trains minilm_hate" in texts(at.sidebar.warning)

        analyse(at, EXAMPLE_TEXTS[4])  # "I am a gay man and proud of it"
        expected = api_post(url, "/predict", text=EXAMPLE_TEXTS[4])
        assert expected["model"] == HATE_MODEL and expected["flagged_labels"] == []
        assert {m.label: m.value for m in at.metric}["Predicted label"] == "not_hateful"
        assert "Nothing flagged." in texts(at.caption)
        bars = chart_layers(charts(at)[0])[0]
        assert set(bars["status"]) == {"not flagged"}

        analyse(at, "muslims are vermin and should be wiped out")
        assert {m.label: m.value for m in at.metric}["Predicted label"] == "hateful"
        assert "Flagged: **hateful**" in texts(at.caption)
        bars = chart_layers(charts(at)[0])[0]
        assert dict(zip(bars["label"], bars["status"])) == {"not_hateful": "not flagged", "hateful": "flagged"}


# A background training at step 1,200 of 5,625, about 62 minutes from the end of its training, as its log says.
TRAINING_PROGRESS = format_progress(1200, 5625, 0.21, {"loss": 0.2}, 20 * 60, 62 * 60 + 5) + "\n"


@contextmanager
def api_beside_command(models: Path, tmp_path: Path, log_text: str, **status) -> Iterator[tuple[str, IO]]:
    """The API over ``models`` while a background command for minilm_hate runs: its log holds ``log_text`` and is
    held locked as a running command holds it, and its status is running with ``status``. Yields the API's URL and
    the held log (unlock it to end the command)."""
    log = models / LOG_NAME
    log.write_text(log_text)
    write_status(models, state=RUNNING, model="minilm_hate", log=str(log), **status)
    with log.open("a") as held, api_server(models, tmp_path / "api.log", default_model=None) as url:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield url, held


def test_the_sidebar_says_how_far_the_background_training_of_the_transformer_has_got(hate_models_dir, tmp_path):
    models = shutil.copytree(hate_models_dir, tmp_path / "models")
    with api_beside_command(models, tmp_path, TRAINING_PROGRESS, command="make minilm", started_at="now") as (url, _):
        at = started_app(url)
        warning = texts(at.sidebar.warning)
        assert "is the TF-IDF fallback" in warning and "`make minilm` trains" not in warning
        assert "minilm_hate is being trained in the background: step 1,200 of 5,625, about 62 min" in warning


def test_the_sidebar_notes_that_a_preview_of_the_training_is_served_and_how_far_the_training_has_got(
    hate_models_dir, tmp_path
):
    """The training publishes its best checkpoint so far as minilm_hate_preview (training/preview.py), which the API
    prefers to the TF-IDF fallback: the sidebar says what it is, as a note rather than the fallback's warning."""
    models = shutil.copytree(hate_models_dir, tmp_path / "models")
    make_tiny_model(models, "minilm_hate_preview", "hate")
    with api_beside_command(models, tmp_path, TRAINING_PROGRESS, command="make minilm", started_at="now") as (url, _):
        assert httpx.get(f"{url}/models").json()["current_model"] == "minilm_hate_preview"
        at = started_app(url)
        note = texts(at.sidebar.info)
        assert "minilm_hate_preview is the best checkpoint so far of minilm_hate's training" in note
        assert "its scores are not calibrated and it has not been tested" in note
        assert "step 1,200 of 5,625, about 62 min of training left" in note
        assert "TF-IDF fallback" not in texts(at.sidebar.warning)


def test_the_sidebar_says_the_served_transformer_is_being_finished(hate_models_dir, tmp_path):
    """A stopped run saved minilm_hate before its export and calibration; `nlpc run` finishes it in the background
    and the API serves it as saved meanwhile: the sidebar says so, and says nothing once the finishing has ended."""
    models = shutil.copytree(hate_models_dir, tmp_path / "models")
    make_tiny_model(models, "minilm_hate", "hate")
    with api_beside_command(models, tmp_path, "exporting\n", purpose="finish", command="make minilm-finish") as (
        url,
        finishing,
    ):
        assert httpx.get(f"{url}/models").json()["current_model"] == "minilm_hate"
        at = started_app(url)
        note = texts(at.sidebar.info)
        assert "minilm_hate was saved, but what follows its training" in note
        assert "Until then minilm_hate is served as saved: its scores are not calibrated yet." in note
        assert "TF-IDF fallback" not in texts(at.sidebar.warning)
        fcntl.flock(finishing, fcntl.LOCK_UN)
        write_status(models, state="succeeded", exit_status=0)
        at.run()
        assert not at.exception and "is being finished" not in texts(at.sidebar.info)


def test_analyse_with_an_empty_text_asks_for_one(app):
    analyse(app, "   ")
    assert "Type or paste a text first" in texts(app.warning) and not app.metric


def test_an_api_error_is_shown_as_its_message(app, api):
    analyse(app, "x" * 10_001)  # over the API's limit
    assert not app.exception
    message = texts(app.error)
    assert "The API rejected the input (422)" in message and "10000" in message


# --- compare -------------------------------------------------------------------------------------------------
def test_compare_sends_the_text_to_each_model(app, api):
    app.switch_page("views/compare.py").run()
    assert app.multiselect(key="compare_models").value == ["logistic_regression", "linear_svm", TOXICITY_MODEL]
    app.text_area(key="compare_text").input(EXAMPLE_TEXTS[3])
    app.button(key="compare_button").click().run()
    assert not app.exception and not app.error
    table = table_with(app, "predicted label").set_index("model")
    for name in ["logistic_regression", "linear_svm", TOXICITY_MODEL]:
        expected = api_post(api, "/predict", text=EXAMPLE_TEXTS[3], model=name)
        assert table.loc[name, "predicted label"] == (expected["predicted_label"] or "(nothing flagged)")
        assert table.loc[name, "confidence"] == pytest.approx(expected["confidence"], abs=1e-4)
        assert table.loc[name, "flagged"] == ", ".join(expected["flagged_labels"])
    bars = chart_layers(charts(app)[0])[0]
    assert len(bars) == 2 + 2 + 6 and set(bars["model"]) == set(table.index)
    # the per-request model never moved the API's current model
    assert httpx.get(f"{api}/models").json()["current_model"] == "logistic_regression"


# --- batch -------------------------------------------------------------------------------------------------
def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.switch_page("views/batch.py").run()
    at.file_uploader(key="batch_file").upload(name, data, "application/octet-stream")
    return at.run()


def test_batch_scores_a_csv_file_through_the_api(app, api):
    rows = ["have a lovely day", "you are a stupid idiot", "thanks, see you tomorrow"]
    csv = pd.DataFrame({"id": [1, 2, 3], "text": rows}).to_csv(index=False).encode()
    upload(app, "comments.csv", csv)
    assert app.selectbox(key="batch_text_column").value == "text"
    app.button(key="batch_score").click().run()
    assert not app.exception and not app.error
    scored = app.session_state["batch_result"]["frame"]
    expected = api_post(api, "/predict", texts=rows, model="logistic_regression")["results"]
    assert list(scored["predicted_label"]) == [r["predicted_label"] for r in expected]
    assert list(scored[f"score_{HATE}"]) == pytest.approx(
        [next(s["score"] for s in r["scores"] if s["label"] == HATE) for r in expected]
    )
    assert list(scored["id"]) == ["1", "2", "3"]  # input columns kept as read
    assert list(scored["flagged"]) == [",".join(r["flagged_labels"]) for r in expected]
    assert list(scored["flagged"]) == ["" if r["predicted_label"] == "Regular Speech" else HATE for r in expected]
    assert len(table_with(app, "confidence")) == 3
    distribution = chart_layers(charts(app)[0])[0]
    assert dict(zip(distribution["label"], distribution["rows"])) == scored["predicted_label"].value_counts().to_dict()
    assert app.selectbox(key="batch_hist_column").value == f"score_{HATE}"
    assert app.get("download_button")[0].label == "Download the scored file"


def test_batch_scores_a_jsonl_file_with_a_multi_label_model(app, api):
    rows = [{"comment_text": "you are a worthless idiot"}, {"comment_text": "nice photo of the lake"}]
    data = "\n".join(json.dumps(r) for r in rows).encode()
    app.selectbox(key="model").set_value(TOXICITY_MODEL).run()
    upload(app, "comments.jsonl", data)
    assert app.selectbox(key="batch_text_column").value == "comment_text"
    app.button(key="batch_score").click().run()
    scored = app.session_state["batch_result"]["frame"]
    expected = api_post(api, "/predict", texts=[r["comment_text"] for r in rows], model=TOXICITY_MODEL)["results"]
    assert list(scored["flagged"]) == [",".join(r["flagged_labels"]) for r in expected]
    assert [c for c in scored.columns if c.startswith("score_")] == [
        f"score_{lab}" for lab in ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
    ]


def test_batch_file_problems_are_named(app):
    upload(app, "notes.csv", b"id,body\n1,hello there\n2,\n")
    assert "notes.csv has no column named 'text' (columns are: id, body)" in texts(app.warning)
    assert app.selectbox(key="batch_text_column").value is None
    app.button(key="batch_score").click().run()
    assert "Pick the column of notes.csv that holds the text" in texts(app.error)
    app.selectbox(key="batch_text_column").set_value("body")
    app.button(key="batch_score").click().run()
    assert "notes.csv, row 2, column 'body': empty text" in texts(app.error)
    assert not app.exception

    app.file_uploader(key="batch_file").set_value(("broken.jsonl", b'{"text": "ok"}\n{oops\n', "application/jsonl"))
    app.run()
    assert "broken.jsonl, row 2: invalid JSON" in texts(app.error) and not app.exception


def test_a_row_the_api_refuses_is_named_by_its_row_in_the_file(app):
    """The page sends 64 rows per request; the API names the refused text by its place in the request
    (``texts.5``), so the page must turn that back into the file's row, for a full chunk and for a last chunk of
    one text (sent as ``text``)."""
    long_text = "x" * 20_000
    for rows, bad_row in (([*["hello"] * 69, long_text, *["bye"] * 5], 70), ([*["hi"] * 128, long_text], 129)):
        upload(app, "long.csv", pd.DataFrame({"id": range(len(rows)), "text": rows}).to_csv(index=False).encode())
        app.button(key="batch_score").click().run()
        assert f"long.csv, row {bad_row}, column 'text': text is 20000 characters; the limit is" in texts(app.error)
        assert app.session_state["batch_result"] is None and not app.exception


# --- the API is down -----------------------------------------------------------------------------------------
def test_every_page_says_clearly_when_the_api_is_down():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    at = AppTest.from_file(str(APP_PATH), default_timeout=60)
    at.session_state["api_url"] = url
    at.run()
    assert f"Cannot reach the API at {url}" in texts(at.error) and "nlpc serve" in texts(at.error)
    assert "Not connected to the API" in texts(at.sidebar.error)
    analyse(at, "hello")
    assert not at.exception and not at.metric
    for page in ["compare", "batch", "history", "review", "insights", "analyse"]:
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, page
        assert f"Cannot reach the API at {url}" in texts(at.error), page
    upload(at, "comments.csv", b"text\nhello\n")
    assert at.button(key="batch_score").disabled and not at.exception


def test_nlpc_ui_refuses_a_bad_api_url():
    result = run_cli("ui", "--api-url", "localhost:8000")
    assert result.returncode == 2 and "--api-url must start with http:// or https://" in result.stderr


def test_nlpc_ui_refuses_a_refresh_interval_it_cannot_use():
    result = run_cli("ui", "--refresh-seconds", "0.5")
    assert result.returncode == 2 and "--refresh-seconds must be between 1 and 3600 seconds, got 0.5" in result.stderr
    result = run_cli("ui", env={"NLPC_UI_REFRESH_SECONDS": "soon"})
    assert result.returncode == 2 and "NLPC_UI_REFRESH_SECONDS must be a number of seconds, got 'soon'" in result.stderr


def test_scored_files_download_in_the_uploaded_format():
    from nlp_classifier.ui import files

    frame = pd.DataFrame({"text": ["a", "b"], "score_x": [0.25, 0.75]})
    assert files.download_name("Comments.JSON.gz") == "Comments.scored.jsonl"
    assert files.download_name("c.csv") == "c.scored.csv"
    assert pd.read_json(io.BytesIO(files.to_bytes(frame, "jsonl")), lines=True).equals(frame)
    assert pd.read_csv(io.BytesIO(files.to_bytes(frame, "tsv")), sep="\t").equals(frame)
    assert pd.read_parquet(io.BytesIO(files.to_bytes(frame, "parquet"))).equals(frame)
