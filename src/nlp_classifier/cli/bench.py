"""``nlpc bench``: measure models and backends side by side (latency, throughput, load time, memory)."""

from __future__ import annotations

import argparse
import shlex
import sys

from ..bench import runner
from .common import print_json, stdout, table

DEFAULT_OUTPUT = "nlpc-bench.json"


def register(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="latency, throughput, load time and memory per model and backend",
        description="Benchmark models, each in its own process: one-text latency (p50/p90/p99 over --single "
        "calls after a warm-up), throughput at --batch-size, load time and resident memory, measured in "
        "interleaved rounds on a sample of each model's test split. Prints a table and writes JSON.",
    )
    p.add_argument(
        "models",
        nargs="*",
        metavar="MODEL[:BACKEND[,BACKEND]]",
        help="models to compare, e.g. logistic_regression linear_svm:fast,sklearn "
        "distilbert:torch,onnx,onnx-int8 (default: every registered model, default backend)",
    )
    p.add_argument("--single", type=int, default=runner.SINGLE_CALLS, help="one-text calls per model (default 300)")
    p.add_argument("--batches", type=int, default=runner.BATCHES, help="batches per model (default 20)")
    p.add_argument("--batch-size", type=int, default=runner.BATCH_SIZE, help="texts per batch (default 64)")
    p.add_argument("--rounds", type=int, default=runner.ROUNDS, help="interleaved rounds (default 5)")
    p.add_argument("--warmup", type=int, default=runner.WARMUP_CALLS, help="untimed one-text calls first (default 20)")
    p.add_argument("--texts", type=int, default=runner.TEXTS, help="test-split texts sampled per task (default 1280)")
    p.add_argument("--threads", type=int, help="CPU threads per model (default: the runtime's own)")
    p.add_argument("--seed", type=int, default=0, help="seed of the text sample")
    p.add_argument("--output", default=DEFAULT_OUTPUT, help=f"JSON results file (default {DEFAULT_OUTPUT})")
    p.add_argument("--json", action="store_true", help="print the JSON instead of the table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..fileio import check_writable_file, write_json
    from ..registry import model_names

    check_writable_file(args.output, "--output")  # before minutes of measuring, not after
    targets = runner.parse_targets(args.models or model_names(args.models_dir))
    results = runner.run_bench(
        targets,
        models_dir=args.models_dir,
        single=args.single,
        batches=args.batches,
        batch_size=args.batch_size,
        rounds=args.rounds,
        warmup=args.warmup,
        n_texts=args.texts,
        threads=args.threads,
        seed=args.seed,
        command="nlpc " + shlex.join(sys.argv[1:]),
    )
    write_json(args.output, results)
    if args.json:
        print_json(results)
        return 0
    stdout.print(results_table(results))
    for task, info in results["texts"].items():
        stdout.print(
            f"texts ({task}): {info['n']} from the {info['source']}; characters p50 {info['chars']['p50']:.0f}"
            f" / p90 {info['chars']['p90']:.0f}, words p50 {info['words']['p50']:.0f} / p90 "
            f"{info['words']['p90']:.0f}"
        )
    load = results["load_average"]
    stdout.print(
        f"machine: {results['machine']['cpus']} CPUs ({results['machine']['cpu_model']}); load average "
        f"{load['start'][0]:.2f} at start, {load['end'][0]:.2f} at end; JSON written to {args.output}"
    )
    return 0


def results_table(results: dict):
    """One row per model and backend."""
    rows = []
    for r in results["results"]:
        single, batch = r["single_ms"], r["batch"]
        tokens = f"{r['tokens']['p50']:.0f}" if r.get("tokens") else "-"
        rows.append(
            [
                r["model"],
                r["backend"],
                r["task"],
                f"{r['load_s']:.2f}",
                f"{r['rss_mb']:.0f}",
                f"{single['p50']:.3f}",
                f"{single['p90']:.3f}",
                f"{single['p99']:.3f}",
                f"{batch['texts_per_s_median']:,.0f}",
                tokens,
            ]
        )
    settings = results["settings"]
    return table(
        f"nlpc bench: {settings['single_calls']} one-text calls, {settings['batches']} batches of "
        f"{settings['batch_size']}, {settings['rounds']} interleaved rounds",
        [
            "model",
            "backend",
            "task",
            "load s",
            "RSS MiB",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            f"batch {settings['batch_size']} texts/s",
            "tokens p50",
        ],
        rows,
    )
