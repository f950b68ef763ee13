"""Fixtures shared by every test folder: isolated models folders, small training files, and models trained once per
session. Helpers that tests import live in the ``testkit`` package beside this file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from testkit.frames import tiny_frame
from testkit.models import train_tiny_hate_model

_EXIT_STATUS = pytest.StashKey[int]()


@pytest.fixture
def models_dir(tmp_path, monkeypatch) -> Path:
    """An empty models folder, also set as $NLPC_MODELS_DIR for the test."""
    path = tmp_path / "models"
    path.mkdir()
    monkeypatch.setenv("NLPC_MODELS_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def baseline_models_dir(tmp_path_factory) -> Path:
    """A models folder with the seed's two Davidson baselines and a Jigsaw toxicity baseline, trained once.
    Tests must not modify it (copy it first)."""
    from nlp_classifier.training.baselines import train_baseline

    path = tmp_path_factory.mktemp("baseline-models")
    train_baseline("davidson", "logistic_regression", "seed", models_dir=path)
    train_baseline("davidson", "linear_svm", "seed", models_dir=path)
    train_baseline("jigsaw", "logistic_regression", "seed", models_dir=path)
    return path


@pytest.fixture
def tiny_csv(tmp_path) -> Path:
    """``tiny_frame()`` as a CSV file."""
    path = tmp_path / "tiny.csv"
    tiny_frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def davidson_slice(tmp_path_factory) -> Path:
    """1,200 Davidson tweets (400 per class) in the task's own format: big enough for settings to matter."""
    import pandas as pd

    from nlp_classifier.paths import data_dir

    path = tmp_path_factory.mktemp("davidson-slice") / "slice.csv"
    frame = pd.read_csv(data_dir() / "davidson" / "labeled_data.csv.gz")
    frame.groupby("class").head(400).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def hate_models_dir(baseline_models_dir, tmp_path_factory) -> Path:
    """The session's baselines plus a tiny hate-task model named like the default one
    (``logistic_regression_hate_char``). Tests must not modify it (copy it first)."""
    import shutil

    path = tmp_path_factory.mktemp("hate-models") / "models"
    shutil.copytree(baseline_models_dir, path)
    train_tiny_hate_model(path, tmp_path_factory.mktemp("hate-data"))
    return path


@pytest.fixture(scope="module")
def gcs():
    """fake-gcs-server on 127.0.0.1 (``testkit.gcs``), one per test module; it sets STORAGE_EMULATOR_HOST for the
    test process and the ``nlpc`` processes it starts."""
    from testkit.gcs import gcs_emulator

    with gcs_emulator() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the whole session (``testkit.postgres``), started on first use."""
    from testkit.postgres import running_postgres

    with running_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """An empty workflow database, once on SQLite (a file in the test's folder) and once on PostgreSQL (a fresh
    database on the session's server)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nlpc.db'}"
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
def db(database_url):
    """The workflow database at ``database_url``, migrated to the newest revision; disposed after the test."""
    from nlp_classifier.workflow.db import Database

    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


def pytest_sessionfinish(session, exitstatus):
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """End the test process as soon as pytest is done, with pytest's exit status, skipping the interpreter's
    own finalisation. After a whole-suite run (855 tests passed, every fixture torn down, the summary printed)
    the process once died with a segmentation fault while the interpreter was tearing down the C extensions the
    suite loads in one process (torch, Ray, psycopg, ...), turning a green run red; the cause was not found in
    smaller runs. Nothing is left to run at this point: fixtures, servers and reports are already finished."""
    status = config.stash.get(_EXIT_STATUS, None)
    if status is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
