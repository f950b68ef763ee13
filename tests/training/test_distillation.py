"""Distillation: the blended targets, the soft cross-entropy they train with, the teacher checks, and a tiny
student that follows its teacher rather than its labels when told to, with the teacher's scores cached, and the
same student taught from those scores written to a file, without the teacher."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from testkit.tiny_transformers import FAST_TRAINING as FAST
from testkit.tiny_transformers import save_tiny_encoder

import nlp_classifier
from nlp_classifier.errors import ConfigError, ModelNotFoundError
from nlp_classifier.training.baselines import train_baseline
from nlp_classifier.training.distillation import CACHE_FOLDER, blended_targets
from nlp_classifier.training.hf_glue import make_loss
from nlp_classifier.training.transformer import plan_run, train_transformer

torch.set_num_threads(1)

WORDS = "the a is man woman people good nice kind kill vermin are gay muslim christian jewish".split()
GROUPS = ["gay", "muslim", "christian", "jewish"]
HATEFUL = ["kill the {} vermin", "{} people are vermin", "kill {} people"]
FRIENDLY = ["the {} man is good", "a {} woman is nice", "{} people are kind"]


def test_targets_blend_the_label_with_the_teachers_probabilities():
    scores = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]], dtype=np.float32)
    y = np.array([0, 0, 1])
    blended = blended_targets(y, scores, 0.25, "single_label")
    np.testing.assert_allclose(blended, [[0.975, 0.025], [0.825, 0.175], [0.15, 0.85]], rtol=1e-6)
    np.testing.assert_allclose(blended_targets(y, scores, 1.0, "single_label"), scores)
    multi = blended_targets(np.array([[1, 0], [0, 0]]), np.array([[0.2, 0.4], [0.6, 0.0]]), 0.5, "multi_label")
    np.testing.assert_allclose(multi, [[0.6, 0.2], [0.3, 0.0]], rtol=1e-6)


def test_probability_targets_train_with_the_soft_cross_entropy():
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.5], [-1.0, 1.0]])
    targets = torch.tensor([[0.8, 0.2], [0.5, 0.5], [0.1, 0.9]])
    loss = make_loss("single_label", None, 0.0)({"logits": logits}, targets)
    expected = -(targets * torch.log_softmax(logits, dim=-1)).sum(dim=-1).mean()
    assert loss.item() == pytest.approx(expected.item())
    # a one-hot row is the same loss as its class index
    hard = make_loss("single_label", None, 0.0)({"logits": logits}, torch.tensor([0, 1, 1]))
    onehot = make_loss("single_label", None, 0.0)({"logits": logits}, torch.eye(2)[[0, 1, 1]])
    assert hard.item() == pytest.approx(onehot.item())


def _write(path: Path, rows: list[tuple[str, str]]) -> Path:
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    return path


def _rows(flip: bool) -> list[tuple[str, str]]:
    hateful, friendly = ("not_hateful", "hateful") if flip else ("hateful", "not_hateful")
    rows = [(t.format(g), hateful) for t in HATEFUL for g in GROUPS for _ in range(4)]
    return rows + [(t.format(g), friendly) for t in FRIENDLY for g in GROUPS for _ in range(4)]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    return save_tiny_encoder(tmp_path_factory.mktemp("tiny-bert-distil"), "bert", WORDS)


def test_encoded_texts_train_towards_the_targets_they_are_given(tiny_bert):
    from nlp_classifier.backends.transformer_text import TextSettings
    from nlp_classifier.data import Dataset
    from nlp_classifier.training.hf_glue import EncodedTexts

    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_bert)
    data = Dataset(
        "t", ["kill the gay vermin", "the gay man is good"], np.array([1, 0]), ["a", "b"], "single_label", "x"
    )
    items = EncodedTexts(tokenizer, data, TextSettings(24, None, True, False), ["input_ids", "attention_mask"])
    assert [items[i]["labels"] for i in range(2)] == [1, 0]
    items.use_targets(np.array([[0.25, 0.75], [0.5, 0.5]]))
    assert [items[i]["labels"] for i in range(2)] == [[0.25, 0.75], [0.5, 0.5]]
    with pytest.raises(ValueError, match="3 targets for 2 texts"):
        items.use_targets(np.zeros((3, 2)))


def test_a_teacher_with_other_labels_or_no_such_teacher_is_refused_before_training(tmp_path, tiny_bert):
    three = _write(tmp_path / "three.csv", [(f"text {i} {w}", w) for i in range(20) for w in ("x", "y", "z")])
    train_baseline(str(three), "logistic_regression", name="three_way", models_dir=tmp_path)
    data = str(_write(tmp_path / "two.csv", _rows(flip=False)))
    settings = {**FAST, "base_model": str(tiny_bert)}
    with pytest.raises(ConfigError, match="'teacher_model': three_way is a single_label model with labels"):
        plan_run(data, "quick", overrides={**settings, "teacher_model": "three_way"}, models_dir=tmp_path)
    with pytest.raises(ModelNotFoundError, match="no model named 'nobody'"):
        plan_run(data, "quick", overrides={**settings, "teacher_model": "nobody"}, models_dir=tmp_path)
    with pytest.raises(ConfigError, match="'distillation_weight' must be between 0 and 1"):
        plan_run(data, "quick", overrides={**settings, "distillation_weight": 1.5}, models_dir=tmp_path)
    train_baseline(data, "logistic_regression", name="two_way", models_dir=tmp_path)
    with pytest.raises(ConfigError, match="two_way is a tfidf model; its backends are fast, sklearn, not 'torch'"):
        plan_run(
            data,
            "quick",
            overrides={**settings, "teacher_model": "two_way", "teacher_backend": "torch"},
            models_dir=tmp_path,
        )
    plan = plan_run(data, "quick", overrides={**settings, "teacher_model": "two_way"}, models_dir=tmp_path)
    assert plan.teacher_backend is None  # a TF-IDF teacher runs with its family's default backend


def test_a_transformer_teacher_runs_in_pytorch_unless_told_and_an_onnx_backend_needs_its_export(tmp_path):
    from testkit.tiny_transformers import make_tiny_model

    from nlp_classifier.registry import resolve
    from nlp_classifier.training.distillation import store_key, teacher_backend

    make_tiny_model(tmp_path, "tiny_teacher", "hate")
    card = resolve("tiny_teacher", tmp_path)
    assert teacher_backend(card, None) == "torch"  # not whichever export the folder may have
    with pytest.raises(
        ConfigError, match=r"no onnx-int8 export .*nlpc export onnx --model tiny_teacher --quantize int8"
    ):
        teacher_backend(card, "onnx-int8")
    with pytest.raises(ConfigError, match="its backends are torch, onnx-int8, onnx, not 'fast'"):
        teacher_backend(card, "fast")
    # scores from another backend, or in another column order, are other scores: they are stored apart
    labels = ["not_hateful", "hateful"]
    assert store_key(card, "torch", labels) != store_key(card, "onnx-int8", labels)
    assert store_key(card, "torch", labels) != store_key(card, "torch", labels[::-1])


def test_a_plain_hugging_face_folder_teaches_with_its_columns_in_the_students_order(tmp_path):
    from testkit.tiny_transformers import make_tiny_model

    from nlp_classifier.registry import resolve
    from nlp_classifier.training.distillation import teacher_card, teacher_scores

    make_tiny_model(tmp_path, "plain", "hate")
    folder = tmp_path / "transformer" / "plain"
    (folder / "model_card.json").unlink()  # a folder saved by Hugging Face alone, described from its config
    texts = ["kill the gay vermin", "the day is good", "kill the gay vermin"]
    student_labels = ["hateful", "not_hateful"]  # the other way round from the teacher's
    card = teacher_card(str(folder), student_labels, "single_label", tmp_path)
    scores = teacher_scores(card, texts, student_labels, tmp_path, backend="torch")
    direct = nlp_classifier.load(folder).predict_proba(texts)
    np.testing.assert_allclose(scores, direct[:, ::-1], atol=1e-6)
    assert np.allclose(scores[0], scores[2]) and not np.allclose(scores[0], scores[1])
    again = teacher_scores(resolve(folder), texts, student_labels, tmp_path, backend="torch")  # cached
    np.testing.assert_array_equal(again, scores)
    assert len(list((tmp_path / CACHE_FOLDER).iterdir())) == 1


def test_an_interrupted_scoring_goes_on_and_other_texts_are_scored_only_where_they_are_new(tmp_path, monkeypatch):
    from testkit.tiny_transformers import make_tiny_model

    import nlp_classifier.backends as backends
    from nlp_classifier.registry import resolve
    from nlp_classifier.training import distillation

    make_tiny_model(tmp_path, "tiny_teacher", "hate")
    card = resolve("tiny_teacher", tmp_path)
    texts = ["kill the gay vermin", "the day is good", "kill the gay vermin", "muslim people are kind", "hello"]
    labels = ["not_hateful", "hateful"]
    model = nlp_classifier.load(card.artifact_path, backend="torch")
    monkeypatch.setattr(distillation, "CHUNK", 2)  # 4 distinct texts: two chunks
    scored: list[str] = []
    real_load = backends.load_card

    def load_counting(card, backend=None, fail_after=None):
        model = real_load(card, backend=backend)
        predict = model.predict_proba

        def counted(batch):
            if fail_after is not None and len(scored) >= fail_after:
                raise KeyboardInterrupt  # the run is stopped after its first chunk
            scored.extend(batch)
            return predict(batch)

        model.predict_proba = counted
        return model

    monkeypatch.setattr(backends, "load_card", lambda card, backend=None: load_counting(card, backend, fail_after=2))
    with pytest.raises(KeyboardInterrupt):
        distillation.teacher_scores(card, texts, labels, tmp_path, backend="torch")
    (store,) = (tmp_path / CACHE_FOLDER).iterdir()  # one store, no temporary file left beside it
    with np.load(store) as saved:
        assert saved["scores"].shape == (2, 2) and saved["digests"].shape == (2, 32)
    assert scored == texts[:2]
    monkeypatch.setattr(backends, "load_card", lambda card, backend=None: load_counting(card, backend))
    scores = distillation.teacher_scores(card, texts, labels, tmp_path, backend="torch")
    assert scored == texts[:2] + texts[3:]  # the second run scored only the distinct texts not saved
    np.testing.assert_allclose(scores, model.predict_proba(texts), atol=1e-6)
    # another mixture sharing two of its texts with the first: only the new one is scored
    other = ["hello", "a new text", "the day is good"]
    scores = distillation.teacher_scores(card, other, labels, tmp_path, backend="torch")
    assert scored[len(texts) - 1 :] == ["a new text"]
    np.testing.assert_allclose(scores, model.predict_proba(other), atol=1e-6)
    assert [p.name for p in (tmp_path / CACHE_FOLDER).iterdir()] == [store.name]
    # an unreadable store is not trusted: its texts are scored again and the file rewritten
    store.write_bytes(b"not an npz file")
    again = distillation.teacher_scores(card, other, labels, tmp_path, backend="torch")
    assert scored[len(texts) :] == other
    np.testing.assert_allclose(again, scores, atol=1e-6)
    with np.load(store) as saved:
        assert saved["scores"].shape == (3, 2)


def test_the_store_reads_back_every_text_it_saved_whatever_bytes_its_digest_has(tmp_path):
    import hashlib

    from nlp_classifier.training.distillation import ScoreStore

    # a text whose sha256 ends in a zero byte (about 1 in 256), which a numpy byte-string array would cut off
    zero_ended = next(t for t in (f"text {i}" for i in range(10_000)) if hashlib.sha256(t.encode()).digest()[-1] == 0)
    texts = [zero_ended, "an ordinary text", "émoji 🙂 text"]
    store = ScoreStore(tmp_path / "store.npz", 2)
    store.add(texts, np.array([[0.1, 0.9], [0.7, 0.3], [0.5, 0.5]]))
    again = ScoreStore(tmp_path / "store.npz", 2)
    assert all(text in again for text in texts) and len(again) == 3
    np.testing.assert_allclose(again.scores(texts[::-1]), [[0.5, 0.5], [0.7, 0.3], [0.1, 0.9]])
    assert ScoreStore(tmp_path / "store.npz", 3).rows == {}  # another column count is another store's file


def test_a_score_file_holds_the_stores_scores_in_the_students_column_order_and_refuses_what_it_lacks(tmp_path):
    from testkit.tiny_transformers import make_tiny_model

    from nlp_classifier.registry import resolve
    from nlp_classifier.training.distillation import ScoreStore, read_score_file, store_path, write_score_file

    make_tiny_model(tmp_path, "tiny_teacher", "hate")
    card = resolve("tiny_teacher", tmp_path)
    labels = ["not_hateful", "hateful"]
    with pytest.raises(ConfigError, match=r"tiny_teacher has scored no texts .* --set teacher_model=tiny_teacher"):
        write_score_file(card, "torch", labels, tmp_path, tmp_path / "scores.npz")
    assert not (tmp_path / "scores.npz").exists()
    texts = ["kill the gay vermin", "the day is good", "émoji 🙂 text"]
    ScoreStore(store_path(card, "torch", labels, tmp_path), 2).add(
        texts, np.array([[0.1, 0.9], [0.8, 0.2], [0.6, 0.4]])
    )
    meta = write_score_file(card, "torch", labels, tmp_path, tmp_path / "out" / "scores.npz")
    assert meta["texts"] == 3 and meta["labels"] == labels and meta["teacher"]["name"] == "tiny_teacher"
    assert meta["teacher"]["version"] == card.version and meta["teacher"]["backend"] == "torch"
    # a student whose labels run the other way round gets the columns in its own order, any text repeated
    scored = read_score_file(str(tmp_path / "out" / "scores.npz"), texts[:2] + texts[:1], labels[::-1])
    np.testing.assert_allclose(scored.store.scores(texts[1:2]), [[0.2, 0.8]])
    record = scored.record(0.5, 3)
    assert record["scores_file"] == "scores.npz" and record["name"] == "tiny_teacher"
    assert record["distillation_weight"] == 0.5 and len(record["scores_file_sha256"]) == 64
    with pytest.raises(ConfigError, match=r"has no score for 1 of the run's 3 distinct training texts .*'unseen'"):
        read_score_file(str(tmp_path / "out" / "scores.npz"), ["unseen", *texts[:2]], labels)
    with pytest.raises(ConfigError, match=r"holds scores for the labels \['not_hateful', 'hateful'\]; the student has"):
        read_score_file(str(tmp_path / "out" / "scores.npz"), texts, ["toxic", "clean"])
    with pytest.raises(ConfigError, match=r"'teacher_scores': .*nowhere.npz is not a file"):
        read_score_file(str(tmp_path / "nowhere.npz"), texts, labels)
    (tmp_path / "bad.npz").write_bytes(b"not an npz file")
    with pytest.raises(ConfigError, match=r"bad.npz is not a score file written by `nlpc export teacher-scores`"):
        read_score_file(str(tmp_path / "bad.npz"), texts, labels)
    # a cache store is not a score file: it does not say whose scores it holds
    with pytest.raises(ConfigError, match="is not a score file"):
        read_score_file(str(store_path(card, "torch", labels, tmp_path)), texts, labels)


def test_a_bad_score_file_is_refused_before_restart_discards_the_interrupted_run(tmp_path, tiny_bert):
    from nlp_classifier.training.staging import staging_folder

    data = str(_write(tmp_path / "two.csv", _rows(flip=False)))
    staging = staging_folder(tmp_path / "student")
    (staging / "checkpoint-5").mkdir(parents=True)
    (staging / "checkpoint-5" / "trainer_state.json").write_text("{}")
    overrides = {**FAST, "base_model": str(tiny_bert), "teacher_scores": str(tmp_path / "typo.npz")}
    with pytest.raises(ConfigError, match="typo.npz is not a file"):
        plan_run(data, "quick", overrides=overrides, output=tmp_path / "student", models_dir=tmp_path, restart=True)
    assert (staging / "checkpoint-5" / "trainer_state.json").is_file()  # the interrupted run is still there


def test_a_relative_score_file_is_found_in_the_data_folder_too(tmp_path, monkeypatch):
    from nlp_classifier.training.distillation import score_file_path

    (tmp_path / "data" / "teacher").mkdir(parents=True)
    (tmp_path / "data" / "teacher" / "scores.npz").write_bytes(b"x")
    monkeypatch.setenv("NLPC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert score_file_path("teacher/scores.npz") == tmp_path / "data" / "teacher" / "scores.npz"
    assert score_file_path("data/teacher/scores.npz") == Path("data/teacher/scores.npz")  # as given, when there
    assert score_file_path("missing.npz") == Path("missing.npz")  # the error then names the path as given


def _hateful(model, texts: list[str]) -> np.ndarray:
    return model.predict_proba(texts)[:, model.labels.index("hateful")]


def test_a_student_follows_its_teacher_over_its_labels_as_far_as_the_weight_says(tmp_path, tiny_bert):
    # the teacher (TF-IDF) learnt the right labels; the student's file has every label the wrong way round
    teacher = train_baseline(
        str(_write(tmp_path / "right.csv", _rows(flip=False))),
        "logistic_regression",
        name="teacher",
        models_dir=tmp_path,
    )
    wrong = str(_write(tmp_path / "wrong.csv", _rows(flip=True)))
    settings = {
        **FAST,
        "base_model": str(tiny_bert),
        "max_train_samples": None,
        "max_steps": 120,
        "save_steps": 120,
        "learning_rate": 1e-3,
        "warmup_ratio": 0.0,
        "class_weights": False,
        "seed": 3,
        "teacher_model": "teacher",
    }
    probe = ["kill the gay vermin", "muslim people are vermin", "the gay man is good", "christian people are kind"]
    gaps = {}
    for weight in (0.0, 1.0):
        card = train_transformer(
            wrong,
            "quick",
            overrides={**settings, "distillation_weight": weight},
            output=tmp_path / f"student{weight:g}",
            models_dir=tmp_path,
        )
        student = nlp_classifier.load(tmp_path / f"student{weight:g}")
        record = student.card.extra["teacher"]  # as the saved card says
        assert record["name"] == "teacher" and record["version"] == teacher.version
        assert record["distillation_weight"] == weight and record["texts_scored"] == student.card.splits["train_used"]
        scores = _hateful(student, probe)
        gaps[weight] = scores[:2].mean() - scores[2:].mean()  # attacks minus friendly sentences
    assert gaps[0.0] < -0.5  # on its labels alone the student learnt them the wrong way round
    assert gaps[1.0] > 0.3  # on the teacher's scores alone it learnt the teacher's view
    # both students trained on the same texts: the teacher scored them once, the second run read the cache
    (cached,) = (tmp_path / CACHE_FOLDER).iterdir()
    with np.load(cached) as saved:  # each distinct text once; a mixture repeats some
        assert 0 < saved["scores"].shape[0] <= card.extra["teacher"]["texts_scored"]
        assert saved["scores"].shape == (len(saved["digests"]), 2)
    # the teacher's scores written to a file teach a third student without the teacher: the same model as the
    # student that ran the teacher itself
    from nlp_classifier.cli import main

    export = ["export", "teacher-scores", "--model", "teacher", "--output", str(tmp_path / "scores.npz")]
    assert main(["--models-dir", str(tmp_path), *export]) == 0
    from_file = {**settings, "teacher_model": None, "teacher_scores": str(tmp_path / "scores.npz")}
    with pytest.raises(ConfigError, match="'teacher_model' and 'teacher_scores' both name a teacher"):
        plan_run(wrong, "quick", overrides={**from_file, "teacher_model": "teacher"}, models_dir=tmp_path)
    train_transformer(
        wrong,
        "quick",
        overrides={**from_file, "distillation_weight": 1.0},
        output=tmp_path / "student_from_file",
        models_dir=tmp_path,
    )
    student = nlp_classifier.load(tmp_path / "student_from_file")
    record = student.card.extra["teacher"]
    assert record["name"] == "teacher" and record["scores_file"] == "scores.npz"
    np.testing.assert_allclose(_hateful(student, probe), scores, atol=1e-5)  # scores: the weight-1.0 student's


def test_the_bundled_teacher_scores_cover_every_training_text_of_the_hate_preset():
    # data/teacher_scores/ ships the all-mpnet-base-v2 teacher's scores so that MiniLM can be distilled from a
    # fresh checkout; a change to the preset's data, mixing or augmentation that alters its training texts would
    # leave the file short, and the distilled run would be refused: this says so first
    from nlp_classifier.data import load_dataset, split_dataset
    from nlp_classifier.training.distillation import read_score_file
    from nlp_classifier.training.transformer_config import resolve_config
    from nlp_classifier.training.transformer_plan import training_rows

    _, settings = resolve_config("hate")
    dataset = load_dataset("hate")
    train, _ = training_rows(split_dataset(dataset).train, settings)
    assert len(train) > 0.99 * settings.mixed_train_size  # the full preset (each source share rounded)
    scored = read_score_file("teacher_scores/mpnet_hate_40k.npz", train.texts, dataset.labels)  # raises if short
    assert scored.meta["teacher"]["name"] == "mpnet_hate_40k" and scored.meta["labels"] == dataset.labels
    scores = scored.store.scores(train.texts)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    hateful = scores[:, dataset.labels.index("hateful")] > 0.5
    labelled = train.y == dataset.labels.index("hateful")
    assert (hateful == labelled).mean() > 0.85  # the teacher's view agrees with most labels, not all
