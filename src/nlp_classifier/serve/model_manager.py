"""The models the service holds: the current model (``/predict``), the toxicity model (``/predict/toxicity``,
OpenAI, Perspective) and others loaded on demand, at most ``max_loaded_models`` at once. Switching loads the new
model first, then swaps one reference, so every request is answered entirely by the model it started with."""

from __future__ import annotations

import asyncio
import gc
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from .. import load
from ..card import ModelCard
from ..classifier import Classifier, Prediction
from ..defaults import pick_default, ranking_score
from ..errors import ConfigError, ModelNotFoundError, NlpcError, StaleSwitchError
from ..explain import Explanation
from ..registry import list_cards, resolve
from ..tasks import MULTI_LABEL, TOXICITY_LABELS
from .batching import MicroBatcher
from .logs import log
from .metrics import ServiceMetrics
from .settings import ServeSettings

CARDS_TTL_S = 2.0


class NoModelError(NlpcError):
    """No model is available for what was asked (the service answers 503)."""


@dataclass
class ServedModel:
    """A loaded classifier and the micro-batcher in front of it."""

    classifier: Classifier
    batcher: MicroBatcher

    @property
    def name(self) -> str:
        return self.classifier.name

    @property
    def card(self) -> ModelCard:
        return self.classifier.card

    @property
    def is_multi_label(self) -> bool:
        return self.classifier.problem_type == MULTI_LABEL

    async def predict(
        self, texts: Sequence[str], threshold: float | None = None, thresholds: Mapping[str, float] | None = None
    ) -> list[Prediction]:
        """Predictions for ``texts`` through the batcher; bad thresholds raise ``ConfigError`` first."""
        limits = self.classifier.resolve_thresholds(threshold, thresholds)
        return await self.batcher.submit(texts, limits)

    async def explain(self, texts: Sequence[str], label: str | None = None) -> list[Explanation]:
        """``Classifier.explain`` for ``texts`` on the model-call threads (not micro-batched: an explanation is
        already a batch of its own)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.batcher.executor, partial(self.classifier.explain, list(texts), label))


def freeze_long_lived() -> None:
    """Move every object alive now (libraries, loaded models) out of the cyclic garbage collector's view: a full
    collection walking them stalled requests for 100-250 ms. Frozen objects are still freed by reference
    counting, so an unloaded model goes away as before."""
    gc.collect()
    gc.freeze()


def pick_toxicity(cards: Sequence[ModelCard]) -> ModelCard | None:
    """The multi-label model with the best test F1 macro, models with the six toxicity labels first."""
    multi = [c for c in cards if c.problem_type == MULTI_LABEL]
    preferred = [c for c in multi if list(c.labels) == TOXICITY_LABELS] or multi
    return min(preferred, key=lambda c: (-ranking_score(c), c.name), default=None)


class ModelManager:
    """Loads, holds, evicts and switches models; all predictions go through ``get(...).predict``."""

    def __init__(self, settings: ServeSettings, metrics: ServiceMetrics | None = None):
        self.settings = settings
        self.metrics = metrics or ServiceMetrics()
        self.executor = ThreadPoolExecutor(settings.inference_threads, thread_name_prefix="nlpc-inference")
        self._models: OrderedDict[str, ServedModel] = OrderedDict()
        self._load_locks: dict[str, asyncio.Lock] = {}
        self._switch_lock: asyncio.Lock | None = None
        self.current_name: str | None = None
        self.toxicity_name: str | None = None
        self.hate_name: str | None = None
        self.started = False
        self._cards: list[ModelCard] | None = None
        self._cards_read_at = 0.0

    # --- start-up (synchronous: a bad default stops the service before it listens) -------------------------
    def start(self) -> None:
        """Load the default, toxicity, hate and preloaded models. A model named in the settings that is missing
        or broken raises an ``NlpcError`` naming the setting and the file."""
        cards = self.cards(fresh=True)
        default = self._start_one("default_model", self.settings.default_model, pick_default(cards))
        self.current_name = default.name if default else None
        if default:
            self.metrics.set_current(None, default.name)
        toxicity = self._start_one("toxicity_model", self.settings.toxicity_model, pick_toxicity(cards))
        if toxicity is not None and not toxicity.is_multi_label:
            raise ConfigError(
                f"toxicity_model (NLPC_TOXICITY_MODEL): '{toxicity.name}' is a single-label model; "
                "/predict/toxicity needs a multi-label one"
            )
        self.toxicity_name = toxicity.name if toxicity else None
        hate = self._start_one("hate_model", self.settings.hate_model, None)
        self.hate_name = hate.name if hate else None
        pinned = {self.current_name, self.toxicity_name, self.hate_name} - {None}
        if len(pinned) >= self.settings.max_loaded_models:
            raise ConfigError(
                f"max_loaded_models (NLPC_MAX_LOADED_MODELS) is {self.settings.max_loaded_models}, but "
                f"the default, toxicity and hate models alone take {len(pinned)}; set it to at least "
                f"{len(pinned) + 1} so other models can be loaded on request"
            )
        for name in self.settings.preload_models:
            self._start_one("preload_models", name, None)
        self.started = True
        log.info(
            "models ready",
            extra={
                "current_model": self.current_name,
                "toxicity_model": self.toxicity_name,
                "hate_model": self.hate_name,
                "loaded_models": list(self._models),
                "models_dir": str(self.settings.models_dir),
            },
        )

    def _start_one(self, setting: str, name: str | None, fallback: ModelCard | None) -> ServedModel | None:
        if name is None and fallback is None:
            return None
        env = f"NLPC_{setting.upper()}"
        try:
            card = resolve(name, self.settings.models_dir) if name is not None else fallback
            assert card is not None  # a name or a fallback, checked above
            served = self._build(card)
        except NlpcError as exc:
            how = f"{setting} ({env}) '{name}'" if name is not None else f"{setting} (chosen automatically; set {env})"
            raise type(exc)(f"cannot load the {how}: {exc}") from None
        self._insert(served)
        return served

    # --- loading -------------------------------------------------------------------------------------------
    def cards(self, fresh: bool = False) -> list[ModelCard]:
        """Every model card in the models folder, re-read at most every ``CARDS_TTL_S`` seconds (``/health`` and
        ``/models`` are polled) unless ``fresh``."""
        now = time.monotonic()
        if fresh or self._cards is None or now - self._cards_read_at > CARDS_TTL_S:
            self._cards, self._cards_read_at = list_cards(self.settings.models_dir), now
        return self._cards

    def _card_named(self, name: str, fresh_only: bool = False) -> ModelCard:
        """The registry card called ``name`` (names only: a request can never make us read an arbitrary path);
        a model added to the folder a moment ago is found too; ``fresh_only`` reads the folder anew first."""
        for fresh in (True,) if fresh_only else (False, True):
            cards = self.cards(fresh)
            for card in cards:
                if card.name == name:
                    return card
        available = ", ".join(c.name for c in cards) or "none"
        raise ModelNotFoundError(f"no model named '{name}'; available: {available}")

    def _build(self, card: ModelCard) -> ServedModel:
        """Load (hash-checked) and wrap one model; any failure is an ``NlpcError`` naming the model's file."""
        start = time.perf_counter()
        try:
            options: dict[str, Any] = {"num_threads": self.settings.threads} if self.settings.threads else {}
            if card.path is None:
                raise ConfigError(f"model '{card.name}' has no card file to load it from")
            classifier = load(
                card.path,
                backend=self.settings.model_backends.get(card.name),
                models_dir=self.settings.models_dir,
                **options,
            )
        except NlpcError:  # a missing or tampered file, or one that fails to load (ModelLoadError)
            self.metrics.loads.labels(card.name, "error").inc()
            raise
        self.metrics.loads.labels(card.name, "ok").inc()
        name = classifier.name

        def observe(n_texts: int, seconds: float) -> None:
            self.metrics.observe_batch(name, n_texts, seconds)

        def predict(texts: list[str], thresholds: Mapping[str, float]) -> list[Prediction]:
            return classifier.predict(texts, thresholds=thresholds)

        batcher = MicroBatcher(
            predict,
            self.executor,
            max_batch_size=self.settings.max_batch_size,
            max_wait_ms=self.settings.max_wait_ms,
            observe=observe,
        )
        freeze_long_lived()
        log.info(
            "model loaded",
            extra={
                "model": name,
                "backend": classifier.backend,
                "path": str(card.artifact_path),
                "seconds": round(time.perf_counter() - start, 3),
            },
        )
        return ServedModel(classifier, batcher)

    def _insert(self, served: ServedModel) -> None:
        self._models[served.name] = served
        self._models.move_to_end(served.name)
        pinned = {self.current_name, self.toxicity_name, self.hate_name, served.name}
        for name in list(self._models):
            if len(self._models) <= self.settings.max_loaded_models:
                break
            if name not in pinned:
                del self._models[name]
                log.info("model unloaded", extra={"model": name, "reason": "max_loaded_models"})
        self.metrics.loaded.set(len(self._models))

    async def get(self, name: str | None = None) -> ServedModel:
        """The model called ``name`` (the current one when None), loading it off the event loop if needed."""
        if name is None:
            if self.current_name is None:
                raise NoModelError("no model is loaded: train one (`nlpc prepare`) or set NLPC_DEFAULT_MODEL")
            name = self.current_name
        served = self._models.get(name)
        if served is not None:
            self._models.move_to_end(name)
            return served
        lock = self._load_locks.setdefault(name, asyncio.Lock())
        async with lock:
            served = self._models.get(name)
            if served is None:
                card = await asyncio.to_thread(self._card_named, name)
                served = await asyncio.to_thread(self._build, card)
                self._insert(served)
        self._load_locks.pop(name, None)
        return served

    async def get_toxicity(self, name: str | None = None) -> ServedModel:
        """The multi-label model called ``name``, or the configured toxicity model."""
        if name is None:
            if self.toxicity_name is None:
                raise NoModelError(
                    "no multi-label toxicity model is available: train one (`nlpc train baseline "
                    "--task jigsaw`) or set NLPC_TOXICITY_MODEL"
                )
            name = self.toxicity_name
        served = await self.get(name)
        if not served.is_multi_label:
            raise ConfigError(
                f"model '{served.name}' is single-label ({', '.join(served.classifier.labels)}); "
                "this endpoint needs a multi-label toxicity model"
            )
        return served

    async def get_hate(self) -> ServedModel | None:
        """The optional model feeding the OpenAI 'hate' category."""
        return await self.get(self.hate_name) if self.hate_name else None

    async def switch(
        self, name: str, if_current: str | None = None
    ) -> tuple[str | None, ServedModel, ModelCard | None]:
        """Make ``name`` the current model once it is loaded; returns the previous name, the new model and, when
        the model was saved again since it was loaded (calibrated, exported, retrained, pulled), the card of the
        copy it replaced: a switch always serves the saved model. With ``if_current``, only if that is still the
        current model (switches wait for each other, so nobody can switch between the check and the switch);
        ``StaleSwitchError`` otherwise."""
        if self._switch_lock is None:
            self._switch_lock = asyncio.Lock()
        async with self._switch_lock:
            if if_current is not None and self.current_name != if_current:
                raise StaleSwitchError(
                    f"the current model is {self.current_name}, not {if_current}: someone switched since; "
                    f"not switching to {name}"
                )
            replaced, served = await self._load_if_saved_again(name)
            served = served or await self.get(name)
            previous, self.current_name = self.current_name, served.name
            self.metrics.set_current(previous, served.name)
            self._models.move_to_end(served.name)
        log.info("model switched", extra={"previous_model": previous, "current_model": served.name})
        return previous, served, replaced

    async def _load_if_saved_again(self, name: str) -> tuple[ModelCard | None, ServedModel | None]:
        """When ``name`` is loaded but its card in the folder differs from the one it was loaded with, load the
        saved model and put it in the loaded one's place (requests already running finish on the old copy); returns
        the old copy's card and the new model, else (None, None). A saved model that fails to load raises, and the
        loaded copy stays."""
        served = self._models.get(name)
        if served is None:
            return None, None
        saved = await asyncio.to_thread(self._card_named, name, True)
        if saved == served.card:
            return None, None
        fresh = await asyncio.to_thread(self._build, saved)
        self._insert(fresh)
        log.info(
            "model saved again since it was loaded: loaded anew",
            extra={"model": name, "loaded_version": served.card.version, "saved_version": saved.version},
        )
        return served.card, fresh

    def loaded(self) -> dict[str, ServedModel]:
        """The models in memory, least recently used first."""
        return dict(self._models)

    def close(self) -> None:
        """Stop the inference threads (after the ones running finish)."""
        self.executor.shutdown(wait=False, cancel_futures=True)
