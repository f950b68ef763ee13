"""The Streamlit web UI. It holds no model logic: every model fact and prediction comes from the HTTP API
(``client.ApiClient``); ``app.py`` is the script ``nlpc ui`` hands to ``streamlit run``."""

from __future__ import annotations

from pathlib import Path

APP_PATH = Path(__file__).resolve().parent / "app.py"

# While the API's model is trained in the background, how often the sidebar asks how far it has got and whether
# the API has switched to it: ``nlpc ui --refresh-seconds``, which passes it to the app in this variable.
REFRESH_ENV = "NLPC_UI_REFRESH_SECONDS"
DEFAULT_REFRESH_SECONDS = 30.0


def refresh_seconds(value: str | float | None, name: str = REFRESH_ENV) -> float:
    """``value`` (from ``name``) as seconds between 1 and 3600; ``DEFAULT_REFRESH_SECONDS`` when unset. Raises
    ``ConfigError`` naming ``name`` otherwise."""
    from ..errors import ConfigError

    if value is None or value == "":
        return DEFAULT_REFRESH_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got '{value}'") from None
    if not 1 <= seconds <= 3600:
        raise ConfigError(f"{name} must be between 1 and 3600 seconds, got {seconds:g}")
    return seconds
