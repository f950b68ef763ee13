"""``nlpc ui``: start the Streamlit web UI, which talks to a running ``nlpc serve`` over HTTP."""

from __future__ import annotations

import argparse
import os
import sys

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_PORT = 8501


def register(sub) -> None:
    p = sub.add_parser(
        "ui",
        help="start the web UI (needs the API: `nlpc serve`)",
        description="Start the Streamlit web UI on http://HOST:PORT. It calls the HTTP API at "
        "--api-url for everything (models, predictions), so start `nlpc serve` first.",
    )
    p.add_argument(
        "--api-url",
        default=os.environ.get("NLPC_API_URL", DEFAULT_API_URL),
        help=f"base URL of the API (default: $NLPC_API_URL or {DEFAULT_API_URL})",
    )
    p.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("NLPC_UI_PORT", DEFAULT_PORT)),
        help=f"port to listen on (default: $NLPC_UI_PORT or {DEFAULT_PORT})",
    )
    p.add_argument(
        "--host",
        default=os.environ.get("NLPC_UI_HOST", "127.0.0.1"),
        help="address to listen on (default: $NLPC_UI_HOST or 127.0.0.1; 0.0.0.0 in a container)",
    )
    p.add_argument(
        "--refresh-seconds",
        type=float,
        default=None,
        help="while the API's model is being trained in the background, how often the sidebar asks how far it has "
        "got and whether the API has switched to it (default: $NLPC_UI_REFRESH_SECONDS or 30)",
    )
    p.set_defaults(func=run)


def streamlit_command(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line for the app, headless, without telemetry or a file watcher."""
    from ..ui import APP_PATH

    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_PATH),
        "--server.headless",
        "true",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--browser.gatherUsageStats",
        "false",
        "--client.showErrorDetails",
        "none",
        "--client.toolbarMode",
        "minimal",
        "--global.developmentMode",
        "false",
    ]


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..ui import REFRESH_ENV, refresh_seconds

    if not args.api_url.startswith(("http://", "https://")):
        raise ConfigError(f"--api-url must start with http:// or https://, got '{args.api_url}'")
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535, got {args.port}")
    env = {**os.environ, "NLPC_API_URL": args.api_url.rstrip("/")}
    given = ("--refresh-seconds", args.refresh_seconds) if args.refresh_seconds is not None else None
    name, value = given or (REFRESH_ENV, os.environ.get(REFRESH_ENV))
    env[REFRESH_ENV] = f"{refresh_seconds(value, name):g}"
    command = streamlit_command(args.host, args.port)
    print(f"web UI on http://{args.host}:{args.port}  (API: {env['NLPC_API_URL']})", flush=True)
    # Replace this process, so signals (Ctrl-C, SIGTERM from a supervisor) reach Streamlit directly.
    os.execve(sys.executable, command, env)
    return 0  # not reached
