"""``nlpc db``: the moderation workflow's database: ``upgrade`` / ``downgrade`` / ``status`` (migrations),
``add-key`` (an API key with a role, printed once), ``list-keys``, ``remove-key NAME`` (the key stops working),
``purge --older-than 30d`` and ``forget EXTERNAL_ID``.
The database is ``--database-url``, else ``$NLPC_DATABASE_URL`` (or the settings file), else the SQLite file
nlpc.db in the data folder."""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timedelta, timezone

from ..errors import ConfigError
from .common import print_json, stdout, table

DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def cutoff_before_now(text: str) -> datetime:
    """The moment ``30d``, ``12h`` or ``90m`` ago; anything else, or an age reaching back before the year 1, is a
    ``ConfigError``."""
    match = DURATION.match(text)
    if not match:
        raise ConfigError(f"--older-than: expected a number and a unit (d, h or m) such as 30d, got {text!r}")
    try:
        return datetime.now(timezone.utc) - timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        raise ConfigError(f"--older-than {text} reaches back before the year 1") from None


def open_database(args: argparse.Namespace):
    from ..serve.settings import load_settings
    from ..workflow.db import Database

    setting = "--database-url" if args.database_url else "NLPC_DATABASE_URL"
    return Database(load_settings(database_url=args.database_url).database_url, setting)


def add_database_url_argument(parser) -> None:
    """--database-url, read by ``open_database``: the commands that work on the workflow database share it."""
    parser.add_argument("--database-url", help="database URL (default: $NLPC_DATABASE_URL, else data/nlpc.db)")


def register(sub) -> None:
    p = sub.add_parser(
        "db",
        help="the moderation workflow's database: migrations, API keys (add, list, remove), purge, forget",
        description="Manage the database that records predictions, reviews, feedback and API keys (docs/workflow.md).",
    )
    add_database_url_argument(p)
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)

    up = verbs.add_parser("upgrade", help="apply the migrations (default: up to the newest)")
    up.add_argument("revision", nargs="?", default="head", help="revision to reach (default: head)")
    up.set_defaults(func=run_upgrade)

    down = verbs.add_parser("downgrade", help="revert migrations down to REVISION ('base': no tables)")
    down.add_argument("revision", help="revision to go back to, or 'base'")
    down.set_defaults(func=run_downgrade)

    status = verbs.add_parser("status", help="the database, its revision and the newest one shipped")
    status.add_argument("--json", action="store_true", help="print it as JSON")
    status.set_defaults(func=run_status)

    key = verbs.add_parser("add-key", help="create an API key with a role; the key is printed once")
    key.add_argument("--role", required=True, choices=["client", "reviewer", "admin"])
    key.add_argument("--name", required=True, help="who or what uses the key (unique)")
    key.set_defaults(func=run_add_key)

    keys = verbs.add_parser("list-keys", help="every API key's name, role and creation time (never the key)")
    keys.add_argument("--json", action="store_true", help="print them as JSON")
    keys.set_defaults(func=run_list_keys)

    remove = verbs.add_parser(
        "remove-key", help="delete an API key by name: it stops working (within the API's key cache time)"
    )
    remove.add_argument("name", help="the key's name, as given to add-key")
    remove.set_defaults(func=run_remove_key)

    purge = verbs.add_parser("purge", help="delete items, predictions, reviews and feedback older than a duration")
    purge.add_argument("--older-than", required=True, help="age such as 30d, 12h or 90m")
    purge.add_argument("--json", action="store_true", help="print the counts as JSON")
    purge.set_defaults(func=run_purge)

    forget = verbs.add_parser("forget", help="delete everything recorded about one external id")
    forget.add_argument("external_id")
    forget.add_argument("--channel", help="only in this channel (default: every channel)")
    forget.add_argument("--json", action="store_true", help="print the counts as JSON")
    forget.set_defaults(func=run_forget)


def run_upgrade(args: argparse.Namespace) -> int:
    db = open_database(args)
    db.upgrade(args.revision)
    stdout.print(f"{db.describe()} is at revision {db.current_revision()}")
    return 0


def run_downgrade(args: argparse.Namespace) -> int:
    db = open_database(args)
    db.downgrade(args.revision)
    stdout.print(f"{db.describe()} is at revision {db.current_revision() or 'base (no tables)'}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    db = open_database(args)
    current, head = db.current_revision(), db.head_revision()
    info = {"database": db.describe(), "current": current, "head": head, "up_to_date": current == head}
    if args.json:
        print_json(info)
        return 0
    rows = [
        [rev, "applied" if _applied(db, rev, current) else "pending", doc.splitlines()[0] if doc else ""]
        for rev, _, doc in db.revisions()
    ]
    stdout.print(f"database: {info['database']}\ncurrent revision: {current or 'none'}; newest: {head}")
    stdout.print(table("migrations", ["revision", "state", "what"], rows))
    return 0


def _applied(db, revision: str, current: str | None) -> bool:
    order = [rev for rev, _, _ in db.revisions()]
    return current is not None and order.index(revision) <= order.index(current)


def run_add_key(args: argparse.Namespace) -> int:
    from ..workflow.keys import add_api_key

    db = open_database(args)
    with db.session() as session:
        key, _ = add_api_key(session, args.role, args.name, actor="cli")
    stdout.print(f"API key for {args.name} ({args.role}); it is shown only now:", highlight=False)
    print(key)
    return 0


def run_list_keys(args: argparse.Namespace) -> int:
    from ..workflow.keys import list_api_keys

    db = open_database(args)
    with db.session() as session:
        rows = [(k.name, k.role, k.created_at.replace(microsecond=0)) for k in list_api_keys(session)]
    if args.json:
        print_json([{"name": name, "role": role, "created_at": at.isoformat()} for name, role, at in rows])
    elif rows:
        lines = [[name, role, f"{at:%Y-%m-%d %H:%M:%S}"] for name, role, at in rows]
        stdout.print(table(f"API keys in {db.describe()}", ["name", "role", "created (UTC)"], lines))
    else:
        stdout.print(f"no API keys in {db.describe()} (make one with `nlpc db add-key`)", highlight=False)
    return 0


def run_remove_key(args: argparse.Namespace) -> int:
    from ..workflow.keys import remove_api_key

    db = open_database(args)
    with db.session() as session:
        remove_api_key(session, args.name, actor="cli")
    stdout.print(
        f"removed the API key {args.name!r}: a running API refuses it once its cache of keys forgets it "
        "(NLPC_KEY_CACHE_SECONDS, 30 s by default)",
        highlight=False,
    )
    return 0


def run_purge(args: argparse.Namespace) -> int:
    from ..workflow.retention import purge_older_than

    cutoff = cutoff_before_now(args.older_than)
    db = open_database(args)
    with db.session() as session:
        counts = purge_older_than(session, cutoff, actor="cli")
    return _print_counts(args, f"purged what was recorded before {cutoff:%Y-%m-%d %H:%M} UTC", counts)


def run_forget(args: argparse.Namespace) -> int:
    from ..workflow.records import EXTERNAL_ID_MAX_CHARS
    from ..workflow.retention import forget_external_id

    # a blank or over-long id can match nothing the API recorded: most likely an unset variable in a script, which
    # "forgot 0 items" would hide
    if not args.external_id.strip():
        raise ConfigError("the external id to forget is blank; the API records no blank external id")
    if len(args.external_id) > EXTERNAL_ID_MAX_CHARS:
        raise ConfigError(
            f"the external id to forget has {len(args.external_id)} characters; the API records at most "
            f"{EXTERNAL_ID_MAX_CHARS}"
        )
    db = open_database(args)
    with db.session() as session:
        counts = forget_external_id(session, args.external_id, "cli", channel=args.channel)
    return _print_counts(args, "forgot the external id", counts)


def _print_counts(args: argparse.Namespace, what: str, counts: dict[str, int]) -> int:
    if args.json:
        print_json(counts)
    else:
        stdout.print(f"{what}: " + ", ".join(f"{n} {name}" for name, n in counts.items()), highlight=False)
    return 0
