"""``nlpc run``: the main job of `make run`. Gets the default models if missing (pulled from a published model set
when one is named, else trained), serves the API on localhost
and, where the web UI is installed, starts it beside the API; Ctrl-C stops both."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path

UI_PORT = 8501


def register(sub) -> None:
    from .prepare import add_pull_option
    from .serve import add_server_arguments

    p = sub.add_parser(
        "run",
        help="prepare the default models, then serve the API and the web UI",
        description="Get the default models if missing (pulled from a published model set with --pull, else the "
        "TF-IDF baselines trained), then serve the HTTP API and the web UI until Ctrl-C.",
    )
    add_server_arguments(p)
    add_pull_option(p)
    p.add_argument(
        "--ui-port",
        type=int,
        default=int(os.environ.get("NLPC_UI_PORT", UI_PORT)),
        help=f"web UI port (default: $NLPC_UI_PORT or {UI_PORT})",
    )
    p.add_argument("--no-ui", action="store_true", help="serve the API only")
    p.add_argument(
        "--train-in-background",
        metavar="COMMAND",
        help="when the fine-tuned default (minilm_hate) is missing, run this shell command at low priority while "
        "serving (`make run` passes `make minilm`), then switch the API to the model it trains",
    )
    p.add_argument(
        "--finish-in-background",
        metavar="COMMAND",
        help="when such a background training saved minilm_hate but was stopped before its command ended (in "
        "`make minilm`: during the int8 export or the calibration), run this shell command the same way (`make run` "
        "passes `make minilm-finish`), then switch the API to the finished model",
    )
    p.set_defaults(func=run)


def start_ui(api_url: str, port: int, api_key: str) -> subprocess.Popen:
    """``python -m nlp_classifier ui`` in a child process, given the API's URL and key."""
    env = {**os.environ, "NLPC_API_URL": api_url, "NLPC_API_KEY": api_key}
    return subprocess.Popen(
        [sys.executable, "-m", "nlp_classifier", "ui", "--api-url", api_url, "--port", str(port)], env=env
    )


def report_early_exit(process: subprocess.Popen, stopping: threading.Event) -> None:
    """Say so (from a watcher thread) if the UI dies while the API keeps running, e.g. its port is taken."""
    from .common import stdout

    def watch() -> None:
        code = process.wait()
        if not stopping.is_set():
            stdout.print(f"[yellow]the web UI exited (status {code}); the API keeps running[/yellow]")

    threading.Thread(target=watch, name="nlpc-ui-watch", daemon=True).start()


def exit_on_signal(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)


def check_ports_free(settings, args: argparse.Namespace) -> None:
    """Refuse a taken API or UI port before the default models are prepared (minutes on a fresh machine), not after:
    bind each one and let it go again (without listening: nothing can connect to it meanwhile)."""
    from .serve import bind

    bind(settings.host, settings.port).close()
    if not args.no_ui:  # where `nlpc ui` will listen
        bind(os.environ.get("NLPC_UI_HOST", "127.0.0.1"), args.ui_port, "--ui-port").close()


def run(args: argparse.Namespace) -> int:
    from ..defaults import PREFERRED_MODELS, fallback_notice, preview_notice
    from ..serve.settings import load_settings
    from ..training.background_status import FINISH, left_unfinished, read_status
    from .background_training import preview_poll_seconds
    from .common import stdout, stop_process
    from .prepare import prepare_models
    from .serve import start_api

    if args.train_in_background:
        preview_poll_seconds()  # a bad $NLPC_PREVIEW_POLL_SECONDS stops here, before anything is started
    settings = load_settings(host=args.host, port=args.port, models_dir=args.models_dir)
    check_ports_free(settings, args)
    for line in prepare_models(args.models_dir, pull_from=args.pull).lines():
        stdout.print(line, highlight=False)
    if not settings.api_keys:  # switching models needs a key: make one for this session
        settings.api_keys = [secrets.token_urlsafe(18)]
    api = start_api(settings)
    stopping = threading.Event()
    ui = start_ui(api.url, args.ui_port, settings.api_keys[0]) if not args.no_ui else None
    if ui is not None:
        report_early_exit(ui, stopping)
    stdout.print(f"API     {api.url}   (docs {api.url}/docs)")
    if ui is not None:
        stdout.print(f"web UI  http://127.0.0.1:{args.ui_port}")
    stdout.print(f"models  current: {api.manager.current_name}; toxicity: {api.manager.toxicity_name}")
    cards = {card.name: card for card in api.manager.cards()}
    names = list(cards)
    training, transformer = None, PREFERRED_MODELS[0]
    if args.train_in_background and transformer not in names:
        training = train_in_background(args.train_in_background, transformer, api, settings, stopping)
    elif args.finish_in_background and left_unfinished(read_status(Path(settings.models_dir)), cards.get(transformer)):
        training = train_in_background(args.finish_in_background, transformer, api, settings, stopping, FINISH)
    served, status = api.manager.current_name, read_status(Path(settings.models_dir))
    notice = fallback_notice(served, names, status) or preview_notice(served, status)
    if notice:
        stdout.print(f"[yellow]note    {notice}[/yellow]")
    stdout.print(f"API key {settings.api_keys[0]}   (X-API-Key header; needed for /models/switch)")
    stdout.print("Ctrl-C stops everything.")
    # `kill` (SIGTERM) and a closed terminal (SIGHUP) stop everything too, the UI and the background training
    # included. uvicorn shuts down gracefully on SIGTERM and then re-raises it, which reaches this handler: the
    # cleanup below runs instead of the process dying on the spot.
    signal.signal(signal.SIGTERM, exit_on_signal)
    signal.signal(signal.SIGHUP, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
    try:
        api.run()
    finally:
        stopping.set()
        if training is not None:
            training.stop()
        if ui is not None:
            stop_process(ui)
    return 0


def train_in_background(command: str, model: str, api, settings, stopping: threading.Event, purpose: str | None = None):
    """Start ``command`` (``BackgroundTraining``), say so, and switch the API to ``model`` when it succeeds; while a
    training runs, switch to each preview it publishes (``PreviewFollower``). When another process is training
    already, wait for it instead and switch when its model is there. ``purpose``: ``FINISH`` when ``command``
    finishes a model a stopped run saved, else training it."""
    from ..registry import list_cards
    from ..training.background_status import FINISH, TRAIN
    from .background_training import AlreadyTraining, BackgroundTraining, PreviewFollower, switch_when_unchanged
    from .common import stdout

    training = BackgroundTraining(command, Path(settings.models_dir), model, purpose or TRAIN)
    follower = PreviewFollower(
        api.url, settings.api_keys[0], Path(settings.models_dir), model, api.manager.current_name
    )

    def switch() -> str:
        follower.stop()
        with follower.lock:
            if settings.default_model:  # chosen on purpose (--default-model, NLPC_DEFAULT_MODEL): keep it
                return f"{model} is ready; the API stays on {follower.served}, the default_model setting"
            return switch_when_unchanged(api.url, settings.api_keys[0], follower.served, model)

    def finished(status: int) -> None:
        follower.stop()
        if status != 0:
            stdout.print(f"[yellow]training of {model} stopped with status {status}; see {training.log}[/yellow]")
        elif not stopping.is_set():
            stdout.print(training.record(switch()))

    def other_finished() -> None:
        follower.stop()
        if any(card.name == model for card in list_cards(settings.models_dir)):
            stdout.print(training.record_other_success(switch()))
        else:
            stdout.print(f"[yellow]the other training of {model} ended without it; see {training.log}[/yellow]")

    def follow_previews() -> None:
        if purpose != FINISH and not settings.default_model:
            follower.start(lambda message: stdout.print(training.record(message)))

    try:
        training.start(finished)
    except AlreadyTraining:
        training.wait_for_other(other_finished)
        follow_previews()
        stdout.print(
            f"{model} is being trained by another process (log {training.log}); serving without it, "
            "and switching to it when that training has saved it"
        )
        return training
    follow_previews()
    if purpose == FINISH:
        stdout.print(
            f"{model} was saved, but a stopped run did not finish it (the int8 export and the calibration): finishing "
            f"it in the background at low priority: `{command}` (log {training.log}); the API serves it as saved "
            "until then"
        )
    else:
        stdout.print(
            f"training {model} in the background at low priority: `{command}` (log {training.log}); "
            "the API switches to it when it is ready, and before that to each checkpoint the training publishes "
            "as a preview (--preview)"
        )
    return training
