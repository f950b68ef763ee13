"""What an explanation is: the explained label and score, and one signed attribution per word of the text."""

from __future__ import annotations

from dataclasses import asdict, dataclass

METHODS = ("linear", "occlusion", "integrated_gradients")


@dataclass(frozen=True)
class WordAttribution:
    """One word of the text and its signed contribution to the explained label's score (positive pushes
    towards the label). ``start``/``end`` are character offsets into the original text: ``word ==
    text[start:end]``."""

    word: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Explanation:
    """Why the model gave ``label`` the score ``score`` for ``text``: every word of the text, in order, with
    its attribution by ``method`` (``linear``, ``occlusion`` or ``integrated_gradients``)."""

    text: str
    label: str
    score: float
    method: str
    words: list[WordAttribution]

    def to_dict(self) -> dict:
        """Plain data, for JSON."""
        return asdict(self)

    def top(self, k: int) -> list[WordAttribution]:
        """The (at most) ``k`` words with the largest positive scores, largest first."""
        positive = [w for w in self.words if w.score > 0]
        return sorted(positive, key=lambda w: w.score, reverse=True)[: max(int(k), 0)]
