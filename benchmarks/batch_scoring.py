"""Batch scoring benchmark: rows/s and peak resident memory of `nlpc predict --input` per engine and input size.

Generates CSV inputs (id, text) of each --rows size by repeating the texts `nlpc bench` samples for the model (its
task's test split) in a temporary folder, runs `nlpc predict --input ... --output ...` for each engine in a child
process, and measures its time and peak RSS (the process's own peak from the kernel, and the sampled peak of its
whole process tree, which is what counts for engines with worker processes). It also runs `nlpc bench` on the same
model at the same batch size, for the "streaming at least 80% of nlpc bench's batch throughput" target. Prints a
table and writes JSON.

    python benchmarks/batch_scoring.py --models-dir models --rows 100000 1000000 --output results.json
    python benchmarks/batch_scoring.py --models-dir models --model minilm_hate --rows 100000

    python benchmarks/batch_scoring.py --models-dir models --engines local,ray --workers 1 2 --rows 100000 \
        --repeats 2 --no-bench

Engines: `local` is the streaming engine, `ray` the Ray engine (`--engine ray --workers N`, a local Ray started by
each run, so its start-up counts). Another engine plugs in through ENGINES below: a function from the run's
settings to the extra `nlpc predict` arguments, one result per setting. Medians over the rounds (`--repeats`) are
reported per engine and input size; "of local" compares wall-clock throughput, start-up included.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "logistic_regression_hate_char"
MB = 1024 * 1024


@dataclass(frozen=True)
class EngineRun:
    """One engine setting: its name in the results and the extra `nlpc predict` arguments."""

    engine: str
    label: str
    args: tuple[str, ...]
    workers: int | None = None


def local_runs(args: argparse.Namespace) -> list[EngineRun]:
    return [EngineRun("local", "local", ())]


def ray_runs(args: argparse.Namespace) -> list[EngineRun]:
    """The Ray engine (`nlpc predict --engine ray --workers N`), once per --workers value."""
    return [EngineRun("ray", f"ray x{w}", ("--engine", "ray", "--workers", str(w)), w) for w in args.workers]


# Where an engine plugs in: its name in --engines -> the settings to run it with.
ENGINES: dict[str, Callable[[argparse.Namespace], list[EngineRun]]] = {"local": local_runs, "ray": ray_runs}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models-dir", help="models folder (default: $NLPC_MODELS_DIR)")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"model to score with (default {DEFAULT_MODEL})")
    p.add_argument("--backend", help="backend of the model, e.g. onnx-int8 (default: the model's)")
    p.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000], help="input sizes")
    p.add_argument("--engines", default="local", help=f"comma-separated, of: {', '.join(ENGINES)} (default local)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="workers for engines that take them")
    p.add_argument("--chunk-rows", type=int, help="rows per chunk of the local engine (default: its own)")
    p.add_argument("--batch-size", type=int, default=256, help="texts per model call, here and in nlpc bench")
    p.add_argument("--output-format", default="parquet", choices=["parquet", "csv", "jsonl"])
    p.add_argument(
        "--repeats", type=int, default=1, help="rounds; each round runs every engine once, interleaved (default 1)"
    )
    p.add_argument("--no-bench", action="store_true", help="skip the nlpc bench reference")
    p.add_argument("--workdir", help="folder for the generated inputs and outputs (default: a temporary one)")
    p.add_argument("--output", help="write the JSON results here")
    args = p.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in args.engines if e not in ENGINES]
    if unknown:
        p.error(f"unknown engine(s) {', '.join(unknown)}; known: {', '.join(ENGINES)}")
    return args


def child_env(args: argparse.Namespace) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    if args.models_dir:
        env["NLPC_MODELS_DIR"] = str(Path(args.models_dir).resolve())
    return env


def sample_texts(args: argparse.Namespace) -> tuple[list[str], str]:
    """The texts `nlpc bench` samples for the model (all of its task's test split), and where they came from."""
    sys.path.insert(0, str(ROOT / "src"))
    if args.models_dir:
        os.environ["NLPC_MODELS_DIR"] = str(Path(args.models_dir).resolve())
    from nlp_classifier.bench.runner import bench_texts
    from nlp_classifier.registry import resolve

    card = resolve(args.model)
    texts, note = bench_texts(str(card.path), n=10**9)
    return [t for t in texts if t.strip()], note


def write_input(path: Path, texts: list[str], rows: int) -> None:
    """``rows`` rows (id, text), the texts repeated in order."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i in range(rows):
            writer.writerow([i, texts[i % len(texts)]])


class TreeSampler:
    """Samples the summed RSS of a process and its descendants every ``interval`` seconds; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            total = 0
            try:
                for proc in [root, *root.children(recursive=True)]:
                    try:
                        total += proc.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                break
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_predict(args: argparse.Namespace, run: EngineRun, source: Path, output: Path) -> dict:
    """One `nlpc predict` in a child process: wall time, the engine's own time, peak RSS."""
    command = [sys.executable, "-m", "nlp_classifier", "predict", "--model", args.model, "--input", str(source)]
    command += ["--output", str(output), "--id-column", "id", "--batch-size", str(args.batch_size), *run.args]
    if args.backend:
        command += ["--backend", args.backend]
    if args.chunk_rows and run.engine == "local":
        command += ["--chunk-rows", str(args.chunk_rows)]
    log = tempfile.TemporaryFile(mode="w+")
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=child_env(args), stdout=subprocess.PIPE, stderr=log, text=True)
    sampler = TreeSampler(proc.pid)
    assert proc.stdout is not None
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    tree_peak = sampler.stop()
    log.seek(0)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}:\n{stdout}\n{log.read()[-3000:]}")
    match = re.search(r"scored ([\d,]+) rows.*?([\d.]+) s\)", stdout)
    rows = int(match.group(1).replace(",", "")) if match else None
    engine_s = float(match.group(2)) if match else None
    return {
        "command": " ".join(command[1:]),
        "rows_scored": rows,
        "wall_s": round(wall, 2),
        "engine_s": engine_s,
        "rows_per_s": round(rows / engine_s, 1) if rows and engine_s else None,
        "rows_per_s_wall": round(rows / wall, 1) if rows else None,
        "peak_rss_mb": round(usage.ru_maxrss * 1024 / MB, 1),  # ru_maxrss is in KiB on Linux
        "peak_tree_rss_mb": round(tree_peak / MB, 1),
        "output_mb": round(output.stat().st_size / MB, 1) if output.is_file() else None,
    }


def run_bench(args: argparse.Namespace, workdir: Path) -> dict:
    """`nlpc bench`'s batch throughput for the model at --batch-size."""
    out = workdir / "nlpc-bench.json"
    target = args.model + (f":{args.backend}" if args.backend else "")
    command = [sys.executable, "-m", "nlp_classifier", "bench", target, "--batch-size", str(args.batch_size)]
    command += ["--output", str(out), "--json"]
    subprocess.run(command, cwd=ROOT, env=child_env(args), check=True, capture_output=True, text=True)
    result = json.loads(out.read_text())["results"][0]
    return {
        "command": " ".join(command[1:]),
        "batch_size": args.batch_size,
        "texts_per_s_median": result["batch"]["texts_per_s_median"],
        "rss_mb": result["rss_mb"],
    }


def print_table(results: dict) -> None:
    rows = [["engine", "rows", "runs", "rows/s", "rows/s (wall)", "peak RSS MiB", "peak tree RSS MiB", "of local"]]
    for r in results.get("medians", []):
        rows.append(
            [
                r["engine"],
                f"{r['rows']:,}",
                str(r["runs"]),
                f"{r['rows_per_s']:,.0f}" if r["rows_per_s"] else "-",
                f"{r['rows_per_s_wall']:,.0f}",
                f"{r['peak_rss_mb']:,.0f}",
                f"{r['peak_tree_rss_mb']:,.0f}",
                f"{r['share_of_local_wall']:.2f}" if "share_of_local_wall" in r else "-",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print(f"\n{results['model']}: nlpc predict --input (CSV of {results['texts']['n']:,} test-split texts repeated)")
    print("\n".join(lines))
    bench = results.get("bench")
    if bench:
        print(f"nlpc bench batch {bench['batch_size']}: {bench['texts_per_s_median']:,.0f} texts/s")
    for name, value in results.get("targets", {}).items():
        print(f"{name}: {value}")


def medians(runs: list[dict]) -> list[dict]:
    """Per engine and input size: median rows/s (engine time and wall time), the largest peak RSS, and the wall
    throughput as a share of the local engine's at the same size."""
    groups: dict[tuple[str, int], list[dict]] = {}
    for r in runs:
        groups.setdefault((r["engine"], r["rows"]), []).append(r)
    out = []
    for (engine, rows), group in groups.items():
        engine_rates = [r["rows_per_s"] for r in group if r["rows_per_s"]]
        out.append(
            {
                "engine": engine,
                "rows": rows,
                "runs": len(group),
                "rows_per_s": round(statistics.median(engine_rates), 1) if engine_rates else None,
                "rows_per_s_wall": round(statistics.median(r["rows_per_s_wall"] for r in group), 1),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in group),
                "peak_tree_rss_mb": max(r["peak_tree_rss_mb"] for r in group),
            }
        )
    local = {m["rows"]: m["rows_per_s_wall"] for m in out if m["engine"] == "local"}
    for m in out:
        if m["rows"] in local:
            m["share_of_local_wall"] = round(m["rows_per_s_wall"] / local[m["rows"]], 3)
    return out


def targets(results: dict) -> dict:
    local = [r for r in results.get("medians", []) if r["engine"] == "local"]
    out: dict = {}
    if len(local) >= 2:
        small, big = min(local, key=lambda r: r["rows"]), max(local, key=lambda r: r["rows"])
        growth = big["peak_rss_mb"] - small["peak_rss_mb"]
        out["local peak RSS growth, smallest to largest input (MiB; target <= 150)"] = round(growth, 1)
    bench = results.get("bench")
    if bench:
        for r in local:
            out[f"local streaming / nlpc bench batch throughput at {r['rows']:,} rows (target >= 0.80)"] = round(
                (r["rows_per_s"] or 0) / bench["texts_per_s_median"], 3
            )
    for r in results.get("medians", []):
        if r["engine"] == "ray x2" and r.get("share_of_local_wall") is not None:
            out[f"ray x2 / local wall throughput at {r['rows']:,} rows (target >= 0.75)"] = r["share_of_local_wall"]
    return out


RAY_SYSTEM_PROCESSES = ("gcs_server", "raylet")


def wait_for_ray_to_exit(timeout: float = 60.0) -> float:
    """Wait until no local Ray system process is left from an earlier run (a Ray run's GCS and raylet can outlive
    its driver by seconds, taking CPU from the next run); returns the seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        names = (proc.info["name"] or "" for proc in psutil.process_iter(["name"]))
        if not any(name.startswith(RAY_SYSTEM_PROCESSES) for name in names):
            break
        time.sleep(0.5)
    return round(time.perf_counter() - start, 2)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nlpc-batch-bench-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        texts, note = sample_texts(args)
        results: dict = {
            "model": args.model,
            "backend": args.backend,
            "texts": {"n": len(texts), "source": note},
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "load_average_start": os.getloadavg(),
            },
            "runs": [],
        }
        if not args.no_bench:
            print("nlpc bench ...", file=sys.stderr, flush=True)
            results["bench"] = run_bench(args, workdir)
            save(args, results)
        for rows in sorted(args.rows):
            source = workdir / f"input-{rows}.csv"
            if not source.exists():
                write_input(source, texts, rows)
            # Rounds outside, engines inside: a change in the machine's load touches every engine alike.
            for repeat in range(args.repeats):
                for name in args.engines:
                    for run in ENGINES[name](args):
                        output = workdir / f"scored-{run.label.replace(' ', '')}-{rows}.{args.output_format}"
                        print(f"{run.label}: {rows:,} rows, round {repeat + 1} ...", file=sys.stderr, flush=True)
                        waited = wait_for_ray_to_exit()
                        measured = run_predict(args, run, source, output)
                        results["runs"].append(
                            {
                                "engine": run.label,
                                "workers": run.workers,
                                "rows": rows,
                                "round": repeat,
                                "waited_for_ray_exit_s": waited,
                                **measured,
                            }
                        )
                        if output.is_dir():  # the Ray engine writes a folder of parts
                            shutil.rmtree(output)
                        else:
                            output.unlink(missing_ok=True)
                        save(args, results)  # what is measured so far survives an interrupted benchmark
        results["medians"] = medians(results["runs"])
        results["machine"]["load_average_end"] = os.getloadavg()
        results["targets"] = targets(results)
    print_table(results)
    save(args, results)
    return 0


def save(args: argparse.Namespace, results: dict) -> None:
    if args.output:
        Path(args.output).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
