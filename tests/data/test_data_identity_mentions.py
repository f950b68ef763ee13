"""Group mentions (data.identity_mentions): where a group adjective goes, which texts get copies, their labels
and sources, open mentions' made-up groups, and the wiring into ``training_set`` and the transformer settings."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nlp_classifier.data.datasets import Dataset
from nlp_classifier.data.identity_mentions import (
    ADJECTIVES,
    friendly,
    identity_mentions,
    insert_group,
    made_up_adjective,
    open_mentions,
)
from nlp_classifier.data.mixing import training_set
from nlp_classifier.errors import ConfigError
from nlp_classifier.obfuscation import read_lexicon
from nlp_classifier.training.transformer_settings import TransformerSettings

LABELS = ["not_hateful", "hateful"]
ADJECTIVE = "(" + "|".join(re.escape(a) for a in ADJECTIVES) + ")"


def _inserted(text: str, seeds: int = 60) -> list[str]:
    return [insert_group(text, np.random.default_rng(s)) for s in range(seeds)]


def test_the_adjective_goes_right_before_the_person_noun():
    results = _inserted("they are lovely people")
    for result in results:
        assert re.fullmatch(rf"they are lovely {ADJECTIVE} people", result)
    assert len(set(results)) > 10  # seeded draws over the whole list
    two = set(_inserted("my neighbours are lovely people"))  # one of the person nouns, drawn
    assert any(r.startswith("my neighbours are lovely ") for r in two)
    assert any(r.endswith(" neighbours are lovely people") for r in two)
    assert {"Muslim", "gay"} <= {a for a in ADJECTIVES}  # religions capitalised, orientations not
    for result in _inserted("People are great"):  # at the start of a sentence the adjective takes the capital
        adjective, rest = re.fullmatch(rf"(?i:{ADJECTIVE}) (.*)", result).groups()
        assert adjective[0].isupper() and adjective in {a[0].upper() + a[1:] for a in ADJECTIVES}
        assert rest == "people are great"
    assert all(r.startswith("MY ") and r.split()[1].isupper() for r in _inserted("MY FRIENDS ARE THE BEST"))


def test_the_article_before_the_noun_follows_the_adjective():
    results = set(_inserted("I met a man today", seeds=200))
    assert "I met an Asian man today" in results and "I met a Muslim man today" in results
    assert "I met a mentally ill man today" in results  # a group named in two words goes in whole
    for result in results:
        article, adjective = re.fullmatch(rf"I met (an?) {ADJECTIVE} man today", result).groups()
        assert article == ("an" if adjective[0] in "aeiouAEIOU" else "a")
    assert all(r.startswith(("A ", "An ")) for r in _inserted("A kind person helped me"))


@pytest.mark.parametrize(
    "text",
    [
        "Gay men rock, my friends say",  # names a group already: left to the swaps
        "black people are my best friends",
        "the weather is lovely today",  # no person noun
        "man, that was a great game",  # an exclamation, not a person
        "a couple of good days",  # a quantity
        "you people are great",  # "you people", "our people": not an everyday mention
        "our people are the best",
    ],
)
def test_no_copy_where_a_group_would_not_fit(text):
    assert insert_group(text, np.random.default_rng(0)) is None


def test_friendly_means_a_warm_word_and_no_hostile_one():
    assert friendly("my friends are wonderful")
    assert not friendly("my friends came over")  # no warm word
    assert not friendly("great, those people should be killed")  # warm word, hostile word
    assert not friendly("thanks, stupid people")


def _data() -> Dataset:
    texts = [
        "they are lovely people",  # friendly, not hateful: copies
        "thank you to the kind man who helped",  # friendly, not hateful: copies
        "lovely people, they should all die",  # hostile: none
        "my friends came over",  # no warm word: none
        "great, Muslims are lovely people",  # names a group: none
        "those kind people are great and should go",  # hateful: none
    ]
    return Dataset("d", texts, np.array([0, 0, 0, 0, 0, 1]), LABELS, "single_label", "test", sources=list("abcdef"))


def test_copies_of_friendly_non_hateful_texts_only_with_label_and_source():
    data = _data()
    out = identity_mentions(data, 3.0, seed=0)
    assert out.texts[: len(data)] == data.texts and out.y[: len(data)].tolist() == data.y.tolist()
    copies = list(zip(out.texts[len(data) :], out.y[len(data) :].tolist(), out.sources[len(data) :], strict=True))
    assert len(copies) == 6  # three of each of the two friendly texts
    for text, label, source in copies:
        assert label == 0
        if source == "a":
            assert re.fullmatch(rf"they are lovely {ADJECTIVE} people", text)
        else:
            assert source == "b" and re.fullmatch(rf"thank you to the kind {ADJECTIVE} man who helped", text)
    again = identity_mentions(data, 3.0, seed=0)
    assert again.texts == out.texts  # seeded


def test_fractional_copies_nothing_when_off_and_the_wiring():
    texts = [f"my friend number {i} is wonderful" for i in range(1000)]
    data = Dataset("d", texts, np.zeros(1000, dtype=int), LABELS, "single_label", "test", sources=["a", "b"] * 500)
    extra = len(identity_mentions(data, 0.5, seed=1)) - len(data)
    assert 400 <= extra <= 600
    assert identity_mentions(data, 0.0, seed=1) is data
    multi = Dataset("m", texts, np.zeros((1000, 2), dtype=int), LABELS, "multi_label", "test")
    assert identity_mentions(multi, 1.0, seed=1) is multi
    rows, mix = training_set(data, identity_mentions=0.5, seed=1)
    assert len(rows) == len(data) + extra and mix is not None and sum(mix.rows.values()) == len(rows)
    assert TransformerSettings(identity_mentions=2.0).identity_mentions == 2.0
    with pytest.raises(ConfigError, match="identity_mentions"):
        TransformerSettings(identity_mentions=11.0)


def test_made_up_adjectives_are_seeded_varied_and_never_a_word_of_the_lexicon():
    words = [made_up_adjective(np.random.default_rng(s)) for s in range(300)]
    assert words == [made_up_adjective(np.random.default_rng(s)) for s in range(300)]
    assert len(set(w.lower() for w in words)) > 290
    lexicon = read_lexicon()
    assert not [w for w in words if w.lower() in lexicon]
    assert not [w for w in words if w.lower() in {a.lower() for a in ADJECTIVES}]
    capitalised = sum(w[0].isupper() for w in words)
    assert 100 < capitalised < 200  # like "Muslim" half the time, like "gay" otherwise
    assert all(re.fullmatch(r"[A-Za-z]{5,}", w) for w in words)
    # nothing that begins like a slur or holds a hostile stem, over enough draws to meet them otherwise
    many = [made_up_adjective(np.random.default_rng(s)).lower() for s in range(20000)]
    assert not [w for w in many if re.match("fag|kik|nig", w) or re.search("kill|pig|rape|dumb|burn", w)]


def test_open_mentions_put_a_made_up_group_where_mentions_put_a_real_one():
    data = _data()
    real, made_up = identity_mentions(data, 3.0, seed=0), open_mentions(data, 3.0, seed=0)
    assert len(made_up) == len(real) and made_up.texts[: len(data)] == data.texts
    for text, label in zip(made_up.texts[len(data) :], made_up.y[len(data) :].tolist(), strict=True):
        assert label == 0
        found = re.fullmatch(r"they are lovely (\w+) people|thank you to the kind (\w+) man who helped", text)
        word = found.group(1) or found.group(2)
        assert word not in ADJECTIVES and word.lower() not in read_lexicon()
    rows, _ = training_set(data, identity_mentions=1.0, open_mentions=2.0, seed=0)
    assert len(rows) == len(data) + 2 + 4  # both kinds, one after the other
    assert TransformerSettings(open_mentions=3.0).open_mentions == 3.0
    with pytest.raises(ConfigError, match="open_mentions"):
        TransformerSettings(open_mentions=-1.0)
