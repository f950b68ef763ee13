"""The workflow database stopped in the middle of a load test (a real PostgreSQL server, pg_ctl stop and start):
no /predict request fails, the lost records are counted and one log line says why (without any text), the queue
endpoints answer 503 with a clear message while it is down and work again by themselves when it is back."""

from __future__ import annotations

import logging
import threading
import time

import httpx
import pytest
from testkit.api_server import live_server
from testkit.models import train_small_baseline
from testkit.postgres import running_postgres

from nlp_classifier.workflow.db import Database
from nlp_classifier.workflow.keys import add_api_key

TEXTS = ["you are wonderful", "shut up you stupid idiot", "see you at the meeting", "nobody wants you here"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    path = tmp_path_factory.mktemp("outage") / "models"
    train_small_baseline("davidson", path, tmp_path_factory.mktemp("outage-data"))
    return path


def metric(server, name: str, label: str = "") -> float:
    lines = server.client.get("/metrics").text.splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(name) and label in line)


def wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_predictions_survive_a_database_outage_and_the_queue_recovers(models, caplog):
    caplog.set_level(logging.INFO)
    with running_postgres() as postgres:
        url = postgres.create_database()
        database = Database(url)
        database.upgrade()
        with database.session() as session:
            key, _ = add_api_key(session, "reviewer", "ann")
        database.dispose()
        reviewer = {"X-API-Key": key}
        with live_server(models, database_url=url, record="all", review_band="0.0-1.0") as server:
            statuses: list[int] = []
            stop = threading.Event()

            def load(i: int) -> None:
                with httpx.Client(base_url=server.url, timeout=60) as client:
                    while not stop.is_set():
                        statuses.append(client.post("/predict", json={"text": f"{TEXTS[i % 4]} {i}"}).status_code)

            threads = [threading.Thread(target=load, args=(i,)) for i in range(4)]
            for t in threads:
                t.start()
            try:
                assert wait_for(lambda: metric(server, "nlpc_records_written_total") > 0)
                assert server.client.get("/v1/reviews", headers=reviewer).status_code == 200  # the key is now known

                postgres.stop()
                assert wait_for(lambda: metric(server, "nlpc_records_lost_total", "database_unavailable") > 0)
                down = server.client.get("/v1/reviews", headers=reviewer)
                assert down.status_code == 503
                message = down.json()["error"]["message"]
                assert "workflow database" in message and "is unavailable" in message and "127.0.0.1" in message
                assert server.client.get("/v1/reviews/stats", headers=reviewer).status_code == 503
                served_while_down = len(statuses)
                time.sleep(1.0)
                assert len(statuses) > served_while_down  # predictions go on

                postgres.start()
                assert wait_for(lambda: server.client.get("/v1/reviews", headers=reviewer).status_code == 200)
                written = metric(server, "nlpc_records_written_total")
                assert wait_for(lambda: metric(server, "nlpc_records_written_total") > written)
            finally:
                stop.set()
                for t in threads:
                    t.join()
            assert len(statuses) > 50 and set(statuses) == {200}
    failures = [r for r in caplog.records if "recording predictions failed" in r.getMessage()]
    assert len(failures) == 1 and "unavailable" in failures[0].getMessage()
    assert any("recording predictions works again" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert not any(text in str(vars(record)) for text in TEXTS)
