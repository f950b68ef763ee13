"""``nlpc explain``: which words pushed a model towards (or away from) a label, coloured in the terminal."""

from __future__ import annotations

import argparse

from rich.style import Style
from rich.text import Text

from ..errors import ConfigError
from ..explain import METHODS, Explanation
from .common import print_json, stdout
from .predict import add_model_arguments, load_chosen_model

TOP_WORDS = 5
STRONG, MEDIUM = 0.5, 0.15  # shares of the text's largest contribution


def register(sub) -> None:
    p = sub.add_parser(
        "explain",
        help="show which words made a model score a text",
        description="Explain each text's score for a label word by word: red words push towards the label, green "
        "words against it, stronger colour for larger contributions. Without a terminal (or with --no-color) "
        "each word is followed by its score; --json prints the explanations as data (docs/explanations.md).",
    )
    p.add_argument("texts", nargs="+", help="texts to explain")
    add_model_arguments(p)
    p.add_argument("--label", help="the label to explain (default: the predicted one; multi-label: the top score)")
    p.add_argument(
        "--method",
        help=f"one of {', '.join(METHODS)} (default: linear for TF-IDF models, occlusion for transformers)",
    )
    p.add_argument("--json", action="store_true", help="print the explanations as JSON")
    p.add_argument("--no-color", action="store_true", help="plain text with scores even in a terminal")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if any(not t.strip() for t in args.texts):
        raise ConfigError("every text to explain must have some non-space characters")
    classifier = load_chosen_model(args)
    explanations = classifier.explain(args.texts, args.label, method=args.method)
    if args.json:
        print_json([e.to_dict() for e in explanations])
        return 0
    coloured = stdout.is_terminal and stdout.color_system is not None and not args.no_color
    for explanation in explanations:
        stdout.print(
            f"{explanation.label} {explanation.score:.4f} ({explanation.method}, {classifier.name})",
            highlight=False,
            markup=False,
        )
        stdout.print(coloured_text(explanation) if coloured else plain_text(explanation), highlight=False)
        stdout.print(summary(explanation), highlight=False, markup=False)
    return 0


def word_style(score: float, largest: float) -> Style | None:
    """Red for a word pushing towards the label, green for one pushing against, in three strengths relative to
    the text's largest contribution (white on red/green, bold red/green, dim red/green: named colours, so they
    look the same in every terminal); None for a word that does not count."""
    if largest <= 0 or score == 0:
        return None
    colour = "red" if score > 0 else "green"
    strength = abs(score) / largest
    if strength >= STRONG:
        return Style(color="white", bgcolor=colour, bold=True)
    return Style(color=colour, bold=True) if strength >= MEDIUM else Style(color=colour, dim=True)


def coloured_text(explanation: Explanation) -> Text:
    """The original text with each word coloured by its score."""
    text = Text(explanation.text)
    largest = max((abs(w.score) for w in explanation.words), default=0.0)
    for word in explanation.words:
        style = word_style(word.score, largest)
        if style is not None:
            text.stylize(style, word.start, word.end)
    return text


def plain_text(explanation: Explanation) -> Text:
    """The original text with each word that counts followed by its score: ``idiot[+0.412]``."""
    pieces, position = [], 0
    for word in explanation.words:
        pieces.append(explanation.text[position : word.end])
        if word.score != 0:
            pieces.append(f"[{word.score:+.3f}]")
        position = word.end
    pieces.append(explanation.text[position:])
    return Text("".join(pieces))


def summary(explanation: Explanation) -> str:
    """The words that push hardest towards and against the label."""
    towards = ", ".join(f"{w.word} {w.score:+.3f}" for w in explanation.top(TOP_WORDS)) or "none"
    negative = sorted((w for w in explanation.words if w.score < 0), key=lambda w: w.score)[:TOP_WORDS]
    against = ", ".join(f"{w.word} {w.score:+.3f}" for w in negative) or "none"
    return f"  towards {explanation.label}: {towards}\n  against: {against}"
