"""Service settings: environment variables prefixed ``NLPC_`` over an optional settings file over defaults.

The settings file (``--settings FILE`` or ``$NLPC_SETTINGS_FILE``) is YAML, JSON or a ``.env`` file whose keys are
the field names below (``default_model: linear_svm``) or, in a ``.env`` file, the variables
(``NLPC_DEFAULT_MODEL=linear_svm``). List fields accept JSON (``["a","b"]``) or comma-separated text from the
environment.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from dotenv import dotenv_values
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from ..errors import ConfigError
from ..paths import models_dir as default_models_dir
from ..workflow.band import parse_band

ENV_PREFIX = "NLPC_"
# the settings whose variables hold a JSON object, with an example value for the help and for errors
JSON_EXAMPLES = {"model_backends": '{"minilm_jigsaw": "onnx-int8"}', "review_bands": '{"minilm_hate": "0.3-0.7"}'}
SETTINGS_FILE_ENV = f"{ENV_PREFIX}SETTINGS_FILE"

CommaList = Annotated[list[str], NoDecode]


class ServeSettings(BaseSettings):
    """Everything ``nlpc serve`` can be configured with; each field is also ``NLPC_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", protected_namespaces=(), validate_default=True
    )

    settings_file: Path | None = Field(None, description="YAML, JSON or .env file read below the environment")
    host: str = Field("127.0.0.1", description="address to listen on (0.0.0.0 in a container)")
    port: int = Field(8000, ge=1, le=65535)

    # --- models ---------------------------------------------------------------------------------------------
    models_dir: Path = Field(default_factory=default_models_dir, description="the registry folder")
    default_model: str | None = Field(
        None,
        description="model served by /predict at start-up (a registry name or "
        "path); default: minilm_hate, else logistic_regression_hate_char, else the "
        "binary Davidson model with the best test F1 macro (defaults.pick_default)",
    )
    toxicity_model: str | None = Field(
        None,
        description="multi-label model behind /predict/toxicity, "
        "/v1/moderations and Perspective; default: the best multi-label model",
    )
    hate_model: str | None = Field(
        None,
        description="optional model whose hate score also feeds the OpenAI "
        "'hate' category (its 'hate' or positive label)",
    )
    preload_models: CommaList = Field(default_factory=list, description="models loaded at start-up as well")
    model_backends: dict[str, str] = Field(
        default_factory=dict,
        description=f"backend per model name, e.g. {JSON_EXAMPLES['model_backends']}; default: the fastest available",
    )
    max_loaded_models: int = Field(
        4,
        ge=2,
        description="models kept in memory (least recently used go first; the current, toxicity and hate models stay)",
    )

    # --- security -------------------------------------------------------------------------------------------
    api_keys: CommaList = Field(
        default_factory=list,
        description="keys accepted in X-API-Key / Authorization: Bearer; /models/switch is refused while this is empty",
    )
    require_api_key: bool = Field(False, description="also require a key on every prediction endpoint")
    cors_origins: CommaList = Field(default_factory=list, description="origins allowed by CORS (closed when empty)")

    # --- limits ---------------------------------------------------------------------------------------------
    max_text_chars: int = Field(10_000, ge=1, description="longest text accepted, in characters")
    max_texts_per_request: int = Field(100, ge=1, description="most texts in one request")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="largest request body (413 above it)")
    explain_max_texts: int = Field(
        10, ge=1, description='most texts one request may ask to explain ("explain": true, spanAnnotations)'
    )
    explain_max_chars: int = Field(
        2_000, ge=1, description="longest text that may be explained, in characters (occlusion scores once per word)"
    )

    # --- inference ------------------------------------------------------------------------------------------
    max_batch_size: int = Field(32, ge=1, description="most texts coalesced into one model call")
    max_wait_ms: float = Field(2.0, ge=0, le=1000, description="how long a batch waits for more texts")
    inference_threads: int = Field(1, ge=1, le=64, description="model calls that may run at once")
    threads: int | None = Field(
        None,
        ge=1,
        le=256,
        description="threads one model call may use (passed to the "
        "backend as num_threads: torch, ONNX Runtime); default: the backend's own",
    )

    # --- moderation workflow (docs/workflow.md) --------------------------------------------------------------
    database_url: str | None = Field(
        None,
        description="workflow database, e.g. postgresql+psycopg://user@127.0.0.1:5432/nlpc; "
        "default: the SQLite file nlpc.db in the data folder",
    )
    db_auto_migrate: bool = Field(True, description="apply the database migrations when the API starts")
    record: Literal["off", "flagged", "uncertain", "all"] = Field(
        "off",
        description="predictions recorded in the database: none, flagged ones, those in the review band, or all",
    )
    store_text: bool = Field(True, description="keep recorded texts (false: only their SHA-256)")
    review_band: str = Field("0.35-0.65", description="scores queued for review: LOW-HIGH, inclusive")
    review_bands: dict[str, str] = Field(
        default_factory=dict, description=f"review band per model name, e.g. {JSON_EXAMPLES['review_bands']}"
    )
    review_claim_minutes: float = Field(15.0, gt=0, description="how long a reviewer's claim holds off others")
    key_cache_seconds: float = Field(30.0, ge=0, description="how long database API keys are remembered")

    # --- logging --------------------------------------------------------------------------------------------
    log_level: str = Field("info", pattern="^(debug|info|warning|error)$")
    log_texts: bool = Field(False, description="record submitted texts in the logs")

    @field_validator("preload_models", "api_keys", "cors_origins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("default_model", "toxicity_model", "hate_model", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        """``NLPC_DEFAULT_MODEL=`` (empty) means "choose automatically", as when it is not set."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("review_band")
    @classmethod
    def _band(cls, value: str) -> str:
        try:
            parse_band(value, "review_band")
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("review_bands")
    @classmethod
    def _bands(cls, value: dict[str, str]) -> dict[str, str]:
        for model, band in value.items():
            try:
                parse_band(band, f"review_bands.{model}")
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("record", mode="before")
    @classmethod
    def _lower_record(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    def band_for(self, model: str) -> tuple[float, float]:
        """The review band of ``model``: its ``review_bands`` entry, else ``review_band``."""
        return parse_band(self.review_bands.get(model, self.review_band))

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        return init_settings, env_settings, SettingsFileSource(settings_cls, init_settings)


class SettingsFileSource(PydanticBaseSettingsSource):
    """Values from the settings file named by the ``settings_file`` argument or ``$NLPC_SETTINGS_FILE``."""

    def __init__(self, settings_cls, init_settings):
        super().__init__(settings_cls)
        self.path = init_settings.init_kwargs.get("settings_file") or os.environ.get(SETTINGS_FILE_ENV)

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does the work
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if not self.path:
            return {}
        path = Path(self.path)
        if not path.is_file():
            raise ConfigError(f"settings file not found: {path}")
        data = read_settings_file(path)
        unknown = sorted(set(data) - set(ServeSettings.model_fields))
        if unknown:
            raise ConfigError(f"{path}: unknown settings {unknown}; known: {sorted(ServeSettings.model_fields)}")
        return data


def read_settings_file(path: Path) -> dict[str, Any]:
    """The settings in a YAML/JSON file, or a .env file (``NLPC_`` prefix optional), as field names."""
    try:
        if path.suffix in (".yaml", ".yml", ".json"):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        else:
            data = {key.lower().removeprefix(ENV_PREFIX.lower()): value for key, value in dotenv_values(path).items()}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read settings: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of setting names to values")
    return data


def load_settings(**overrides: Any) -> ServeSettings:
    """Settings from keyword overrides (CLI flags; None means 'not given'), the environment, the settings file
    and defaults, in that order; any bad value is a ``ConfigError`` naming the setting."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return ServeSettings(**given)
    except SettingsError as exc:  # a dict-valued variable (NLPC_REVIEW_BANDS, ...) that is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        name = field.group(1) if field else ""
        raise ConfigError(
            f"invalid service settings: {ENV_PREFIX}{name.upper() or '* (a JSON-valued variable)'} is not valid "
            f"JSON; expected an object such as {JSON_EXAMPLES.get(name, '{}')}"
        ) from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(
            f"invalid service settings ({ENV_PREFIX}* variables, settings file or flags): {problems}"
        ) from None
