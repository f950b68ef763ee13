"""A behavioural (CheckList-style) test suite for hate-speech models: hand-written templates expanded into a
cases file (``generate``), and a runner that scores any model on it (``suite``; ``nlpc check`` on the CLI).
The cases are a test, never training data."""

from .suite import (
    EXPECTED_VALUES,
    FPR_FUNCTIONALITIES,
    HATEFUL,
    NOT_HATEFUL,
    Cases,
    default_cases_path,
    hateful_decision,
    load_cases,
    run_check,
)

__all__ = [
    "EXPECTED_VALUES",
    "FPR_FUNCTIONALITIES",
    "HATEFUL",
    "NOT_HATEFUL",
    "Cases",
    "default_cases_path",
    "hateful_decision",
    "load_cases",
    "run_check",
]
