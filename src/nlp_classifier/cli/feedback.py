"""``nlpc feedback export``: the reviewed items of the moderation workflow as a labelled file (``text``, ``label``
and where each decision came from), in the format ``nlpc train ... --extra-data`` reads, written atomically.
Items recorded without their text are skipped and counted (workflow/export.py)."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from ..errors import ConfigError, DataError, ModelNotFoundError
from .common import print_json, stdout
from .db import add_database_url_argument, open_database


def register(sub) -> None:
    p = sub.add_parser(
        "feedback",
        help="reviewed items of the moderation workflow as training data",
        description="Export what reviewers decided in the review queue (docs/workflow.md).",
    )
    add_database_url_argument(p)
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    export = verbs.add_parser(
        "export",
        help="write the reviewed items as a labelled file for nlpc train ... --extra-data",
        description="Write every decided review (text and the reviewer's label; latest decision per item) as a "
        "CSV/TSV/JSONL/Parquet file that nlpc train baseline|transformer --extra-data reads.",
    )
    export.add_argument("--output", required=True, help="file to write: .parquet, .csv, .tsv or .jsonl (.gz allowed)")
    export.add_argument(
        "--since", help="only decisions made at or after this UTC date or time (2026-11-30, 2026-11-30T12:00)"
    )
    export.add_argument("--model", help="only reviews of this model (registry name)")
    export.add_argument("--json", action="store_true", help="print the summary as JSON")
    export.set_defaults(func=run_export)


def parse_since(text: str) -> datetime:
    """An ISO date or date-time; without a zone it is UTC. Anything else is a ``ConfigError`` naming --since."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"--since: expected a date such as 2026-11-30 or 2026-11-30T12:00, got {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def problem_type_in_registry(models_dir: str | None):
    """``name -> problem type`` from the model's card in the registry (None for a model not there any more)."""
    from ..registry import resolve

    def problem_type(name: str) -> str | None:
        try:
            return resolve(name, models_dir).problem_type
        except ModelNotFoundError:
            return None

    return problem_type


def run_export(args: argparse.Namespace) -> int:
    from ..data.readers import table_format, write_table
    from ..fileio import check_writable_file
    from ..workflow.export import check_label_sets, reviewed_items

    table_format(args.output)  # an unsupported suffix or an unwritable path fails before the database is read
    check_writable_file(args.output, "--output")
    since = parse_since(args.since) if args.since else None
    db = open_database(args)
    with db.session() as session:
        exported = reviewed_items(session, since=since, model=args.model)
    labels = check_label_sets(exported.labels_by_model, problem_type_in_registry(args.models_dir))
    rows = len(exported.frame)
    if rows == 0:
        filters = [
            f"decided since {since.isoformat()}" if since else "",
            f"of model {args.model}" if args.model else "",
        ]
        what = " ".join(f for f in filters if f)
        raise DataError(
            f"no reviewed items with text to export{' (' + what + ')' if what else ''}; "
            f"{exported.skipped_without_text} skipped without text; no file written",
            path=args.output,
        )
    write_table(exported.frame, args.output)
    summary = {
        "output": args.output,
        "rows_written": rows,
        "skipped_without_text": exported.skipped_without_text,
        "models": sorted(exported.labels_by_model),
        "labels": labels,
        "label_counts": {str(k): int(v) for k, v in exported.frame["label"].value_counts().sort_index().items()},
    }
    if args.json:
        print_json(summary)
        return 0
    stdout.print(
        f"wrote {rows} reviewed item{'s' if rows != 1 else ''} to {args.output}; "
        f"skipped {exported.skipped_without_text} stored without text",
        highlight=False,
    )
    stdout.print(
        f"models: {', '.join(summary['models'])}; labels: "
        + ", ".join(f"{k} {v}" for k, v in summary["label_counts"].items()),
        highlight=False,
    )
    stdout.print(f"retrain with: nlpc train baseline|transformer ... --extra-data {args.output}", highlight=False)
    return 0
