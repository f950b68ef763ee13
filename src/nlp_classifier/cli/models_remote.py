"""``nlpc models bump | push | pull``: move a model's version, publish the model set to object storage, fetch it."""

from __future__ import annotations

import argparse

from ..sizes import format_bytes
from .common import print_json, split_list, stdout, table


def register(verbs) -> None:
    bump = verbs.add_parser(
        "bump",
        help="give a model its next version (card and MODEL_VERSION.json)",
        description="Bump a model's semantic version in its card and in MODEL_VERSION.json "
        "(the set's version moves by the same part); the previous version is kept in the card.",
    )
    bump.add_argument("name")
    bump.add_argument("part", choices=["major", "minor", "patch"])
    bump.set_defaults(func=run_bump)

    url_help = (
        "gs://bucket/prefix, file:///path or any fsspec URL (default: $NLPC_MODELS_URL or "
        "gs://nlp-classifier-models; a bare bucket gets the prefix <$NLPC_MODELS_PREFIX or USER-MODELS>/"
        "<set version>)"
    )
    push = verbs.add_parser(
        "push",
        help="publish models to object storage (checkpoints skipped)",
        description="Upload the models and a manifest of their sha256 hashes. Files already "
        "there with the same hash are skipped; the manifest is written last, so readers never "
        "see a half-published set.",
    )
    push.add_argument("url", nargs="?", help=url_help)
    push.add_argument(
        "--models",
        help="comma-separated model names (default: all but training previews, which are pushed only when named)",
    )
    push.add_argument("--with-checkpoints", action="store_true", help="also upload checkpoint-* folders")
    push.add_argument("--json", action="store_true", help="print what was done as JSON")
    push.set_defaults(func=run_push)

    pull = verbs.add_parser(
        "pull",
        help="fetch a published model set, verified",
        description="Download a published set into a hidden staging folder, check every "
        "sha256, then move each model into the models folder. A failed or interrupted pull "
        "changes nothing. A bare bucket URL pulls the newest set under your prefix.",
    )
    pull.add_argument("url", nargs="?", help=url_help.replace("<set version>", "<newest set version>"))
    pull.add_argument("--models", help="comma-separated model names (default: all in the set)")
    pull.add_argument("--with-checkpoints", action="store_true", help="also download checkpoint-* folders")
    pull.add_argument(
        "--missing-only",
        action="store_true",
        help="fetch only the models the models folder does not have; keep the local ones whatever their version",
    )
    pull.add_argument("--json", action="store_true", help="print what was done as JSON")
    pull.set_defaults(func=run_pull)


def run_bump(args: argparse.Namespace) -> int:
    from ..registry import bump_model

    card = bump_model(args.name, args.part, args.models_dir)
    stdout.print(f"{card.name}: {card.previous_version} -> {card.version}", highlight=False)
    return 0


def run_push(args: argparse.Namespace) -> int:
    from ..storage import push

    result = push(args.url, args.models_dir, split_list(args.models), args.with_checkpoints)
    return _report(
        args.json,
        result,
        f"model set {result.set_version}",
        ["model", "version"],
        sorted(result.models.items()),
        f"{result.url}: uploaded {len(result.uploaded)} files ({format_bytes(result.bytes_uploaded)}), "
        f"{len(result.skipped)} already there; "
        + ("manifest published" if result.manifest_written else "manifest unchanged")
        + "".join(
            f"\nleft out {name}: a training preview (name it with --models to push it)" for name in result.left_out
        ),
    )


def run_pull(args: argparse.Namespace) -> int:
    from ..storage import pull

    result = pull(args.url, args.models_dir, split_list(args.models), args.with_checkpoints, args.missing_only)
    return _report(
        args.json,
        result,
        f"model set {result.set_version} from {result.url}",
        ["model", "version", "status"],
        [[n, m["version"], m["status"]] for n, m in sorted(result.models.items())],
        f"downloaded {len(result.downloaded)} files ({format_bytes(result.bytes_downloaded)}), "
        f"{len(result.reused)} reused from local copies; every file verified",
    )


def _report(as_json: bool, result, title: str, columns: list[str], rows: list, summary: str) -> int:
    """A push or pull result: its JSON, or a table of the models and a one-line summary."""
    if as_json:
        print_json(result.to_dict())
    else:
        stdout.print(table(title, columns, rows))
        stdout.print(summary, highlight=False)
    return 0
