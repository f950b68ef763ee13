"""Reading obfuscated spellings back: the words people disguise to get past word filters, restored before a
model scores the text.

People write "h473", "w0m3n", "f@gs", "k*kes", "d e s p i s e", "haaate" and "despisewomen" so that a filter
keyed on words misses them. A subword model sees such a word as a string of unrelated pieces (leetspeak words
scored 0 of 120 on the behavioural suite with the MiniLM `hate` model), and a TF-IDF model finds only some of its
character n-grams. ``ObfuscationReader.read`` rewrites a disguised word to the word it stands for, and only
when that reading is a word of the lexicon and the word as written is not:

- digits and symbols for letters inside a word that also has letters (``0 1 3 4 5 7 8 9 @ $ ! * |``; a ``*``
  stands for a vowel, ``1`` and ``|`` for ``i`` or ``l``), the most frequent known reading winning. Numbers
  with units or ordinals ("10am", "1st", "90s") and words ending in a shorter number ("mp3", "covid19") stay;
- single letters separated by single spaces ("d e s p i s e") joined into one word of at least 4 letters;
- a letter repeated three times or more squeezed to one or two ("haaate", "peeeople");
- a run-together alphabetic token of at least 10 letters that is not itself known, split into two or three
  frequent words of at least 3 letters each ("despisewomen"; the most probable split under word frequencies);
  failing that, into four to six words whose 3-letter words are very frequent ones ("#makeeuropegreatagain",
  "womenaredisgustingvermin"). A long unknown word such as "commemorating" must not become "com memo rat ing",
  hence the stricter rule for more words.

URLs are left alone. Everything else of the text is kept character for character, so an explanation of the read
text maps back to the original (``explain.words.align``).

The lexicon (``resources/lexicon.txt.gz``: word and count) is the lower-cased words of the training split of the
bundled ``hate`` task seen at least ``MIN_COUNT`` times, built by ``scripts/build_lexicon.py``: the words the
models were trained on. A model reads texts this way when its card says so (``ModelCard.read_obfuscation``,
the lexicon's sha256), which ``nlpc models reading`` or a training setting switches on.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .data import Dataset

LEXICON_PATH = Path(__file__).with_name("resources") / "lexicon.txt.gz"
MIN_COUNT = 3
# Splitting a run-together token: its length, the number, length and frequency of the words it splits into.
# Each rule is (most words, least count of a 3-letter word; longer words need MIN_SPLIT_COUNT), tried in turn: two
# or three frequent words; else up to six, where a 3-letter word must be one of the very frequent ones ("are",
# "the", "all"), which keeps prefixes and suffixes such as "com" or "ing" from splitting unknown words.
MIN_RUN_TOGETHER = 10
MIN_SPLIT_WORD = 3
MIN_SPLIT_COUNT = 20
MIN_SHORT_SPLIT_COUNT = 300  # a 3-letter word in a split of four words or more
SPLIT_RULES: tuple[tuple[int, int], ...] = ((3, MIN_SPLIT_COUNT), (6, MIN_SHORT_SPLIT_COUNT))
MAX_SPLIT_WORD_LENGTH = 20
MAX_READINGS = 256  # candidate spellings tried for one disguised word

SUBSTITUTES: Mapping[str, str] = {
    "0": "o",
    "1": "il",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "!": "i",
    "*": "aeiou",
    "|": "il",
}
# The characters of a word that may be disguised (letters and the substitutes above), and the marks of a disguise
# inside one: a letter beside a digit or symbol, a tripled letter, or a long run of letters.
_WORD_CHARS = "A-Za-z0-9@$!*|"
_DISGUISE = rf"[A-Za-z][0-9@$!*|]|[0-9@$*|][A-Za-z]|([A-Za-z])\1\1|[A-Za-z]{{{MIN_RUN_TOGETHER}}}"
# A word that may be disguised: a maximal run of word characters with one of the marks. Only these reach the
# Python code.
_CANDIDATE = re.compile(rf"(?<![{_WORD_CHARS}])(?=[{_WORD_CHARS}]*(?:{_DISGUISE}))[{_WORD_CHARS}]+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SPACED = re.compile(r"(?<![A-Za-z])((?:[A-Za-z] ){2,}[A-Za-z])(?![A-Za-z])")
_TRIPLE = re.compile(r"([A-Za-z])\1\1")
_RUNS = re.compile(r"([A-Za-z])\1*|[^A-Za-z]+")
_NUMBER_WITH_UNIT = re.compile(
    r"\d+(?:st|nd|rd|th|s|am|pm|k|m|x|h|kg|km|lbs?|mph|gb|mb|min|yo|ish|ft|cm|mm)", re.IGNORECASE
)
_LETTERS_THEN_DIGITS = re.compile(r"([A-Za-z]+)(\d+)")
# A text worth a closer look: a mark of a disguise, or spaced single letters. Most texts have neither and are
# returned at once.
_SUSPECT = re.compile(rf"{_DISGUISE}|(?<![A-Za-z])[A-Za-z] [A-Za-z] [A-Za-z](?![A-Za-z])")


def read_lexicon(path: str | Path = LEXICON_PATH) -> dict[str, int]:
    """``word -> count`` from a gzipped ``word<TAB>count`` file."""
    words: dict[str, int] = {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            word, _, count = line.rstrip("\n").partition("\t")
            if word:
                words[word] = int(count)
    return words


def lexicon_sha256(path: str | Path = LEXICON_PATH) -> str:
    """The sha256 of the lexicon file: what a model card pins."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_lexicon(texts: Iterable[str], path: str | Path, min_count: int = MIN_COUNT) -> int:
    """Count the lower-cased alphabetic words of ``texts`` and write those seen ``min_count`` times or more,
    most frequent first (then alphabetical), gzipped without a timestamp so a rebuild is byte-identical.
    Returns the number of words written."""
    from collections import Counter

    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(re.findall(r"[a-z]+", text.lower()))
    kept = sorted(((w, n) for w, n in counts.items() if n >= min_count), key=lambda wn: (-wn[1], wn[0]))
    body = "".join(f"{w}\t{n}\n" for w, n in kept).encode("utf-8")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as handle:
        handle.write(body)
    return len(kept)


class ObfuscationReader:
    """Reads disguised words back (module docstring) against a lexicon of ``word -> count``."""

    def __init__(self, lexicon: Mapping[str, int]):
        self.lexicon = dict(lexicon)
        self._log_total = math.log(max(sum(self.lexicon.values()), 1))
        self._token = lru_cache(maxsize=65536)(self._read_token)

    def known(self, word: str) -> int:
        """The count of ``word`` (lower-cased), or of its singular for a plural of more than 3 letters; 0 when
        unknown."""
        word = word.lower()
        count = self.lexicon.get(word, 0)
        if not count and len(word) > 3 and word.endswith("s"):
            count = self.lexicon.get(word[:-1], 0)
        return count

    def read(self, text: str) -> str:
        """``text`` with its disguised words read back; unchanged when it has none."""
        if not _SUSPECT.search(text):
            return text
        pieces: list[str] = []
        position = 0
        for url in _URL.finditer(text):
            pieces.append(self._read_plain(text[position : url.start()]))
            pieces.append(url.group(0))
            position = url.end()
        pieces.append(self._read_plain(text[position:]))
        return "".join(pieces)

    def read_texts(self, texts: Iterable[str]) -> list[str]:
        """``read`` for each text."""
        return [self.read(t) for t in texts]

    # --- the four readings --------------------------------------------------------------------------------
    def _read_plain(self, text: str) -> str:
        text = _SPACED.sub(self._join_spaced, text)
        return _CANDIDATE.sub(lambda m: self._token(m.group(0)), text)

    def _join_spaced(self, match: re.Match) -> str:
        """The spaced letters as one word; failing that, without the first or the last letter, which may be a
        word of its own ("I d e s p i s e")."""
        spaced = match.group(1)
        for letters, before, after in ((spaced, "", ""), (spaced[2:], spaced[:2], ""), (spaced[:-2], "", spaced[-2:])):
            word = letters.replace(" ", "")
            if len(word) >= 4 and self.known(word):
                return before + word + after
        return spaced

    def _read_token(self, token: str) -> str:
        core = token.strip("!*")
        if not core:
            return token
        read = self._unleet(core)
        if read == core:
            read = self._squeeze(core)
        if read == core and core.isalpha():
            read = self._split(core)
        start = token.index(core)
        return token[:start] + read + token[start + len(core) :]

    def _best(self, candidates: Iterable[str]) -> str | None:
        best, best_count = None, 0
        for candidate in candidates:
            count = self.known(candidate) if candidate.isalpha() else 0
            if count > best_count:
                best, best_count = candidate, count
        return best

    def _unleet(self, core: str) -> str:
        if len(core) < 3 or not any(ch.isalpha() for ch in core) or not any(ch in SUBSTITUTES for ch in core):
            return core
        if _NUMBER_WITH_UNIT.fullmatch(core) or self.known(core):
            return core
        ending_number = _LETTERS_THEN_DIGITS.fullmatch(core)
        if ending_number and len(ending_number.group(2)) < len(ending_number.group(1)):
            return core
        options = [SUBSTITUTES.get(ch, ch) for ch in core]
        if math.prod(len(o) for o in options) > MAX_READINGS:
            return core
        best = self._best("".join(letters) for letters in itertools.product(*options))
        if best is None:
            return core
        letters = [ch for ch in core if ch.isalpha()]
        shout = len(letters) > 1 and all(ch.isupper() for ch in letters)  # a substitute takes the word's case
        return "".join(old if old.isalpha() else (new.upper() if shout else new) for new, old in zip(best, core))

    def _squeeze(self, token: str) -> str:
        if not _TRIPLE.search(token) or self.known(token):
            return token
        options = [
            (run[0], run[0] * 2) if len(run) >= 3 and run[0].isalpha() else (run,)
            for run in (m.group(0) for m in _RUNS.finditer(token))
        ]
        if math.prod(len(o) for o in options) > MAX_READINGS:
            return token
        return self._best("".join(parts) for parts in itertools.product(*options)) or token

    def _split(self, token: str) -> str:
        word = token.lower()
        if len(word) < MIN_RUN_TOGETHER or self.known(word):
            return token
        for max_words, least_short_count in SPLIT_RULES:
            cuts = self._split_cuts(word, max_words, least_short_count)
            if cuts:
                return " ".join(token[a:b] for a, b in zip([0, *cuts], cuts))
        return token

    def _split_cuts(self, word: str, max_words: int, least_short_count: int) -> list[int] | None:
        """The end positions of the most probable split of ``word`` into 2 to ``max_words`` known words of at least
        ``MIN_SPLIT_WORD`` letters, each seen ``MIN_SPLIT_COUNT`` times (``least_short_count`` for 3 letters); None
        when there is none."""
        # best[i]: (log-probability, cut positions) of the best split of word[:i] into such words
        best: list[tuple[float, list[int]] | None] = [(0.0, [])] + [None] * len(word)
        for end in range(MIN_SPLIT_WORD, len(word) + 1):
            for start in range(max(0, end - MAX_SPLIT_WORD_LENGTH), end - MIN_SPLIT_WORD + 1):
                before = best[start]
                if before is None or len(before[1]) >= max_words:
                    continue
                count = self.lexicon.get(word[start:end], 0)
                if count < (least_short_count if end - start == MIN_SPLIT_WORD else MIN_SPLIT_COUNT):
                    continue
                score = before[0] + math.log(count) - self._log_total
                current = best[end]
                if current is None or score > current[0]:
                    best[end] = (score, before[1] + [end])
        found = best[len(word)]
        return found[1] if found is not None and len(found[1]) >= 2 else None


def read_dataset(dataset: Dataset, reader: ObfuscationReader) -> Dataset:
    """``dataset`` with every text read by ``reader`` (targets, sources and parts kept; a new fingerprint)."""
    return replace(dataset, texts=reader.read_texts(dataset.texts), fingerprint="")


@lru_cache(maxsize=4)
def reader_for(sha256: str) -> ObfuscationReader:
    """The reader over the installed lexicon, for a card that pins ``sha256``; a ConfigError when the installed
    lexicon is another one (the model would read texts differently from when it was measured)."""
    from .errors import ConfigError

    installed = lexicon_sha256()
    if installed != sha256:
        raise ConfigError(
            f"the model reads obfuscated words with lexicon {sha256[:12]}, but this installation has "
            f"{installed[:12]} ({LEXICON_PATH}); switch reading off and on again (`nlpc models reading`) to "
            "move the model to this lexicon"
        )
    return ObfuscationReader(read_lexicon())
