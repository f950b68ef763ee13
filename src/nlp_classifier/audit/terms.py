"""The audit's two input files: identity terms by category (``data/audit/identity_terms.yaml``) and neutral,
positive and hateful sentence templates (``data/audit/templates.yaml``). Loading checks them and names the file
and the entry of anything wrong."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import DataError
from ..paths import PROJECT_ROOT, data_dir

NEUTRAL, POSITIVE, HATEFUL = "neutral", "positive", "hateful"
KINDS = (NEUTRAL, POSITIVE, HATEFUL)
"""Template kinds in file order; neutral and positive sentences are not harmful (label 0), hateful ones are (1)."""
HARMFUL_KINDS = frozenset({HATEFUL})
FIELDS = frozenset({"identity", "a"})
"""The placeholders a template may use: ``{identity}`` (the term) and ``{a}`` (its indefinite article)."""
ARTICLES = ("a", "an")
_CATEGORY = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class IdentityTerm:
    """One identity term (a subgroup of the audit), its category and its indefinite article."""

    term: str
    category: str
    article: str


@dataclass(frozen=True)
class Template:
    """One sentence template: its kind (neutral / positive / hateful), an id (``neutral-3``) and its text."""

    kind: str
    template_id: str
    text: str

    @property
    def harmful(self) -> bool:
        return self.kind in HARMFUL_KINDS

    def fill(self, term: IdentityTerm) -> str:
        """The sentence for one term, with its first letter capitalised."""
        text = self.text.format(identity=term.term, a=term.article)
        return text[:1].upper() + text[1:]


def _default(name: str) -> Path:
    own = data_dir() / "audit" / name
    return own if own.is_file() else PROJECT_ROOT / "data" / "audit" / name


def default_terms_path() -> Path:
    """The shipped terms: data/audit/identity_terms.yaml under $NLPC_DATA_DIR if it has one, else the checkout's."""
    return _default("identity_terms.yaml")


def default_templates_path() -> Path:
    """The shipped templates: data/audit/templates.yaml under $NLPC_DATA_DIR if it has one, else the checkout's."""
    return _default("templates.yaml")


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise DataError("no such file", path=str(path))
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataError(f"not valid YAML: {exc}", path=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text: {exc}", path=str(path)) from exc


def default_article(term: str) -> str:
    """'an' before a vowel letter, else 'a' (the terms file overrides it where English differs: 'a Ukrainian')."""
    return "an" if term[:1].lower() in "aeiou" else "a"


def load_terms(path: str | Path | None = None) -> list[IdentityTerm]:
    """Read and check an identity-terms file::

        categories:
          religion: [Muslim, Jewish, ...]
          nationality: [Mexican, {term: Ukrainian, article: a}, ...]

    Terms must be non-empty, unique (case-insensitive) across categories, and free of braces."""
    path = Path(path) if path is not None else default_terms_path()
    spec = _read_yaml(path)
    if not isinstance(spec, dict) or not isinstance(spec.get("categories"), dict) or not spec["categories"]:
        raise DataError("expected a mapping 'categories:' of category name -> list of terms", path=str(path))
    terms: list[IdentityTerm] = []
    seen: dict[str, str] = {}
    for category, entries in spec["categories"].items():
        category = str(category)
        where = f"category '{category}'"
        if not _CATEGORY.match(category):
            raise DataError(f"{where}: a category name is lower-case letters, digits and '_'", path=str(path))
        if not isinstance(entries, list) or not entries:
            raise DataError(f"{where}: expected a non-empty list of terms", path=str(path))
        for i, entry in enumerate(entries, start=1):
            at = f"{where}, entry {i}"
            if isinstance(entry, dict):
                unknown = set(entry) - {"term", "article"}
                if unknown:
                    raise DataError(f"{at}: unknown key(s) {', '.join(sorted(map(str, unknown)))}", path=str(path))
                term, article = entry.get("term"), entry.get("article")
            else:
                term, article = entry, None
            if not isinstance(term, str) or not term.strip():
                raise DataError(f"{at}: a term must be a non-empty string, got {term!r}", path=str(path))
            term = term.strip()
            if "{" in term or "}" in term:
                raise DataError(f"{at}: term '{term}' contains a brace", path=str(path))
            if article is None:
                article = default_article(term)
            if article not in ARTICLES:
                raise DataError(f"{at}: article of '{term}' must be 'a' or 'an', got {article!r}", path=str(path))
            key = term.lower()
            if key in seen:
                raise DataError(f"{at}: term '{term}' is already listed under '{seen[key]}'", path=str(path))
            seen[key] = category
            terms.append(IdentityTerm(term, category, article))
    return terms


def load_templates(path: str | Path | None = None) -> list[Template]:
    """Read and check a templates file: a mapping with the keys ``neutral``, ``positive`` and ``hateful``, each a
    non-empty list of sentences that use ``{identity}`` (and optionally ``{a}``) and no other placeholder."""
    path = Path(path) if path is not None else default_templates_path()
    spec = _read_yaml(path)
    if not isinstance(spec, dict):
        raise DataError(f"expected a mapping with the keys {', '.join(KINDS)}", path=str(path))
    unknown = set(map(str, spec)) - set(KINDS)
    if unknown:
        raise DataError(
            f"unknown template kind(s) {', '.join(sorted(unknown))}; the kinds are {', '.join(KINDS)}", path=str(path)
        )
    templates: list[Template] = []
    seen: dict[str, str] = {}
    for kind in KINDS:
        entries = spec.get(kind)
        if not isinstance(entries, list) or not entries:
            raise DataError(f"'{kind}': expected a non-empty list of templates", path=str(path))
        for i, text in enumerate(entries, start=1):
            at = f"'{kind}' template {i}"
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"{at}: a template must be a non-empty string, got {text!r}", path=str(path))
            text = text.strip()
            try:
                fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
            except ValueError as exc:
                raise DataError(f"{at} ({text!r}): bad placeholder: {exc}", path=str(path)) from exc
            if fields - FIELDS:
                unknown_fields = ", ".join(sorted("{" + f + "}" for f in fields - FIELDS))
                raise DataError(
                    f"{at} ({text!r}): unknown placeholder(s) {unknown_fields}; use {{identity}} and {{a}}",
                    path=str(path),
                )
            if "identity" not in fields:
                raise DataError(f"{at} ({text!r}): has no {{identity}} placeholder", path=str(path))
            if text.lower() in seen:
                raise DataError(f"{at}: the same template is already listed as {seen[text.lower()]}", path=str(path))
            seen[text.lower()] = at
            templates.append(Template(kind, f"{kind}-{i}", text))
    return templates
