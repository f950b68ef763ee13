"""``nlpc prepare``: get the default models that are missing: from a published model set when one is named
(``--pull`` / ``$NLPC_MODELS_URL``), then by training the TF-IDF baselines still missing (quick)."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field


def register(sub) -> None:
    p = sub.add_parser(
        "prepare",
        help="get the default models if they are missing (pulled from a model set, else trained)",
        description="Get the default models that are not in the models folder yet: with --pull (or "
        "$NLPC_MODELS_URL), when one is missing (minilm_hate or a TF-IDF baseline), every model of that published "
        "set the folder lacks; then train the default baseline models still missing, and calibrate the `hate` "
        "fallback (logistic_regression_hate_char) if it has no calibrator, as its next version. Models already here "
        "are never replaced.",
    )
    add_pull_option(p)
    p.add_argument("--force", action="store_true", help="retrain the default baselines even if they exist")
    p.set_defaults(func=run)


def add_pull_option(parser: argparse.ArgumentParser) -> None:
    """``--pull URL``, shared by ``nlpc prepare`` and ``nlpc run``."""
    from ..storage.location import URL_ENV

    parser.add_argument(
        "--pull",
        metavar="URL",
        default=os.environ.get(URL_ENV) or None,
        help="when a default model is missing, first fetch the models the folder lacks from the model set "
        "published at URL (`nlpc models push`; "
        f"gs://bucket/prefix/set): a team trains minilm_hate once and every machine serves it at once "
        f"(default: ${URL_ENV}; unset: nothing is pulled)",
    )


@dataclass
class Prepared:
    """What ``prepare_models`` did: the models pulled (and from where), then those trained and calibrated."""

    pulled: list[str] = field(default_factory=list)
    source: str | None = None
    trained: list[str] = field(default_factory=list)
    calibrated: list[str] = field(default_factory=list)
    not_calibrated: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"pulled: {', '.join(self.pulled)} from {self.source}"] if self.pulled else []
        lines += [f"trained: {', '.join(self.trained)}"] if self.trained else []
        lines += [f"calibrated: {', '.join(self.calibrated)}"] if self.calibrated else []
        return lines + [f"not calibrated, served with its raw scores: {item}" for item in self.not_calibrated]


def missing_defaults(models_dir=None, force: bool = False) -> list[tuple[str, str, str]]:
    """The default (task, algorithm, preset) triples with no model in the registry."""
    from ..defaults import DEFAULT_BASELINES
    from ..registry import model_names
    from ..training.baselines import default_name

    present = set(model_names(models_dir))
    return [spec for spec in DEFAULT_BASELINES if force or default_name(spec[1], spec[0], spec[2]) not in present]


def any_default_missing(models_dir=None) -> bool:
    """Whether a default model is missing: a TF-IDF baseline or the fine-tuned ``minilm_hate``."""
    from ..defaults import PREFERRED_MODELS
    from ..registry import model_names

    return bool(missing_defaults(models_dir)) or PREFERRED_MODELS[0] not in model_names(models_dir)


def prepare_models(models_dir=None, force: bool = False, pull_from: str | None = None) -> Prepared:
    """When a default model is missing and ``pull_from`` is given, pull the models of that set the folder lacks;
    then train whatever default baseline is still missing, and calibrate those of ``CALIBRATED_DEFAULTS`` that have
    no calibrator (a new version of the model; one that cannot be calibrated is named, and served as it is)."""
    from ..errors import NlpcError
    from ..model_calibration import calibrate_model
    from ..storage import StorageError, pull
    from ..storage.location import URL_ENV
    from ..training.baselines import train_baseline

    prepared = Prepared()
    if pull_from and any_default_missing(models_dir):  # with all of them here, no network is needed
        try:
            result = pull(pull_from, models_dir, missing_only=True)
        except StorageError as exc:
            raise StorageError(
                f"{exc} (pulling the models from --pull / ${URL_ENV}; unset it to train the default models "
                "here instead)"
            ) from exc
        prepared.source = result.url
        prepared.pulled = sorted(name for name, model in result.models.items() if model["status"] != "kept")
    for task, algorithm, preset in missing_defaults(models_dir, force):
        prepared.trained.append(train_baseline(task, algorithm, preset, models_dir=models_dir).name)
    for name, method in uncalibrated_defaults(models_dir):  # trained just now, pulled, or older than calibration
        try:
            calibrate_model(name, models_dir=models_dir, method=method)
        except NlpcError as exc:  # serve it as it is rather than not at all
            prepared.not_calibrated.append(f"{name} ({exc})")
        else:
            prepared.calibrated.append(f"{name} ({method})")
    return prepared


def uncalibrated_defaults(models_dir=None) -> list[tuple[str, str]]:
    """(name, method) of the models of ``CALIBRATED_DEFAULTS`` in the folder, for their task, with no calibrator:
    the one `nlpc prepare` has just trained, and one pulled from a set published before the defaults were
    calibrated (or trained here before then)."""
    from ..defaults import CALIBRATED_DEFAULTS
    from ..registry import list_cards
    from ..training.baselines import default_name

    cards = {card.name: card for card in list_cards(models_dir)}
    found = []
    for (task, algorithm, preset), method in CALIBRATED_DEFAULTS.items():
        card = cards.get(default_name(algorithm, task, preset))
        if card is not None and card.task == task and not card.calibration:
            found.append((card.name, method))
    return found


def run(args: argparse.Namespace) -> int:
    from .common import stdout

    prepared = prepare_models(args.models_dir, args.force, args.pull)
    for line in prepared.lines() or ["default models are present"]:
        stdout.print(line, highlight=False)
    return 0
