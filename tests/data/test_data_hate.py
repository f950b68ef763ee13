"""The multi-source ``hate`` task: one reader per source (fixtures and the bundled files), the fixed parts,
de-duplication across sources, contrast pairs, mixing and counterfactual identity swaps."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from nlp_classifier.data import load_dataset, split_dataset
from nlp_classifier.data.augment import (
    hateful_identity_swaps,
    identity_swaps,
    misspell,
    spelling_noise,
    swap_identity_terms,
)
from nlp_classifier.data.datasets import Dataset
from nlp_classifier.data.hate import PART_IDS, build_hate_frame, dedup_key, load_hate
from nlp_classifier.data.hate_sources import SOURCES, read_source
from nlp_classifier.data.mixing import mixture, training_set
from nlp_classifier.errors import ConfigError, DataError
from nlp_classifier.paths import data_dir
from nlp_classifier.training.transformer_settings import TransformerSettings

# rows and hateful rows of each bundled source after its label mapping (SOURCE.md counts)
EXPECTED = {
    "davidson": (24783, 1430),
    "jigsaw": (14735, 995),
    "implicit_hate": (21480, 8189),
    "gab": (27546, 2450),
    "stormfront": (10703, 1196),
    "hatemoji": (5912, None),
    "toxigen": (722, 425),
}


@pytest.fixture(scope="module")
def frame():
    return build_hate_frame()


@pytest.mark.parametrize("name", list(SOURCES))
def test_real_source_rows_labels_and_licence(name):
    rows = read_source(name)
    n, hateful = EXPECTED[name]
    assert len(rows) == n
    if hateful is not None:
        assert int(rows["hateful"].sum()) == hateful
    assert set(rows["hateful"]) == {0, 1}
    assert (rows["source"] == name).all()
    folder = data_dir() / Path(SOURCES[name].files[0]).parent
    notes = (folder / "SOURCE.md").read_text(encoding="utf-8")
    assert "Licence" in notes or "licence" in notes
    if name in ("implicit_hate", "stormfront", "hatemoji", "toxigen"):
        assert any((folder / f).is_file() for f in ("LICENSE", "LICENSE.txt"))


def test_hatemoji_is_half_hateful_and_keeps_the_authors_sizes():
    rows = read_source("hatemoji")
    assert 0.45 < rows["hateful"].mean() < 0.55
    sizes = rows["part"].value_counts().to_dict()
    # the pair follows its original: within 40 rows of the authors' 4,728 / 591 / 593
    assert abs(sizes["train"] - 4728) < 40 and abs(sizes["validation"] - 591) < 40 and abs(sizes["test"] - 593) < 40


def _write_gz(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode("utf-8")))


def test_fixture_readers_map_labels(tmp_path):
    _write_gz(
        tmp_path / "implicit_hate/implicit_hate_v1_stg1_posts.tsv.gz",
        "post\tclass\nthey ruin everything\timplicit_hate\nnice weather\tnot_hate\nexplicit one\texplicit_hate\n",
    )
    _write_gz(
        tmp_path / "stormfront/stormfront.csv.gz",
        "file_id,label,text\n1,noHate,hello\n2,hate,hateful one\n3,relation,depends\n4,idk/skip,unsure\n",
    )
    _write_gz(tmp_path / "gab_hate_corpus/ghc_train.tsv.gz", "text\thd\tcv\tvo\na\t1\t0\t0\nb\t0\t1\t0\nc\t0\t0\t1\n")
    _write_gz(tmp_path / "gab_hate_corpus/ghc_test.tsv.gz", "text\thd\tcv\tvo\nd\t0\t0\t0\n")
    implicit = read_source("implicit_hate", tmp_path)
    assert implicit["hateful"].tolist() == [1, 0, 1]
    storm = read_source("stormfront", tmp_path)
    assert storm["text"].tolist() == ["hello", "hateful one"] and storm["hateful"].tolist() == [0, 1]
    gab = read_source("gab", tmp_path)
    assert gab["hateful"].tolist() == [1, 1, 0, 0]  # vulgarity alone is not hate
    assert gab["part"].tolist() == ["train", "train", "train", "test"]


def test_fixture_unknown_label_names_file_row_and_column(tmp_path):
    _write_gz(
        tmp_path / "implicit_hate/implicit_hate_v1_stg1_posts.tsv.gz", "post\tclass\nfine\tnot_hate\nodd\tmaybe_hate\n"
    )
    with pytest.raises(DataError) as err:
        read_source("implicit_hate", tmp_path)
    message = str(err.value)
    assert "maybe_hate" in message and "row 2" in message and "class" in message and "stg1" in message


def test_fixture_contrast_pair_follows_its_original(tmp_path):
    header = "entry_id,text,set,label_gold,matched_id\n"
    _write_gz(tmp_path / "hatemoji_build/train.csv.gz", header + "1,perturbed text,perturbation,0,0\n")
    _write_gz(tmp_path / "hatemoji_build/validation.csv.gz", header)
    _write_gz(tmp_path / "hatemoji_build/test.csv.gz", header + "0,original text,original,1,1\n")
    rows = read_source("hatemoji", tmp_path)
    assert rows["part"].tolist() == ["test", "test"]
    assert rows["pair"].nunique() == 1


def test_dedup_key_matches_near_duplicates_and_keeps_emoji():
    assert dedup_key("RT @bob: I HATE   Mondays!!! http://x.co") == dedup_key("i hate mondays")
    assert dedup_key("soooo good") == dedup_key("sooo good")
    assert dedup_key("I would love to 🔪 some 👳🏾") != dedup_key("I would love to 👏🏽 some 👳🏾")


def test_no_test_or_validation_text_in_training(frame):
    keys = {part: set(frame.loc[frame["part"] == i, "key"]) for part, i in PART_IDS.items()}
    assert not keys["test"] & keys["train"]
    assert not keys["test"] & keys["validation"]
    assert not keys["validation"] & keys["train"]
    assert frame["key"].is_unique


def test_contrast_pairs_stay_in_one_part(frame):
    pairs = frame[frame["pair"] != ""]
    assert len(pairs) > 5000
    assert (pairs.groupby("pair")["part"].nunique() == 1).all()


def test_parts_follow_the_authors_and_the_own_tasks(frame):
    gab = frame[frame["source"] == "gab"]
    gab_test = set(read_source("gab").query("part == 'test'")["text"])
    assert set(gab.loc[gab["part"] == PART_IDS["test"], "text"]) <= gab_test
    assert (gab["part"] == PART_IDS["validation"]).sum() > 2000  # carved from the authors' train
    davidson3_test = set(split_dataset(load_dataset("davidson3")).test.texts)
    davidson = frame[frame["source"] == "davidson"]
    assert set(davidson.loc[davidson["part"] == PART_IDS["test"], "text"]) <= davidson3_test
    jigsaw_train = set(split_dataset(load_dataset("jigsaw")).train.texts)
    jigsaw = frame[frame["source"] == "jigsaw"]
    assert set(jigsaw.loc[jigsaw["part"] == PART_IDS["train"], "text"]) <= jigsaw_train


def test_task_is_deterministic_and_carries_sources():
    first, second = load_hate(), load_hate()
    assert first.fingerprint == second.fingerprint
    assert first.labels == ["not_hateful", "hateful"]
    splits = split_dataset(first)
    assert set(splits.test.sources) == set(SOURCES)
    assert len(splits.train) + len(splits.validation) + len(splits.test) == len(first)
    assert sum(len(d) for d in splits.test.by_source().values()) == len(splits.test)


def _multi_source(sizes: dict[str, int]) -> Dataset:
    texts, sources = [], []
    for name, n in sizes.items():
        texts += [f"{name} text {i}" for i in range(n)]
        sources += [name] * n
    y = np.arange(len(texts)) % 2
    return Dataset("mix", texts, y, ["not_hateful", "hateful"], "single_label", "test", sources=sources)


def test_mixture_shares_weights_and_resample():
    data = _multi_source({"big": 900, "small": 100})
    mix = mixture(data, temperature=2.0)
    assert mix.shares["big"] == pytest.approx(30 / 40) and mix.shares["small"] == pytest.approx(10 / 40)
    weights = mix.sample_weight(data)
    assert weights.mean() == pytest.approx(1.0)
    assert weights[-1] / weights[0] == pytest.approx(3.0)  # each small row counts 3x a big row
    sample = mix.resample(data, 2000, seed=1)
    counts = {s: sample.sources.count(s) for s in ("big", "small")}
    assert counts == {"big": 1500, "small": 500}
    assert len(set(t for t, s in zip(sample.texts, sample.sources) if s == "small")) == 100  # whole copies
    natural = mixture(data, temperature=1.0)
    assert natural.shares["big"] == pytest.approx(0.9)
    record = mix.record()
    assert [r["source"] for r in record] == ["big", "small"] and record[0]["fingerprint"].startswith("sha256:")


def test_identity_swaps_copy_only_non_hateful_texts_naming_a_group():
    rng = np.random.default_rng(0)
    swapped = swap_identity_terms("Muslims and gay people live here", rng)
    assert swapped is not None and "Muslims" not in swapped and "gay" not in swapped
    assert swapped.split()[0][0].isupper()  # the case of the replaced word is kept
    assert swap_identity_terms("a sunny day", rng) is None
    data = Dataset(
        "d",
        ["muslims are my neighbours", "muslims are bad", "a sunny day"],
        np.array([0, 1, 0]),
        ["not_hateful", "hateful"],
        "single_label",
        "test",
        sources=["a", "a", "b"],
    )
    out = identity_swaps(data, 2.0, seed=0)
    assert len(out) == 5
    assert out.y[3:].tolist() == [0, 0] and out.sources[3:] == ["a", "a"]
    assert all("muslims" not in t.lower() and "neighbours" in t for t in out.texts[3:])
    assert identity_swaps(data, 0.0, seed=0) is data
    unchanged, mix = training_set(data, identity_swaps=0.0)
    assert unchanged is data and set(mix.rows) == {"a", "b"}


def test_hateful_swaps_copy_only_hateful_texts_naming_a_group_and_keep_them_hateful():
    data = Dataset(
        "d",
        ["muslims are my neighbours", "muslims are vermin", "you are vermin", "latinos are vermin"],
        np.array([0, 1, 1, 1]),
        ["not_hateful", "hateful"],
        "single_label",
        "test",
        sources=["a", "b", "b", "c"],
    )
    out = hateful_identity_swaps(data, 1.5, seed=0)
    copies = out.texts[len(data) :]
    # one copy of each of the two hateful texts naming a group, a second for some: never of the others
    assert 2 <= len(copies) <= 4 and out.y[len(data) :].tolist() == [1] * len(copies)
    assert all(t.endswith(" are vermin") and not t.startswith(("muslims", "latinos")) for t in copies)
    assert set(out.sources[len(data) :]) <= {"b", "c"}
    assert hateful_identity_swaps(data, 0.0, seed=0) is data
    both, _ = training_set(data, identity_swaps=1.0, hateful_swaps=1.0)
    assert len(both) == len(data) + 3 and both.y.tolist() == [0, 1, 1, 1, 0, 1, 1]
    assert TransformerSettings(hateful_swaps=2.0).hateful_swaps == 2.0
    with pytest.raises(ConfigError, match="hateful_swaps"):
        TransformerSettings(hateful_swaps=11.0)


def test_misspell_obfuscates_words_but_keeps_the_rest():
    rng = np.random.default_rng(3)
    text = "they should all go back where they came from"
    variants = {misspell(text, rng) for _ in range(50)}
    assert text not in variants and len(variants) > 30  # always changed, many different ways
    for variant in variants:
        # at most two words edited and one space removed: most of the text survives as it was
        kept = sum(word in variant.split() for word in text.split())
        assert kept >= len(text.split()) - 4
    assert misspell("?? !! 42", rng) is None  # no word of three letters or more


def test_spelling_noise_copies_a_share_of_every_class_with_labels_and_sources():
    texts = [f"sentence #{i} about nothing much" for i in range(400)]
    y = np.array([i % 2 for i in range(400)])
    data = Dataset("d", texts, y, ["not_hateful", "hateful"], "single_label", "test", sources=["a", "b"] * 200)
    out = spelling_noise(data, 0.25, seed=1)
    extra = len(out) - len(data)
    assert 70 <= extra <= 130  # about a quarter
    assert out.texts[:400] == texts and out.y[:400].tolist() == y.tolist()
    copies = out.texts[400:]
    assert all(t not in texts for t in copies)
    assert set(out.y[400:].tolist()) == {0, 1}  # noise is drawn from both classes
    for text, label, source in zip(copies, out.y[400:], out.sources[400:], strict=True):
        number = int(re.search(r"#(\d+)", text).group(1))  # the row number is never edited
        assert label == number % 2 and source == ("a", "b")[number % 2]
    assert spelling_noise(data, 0.0, seed=1) is data
    noisy, _ = training_set(data, spelling_noise=0.25, seed=1)
    assert len(noisy) == len(out)
