"""Reading disguised words back (``obfuscation``): each of the four readings on a hand-made lexicon, what must be
left alone, the shipped lexicon rebuilt from the bundled training split, and a real TF-IDF model switched to
reading with ``nlpc models reading`` (scores, explanations, card, refusals) and trained with it by a preset."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from testkit.frames import tiny_hate_frame
from testkit.models import hate_task_dataset

import nlp_classifier
from nlp_classifier.errors import ConfigError
from nlp_classifier.model_reading import set_obfuscation_reading
from nlp_classifier.obfuscation import (
    LEXICON_PATH,
    MIN_COUNT,
    ObfuscationReader,
    lexicon_sha256,
    read_lexicon,
    reader_for,
    write_lexicon,
)
from nlp_classifier.registry import resolve

MODEL = "logistic_regression"  # the session's Davidson baseline: its data is bundled, so reading is measured
LEXICON = {
    "hate": 500,
    "women": 300,
    "people": 400,
    "lesbian": 40,
    "despise": 30,
    "gay": 200,
    "kikes": 5,
    "fags": 6,
    "files": 50,
    "fails": 20,
    "this": 900,
    "town": 60,
    "the": 5000,
    "care": 80,
    "free": 90,
    "shit": 100,
    "ass": 90,
    "so": 800,
    "all": 900,
    "are": 1000,
    "disgusting": 50,
    "vermin": 25,
}


@pytest.fixture(scope="module")
def reader() -> ObfuscationReader:
    return ObfuscationReader(LEXICON)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("I h473 w0m3n so much.", "I hate women so much."),  # digits for letters, 7 -> t, 3 -> e, 0 -> o
        ("I H4TE W0M3N, H473", "I HATE WOMEN, Hate"),  # letters keep their case, substitutes the word's
        ("all l35b14n5", "all lesbians"),  # 1 -> i or l, a known plural
        ("these f@gs and k*kes", "these fags and kikes"),  # @ -> a, * -> any vowel
        ("$h!t and @ss", "shit and ass"),  # symbols at either end of a word
        ("f1les", "files"),  # 1 -> i or l: the reading the lexicon knows
        ("I d e s p i s e them", "I despise them"),  # spaced-out letters joined (a word before them kept)
        ("I haaate all gaaay peeeople", "I hate all gay people"),  # stretched letters squeezed to one or two
        ("I despisegaypeople", "I despise gay people"),  # a run-together token split into frequent words
        ("Despisewomen!", "Despise women!"),
        ("#allwomenaredisgustingvermin", "#all women are disgusting vermin"),  # 4-6 words: 3-letter ones frequent
    ],
)
def test_readings(reader, text, read):
    assert reader.read(text) == read


@pytest.mark.parametrize(
    "text",
    [
        "I have 3 kids, 2 dogs and 10am 1st 90s 5kg mp3 covid19 ps4 b4",  # numbers, units, ordinals, names
        "see https://h4te.example.com/w0m3n and www.d3sp1se.org",  # URLs stay as they are
        "Great!!! This is so good",  # punctuation after a word
        "x1y2z3q",  # no known reading
        "a b c d",  # spaced letters that make no known word
        "Schwarzenegger",  # a long unknown word that does not split into frequent words
        "carefree",  # shorter than a run-together token
        "assfreecarefiles",  # four words, but a 3-letter one ("ass", 90) is not among the very frequent
        "wooow",  # stretched, but no known squeeze
        "",
    ],
)
def test_left_alone(reader, text):
    assert reader.read(text) == text


def test_text_without_suspects_is_returned_as_is(reader):
    text = "nothing unusual here at all"
    assert reader.read(text) is text


def test_write_lexicon_is_deterministic_and_filtered(tmp_path):
    texts = ["Hate hate HATE", "women women women", "rare", "rare words", "words words"]
    a, b = tmp_path / "a.txt.gz", tmp_path / "b.txt.gz"
    assert write_lexicon(texts, a, min_count=3) == 3
    write_lexicon(list(reversed(texts)), b, min_count=3)
    assert a.read_bytes() == b.read_bytes()
    assert read_lexicon(a) == {"hate": 3, "women": 3, "words": 3}
    assert gzip.decompress(a.read_bytes()).decode().splitlines()[0] == "hate\t3"


def test_shipped_lexicon_is_the_bundled_training_split(tmp_path):
    """The shipped file is exactly what scripts/build_lexicon.py makes from the hate task's training split, and
    holds no word seen only in validation or test."""
    out = tmp_path / "lexicon.txt.gz"
    subprocess.run(
        [sys.executable, str(Path(__file__).parents[1] / "scripts" / "build_lexicon.py"), "--output", str(out)],
        check=True,
        capture_output=True,
    )
    assert lexicon_sha256(out) == lexicon_sha256(LEXICON_PATH)
    shipped = read_lexicon()
    assert min(shipped.values()) == MIN_COUNT and len(shipped) > 20_000
    assert {"hate", "women", "people"} <= shipped.keys()


def test_reader_for_refuses_another_lexicon():
    assert isinstance(reader_for(lexicon_sha256()), ObfuscationReader)
    with pytest.raises(ConfigError, match="lexicon 000000000000"):
        reader_for("0" * 64)


# --- a real model -----------------------------------------------------------------------------------------------
@pytest.fixture
def reading_models(baseline_models_dir, tmp_path) -> Path:
    path = tmp_path / "models"
    shutil.copytree(baseline_models_dir, path)
    return path


def test_models_reading_switches_a_model(reading_models):
    before = resolve(MODEL, reading_models)
    plain = nlp_classifier.load(MODEL, models_dir=reading_models)
    disguised, clean = "I h473 4514n5, d e s p i s e them", "I hate asians, despise them"
    assert not np.allclose(plain.predict_proba(disguised), plain.predict_proba(clean))

    result = set_obfuscation_reading(MODEL, True, models_dir=reading_models)
    card = resolve(MODEL, reading_models)
    assert card.read_obfuscation == lexicon_sha256()
    assert (card.previous_version, card.version) == (before.version, result.card.version)
    assert card.version.split(".")[:2] == before.version.split(".")[:2] and card.version != before.version
    record = card.extra["obfuscation_reading"]
    assert record["switched"] == "on" and set(record["after"]) == {"validation", "test"}
    assert card.metrics["test"]["accuracy"] == record["after"]["test"]["accuracy"]

    reading = nlp_classifier.load(MODEL, models_dir=reading_models)
    np.testing.assert_allclose(reading.predict_proba(disguised), plain.predict_proba(clean))
    np.testing.assert_allclose(reading.predict_proba("have a lovely day"), plain.predict_proba("have a lovely day"))
    explanation = reading.explain("I h473 4514n5 so much")[0]
    assert [w.word for w in explanation.words] == ["I", "h473", "4514n5", "so", "much"]
    assert [w.start for w in explanation.words] == [0, 2, 7, 14, 17]
    clean_explanation = plain.explain("I hate asians so much", explanation.label)[0]
    np.testing.assert_allclose([w.score for w in explanation.words], [w.score for w in clean_explanation.words])

    with pytest.raises(ConfigError, match="already reads obfuscated words"):
        set_obfuscation_reading(MODEL, True, models_dir=reading_models)
    set_obfuscation_reading(MODEL, False, models_dir=reading_models)
    assert resolve(MODEL, reading_models).read_obfuscation is None
    again = nlp_classifier.load(MODEL, models_dir=reading_models)
    np.testing.assert_allclose(again.predict_proba(disguised), plain.predict_proba(disguised))


def test_cli_models_reading_json(reading_models):
    out = subprocess.run(
        [sys.executable, "-m", "nlp_classifier", "--models-dir", str(reading_models), "models", "reading"]
        + [MODEL, "--obfuscation", "on", "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout)
    assert result["read_obfuscation"] == lexicon_sha256()
    assert set(result["changed_texts"]) == {"validation", "test"}
    assert result["previous_version"] != result["version"]


def test_preset_trains_a_reading_model(tmp_path):
    """The ``char`` preset's hate settings switch reading on: the card pins the lexicon and the texts the model
    trained on were read (a disguised word of the training data scores like its plain spelling)."""
    from nlp_classifier.training.baselines import train_baseline

    frame = tiny_hate_frame()
    for i in range(6):  # enough that several land in the training split
        frame.loc[len(frame)] = {"text": f"the h4t3rs are loud today, day {i}", "label": "not_hateful"}
    dataset = hate_task_dataset(frame, tmp_path / "tiny.csv")
    card = train_baseline("hate", "logistic_regression", "char", dataset=dataset, models_dir=tmp_path / "m")
    assert card.read_obfuscation == lexicon_sha256()
    assert card.training_config["pipeline"]["read_obfuscation"] is True
    model = nlp_classifier.load(card.name, models_dir=tmp_path / "m")
    assert model.read(["I h473 w0m3n"]) == ["I hate women"]
    features = dict(model.pipeline.named_steps["tfidf"].transformer_list)
    words = features["word"].vocabulary_  # words seen in at least two training texts
    assert "haters" in words and "h4t3rs" not in words
