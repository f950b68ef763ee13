"""``nlpc serve``: the HTTP API under uvicorn. Models load before the first request is served, so a missing or
broken model is a one-line error naming the file, not a failure at the first request; a taken port is refused
before they load."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from typing import Any, NamedTuple


def register(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the HTTP API (seed, OpenAI- and Perspective-compatible endpoints)",
        description="Serve the HTTP API. Every setting can also come from NLPC_* environment "
        "variables or a settings file (see docs/api.md).",
    )
    add_server_arguments(p)
    p.add_argument(
        "--default-model",
        help="model /predict uses (default: $NLPC_DEFAULT_MODEL, else minilm_hate, "
        "else logistic_regression_hate_char, else the best binary Davidson model)",
    )
    p.add_argument("--toxicity-model", help="multi-label model for /predict/toxicity, OpenAI and Perspective")
    p.add_argument(
        "--settings", dest="settings_file", help="YAML, JSON or .env settings file (default: $NLPC_SETTINGS_FILE)"
    )
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=run)


def add_server_arguments(p: argparse.ArgumentParser) -> None:
    """--host and --port (default: $NLPC_HOST / $NLPC_PORT, else 127.0.0.1:8000)."""
    p.add_argument("--host", help="address to listen on (default: $NLPC_HOST or 127.0.0.1; 0.0.0.0 in a container)")
    p.add_argument("--port", type=int, help="port (default: $NLPC_PORT or 8000)")


def listen(host: str, port: int, flag: str = "--port") -> socket.socket:
    """A listening socket, or a ``ConfigError`` saying why the address cannot be used (and that ``flag`` changes
    the port)."""
    sock = bind(host, port, flag)
    sock.listen(2048)
    return sock


def bind(host: str, port: int, flag: str = "--port") -> socket.socket:
    """A socket bound to the address but not yet accepting connections (a taken port is refused here: Linux
    does not let a second socket bind a port another one listens on), or a ``ConfigError`` as for ``listen``."""
    from ..errors import ConfigError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        # a port someone holds (or a privileged one) is the port's fault; a name that does not resolve or an address
        # this machine does not have is the host's
        advice = f"choose another {flag}" if exc.errno in (errno.EADDRINUSE, errno.EACCES) else "check the host"
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; {advice}") from None
    sock.set_inheritable(True)
    return sock


class ApiServer(NamedTuple):
    """A bound but not yet serving API: ``run()`` serves until Ctrl-C / SIGTERM."""

    server: Any
    sock: socket.socket
    url: str
    manager: Any

    def run(self) -> None:
        self.server.run(sockets=[self.sock])


def start_api(settings) -> ApiServer:
    """Bind the port, load the models (raising on a bad one), build the app, then listen; nothing is served until
    ``run()``. The port is bound first so that a taken one is refused before the models' load time, not after;
    it accepts connections only once they are loaded."""
    import logging.config

    import uvicorn

    from ..serve.app import create_app
    from ..serve.logs import log_config
    from ..serve.model_manager import ModelManager

    logging.config.dictConfig(log_config(settings.log_level))
    sock = bind(settings.host, settings.port)
    manager = ModelManager(settings)
    try:
        manager.start()
        app = create_app(settings, manager)
        _ = app.state.workflow.database  # a bad database URL or SQLite path: one line here, not a failed start-up
    except BaseException:
        sock.close()
        manager.close()
        raise
    sock.listen(2048)
    config = uvicorn.Config(
        app,
        log_config=log_config(settings.log_level),
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return ApiServer(uvicorn.Server(config), sock, f"http://{host}:{sock.getsockname()[1]}", manager)


def run(args: argparse.Namespace) -> int:
    from ..serve.settings import load_settings

    settings = load_settings(
        settings_file=args.settings_file,
        host=args.host,
        port=args.port,
        models_dir=args.models_dir,
        default_model=args.default_model,
        toxicity_model=args.toxicity_model,
        log_level=args.log_level,
    )
    api = start_api(settings)
    print(
        f"API on {api.url}  (docs: {api.url}/docs; current model: {api.manager.current_name}; toxicity model: "
        f"{api.manager.toxicity_name})",
        file=sys.stderr,
        flush=True,
    )
    api.run()
    return 0
