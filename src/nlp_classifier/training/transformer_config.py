"""Where a transformer run's settings come from: the YAML presets shipped in ``nlp_classifier/presets/``, a
user's YAML on top, then single command-line overrides; every key and value is checked (``TransformerSettings``)
before any work starts."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from .transformer_settings import TransformerSettings, setting_specs

PRESET_PACKAGE = "nlp_classifier.presets"


def preset_names() -> list[str]:
    """The presets shipped with the package."""
    return sorted(p.name[:-5] for p in resources.files(PRESET_PACKAGE).iterdir() if p.name.endswith(".yaml"))


def _read_yaml(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
    return data


def read_preset(name: str) -> dict[str, Any]:
    """One shipped preset's settings (only those it sets)."""
    names = preset_names()
    if name not in names:
        raise ConfigError(
            f"unknown transformer preset '{name}'; use one of {', '.join(names)} (or --config FILE for your own YAML)"
        )
    text = resources.files(PRESET_PACKAGE).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return _read_yaml(text, f"preset {name}")


def read_user_config(path: str | Path) -> dict[str, Any]:
    """A user's YAML settings file; it may name a ``preset`` to start from."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    return _read_yaml(path.read_text(encoding="utf-8"), str(path))


def resolve_config(
    preset: str | None, user_config: str | Path | None = None, overrides: Mapping[str, Any] | None = None
) -> tuple[str, TransformerSettings]:
    """The preset's name and the full settings: defaults < preset < user YAML < command-line overrides, each
    layer checked on its own so an error names where the bad value came from."""
    user = read_user_config(user_config) if user_config else {}
    preset = preset or user.pop("preset", None) or "standard"
    user.pop("preset", None)
    base = read_preset(preset)
    TransformerSettings.check(base, f"preset {preset}")
    TransformerSettings.check(user, str(user_config))
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    TransformerSettings.check(overrides, "command line")
    return preset, TransformerSettings.from_dict({**base, **user, **overrides})


def parse_assignment(text: str) -> tuple[str, Any]:
    """``key=value`` from ``--set``, the value read as YAML (``3e-5``, ``true``, ``[a, b]``)."""
    if "=" not in text:
        raise ConfigError(f"--set expects KEY=VALUE, got '{text}'")
    key, raw = text.split("=", 1)
    key = key.strip().replace("-", "_")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    spec = setting_specs().get(key)
    if isinstance(value, str) and spec is not None and float in spec.types:
        try:
            value = float(value)  # YAML reads "3e-5" (no dot) as a string
        except ValueError:
            pass
    return key, value
