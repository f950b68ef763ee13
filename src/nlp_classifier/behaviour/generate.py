"""Expand the hand-written behavioural templates (``data/behaviour/templates.yaml``) into the cases file
(``data/behaviour/cases.csv``). Deterministic: the same templates always give the same file, byte for byte.

A template is a sentence with placeholders:

- ``{plural}`` / ``{Plural}``: the group's plural noun ("Muslims", "trans people"), the second capitalised;
- ``{adj}`` / ``{Adj}``: the group's adjective ("Muslim", "trans");
- ``{person}`` / ``{Person}``: one member ("a woman", "an Arab person"; overrides in ``group_values.person``);
- any other name listed under ``group_values`` (``{emoji}``, ``{slur}``): one case per value the group has,
  and only groups that have one;
- any name listed under the functionality's ``slots``: one case per value (the cartesian product of the
  slots a template uses); ``{Name}`` fills slot ``name`` with a capital first letter.

A template with no group placeholder gives cases with an empty ``target_group``. ``[...]`` marks the words a
functionality's ``transforms`` (spelling variations) change, and a leading ``^`` the one word in a segment that
``spaces_added`` spaces out; both marks are dropped from the text.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from pathlib import Path

import pandas as pd
import yaml

from ..identity_terms import GROUPS, IdentityGroup
from ..paths import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "data" / "behaviour" / "templates.yaml"
CASES = PROJECT_ROOT / "data" / "behaviour" / "cases.csv"
COLUMNS = ["case_id", "functionality", "text", "expected", "target_group", "template"]

_FIELD = re.compile(r"\{(\w+)\}")
_MARKED = re.compile(r"\[([^\[\]]+)\]")
_GROUP_FIELDS = {"plural", "Plural", "adj", "Adj", "person", "Person"}
_LEET = str.maketrans(
    {
        "a": "4",
        "A": "4",
        "e": "3",
        "E": "3",
        "i": "1",
        "I": "1",
        "o": "0",
        "O": "0",
        "s": "5",
        "S": "5",
        "t": "7",
        "T": "7",
    }
)
_VOWELS = "aeiouAEIOU"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _slot_name(field: str, slots: dict) -> str:
    """``{Target}`` fills slot ``target`` with a capital first letter."""
    lower = field[:1].lower() + field[1:]
    return lower if field not in _GROUP_FIELDS and lower in slots else field


def _fill(template: str, values: dict[str, str]) -> str:
    return _FIELD.sub(lambda m: values[m.group(1)], template)


def _person(group: IdentityGroup, overrides: dict[str, str]) -> str:
    if group.key in overrides:
        return overrides[group.key]
    article = "an" if group.adjective[:1].lower() in "aeiou" else "a"
    return f"{article} {group.adjective} person"


def _group_fields(group: IdentityGroup, overrides: dict[str, str]) -> dict[str, str]:
    person = _person(group, overrides)
    return {
        "plural": group.plural,
        "Plural": _cap(group.plural),
        "adj": group.adjective,
        "Adj": _cap(group.adjective),
        "person": person,
        "Person": _cap(person),
    }


# Spelling variations, applied to the [marked] words only.
def _leet(segment: str) -> str:
    return segment.translate(_LEET)


def _spaces_added(segment: str) -> str:
    # space out the letters of the word marked with "^", else of the longest word: "^hate them" -> "h a t e them"
    words = segment.split()
    marked = [i for i, w in enumerate(words) if w.startswith("^")]
    at = marked[0] if marked else max(range(len(words)), key=lambda i: len(words[i]))
    words[at] = " ".join(words[at].lstrip("^"))
    return " ".join(words)


def _letter_dropped(segment: str) -> str:
    # drop the middle letter of each word of 4+ letters: "hate" -> "hte", "Muslims" -> "Musims"
    return " ".join(w[: len(w) // 2] + w[len(w) // 2 + 1 :] if len(w) >= 4 else w for w in segment.split())


def _letter_doubled(segment: str) -> str:
    # stretch the first vowel after the first letter: "hate" -> "haaate"
    def stretch(word: str) -> str:
        at = next((i for i, c in enumerate(word) if i and c in _VOWELS), None)
        return word if at is None else word[:at] + word[at] * 3 + word[at + 1 :]

    return " ".join(stretch(w) for w in segment.split())


SEGMENT_TRANSFORMS = {
    "leet": _leet,
    "spaces_added": _spaces_added,
    "letter_dropped": _letter_dropped,
    "letter_doubled": _letter_doubled,
}


def apply_transform(text: str, name: str | None) -> str:
    """The text with its [marked] words changed by transform ``name`` (None: unchanged), brackets removed.
    ``spaces_removed`` deletes the spaces between the first and the last marked word; ``spaces_added`` spaces out
    the letters of the word marked with a leading "^" (else of the longest word) of each [segment]."""
    if name != "spaces_added":
        text = re.sub(r"(?<=[\[ ])\^", "", text)
    if name == "spaces_removed":
        start, end = text.find("["), text.rfind("]")
        if start < 0:
            raise ValueError(f"spaces_removed needs [marked] words: {text!r}")
        return text[:start] + text[start : end + 1].replace(" ", "").replace("[", "").replace("]", "") + text[end + 1 :]
    if name is None:
        return _MARKED.sub(r"\1", text)
    if name not in SEGMENT_TRANSFORMS:
        raise ValueError(f"unknown transform '{name}'; known: spaces_removed, {', '.join(SEGMENT_TRANSFORMS)}")
    return _MARKED.sub(lambda m: SEGMENT_TRANSFORMS[name](m.group(1)), text)


def expand(spec: dict, groups: tuple[IdentityGroup, ...] = GROUPS) -> pd.DataFrame:
    """Every case the templates spec describes, in a fixed order, as a DataFrame with ``COLUMNS``."""
    group_values: dict[str, dict] = spec.get("group_values", {})  # name -> {group key: value(s)}, from the YAML
    person: dict[str, str] = group_values.get("person", {})  # one value per group
    listed: dict[str, dict[str, list[str] | str]] = {
        name: values for name, values in group_values.items() if name != "person"
    }
    rows: list[dict] = []
    for func in spec["functionalities"]:
        name, expected = func["name"], func["expected"]
        slots: dict[str, list[str]] = func.get("slots", {})
        transforms = func.get("transforms") or [None]
        n = 0
        for template in func["templates"]:
            fields = {f if f in slots or f in listed else _slot_name(f, slots) for f in _FIELD.findall(template)}
            unknown = fields - _GROUP_FIELDS - set(listed) - set(slots)
            if unknown:
                raise ValueError(f"{name}: unknown placeholder(s) {sorted(unknown)} in {template!r}")
            per_group = [f for f in fields if f in listed]
            uses_group = bool(fields & _GROUP_FIELDS) or bool(per_group)
            slot_names = sorted(f for f in fields if f in slots)
            slot_combos = [dict(zip(slot_names, combo)) for combo in itertools.product(*(slots[s] for s in slot_names))]
            for group in groups if uses_group else (None,):
                base = _group_fields(group, person) if group else {}
                value_lists = []
                for f in per_group:
                    assert group is not None  # a per-group placeholder makes the template use groups
                    own = listed[f].get(group.key, [])
                    value_lists.append([(f, v) for v in ([own] if isinstance(own, str) else own)])
                for group_combo in itertools.product(*value_lists):  # empty when the group lacks a value
                    for slot_combo in slot_combos:
                        values: dict[str, str] = {**base, **dict(group_combo), **slot_combo}
                        values.update({_cap(k): _cap(v) for k, v in slot_combo.items()})
                        filled = _fill(template, values)
                        for transform in transforms:
                            n += 1
                            rows.append(
                                {
                                    "case_id": f"{name}-{n:04d}",
                                    "functionality": name,
                                    "text": apply_transform(filled, transform),
                                    "expected": expected,
                                    "target_group": group.key if group else "",
                                    "template": template + (f" <{transform}>" if transform else ""),
                                }
                            )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    dupes = frame[frame["text"].duplicated(keep=False)]
    if len(dupes):
        raise ValueError(f"duplicate texts: {dupes['text'].head(5).tolist()}")
    return frame


def generate(templates: str | Path = TEMPLATES, output: str | Path | None = CASES) -> pd.DataFrame:
    """Read the templates, expand them and (unless ``output`` is None) write the cases CSV."""
    spec = yaml.safe_load(Path(templates).read_text(encoding="utf-8"))
    frame = expand(spec)
    if output is not None:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(output, index=False, lineterminator="\n", encoding="utf-8")
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Expand the behavioural test templates into the cases CSV.")
    parser.add_argument("--templates", default=str(TEMPLATES))
    parser.add_argument("--output", default=str(CASES))
    args = parser.parse_args(argv)
    frame = generate(args.templates, args.output)
    print(
        f"{len(frame):,} cases, {frame['functionality'].nunique()} functionalities, "
        f"{frame.loc[frame['target_group'] != '', 'target_group'].nunique()} groups -> {args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
