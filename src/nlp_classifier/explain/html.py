"""An explanation as HTML: coloured spans over the original text (red towards the explained label, green against,
stronger colour for larger contributions), drawn by the UI's Analyse and Review pages and by the HTML report."""

from __future__ import annotations

import html

TOWARDS = (220, 38, 38)  # red
AGAINST = (22, 163, 74)  # green


def word_class(score: float) -> str:
    """``towards``, ``against`` or ``neutral``: the CSS class of a word (what the browser test looks for)."""
    return "towards" if score > 0 else "against" if score < 0 else "neutral"


def explanation_html(explanation: dict) -> str:
    """The explained text with each word in a ``<span class="nlpc-word towards|against|neutral">`` whose
    background opacity is the word's share of the text's largest contribution; the text between words is kept
    as it is. ``explanation``: the dict the API answered (``text``, ``words`` with ``start``/``end``/``score``)."""
    text = str(explanation.get("text", ""))
    words = list(explanation.get("words", []))
    largest = max((abs(float(w["score"])) for w in words), default=0.0)
    pieces, position = [], 0
    for word in words:
        start, end, score = int(word["start"]), int(word["end"]), float(word["score"])
        pieces.append(html.escape(text[position:start]))
        colour = TOWARDS if score > 0 else AGAINST
        alpha = abs(score) / largest if largest > 0 else 0.0
        pieces.append(
            f'<span class="nlpc-word {word_class(score)}" title="{score:+.4f}" '
            f'style="background-color: rgba({colour[0]}, {colour[1]}, {colour[2]}, {0.85 * alpha:.3f}); '
            f'border-radius: 3px; padding: 0 2px">{html.escape(text[start:end])}</span>'
        )
        position = end
    pieces.append(html.escape(text[position:]))
    return f'<div class="nlpc-explanation" style="line-height: 2; white-space: pre-wrap">{"".join(pieces)}</div>'
