"""The review band: parsing, the review score (harmful labels only) and the uncertainty that orders the queue."""

from __future__ import annotations

import pytest

from nlp_classifier.errors import ConfigError
from nlp_classifier.workflow.band import in_band, parse_band, review_score, uncertainty


def test_parse_band_and_its_errors():
    assert parse_band(" 0.35-0.65 ") == (0.35, 0.65)
    assert parse_band("0-1") == (0.0, 1.0)
    with pytest.raises(ConfigError, match="NLPC_REVIEW_BAND: expected LOW-HIGH such as 0.35-0.65, got 'half'"):
        parse_band("half")
    with pytest.raises(ConfigError, match="expected 0 <= LOW <= HIGH <= 1, got '0.8-0.2'"):
        parse_band("0.8-0.2")
    with pytest.raises(ConfigError, match="review_bands.m"):
        parse_band("0.2-1.5", "review_bands.m")


def test_review_score_ignores_harmless_labels():
    scores = {"not_hateful": 0.9, "hateful": 0.1}
    assert review_score(scores, {"not_hateful"}) == 0.1
    assert review_score({"toxic": 0.2, "insult": 0.55, "threat": 0.1}, set()) == 0.55
    assert review_score({"neither": 1.0}, {"neither"}) == 0.0


def test_uncertainty_is_one_in_the_middle_and_zero_at_the_edges():
    band = (0.35, 0.65)
    assert uncertainty(0.5, band) == 1.0
    assert uncertainty(0.35, band) == 0.0 and in_band(0.35, band) and in_band(0.65, band)
    assert uncertainty(0.425, band) == pytest.approx(0.5)
    assert uncertainty(0.9, band) == 0.0 and not in_band(0.9, band)
    assert uncertainty(0.5, (0.5, 0.5)) == 1.0
