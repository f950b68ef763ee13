"""Counter-speech framing (data.counter_speech): which texts get framed copies, their labels and sources, the
wiring into ``training_set``, and frames written apart from the behavioural suite that measures them."""

from __future__ import annotations

import re

import numpy as np
import yaml

from nlp_classifier.data.counter_speech import (
    CONDEMNING_FRAMES,
    ENDORSING_FRAMES,
    MAX_WORDS,
    counter_speech,
    frame,
)
from nlp_classifier.data.datasets import Dataset
from nlp_classifier.data.mixing import training_set
from nlp_classifier.paths import data_dir

LABELS = ["not_hateful", "hateful"]


def _data(n: int = 400) -> Dataset:
    texts = [f"text number {i} says {'bad' if i % 2 else 'good'} things" for i in range(n)]
    texts[1] = "word " * (MAX_WORDS + 5)  # hateful but too long to frame
    texts[3] = 'they said "go home" to us'  # hateful, with double quotes of its own
    y = np.array([i % 2 for i in range(n)])
    return Dataset("d", texts, y, LABELS, "single_label", "test", sources=["a", "b", "c", "d"] * (n // 4))


def test_framed_copies_quote_hateful_texts_and_flip_only_the_condemning_ones():
    data = _data()
    out = counter_speech(data, 1.0, seed=0)
    assert out.texts[: len(data)] == data.texts and out.y[: len(data)].tolist() == data.y.tolist()
    copies = list(zip(out.texts[len(data) :], out.y[len(data) :].tolist(), out.sources[len(data) :], strict=True))
    condemning = [c for c in copies if c[1] == 0]
    endorsing = [c for c in copies if c[1] == 1]
    assert len(condemning) == 199  # every hateful text short enough, exactly once
    assert 60 <= len(endorsing) <= 140  # about half of them also get an endorsing copy
    originals = {t: (y, s) for t, y, s in zip(data.texts, data.y, data.sources, strict=True)}
    for text, _, source in copies:
        quoted = next(t for t in originals if t.replace('"', "'") in text)
        assert originals[quoted] == (1, source)  # only hateful texts, and the copy keeps the row's source
    assert not any(("word " * MAX_WORDS) in text for text, _, _ in copies)
    assert any("they said 'go home' to us" in text for text, _, _ in copies)  # inner quotes made single


def test_a_share_of_hateful_texts_and_nothing_when_off():
    data = _data(4000)
    extra = counter_speech(data, 0.25, seed=1)
    condemning = int((extra.y[len(data) :] == 0).sum())
    assert 400 <= condemning <= 600  # a quarter of 1,999 hateful texts
    assert counter_speech(data, 0.0, seed=1) is data
    multi = Dataset("m", data.texts, np.eye(2)[data.y], LABELS, "multi_label", "test")
    assert counter_speech(multi, 1.0, seed=1) is multi
    rows, mix = training_set(data, counter_speech=0.25, seed=1)
    assert len(rows) == len(extra) and mix is not None and sum(mix.rows.values()) == len(extra)


def test_frames_quote_the_text_once_and_are_seeded():
    for frames in (CONDEMNING_FRAMES, ENDORSING_FRAMES):
        assert all(f.count("{q}") == 1 for f in frames)
    picks = {frame("X", CONDEMNING_FRAMES, np.random.default_rng(s)) for s in range(200)}
    assert len(picks) == len(CONDEMNING_FRAMES)  # every frame is used
    first, again = (frame("X", ENDORSING_FRAMES, np.random.default_rng(5)) for _ in range(2))
    assert first == again


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def test_frames_do_not_reuse_the_wording_of_the_behavioural_suite():
    """The suite measures what the frames teach: no frame may share four consecutive words with a template."""
    suite = yaml.safe_load((data_dir() / "behaviour" / "templates.yaml").read_text(encoding="utf-8"))
    grams = set()
    for functionality in suite["functionalities"]:
        for template in functionality["templates"]:
            words = _words(re.sub(r"\{[^}]*\}", " ", template))
            grams |= {tuple(words[i : i + 4]) for i in range(len(words) - 3)}
    assert len(grams) > 100
    for template in CONDEMNING_FRAMES + ENDORSING_FRAMES:
        words = _words(template.replace("{q}", " "))
        shared = {tuple(words[i : i + 4]) for i in range(len(words) - 3)} & grams
        assert not shared, (template, shared)
