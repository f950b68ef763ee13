"""Expand data/behaviour/templates.yaml into data/behaviour/cases.csv (deterministic).

.venv/bin/python scripts/make_behaviour_cases.py [--templates FILE] [--output FILE]
"""

import sys

from nlp_classifier.behaviour.generate import main

if __name__ == "__main__":
    sys.exit(main())
