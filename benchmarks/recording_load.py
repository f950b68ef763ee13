"""What recording every prediction costs: /predict throughput at one concurrency with recording off, recording
all predictions to SQLite, and recording all to PostgreSQL, side by side.

Starts one `nlpc serve` per variant (the same model and settings but NLPC_RECORD / NLPC_DATABASE_URL) and drives
them in interleaved rounds (off, sqlite, postgresql, then the next round in a rotated order), so load from other
work on the machine falls on every variant alike; reports the median requests/s of each, its cost against
"off" from the medians, and the median over rounds of each round's cost against that round's "off".
PostgreSQL is a throw-away server started by this script (tests/testkit/postgres.py) unless --postgres-url
names one. Uses the load generator of load_test.py. JSON to stdout (and --output), a Markdown
table to stderr.

    python benchmarks/recording_load.py --models-dir models --model logistic_regression_hate_char \\
        --concurrency 32 --rounds 5 --output benchmarks/results/recording_load.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from load_test import drive, machine_record, request_bytes, sample_texts, start_server

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("off", "sqlite", "postgresql")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models-dir", help="models folder (default: $NLPC_MODELS_DIR)")
    p.add_argument("--model", required=True, help="the model every variant serves")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--requests", type=int, default=3000, help="requests per variant and round (default 3000)")
    p.add_argument("--warmup", type=int, default=300, help="unmeasured requests per variant before the rounds")
    p.add_argument("--max-seconds", type=float, default=30.0, help="time limit of one measurement")
    p.add_argument("--postgres-url", help="an existing PostgreSQL database (default: start a throw-away server)")
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    p.add_argument("--output", help="write the JSON here as well as to stdout")
    return p.parse_args(argv)


def metric(url: str, name: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def server_args(args: argparse.Namespace, env: list[str]) -> argparse.Namespace:
    return argparse.Namespace(models_dir=args.models_dir, model=[args.model], server_env=env)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_start = round(os.getloadavg()[0], 2)
    texts = sample_texts()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nlpc-recording-bench-")))
        database_urls = {"off": None, "sqlite": f"sqlite:///{folder / 'nlpc.db'}", "postgresql": args.postgres_url}
        if "postgresql" in args.variants and not args.postgres_url:
            sys.path.insert(0, str(ROOT / "tests"))
            from testkit.postgres import running_postgres

            database_urls["postgresql"] = stack.enter_context(running_postgres()).create_database("bench")
        servers = {}
        for variant in args.variants:
            env = ["NLPC_MAX_WAIT_MS=1"]
            if variant != "off":
                env += ["NLPC_RECORD=all", f"NLPC_DATABASE_URL={database_urls[variant]}"]
            proc, url = start_server(server_args(args, env))
            stack.callback(proc.wait, 30)
            stack.callback(proc.terminate)
            servers[variant] = url
        requests = {
            v: [request_bytes(urlsplit(u).netloc, "/predict", {"text": t, "model": args.model}) for t in texts]
            for v, u in servers.items()
        }
        for variant, url in servers.items():
            asyncio.run(drive(url, requests[variant], args.concurrency, args.warmup, args.max_seconds))
        rounds: dict[str, list[dict]] = {v: [] for v in servers}
        order = list(servers)
        for r in range(args.rounds):
            for variant in order[r % len(order) :] + order[: r % len(order)]:
                stats = asyncio.run(
                    drive(servers[variant], requests[variant], args.concurrency, args.requests, args.max_seconds)
                )
                rounds[variant].append(stats)
                print(f"round {r + 1} {variant}: {stats['requests_per_s']} req/s", file=sys.stderr, flush=True)
        records = {}
        for variant, url in servers.items():
            if variant != "off":
                records[variant] = {
                    "written": metric(url, "nlpc_records_written_total"),
                    "lost": metric(url, "nlpc_records_lost_total"),
                }
    base = statistics.median(s["requests_per_s"] for s in rounds["off"]) if "off" in rounds else None
    results = []
    for variant, measured in rounds.items():
        median = statistics.median(s["requests_per_s"] for s in measured)
        results.append(
            {
                "variant": variant,
                "median_requests_per_s": round(median, 1),
                "cost_vs_off": round(1 - median / base, 3) if base else None,
                # each round's throughput against "off" in the same round: less sensitive to load that drifts
                "median_round_cost_vs_off": (
                    round(
                        1
                        - statistics.median(
                            s["requests_per_s"] / o["requests_per_s"] for s, o in zip(measured, rounds["off"])
                        ),
                        3,
                    )
                    if "off" in rounds
                    else None
                ),
                "median_p50_ms": statistics.median(s["p50_ms"] for s in measured),
                "median_p99_ms": statistics.median(s["p99_ms"] for s in measured),
                "errors": sum(s["errors"] for s in measured),
                "records": records.get(variant),
                "rounds": measured,
            }
        )
    report = {
        "benchmark": "recording_load",
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": machine_record(load_start),
        "model": args.model,
        "concurrency": args.concurrency,
        "results": results,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n")
    rows = [
        "| recording | requests/s (median) | cost vs off (medians) | cost vs off (median of rounds) | p50 ms | p99 ms "
        "| errors | records written / lost |"
    ]
    rows.append("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        rec = r["records"]
        kept = f"{int(rec['written'])} / {int(rec['lost'])}" if rec else "-"
        rows.append(
            f"| {r['variant']} | {r['median_requests_per_s']} | {r['cost_vs_off']:.1%} | "
            f"{r['median_round_cost_vs_off']:.1%} | {r['median_p50_ms']} | "
            f"{r['median_p99_ms']} | {r['errors']} | {kept} |"
        )
    print("\n".join(rows), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
