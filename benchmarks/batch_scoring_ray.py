"""Ray engine against the local engine: ``nlpc predict`` on the same input with ``--engine ray --workers N`` and
without ``--engine``, each run as its own command, timed end to end (start-up, model load, reading, scoring and
writing included), with the peak resident memory of the command and every process it started (for Ray: the
driver, the GCS, the raylet and the workers) sampled every 0.1 s.

    python benchmarks/batch_scoring_ray.py --models-dir /work/main/models --model logistic_regression_hate_char \\
        --rows 100000 --workers 1,2 --repeats 2 --output benchmarks/results/batch_scoring_ray.json

The input (``--rows`` Davidson tweets, repeated, with an id column) is written to a temporary folder. ``run_engines``
is the hook for a wider benchmark: it measures the engines on any input file and returns the same records.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_input(path: Path, rows: int) -> Path:
    """``rows`` Davidson tweets (repeated) with an ``id`` column, as CSV."""
    import pandas as pd

    from nlp_classifier.paths import data_dir

    tweets = [t for t in pd.read_csv(data_dir() / "davidson" / "labeled_data.csv.gz")["tweet"].astype(str) if t.strip()]
    texts = (tweets * (rows // len(tweets) + 1))[:rows]
    pd.DataFrame({"id": [f"r{i:07d}" for i in range(rows)], "text": texts}).to_csv(path, index=False)
    return path


def measure(command: list[str]) -> dict:
    """Run ``command``; its wall time and the peak summed RSS of it and its descendants."""
    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        total = 0
        try:
            members = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            members = []
        for member in members:
            try:
                total += member.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        peak = max(peak, total)
        time.sleep(0.1)
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}:\n{out}\n{err[-3000:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(peak / 2**20, 1), "stdout": out.strip()}


def run_engines(
    input_path: Path, model: str, models_dir: str, workers: list[int], repeats: int, workdir: Path
) -> list[dict]:
    """Each engine ``repeats`` times, interleaved (local, ray 1, ray 2, local, ...) so that a change in the
    machine's load touches every engine alike. One record per run: engine, workers, rows/s, seconds, peak RSS."""
    import pandas as pd

    rows = len(pd.read_csv(input_path, usecols=[0], dtype=str))  # not lines: tweets hold quoted newlines
    base = [sys.executable, "-m", "nlp_classifier", "--models-dir", models_dir, "predict", "--model", model]
    records = []
    for repeat in range(repeats):
        for engine, n in [("local", None)] + [("ray", n) for n in workers]:
            if engine == "local":
                output = workdir / f"local-{repeat}.parquet"
                command = base + ["--input", str(input_path), "--output", str(output)]
            else:
                output = workdir / f"ray-{n}-{repeat}"
                command = base + ["--engine", "ray", "--workers", str(n), "--json"]
                command += ["--input", str(input_path), "--output", str(output)]
            result = measure(command)
            record = {
                "engine": engine,
                "workers": n,
                "repeat": repeat,
                "rows": rows,
                "seconds": result["seconds"],
                "rows_per_s": round(rows / result["seconds"], 1),
                "peak_rss_mb": result["peak_rss_mb"],
            }
            if engine == "ray":
                inner = json.loads(result["stdout"])
                record["ray_startup_seconds"] = inner["startup_seconds"]
                record["parts"] = inner["parts"]
            records.append(record)
            print(json.dumps(record), flush=True)
    return records


def summarise(records: list[dict]) -> dict:
    """Median rows/s and peak RSS per engine, and each Ray setting's throughput as a share of the local engine's."""
    by: dict[str, list[dict]] = {}
    for r in records:
        by.setdefault(r["engine"] if r["engine"] == "local" else f"ray-{r['workers']}", []).append(r)
    summary = {
        key: {
            "rows_per_s_median": round(statistics.median(r["rows_per_s"] for r in runs), 1),
            "seconds_median": round(statistics.median(r["seconds"] for r in runs), 2),
            "peak_rss_mb_max": max(r["peak_rss_mb"] for r in runs),
        }
        for key, runs in by.items()
    }
    local = summary["local"]["rows_per_s_median"]
    for value in summary.values():
        value["share_of_local"] = round(value["rows_per_s_median"] / local, 3)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", required=True)
    parser.add_argument("--model", default="logistic_regression_hate_char")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts for the Ray engine")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--output", type=Path, help="where to write the JSON results")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nlpc-batch-ray-") as tmp:
        workdir = Path(tmp)
        source = make_input(workdir / f"input_{args.rows}.csv", args.rows)
        records = run_engines(
            source, args.model, args.models_dir, [int(n) for n in args.workers.split(",")], args.repeats, workdir
        )
    payload = {
        "command": "python " + " ".join([Path(__file__).relative_to(ROOT).as_posix(), *(argv or sys.argv[1:])]),
        "model": args.model,
        "rows": args.rows,
        "machine": {"cpus": os.cpu_count(), "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "summary": summarise(records),
        "runs": records,
    }
    print(json.dumps(payload["summary"], indent=2))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
