"""Helpers shared by the tests: the CLI in a child process, live API and UI servers, small training tables and
small real models. Fixtures themselves live in ``tests/conftest.py``."""
