"""Rebuild ``src/nlp_classifier/resources/lexicon.txt.gz``, the lexicon ``obfuscation.ObfuscationReader`` reads
disguised words against: the lower-cased words of the training split of the bundled ``hate`` task (validation
and test texts are not read) seen at least ``obfuscation.MIN_COUNT`` times.

    python scripts/build_lexicon.py [--output PATH]

The file is deterministic: the same data gives the same bytes (a test rebuilds it and compares hashes). A new
lexicon changes what models that read obfuscation see: their cards pin the old one's sha256, and loading them
says so until ``nlpc models reading NAME --obfuscation on`` moves them to the new one.
"""

from __future__ import annotations

import argparse

from nlp_classifier.data.hate import PART_IDS, load_hate
from nlp_classifier.obfuscation import LEXICON_PATH, MIN_COUNT, lexicon_sha256, write_lexicon


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default=str(LEXICON_PATH))
    args = parser.parse_args()
    hate = load_hate()
    train = [t for t, part in zip(hate.texts, hate.parts) if part == PART_IDS["train"]]
    written = write_lexicon(train, args.output, MIN_COUNT)
    print(f"{written} words from {len(train)} training texts -> {args.output} (sha256 {lexicon_sha256(args.output)})")


if __name__ == "__main__":
    main()
