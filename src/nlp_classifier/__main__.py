"""``python -m nlp_classifier`` runs the ``nlpc`` command line."""

import sys

from .cli import main

sys.exit(main())
