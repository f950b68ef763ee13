"""Identity balancing (data.balance): weights that stop a group word from predicting the label."""

from __future__ import annotations

import numpy as np
import pytest

from nlp_classifier.data.balance import MIN_TEXTS, balanced_rate, group_words, identity_weights
from nlp_classifier.data.datasets import Dataset
from nlp_classifier.data.mixing import training_set
from nlp_classifier.errors import ConfigError

LABELS = ["not_hateful", "hateful"]


def _data(rows: list[tuple[str, int, str]]) -> Dataset:
    texts, y, sources = zip(*rows)
    return Dataset("d", list(texts), np.array(y), LABELS, "single_label", "test", sources=list(sources))


def _skewed() -> Dataset:
    """'gay' in 40 texts, 30 of them hateful (75%); 160 texts naming no group, 10 hateful; two sources."""
    rows = [(f"gay people post {i}", int(i < 30), "a" if i % 2 else "b") for i in range(40)]
    rows += [(f"a sunny day number {i}", int(i < 10), "a" if i % 2 else "b") for i in range(160)]
    return _data(rows)


def test_full_balance_gives_a_group_word_the_overall_hateful_share():
    data = _skewed()
    overall = float(np.mean(data.y == 1))  # 40 / 200 = 0.2
    weights = identity_weights(data, 1.0)
    assert balanced_rate(data, np.ones(len(data)), "gay") == pytest.approx(0.75)
    # mean-1 rescaling within each source keeps the within-source ratios, so the balanced share is exact here
    assert balanced_rate(data, weights, "gay") == pytest.approx(overall, abs=1e-9)
    for source in ("a", "b"):
        part = np.asarray(data.sources) == source
        assert weights[part].mean() == pytest.approx(1.0)
    # a non-hateful text naming the group now counts more than a hateful one, and more than a text naming no group
    assert weights[35] > weights[100] > weights[0]


def test_strength_scales_the_correction_and_zero_turns_it_off():
    data = _skewed()
    assert np.array_equal(identity_weights(data, 0.0), np.ones(len(data)))
    half = balanced_rate(data, identity_weights(data, 0.5), "gay")
    assert 0.2 < half < 0.75


def test_rare_words_are_left_alone_and_matching_is_whole_word():
    rows = [(f"muslims here {i}", 1, "a") for i in range(MIN_TEXTS - 1)] + [("a sunny day", 0, "a")] * 30
    assert np.allclose(identity_weights(_data(rows), 1.0), 1.0)
    assert group_words("Gay and JEWISH people, not gayety") == {"gay", "jewish"}
    assert group_words("Mentally ill people, not an ill mentor") == {"mentally ill"}  # a name in two words, whole


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="between 0 and 1"):
        identity_weights(_skewed(), 1.5)
    single = Dataset("d", ["gay people"] * 3, np.array([0, 1, 0]), LABELS, "single_label", "test")
    with pytest.raises(ConfigError, match="multi-source"):
        training_set(single, identity_balance=1.0)


def test_mixture_applies_the_balance_to_sample_weights_and_resampling():
    data = _skewed()
    plain_rows, plain = training_set(data)
    rows, mix = training_set(data, identity_balance=1.0)
    assert plain is not None and mix is not None and mix.balance is not None
    assert np.allclose(mix.sample_weight(rows), plain.sample_weight(plain_rows) * mix.balance)
    sample = mix.resample(rows, 4000, seed=0)
    assert {s: sample.sources.count(s) for s in ("a", "b")} == {s: round(mix.shares[s] * 4000) for s in ("a", "b")}

    def hateful_share_naming_the_group(sample: Dataset) -> float:
        naming = np.array([t.startswith("gay") for t in sample.texts])
        return float(np.mean(sample.y[naming] == 1))

    assert hateful_share_naming_the_group(sample) == pytest.approx(0.2, abs=0.03)
    assert hateful_share_naming_the_group(plain.resample(plain_rows, 4000, seed=0)) == pytest.approx(0.75, abs=0.03)
