"""Load benchmark of the HTTP API: requests/s, p50/p99 latency and errors at several concurrency levels, per model.

Starts `nlpc serve` on a free 127.0.0.1 port (or targets --url) and drives it with a small asyncio HTTP/1.1
keep-alive client (one connection per concurrent client; raw sockets so the load generator takes little of the
CPU it shares with the server). Each model gets a seeded sample of 512 texts from its own test split, the texts
`nlpc bench` times it on. Each level is bounded by --requests and --max-seconds. Results go to stdout (or --output)
as JSON, and a Markdown table to stderr.

    python benchmarks/load_test.py --models-dir models --model logistic_regression --concurrency 1 8 32
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def machine_record(load_start: float) -> dict:
    """What a load benchmark ran on: CPUs, platform, Python and the 1-minute load average at start and end."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_1m": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", help="benchmark a running API instead of starting one (must be on 127.0.0.1)")
    p.add_argument("--models-dir", help="models folder for the API this script starts (default: $NLPC_MODELS_DIR)")
    p.add_argument(
        "--model",
        action="append",
        required=True,
        help="model to load (repeat for several); sent as the "
        "request's `model` field so the current model is untouched",
    )
    p.add_argument("--endpoint", default="/predict", choices=["/predict", "/predict/toxicity"])
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    p.add_argument("--requests", type=int, default=3000, help="requests per level (default 3000)")
    p.add_argument("--warmup", type=int, default=200, help="unmeasured requests before each level")
    p.add_argument("--max-seconds", type=float, default=30.0, help="time limit per level")
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra NLPC_* settings for the started API (e.g. NLPC_MAX_WAIT_MS=1)",
    )
    p.add_argument("--output", help="write the JSON here as well as to stdout")
    return p.parse_args(argv)


def sample_texts(model: str, models_dir: str | None, n: int = 512) -> tuple[list[str], str]:
    """A seeded sample of ``n`` texts from the test split of ``model``'s own data (the sample `nlpc bench` times it
    on), and where they came from: a `hate` model is driven with the posts it is meant for, not with tweets."""
    from nlp_classifier.bench.runner import bench_texts
    from nlp_classifier.registry import resolve

    return bench_texts(str(resolve(model, models_dir).path), n)


# --- the API under test ------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "NLPC_PORT": str(port),
        "NLPC_HOST": "127.0.0.1",
        "NLPC_PRELOAD_MODELS": ",".join(args.model),
        "NLPC_MAX_LOADED_MODELS": str(len(args.model) + 3),
    }
    if args.models_dir:
        env["NLPC_MODELS_DIR"] = str(Path(args.models_dir).resolve())
    for item in args.server_env:
        name, _, value = item.partition("=")
        env[name] = value
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"nlpc-load-test-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nlp_classifier", "serve"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the API exited with {proc.returncode}; see {log.name}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the API did not become ready in 180 s")


def batch_stats(url: str, model: str) -> tuple[float, float]:
    """(sum, count) of the model's micro-batch size histogram."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    values = {}
    for kind in ("sum", "count"):
        prefix = f'nlpc_inference_batch_size_{kind}{{model="{model}"}} '
        values[kind] = next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix)), 0.0)
    return values["sum"], values["count"]


# --- the load generator ------------------------------------------------------------------------------------------
def request_bytes(host: str, path: str, body: dict) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def drive(url: str, requests: list[bytes], concurrency: int, total: int, max_seconds: float) -> dict:
    """Send ``total`` requests over ``concurrency`` keep-alive connections (stopping at ``max_seconds``)."""
    parts = urlsplit(url)
    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.perf_counter() + max_seconds

    async def client(worker: int) -> None:
        nonlocal errors, issued
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while issued < total and time.perf_counter() < deadline:
                request = requests[(issued + worker) % len(requests)]
                issued += 1
                start = time.perf_counter()
                try:
                    writer.write(request)
                    status = await read_response(reader)
                except (ConnectionError, asyncio.IncompleteReadError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                    continue
                latencies.append(time.perf_counter() - start)
                if status != 200:
                    errors += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client(w) for w in range(concurrency)))
    seconds = time.perf_counter() - start
    latencies.sort()

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2) if latencies else None

    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(seconds, 2),
        "requests_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    }


def markdown(results: list[dict]) -> str:
    rows = [
        "| model | concurrency | requests/s | p50 ms | p99 ms | errors | requests | mean batch |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows.append(
            f"| {r['model']} | {r['concurrency']} | {r['requests_per_s']} | {r['p50_ms']} | {r['p99_ms']} | "
            f"{r['errors']} | {r['requests']} | {r['mean_batch_size']} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.url and urlsplit(args.url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("--url must point at 127.0.0.1 (this benchmark never loads remote hosts)")
    load_start = round(os.getloadavg()[0], 2)  # other work on the machine skews the numbers: recorded with them
    sys.path.insert(0, str(ROOT / "src"))
    from nlp_classifier.errors import NlpcError

    try:
        samples = {model: sample_texts(model, args.models_dir) for model in args.model}
    except NlpcError as error:  # an unknown model name or an unreadable card: say which, no traceback
        raise SystemExit(f"error: {error}") from None
    proc, url = (None, args.url.rstrip("/")) if args.url else start_server(args)
    host = urlsplit(url).netloc
    results = []
    try:
        for model in args.model:
            texts, texts_from = samples[model]
            words = np.mean([len(t.split()) for t in texts])
            texts_note = f"{len(texts)} texts, {words:.1f} words on average: {texts_from}"
            requests = [request_bytes(host, args.endpoint, {"text": t, "model": model}) for t in texts]
            for concurrency in args.concurrency:
                asyncio.run(drive(url, requests, concurrency, args.warmup, args.max_seconds))
                before = batch_stats(url, model)
                stats = asyncio.run(drive(url, requests, concurrency, args.requests, args.max_seconds))
                after = batch_stats(url, model)
                batches = after[1] - before[1]
                mean_batch = round((after[0] - before[0]) / batches, 2) if batches else None
                results.append(
                    {
                        "model": model,
                        "endpoint": args.endpoint,
                        "concurrency": concurrency,
                        "texts": texts_note,
                        **stats,
                        "mean_batch_size": mean_batch,
                    }
                )
                print(
                    f"{model} c={concurrency}: {stats['requests_per_s']} req/s p50 {stats['p50_ms']} ms "
                    f"p99 {stats['p99_ms']} ms errors {stats['errors']}",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
    report = {
        "benchmark": "api_load",
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": machine_record(load_start),
        "server": {
            "url": "started by this script" if proc else url,
            "settings": dict(item.partition("=")[::2] for item in args.server_env),
        },
        "results": results,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n")
    print(markdown(results), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
