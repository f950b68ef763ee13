"""Text normalisation, and that it travels inside every saved pipeline."""

from __future__ import annotations

import joblib
import pytest

from nlp_classifier.text import normalise_text, normalise_texts


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("a &amp; b &lt;3", "a & b <3"),
        ("double &amp;amp; escaped", "double & escaped"),
        ("emoji &#128514;!", "emoji \U0001f602!"),
        ("see https://t.co/xyz and www.example.com/a?b=1 now", "see URL and URL now"),
        ("HTTP://EXAMPLE.COM shouting", "URL shouting"),
        ("RT @user_1: hi @Bob!", "RT @USER : hi @USER !"),
        ("mail me at a@b.com", "mail me at a@b.com"),
        ("  spaced\n\tout   text  ", "spaced out text"),
        ("", ""),
    ],
)
def test_normalise_text(raw, clean):
    assert normalise_text(raw) == clean


def test_normalise_texts_keeps_order():
    assert normalise_texts(["@a x", "b &amp; c"]) == ["@USER x", "b & c"]


def test_normalisation_is_the_first_step_of_the_saved_pipeline(baseline_models_dir):
    """Training and prediction can never disagree: the saved file normalises by itself."""
    pipeline = joblib.load(baseline_models_dir / "baselines" / "logistic_regression_tfidf.joblib")
    first_name, first = pipeline.steps[0]
    assert first_name == "normalise" and first.func is normalise_texts
    raw = ["@someone you are an idiot &amp; a fool http://t.co/abc"]
    clean = [normalise_text(raw[0])]
    assert (pipeline.predict_proba(raw) == pipeline.predict_proba(clean)).all()
    vocabulary = pipeline.named_steps["tfidf"].vocabulary_
    # mentions, URLs and entities were replaced before the vectoriser saw the text
    assert {"user", "url", "rt user"} <= set(vocabulary)
    assert "amp" not in vocabulary


def _plain_normalise(text: str) -> str:
    """The definition normalise_text must keep: its fast paths (skipped substitutions, split/join) are exact."""
    import html

    from nlp_classifier.text import MENTION_RE, SPACE_RE, URL_RE

    text = html.unescape(html.unescape(text))
    text = URL_RE.sub(" URL ", text)
    text = MENTION_RE.sub(" @USER ", text)
    return SPACE_RE.sub(" ", text).strip()


def test_normalise_text_fast_paths_match_the_plain_definition():
    import random

    from nlp_classifier.data import load_dataset

    texts = load_dataset("davidson").texts[:3000] + load_dataset("jigsaw").texts[:1000]
    pieces = [
        " ",
        "\t",
        "\n",
        "\x0b",
        "\x1c",
        "\x85",
        "\xa0",
        "\u2028",
        "\u3000",
        "\u200b",
        "\ufeff",
        "w",
        "W",
        ".",
        ":",
        "/",
        "@",
        "&",
        ";",
        "#",
        "a",
        "1",
        "_",
        "www.",
        "WwW.",
        "http://",
        "https://x",
        "&amp;",
        "&#64;",
        "@u",
        "e@x",
        "&amp;amp;",
    ]
    rng = random.Random(0)
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 10))) for _ in range(20000)]
    differ = [t for t in texts if normalise_text(t) != _plain_normalise(t)]
    assert differ == []


def test_emoji_to_words_names_emoji_and_leaves_plain_text():
    from nlp_classifier.text import emoji_to_words

    assert emoji_to_words("I would love to 🔪 some 👳🏾") == (
        "I would love to kitchen knife some person wearing turban medium dark skin tone"
    )
    assert emoji_to_words("all 👨🏿 men ❤️") == "all man dark skin tone men red heart"
    text = "no emoji here,  spaces kept"
    assert emoji_to_words(text) is text


def test_text_settings_carry_emoji_to_text_from_the_card_and_into_the_texts():
    from types import SimpleNamespace

    from nlp_classifier.backends.transformer_text import TextSettings, prepare_texts

    card = SimpleNamespace(training_config={"max_length": 64, "normalise_text": True, "emoji_to_text": True})
    settings = TextSettings.from_card(card)
    assert settings.emoji_to_text and settings.max_length == 64
    wider = settings.with_window(128, 16)
    assert (wider.max_length, wider.stride, wider.emoji_to_text, wider.normalise) == (128, 16, True, True)
    assert prepare_texts(["@bob 🔪"], settings) == ["@USER kitchen knife"]
    old = TextSettings.from_card(SimpleNamespace(training_config={"max_length": 64}))
    assert prepare_texts(["🔪"], old) == ["🔪"]  # models trained without it see the emoji as before
