"""Training signal for groups named in friendly sentences: copies of non-hateful training texts that speak warmly
of people without naming a group ("my neighbours are lovely people"), with a group adjective put before the person
noun ("my neighbours are lovely Muslim people").

Hate speech data names groups mostly in hateful texts, so a model learns a group's name as a sign of hate and
flags neutral and positive statements about the group. Identity swaps (data.augment) add non-hateful mentions
only where a text already names a group (3,385 of the 66,861 non-hateful `hate` training texts), and those are
mostly about politics or religion: the sources have almost no positive statements about groups. Many more
non-hateful texts say something kind about people, friends, families or neighbours; naming a group there gives
the model group words in friendly sentences.

Only texts that read as friendly get copies: a warm word ("love", "kind", "proud", ...), no hostile one
(violence, insults, profanity: "kill those people" is not hateful as collected, but would be with "Muslim" put
into it), and no person noun after "our", "these", "those" or "you" ("our people" in a separatist forum post,
"you people"). Texts that already name a group are left to the swaps. Like the swaps, only non-hateful texts and
only training splits get copies.

Open mentions put a made-up group adjective there instead ("my neighbours are lovely Drelonian people"). The
vocabulary names 20 groups; a model trained on it still flags friendly sentences about groups it never names, and
a made-up word in a group's place is flagged about as often as a rarely named real group. Made-up words (never a
word of the lexicon, so never a real group or slur of the training data) teach the model that an unfamiliar word
for people is not by itself a sign of hate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from ..identity_terms import BALANCE_TERMS, PHRASE_ADJECTIVES, SWAP_ADJECTIVES, words_pattern
from ..obfuscation import read_lexicon
from .augment import rewritten_copies, same_case
from .datasets import Dataset

# Adjectives that are not written with a capital letter; the others name a religion, nation or ethnicity.
LOWER_CASE_ADJECTIVES = frozenset(
    {"gay", "lesbian", "bisexual", "trans", "transgender", "immigrant", "disabled", *PHRASE_ADJECTIVES}
)
ADJECTIVES: tuple[str, ...] = tuple(
    a if a in LOWER_CASE_ADJECTIVES else a.capitalize() for a in (*SWAP_ADJECTIVES, *PHRASE_ADJECTIVES)
)

# Nouns for people that take an adjective in front ("a kind person" -> "a kind Jewish person"). "man" is left out
# where a comma or "!" follows ("man, that was close" is an exclamation), "couple" before "of" (a quantity).
_PERSON_NOUN = re.compile(
    r"\b(people|persons?|man(?![,!])|men|woman|guys?|folks|famil(?:y|ies)|neighbou?rs?|friends?|kids?|children|"
    r"students?|workers?|parents?|couples?(?!\s+of\b)|boys?|girls?|teachers?|doctors?|colleagues?|coworkers?)\b",
    re.IGNORECASE,
)
# Stems of words that make a sentence hostile to the people it names; matched anywhere in a word ("killing").
_HOSTILE = re.compile(
    r"kill|murder|shoot|shot|hang|burn|rape|die\b|dead|death|gas\b|deport|exterminat|hate|stupid|idiot|dumb|moron|"
    r"retard|scum|trash|filth|disgust|vermin|animal|savage|parasite|subhuman|ape|monkey|pig|rat\b|rats\b|"
    r"fuck|shit|bitch|cunt|whore|hoe|slut|nigg|fag|dyke|tranny|ass\b|asshole|crap|damn|ugly|lazy|criminal|terroris|"
    r"invad|replace|breed|race|white|wake up|traitor|enem|destroy|ruin|danger|threat|problem|blame",
    re.IGNORECASE,
)
# Words that make a sentence warm towards the people it names.
_FRIENDLY = re.compile(
    r"\b(love[ds]?|lovely|loving|kind|kindest|wonderful|amazing|great|good|nice|happy|glad|proud|thanks?|thank you|"
    r"best|brilliant|beautiful|respect(?:ed|ful)?|welcome|support(?:ed|ive)?|smart|talented|friendly|generous|"
    r"inspiring|awesome|enjoy(?:ed)?|fun|caring|helpful|honest|brave|sweet|grateful|congratulations|adore)\b",
    re.IGNORECASE,
)
_AFTER = re.compile(r"\b(?:our|these|those|you|them)\s+$", re.IGNORECASE)
_NAMES_GROUP = words_pattern(BALANCE_TERMS)
_VOWELS = "aeiouAEIOU"


def _article(word: str, adjective: str) -> str:
    """``word`` ("a" or "an" in any case) fitted to the adjective that now follows it; other words unchanged."""
    if word.lower() not in ("a", "an"):
        return word
    article = "an" if adjective[0] in _VOWELS else "a"
    return article.capitalize() if word[0].isupper() else article


# Made-up adjectives: two syllables and an ending that English gives to words for peoples and groups.
_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gl", "kr", "pl", "tr")
_NUCLEI = ("a", "e", "i", "o", "u", "ai", "ou")
_CODAS = ("", "", "n", "r", "l", "s", "m")
_ENDINGS = ("ish", "ian", "ese", "ic", "an", "ite", "ist", "al", "i", "ean")
# Slur stems a made-up word must not begin with ("Kikresian"), beside the hostile stems of _HOSTILE it must not
# contain ("Fagoulese", "pigainish"): as friendly copies they would teach that these are harmless.
_SLUR_START = re.compile(r"(?:nig|kik|spic|coon|chink|gook|dyk|tran+y|wetb|paki|sheeny|yid)", re.IGNORECASE)


@lru_cache(maxsize=1)
def _real_words() -> frozenset[str]:
    return frozenset(read_lexicon())


def made_up_adjective(rng: np.random.Generator) -> str:
    """A seeded pronounceable word that is not in the lexicon of the training texts ("Drelonian", "tavesic"), has
    no hostile stem (``_HOSTILE``) and begins with no slur stem, capitalised half of the time as the names of
    peoples and religions are."""
    while True:
        syllables = (_pick(rng, _ONSETS) + _pick(rng, _NUCLEI) + _pick(rng, _CODAS) for _ in range(2))
        word = "".join(syllables) + _pick(rng, _ENDINGS)
        if word not in _real_words() and _HOSTILE.search(word) is None and _SLUR_START.match(word) is None:
            return word.capitalize() if rng.random() < 0.5 else word


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _group_adjective(rng: np.random.Generator) -> str:
    return _pick(rng, ADJECTIVES)


def insert_group(
    text: str, rng: np.random.Generator, adjective_for: Callable[[np.random.Generator], str] = _group_adjective
) -> str | None:
    """``text`` with a seeded group adjective (``adjective_for``: one of the vocabulary's by default) put before
    one of its person nouns (drawn at random), the article before it fitted ("a man" -> "an Asian man"); None when
    it names a group already or has no person noun."""
    if _NAMES_GROUP.search(text) is not None:
        return None
    nouns = [m for m in _PERSON_NOUN.finditer(text) if _AFTER.search(text, 0, m.start()) is None]
    if not nouns:
        return None
    noun = nouns[int(rng.integers(len(nouns)))]
    word = noun.group(1)
    adjective = same_case(adjective_for(rng), word)  # "PEOPLE" -> "MUSLIM PEOPLE"
    if word[0].isupper() and not word.isupper():  # "People are ..." -> "Gay people are ..."
        word = word[0].lower() + word[1:]
    head = text[: noun.start()]
    previous = re.search(r"(\w+)(\s+)$", head)
    if previous is not None:
        head = head[: previous.start()] + _article(previous.group(1), adjective) + previous.group(2)
    return f"{head}{adjective} {word}{text[noun.end() :]}"


def friendly(text: str) -> bool:
    """Whether ``text`` has a warm word and no hostile one."""
    return _FRIENDLY.search(text) is not None and _HOSTILE.search(text) is None


def identity_mentions(train: Dataset, copies: float, seed: int) -> Dataset:
    """``train`` plus, for each of its non-hateful texts (class 0 of a single-label task) that is ``friendly``,
    names no group and has a person noun, ``copies`` copies on average with a group adjective put before it
    (``insert_group``; the whole part of ``copies`` for every text, one more with the probability of its fractional
    part); same label, same source. ``copies`` 0, or a multi-label task, returns ``train`` unchanged."""
    return rewritten_copies(train, copies, seed, friendly, insert_group, "mentions")


def insert_made_up_group(text: str, rng: np.random.Generator) -> str | None:
    """``insert_group`` with a made-up adjective (``made_up_adjective``)."""
    return insert_group(text, rng, made_up_adjective)


def open_mentions(train: Dataset, copies: float, seed: int) -> Dataset:
    """``identity_mentions`` with made-up group adjectives (``insert_made_up_group``)."""
    return rewritten_copies(train, copies, seed, friendly, insert_made_up_group, "open_mentions")
