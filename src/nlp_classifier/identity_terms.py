"""Words that name groups of people by a protected characteristic, in the forms that can replace each other in a
sentence. Used to make counterfactual training texts (data.augment), to name groups in friendly training texts
(data.identity_mentions), to weight texts (data.balance) and by the behavioural suite's generator.

Each group has an adjective ("a Muslim woman", "Muslim people") and a plural noun ("Muslims"); where English has
no plural noun for a group the adjective + "people" stands in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class IdentityGroup:
    """One group: its key, the adjective, the plural noun, and the characteristic it is protected by."""

    key: str
    adjective: str
    plural: str
    characteristic: str


GROUPS: tuple[IdentityGroup, ...] = (
    IdentityGroup("women", "female", "women", "sex"),
    IdentityGroup("trans", "trans", "trans people", "gender identity"),
    IdentityGroup("gay", "gay", "gay people", "sexual orientation"),
    IdentityGroup("lesbian", "lesbian", "lesbians", "sexual orientation"),
    IdentityGroup("bisexual", "bisexual", "bisexual people", "sexual orientation"),
    IdentityGroup("black", "Black", "Black people", "race"),
    IdentityGroup("asian", "Asian", "Asians", "race"),
    IdentityGroup("latino", "Latino", "Latinos", "ethnicity"),
    IdentityGroup("arab", "Arab", "Arabs", "ethnicity"),
    IdentityGroup("mexican", "Mexican", "Mexicans", "national origin"),
    IdentityGroup("immigrant", "immigrant", "immigrants", "national origin"),
    IdentityGroup("refugee", "refugee", "refugees", "national origin"),
    IdentityGroup("muslim", "Muslim", "Muslims", "religion"),
    IdentityGroup("jewish", "Jewish", "Jews", "religion"),
    IdentityGroup("christian", "Christian", "Christians", "religion"),
    IdentityGroup("hindu", "Hindu", "Hindus", "religion"),
    IdentityGroup("disabled", "disabled", "disabled people", "disability"),
    IdentityGroup("deaf", "deaf", "deaf people", "disability"),
    IdentityGroup("native", "Native American", "Native Americans", "ethnicity"),
    IdentityGroup("indian", "Indian", "Indians", "national origin"),
)

# Single words that can be swapped for one another in a sentence without breaking its grammar: adjectives
# ("a gay man" -> "a Jewish man") and plural nouns ("Muslims" -> "immigrants"). Multi-word forms and words
# with other common senses ("black", "white", "deaf", "native", "female") are left out of swapping.
SWAP_ADJECTIVES: tuple[str, ...] = (
    "gay",
    "lesbian",
    "bisexual",
    "trans",
    "transgender",
    "muslim",
    "jewish",
    "christian",
    "hindu",
    "asian",
    "latino",
    "arab",
    "mexican",
    "immigrant",
    "disabled",
    "indian",
    "african",
    "chinese",
    "hispanic",
)
SWAP_PLURALS: tuple[str, ...] = (
    "women",
    "gays",
    "lesbians",
    "muslims",
    "jews",
    "christians",
    "hindus",
    "asians",
    "latinos",
    "arabs",
    "mexicans",
    "immigrants",
    "refugees",
    "africans",
    "indians",
    "hispanics",
    "homosexuals",
    "transgenders",
    "migrants",
)

# Names of a group in more than one word, for the one group the bundled training data annotates (ToxiGen's
# `target_group`) that the words above do not name at all: mental disability. They are not swapped (in "the mentally
# ill" the adjective is a noun, and "the Muslim" would not be English); group mentions (data.identity_mentions) put
# them before a person noun ("a mentally ill man") and identity balancing counts them.
PHRASE_ADJECTIVES: tuple[str, ...] = ("mentally ill", "mentally disabled")

# Words whose share of hateful training texts identity balancing (data.balance) evens out: every word above, plus
# group words that cannot be swapped (other senses, or singular nouns) but still mark a group in most texts.
BALANCE_TERMS: tuple[str, ...] = (
    *SWAP_ADJECTIVES,
    *SWAP_PLURALS,
    *PHRASE_ADJECTIVES,
    "black",
    "blacks",
    "white",
    "whites",
    "jew",
    "deaf",
    "female",
    "females",
)


def words_pattern(words: Iterable[str]) -> re.Pattern[str]:
    """A case-insensitive pattern matching any of ``words`` as a whole word (longest first), the word in group 1."""
    return re.compile(r"\b(" + "|".join(sorted(set(words), key=len, reverse=True)) + r")\b", re.IGNORECASE)


def words_found(pattern: re.Pattern[str], text: str) -> set[str]:
    """The words of a ``words_pattern`` that ``text`` names, lower-cased."""
    return {m.group(1).lower() for m in pattern.finditer(text)}
