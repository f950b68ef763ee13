"""``nlpc evaluate --report / --compare / --figures`` on small real models: the page is well-formed HTML with every
section, embeds its charts as PNG data URIs and reaches for nothing outside itself, escapes user text, carries
numbers that match the metrics, and bad input fails before anything is written. Also the report's curves and
per-source table on a dataset built in the test."""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from testkit.cli import run_cli
from testkit.frames import GROUPS, HATEFUL, NOT_HATEFUL
from testkit.models import task_slice, train_small_baseline, train_tiny_hate_model

from nlp_classifier.tasks import HATE_LABELS, TOXICITY_LABELS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SCRIPT_TEXT = "<script>alert('owned')</script> jews are disgusting animals & vermin"
MODEL_SECTIONS = (
    *("metrics", "confusion", "curves", "calibration", "thresholds"),
    *("histograms", "errors", "suite", "audit"),
)


class Page(HTMLParser):
    """A strict reading of an HTML page: every element closed in order, ids unique; collects ids, image sources,
    links, headings' text and the text of each table."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: list[str] = []
        self.images: list[str] = []
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.text_parts: list[str] = []
        self.feed(text)
        self.close()
        if self.stack:
            self.problems.append(f"never closed: {self.stack}")

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "img":
            self.images.append(attributes.get("src") or "")
        for name in ("src", "href", "action", "data"):
            if name in attributes:
                self.urls.append(attributes[name] or "")
        if tag not in VOID_TAGS:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)


def read_page(path: Path) -> tuple[str, Page]:
    raw = path.read_text(encoding="utf-8")
    page = Page(raw)
    assert raw.startswith("<!DOCTYPE html>")
    assert page.problems == []
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    return raw, page


def assert_self_contained(raw: str, page: Page, texts_have_urls: bool = False) -> list[bytes]:
    """No external URL anywhere (no http(s) at all unless the data's texts hold some, then none in an attribute;
    no script, no stylesheet link, no CSS url()); every image a PNG data URI. Returns the decoded images."""
    if not texts_have_urls:
        assert "http://" not in raw and "https://" not in raw
    assert "script" not in page.tags and "link" not in page.tags
    assert "url(" not in raw and "@import" not in raw
    for url in page.urls:
        assert url.startswith(("#", "data:image/png;base64,")), url
    pngs = []
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert data.startswith(PNG_SIGNATURE)
        pngs.append(data)
    return pngs


def table_after(raw: str, anchor: str) -> list[list[str]]:
    """The cells of the first table inside the element with id ``anchor`` (tags stripped, entities kept)."""
    start = raw.index(f'id="{anchor}"')
    body = raw[start : raw.index("</table>", start)]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)
    return [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, flags=re.S)] for r in rows]


@pytest.fixture(scope="module")
def hate_models(tmp_path_factory) -> Path:
    """Two tiny hate-task models (logistic regression and linear SVM) trained on ``tiny_hate_frame``."""
    path = tmp_path_factory.mktemp("report-models") / "models"
    data = tmp_path_factory.mktemp("report-data")
    train_tiny_hate_model(path, data, name="tiny_lr")
    train_tiny_hate_model(path, data, name="tiny_svm", algorithm="linear_svm")
    return path


@pytest.fixture(scope="module")
def labelled_file(tmp_path_factory) -> Path:
    """Texts the tiny models know, a few with the wrong label (hateful texts marked not_hateful: false positives;
    harmless ones marked hateful: false negatives), and a hateful text with markup marked not_hateful."""
    rows = [{"text": t.format(g=g), "label": "hateful"} for t in HATEFUL for g in GROUPS[:5]]
    rows += [{"text": t.format(g=g), "label": "not_hateful"} for t in NOT_HATEFUL[:4] for g in GROUPS[:5]]
    rows += [{"text": HATEFUL[0].format(g=g), "label": "not_hateful"} for g in GROUPS[5:8]]
    rows += [{"text": NOT_HATEFUL[0].format(g=g), "label": "hateful"} for g in GROUPS[5:7]]
    rows.append({"text": SCRIPT_TEXT, "label": "not_hateful"})
    path = tmp_path_factory.mktemp("report-eval") / "labelled.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def evaluate_args(labelled_file: Path) -> list[str]:
    return ["evaluate", "--data", str(labelled_file), "--label-column", "label", "--split", "all"]


def test_report_of_a_binary_model(hate_models, labelled_file, tmp_path):
    report, figures, output = tmp_path / "out" / "report.html", tmp_path / "figures", tmp_path / "metrics.json"
    run_cli(
        *evaluate_args(labelled_file),
        "--model",
        "tiny_lr",
        "--report",
        str(report),
        "--figures",
        str(figures),
        "--output",
        str(output),
        models_dir=hate_models,
        check=True,
    )
    raw, page = read_page(report)
    assert sorted(p.name for p in report.parent.iterdir()) == ["report.html"]  # no temporary file left
    a = "model-tiny_lr"
    for name in MODEL_SECTIONS:
        assert f"{a}-{name}" in page.ids
    assert f"{a}-thresholds-hateful" in page.ids and f"{a}-errors-hateful-fp" in page.ids
    assert "comparison" not in page.ids
    pngs = assert_self_contained(raw, page)

    # --figures: one PNG per chart, the same images the page embeds, named after the model and the chart
    written = {p.name: p.read_bytes() for p in figures.iterdir()}
    assert sorted(written) == [
        f"tiny_lr-{kind}.png"
        for kind in sorted(
            ["confusion-matrix", "roc", "precision-recall", "reliability", "score-histogram", "identity-audit"]
        )
    ]
    assert sorted(pngs) == sorted(written.values())

    # user text is escaped: the markup shows as text, never as an element
    assert "<script" not in raw.lower() and "&lt;" in raw and "&gt;" in raw
    assert SCRIPT_TEXT in page.text  # read back as the very text, words split into coloured spans or not

    # the numbers agree with the metrics of the same run
    metrics = json.loads(output.read_text())["metrics"]
    summary = dict(row for row in table_after(raw, f"{a}-metrics")[1:] if len(row) == 2)
    assert float(summary["f1_macro"]) == pytest.approx(metrics["f1_macro"], abs=5e-5)
    thresholds = table_after(raw, f"{a}-thresholds-hateful")
    assert [r[0] for r in thresholds[1:]] == [f"{0.05 * i:.4f}" for i in range(1, 20)]
    marked = [r for r in thresholds[1:] if r[-1] == "model&#x27;s threshold"]
    assert len(marked) == 1 and marked[0][0] == "0.5000"  # the tiny model keeps the default threshold
    hateful = metrics["per_label"]["hateful"]
    assert float(marked[0][1]) == pytest.approx(hateful["precision"], abs=5e-5)
    assert float(marked[0][2]) == pytest.approx(hateful["recall"], abs=5e-5)
    recalls = [float(r[2]) for r in thresholds[1:]]
    assert recalls == sorted(recalls, reverse=True) and recalls[0] == 1.0

    # the error tables list every misclassified text (fewer than 20 here), most confident first
    (true_neg, false_pos), (false_neg, _) = metrics["confusion_matrix"]
    assert 0 < false_pos < 20 and 0 < false_neg < 20
    fp = table_after(raw, f"{a}-errors-hateful-fp")[1:]
    fn = table_after(raw, f"{a}-errors-hateful-fn")[1:]
    assert (len(fp), len(fn)) == (false_pos, false_neg)
    fp_scores, fn_scores = [float(r[2]) for r in fp], [float(r[2]) for r in fn]
    assert fp_scores == sorted(fp_scores, reverse=True) and min(fp_scores) >= 0.5
    assert fn_scores == sorted(fn_scores) and max(fn_scores) < 0.5
    assert any("alert" in r[3] for r in fp)

    # each error's words carry their contribution from Classifier.explain (exact linear ones for TF-IDF)
    assert "Words coloured by their contribution to the score (linear)" in page.text
    from nlp_classifier import load
    from nlp_classifier.explain.html import word_class

    (explanation,) = load("tiny_lr", models_dir=hate_models).explain([SCRIPT_TEXT], label="hateful")
    start = raw.index(f'id="{a}-errors-hateful-fp"')
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", raw[start:], flags=re.S) if "alert" in r)
    spans = re.findall(r'<span class="nlpc-word (\w+)" title="([^"]*)" style="[^"]*">([^<]*)</span>', row)
    assert spans == [(word_class(w.score), f"{w.score:+.4f}", html.escape(w.word)) for w in explanation.words]
    assert max(explanation.words, key=lambda w: w.score).word in {"disgusting", "animals", "vermin"}

    # the behavioural suite and the audit ran on the shipped files
    suite = table_after(raw, f"{a}-suite")
    assert "negated_hate" in {r[0] for r in suite} and suite[-1][0] == "overall"
    assert int(suite[-1][2].replace(",", "")) > 2000
    audit = table_after(raw, f"{a}-audit")
    assert audit[0][:3] == ["identity", "category", "subgroup AUC"] and len(audit) - 1 == 61


def test_compare_two_models(hate_models, labelled_file, tmp_path):
    report, figures = tmp_path / "compare.html", tmp_path / "figs"
    proc = run_cli(
        *evaluate_args(labelled_file),
        "--compare",
        "tiny_lr,tiny_svm",
        "--report",
        str(report),
        "--figures",
        str(figures),
        "--no-suite",
        "--no-audit",
        models_dir=hate_models,
        check=True,
    )
    assert "tiny_lr" in proc.stdout and "tiny_svm" in proc.stdout
    raw, page = read_page(report)
    assert_self_contained(raw, page)
    assert "comparison" in page.ids and "model-tiny_lr" in page.ids and "model-tiny_svm" in page.ids
    rows = table_after(raw, "comparison")
    assert [r[0] for r in rows[1:]] == ["tiny_lr", "tiny_svm"]
    assert rows[1][2] != "-" and rows[2][2] != "-"  # accuracy of each
    for kind in ("roc", "precision-recall", "reliability"):
        assert f"figure-comparison-{kind}" in page.ids
        assert (figures / f"comparison-{kind}.png").read_bytes().startswith(PNG_SIGNATURE)
    assert (figures / "tiny_svm-roc.png").is_file() and not (figures / "tiny_svm-identity-audit.png").exists()
    assert "Not run: skipped with --no-suite" in page.text and "Not run: skipped with --no-audit" in page.text


def test_multi_label_report_has_a_section_per_label(tmp_path):
    models = tmp_path / "models"
    train_small_baseline("jigsaw", models, tmp_path)
    data = task_slice("jigsaw", tmp_path / "jigsaw.csv")
    report = tmp_path / "jigsaw.html"
    run_cli(
        "evaluate",
        "--model",
        "logistic_regression_jigsaw",
        "--data",
        str(data),
        "--split",
        "all",
        "--report",
        str(report),
        "--no-suite",
        models_dir=models,
        check=True,
    )
    raw, page = read_page(report)
    assert "http://" in page.text  # Jigsaw comments hold links: shown as text, never as a link
    # confusion, ROC, PR, reliability, histograms, audit
    assert len(assert_self_contained(raw, page, texts_have_urls=True)) == 6
    a = "model-logistic_regression_jigsaw"
    for label in TOXICITY_LABELS:
        assert f"{a}-thresholds-{label}" in page.ids
        assert f"{a}-errors-{label}-fp" in page.ids and f"{a}-errors-{label}-fn" in page.ids
        rows = table_after(raw, f"{a}-thresholds-{label}")[1:]
        assert sum(r[-1] == "model&#x27;s threshold" for r in rows) == 1
    calibration = table_after(raw, f"{a}-calibration")
    assert [r[0] for r in calibration[1:]] == TOXICITY_LABELS
    per_label = table_after(raw, f"{a}-metrics-per-label")
    assert per_label[0][-2:] == ["roc_auc", "threshold"] and [r[0] for r in per_label[1:]] == TOXICITY_LABELS
    assert "P(identity_hate)" in page.text  # the audit scores identity attacks


def test_bad_input_fails_before_anything_is_written(hate_models, labelled_file, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    report = out / "report.html"
    report.write_text("the previous report")
    proc = run_cli(
        *evaluate_args(labelled_file),
        "--compare",
        "tiny_lr,no_such_model",
        "--report",
        str(report),
        models_dir=hate_models,
    )
    assert proc.returncode == 2 and "no_such_model" in proc.stderr
    assert report.read_text() == "the previous report" and sorted(p.name for p in out.iterdir()) == ["report.html"]

    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for path, message in (
        (a_file / "report.html", "cannot write into"),
        (out, "is a folder"),
        (out / "report.txt", "ending in .html"),
    ):
        proc = run_cli(
            *evaluate_args(labelled_file), "--model", "tiny_lr", "--report", str(path), models_dir=hate_models
        )
        assert proc.returncode == 2 and message in proc.stderr and str(path) in proc.stderr, proc.stderr
    proc = run_cli(
        *evaluate_args(labelled_file), "--model", "tiny_lr", "--figures", str(a_file), models_dir=hate_models
    )
    assert proc.returncode == 2 and "is a file" in proc.stderr

    for args, message in (
        (["--compare", "tiny_lr", "--report", str(report)], "at least two models"),
        (["--compare", "tiny_lr,tiny_lr", "--report", str(report)], "twice"),
        (["--compare", "tiny_lr,tiny_svm"], "add --report"),
        (["--model", "tiny_lr", "--compare", "tiny_lr,tiny_svm", "--report", str(report)], "not --model"),
    ):
        proc = run_cli(*evaluate_args(labelled_file), *args, models_dir=hate_models)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert report.read_text() == "the previous report"


def test_compare_refuses_models_with_other_labels(hate_models, labelled_file, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(hate_models, models)
    davidson = train_small_baseline("davidson", models, tmp_path).name
    proc = run_cli(
        *evaluate_args(labelled_file),
        "--compare",
        f"tiny_lr,{davidson}",
        "--report",
        str(tmp_path / "r.html"),
        models_dir=models,
    )
    assert proc.returncode == 2 and f"do not match model '{davidson}'" in proc.stderr
    assert not (tmp_path / "r.html").exists()


def test_per_source_table_and_curves_in_process(hate_models, tmp_path):
    from sklearn.metrics import roc_auc_score

    from nlp_classifier import load
    from nlp_classifier.data import Dataset
    from nlp_classifier.report import build_report, write_html
    from nlp_classifier.report.gather import label_curves

    classifier = load("tiny_lr", models_dir=hate_models)
    texts = [t.format(g=g) for t in HATEFUL + NOT_HATEFUL for g in GROUPS]
    y = np.array([1] * (len(HATEFUL) * len(GROUPS)) + [0] * (len(NOT_HATEFUL) * len(GROUPS)))
    y[::7] = 1 - y[::7]  # some wrong labels, so that the curves are not perfect
    sources = ["forum" if i % 3 else "news" for i in range(len(texts))]
    dataset = Dataset("mixed", texts, y, list(HATE_LABELS), classifier.problem_type, "test", sources=sources)
    report = build_report([classifier], dataset, data="test", split="all", suite=False, audit=False)
    model = report.models[0]

    # the ROC points integrate to the model's ROC-AUC, and recall climbs to 1
    curves = model.curves["hateful"]
    scores = classifier.predict_proba(texts)[:, 1]
    assert model.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, scores))
    area = float(np.sum(np.diff(curves.fpr) * (curves.tpr[1:] + curves.tpr[:-1]) / 2))
    assert area == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert label_curves(model.views[0]).roc_auc == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert curves.tpr[-1] == 1.0 and curves.fpr[-1] == 1.0 and curves.recall[-1] == 1.0

    path = write_html(report, tmp_path / "sources.html")
    raw, page = read_page(path)
    rows = table_after(raw, "model-tiny_lr-metrics-per-source")
    assert [r[0] for r in rows[1:]] == ["news", "forum", "overall"]
    assert [int(r[1]) for r in rows[1:]] == [sources.count("news"), sources.count("forum"), len(texts)]


def test_multi_class_report_shows_each_harmful_class_one_vs_rest(tmp_path):
    from sklearn.metrics import roc_auc_score

    from nlp_classifier import load
    from nlp_classifier.data import load_dataset
    from nlp_classifier.report import build_report, write_html

    models = tmp_path / "models"
    card = train_small_baseline("davidson3", models, tmp_path)
    classifier = load(card.name, models_dir=models)
    dataset = load_dataset("davidson3", str(task_slice("davidson3", tmp_path / "d3.csv")))
    report = build_report([classifier], dataset, data="slice", split="all", suite=False, audit=False)
    model = report.models[0]
    assert [v.label for v in model.views] == ["hate", "offensive"]  # "neither" is harmless
    proba = classifier.predict_proba(dataset.texts)
    for i, view in enumerate(model.views):  # hate is class 0, offensive class 1
        assert model.curves[view.label].roc_auc == pytest.approx(roc_auc_score(dataset.y == i, proba[:, i]), abs=1e-12)
    assert model.threshold_tables == {} and list(model.reliability) == ["top label"]

    raw, page = read_page(write_html(report, tmp_path / "d3.html"))
    assert "decides by arg-max" in page.text
    confusion = table_after(raw, f"model-{card.name}-confusion")
    assert confusion[0] == ["", "predicted hate", "predicted offensive", "predicted neither"]
    assert sum(int(c.replace(",", "")) for r in confusion[1:] for c in r[1:]) == len(dataset)
    assert f"model-{card.name}-errors-hate-fp" in page.ids and f"model-{card.name}-errors-offensive-fn" in page.ids


def test_compare_a_transformer_with_a_tfidf_model_explains_each_its_own_way(hate_models, labelled_file, tmp_path):
    from testkit.tiny_transformers import make_tiny_model

    from nlp_classifier import load
    from nlp_classifier.data import load_dataset
    from nlp_classifier.report import build_report, write_html

    models = tmp_path / "models"
    shutil.copytree(hate_models, models)
    make_tiny_model(models, "tiny_bert", "hate")
    classifiers = [load(name, models_dir=models) for name in ("tiny_lr", "tiny_bert")]
    dataset = load_dataset(str(labelled_file), text_column="text", label_columns=["label"], labels=HATE_LABELS)
    report = build_report(classifiers, dataset, data="labelled", split="all", suite=False, audit=False)
    tfidf, bert = report.models
    assert (tfidf.explain_method, bert.explain_method) == ("linear", "occlusion")
    errors = bert.errors["hateful"]
    cases = errors.false_positives + errors.false_negatives
    assert cases and all(c.explanation is not None and c.explanation.text == c.text for c in cases)
    (again,) = classifiers[1].explain([cases[0].text], label="hateful")
    # the report shows the model's own explanation (scored in another batch: equal to float precision)
    assert [w.word for w in cases[0].explanation.words] == [w.word for w in again.words]
    assert [w.score for w in cases[0].explanation.words] == pytest.approx([w.score for w in again.words], abs=1e-5)

    raw, page = read_page(write_html(report, tmp_path / "mixed.html"))
    assert_self_contained(raw, page)
    assert [r[:2] for r in table_after(raw, "comparison")[1:]] == [["tiny_lr", "fast"], ["tiny_bert", bert.backend]]
    assert "contribution to the score (occlusion)" in page.text and "contribution to the score (linear)" in page.text
