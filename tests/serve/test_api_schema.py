"""Schemathesis over the published OpenAPI schema of a live uvicorn on 127.0.0.1: generated valid and invalid
requests to every operation never get a 5xx, and every answer matches the schema (status, content type, body)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from testkit.api_server import API_KEY, copy_models, live_server

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(baseline_models_dir, tmp_path):
    models = copy_models(baseline_models_dir, tmp_path / "models")
    with live_server(models, max_texts_per_request=5) as server:
        command = [
            str(Path(sys.executable).with_name("st")),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            CHECKS,
            "--max-examples",
            "20",
            "--seed",
            "42",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--phases",
            "examples,coverage,fuzzing",
            "--warnings",
            "off",
            "-H",
            f"X-API-Key: {API_KEY}",
            "--report",
            "junit",
            "--report-junit-path",
            str(tmp_path / "junit.xml"),
        ]
        run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-8000:]
    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    tested = {case.get("name") for case in cases}
    assert {
        "POST /predict",
        "POST /predict/toxicity",
        "POST /models/switch",
        "GET /health",
        "GET /models",
        "POST /v1/moderations",
        "POST /v1alpha1/comments:analyze",
        "GET /ready",
        "GET /metrics",
        "GET /",
    } <= tested
