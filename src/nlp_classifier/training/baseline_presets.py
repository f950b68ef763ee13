"""Pipelines for the TF-IDF baselines: the seed's settings ("seed") and a stronger preset ("char")."""

from __future__ import annotations

import copy
from typing import Any

from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

from ..errors import ConfigError

# Models saved before the estimator moved to the inference side pickled this path; the name keeps them loading.
from ..estimators import PriorShiftedClassifier  # noqa: F401
from ..tasks import MULTI_LABEL
from ..text import normalise_texts

ALGORITHMS = ("logistic_regression", "linear_svm")
PENALTIES = ("l1", "l2")
L1_SOLVERS = ("saga", "liblinear")
LEGACY_PRESET = "seed"  # the settings of the seed project this one grew from; users type --preset seed

PRESETS: dict[str, dict[str, Any]] = {
    # The seed: TF-IDF 10,000 features, word 1-3-grams; LR saga L2 C=1 balanced; LinearSVC squared hinge.
    LEGACY_PRESET: {
        "features": {"word": {"max_features": 10000, "ngram_range": [1, 3]}},
        "logistic_regression": {
            "C": 1.0,
            "penalty": "l2",
            "solver": "saga",
            "class_weight": "balanced",
            "max_iter": 1000,
        },
        "linear_svm": {"C": 1.0, "penalty": "l2", "loss": "squared_hinge", "class_weight": "balanced"},
    },
    # Word 1-2-grams plus character 2-5-grams inside word boundaries, sublinear tf, C tuned on validation;
    # "tasks" holds the settings that differ for one built-in task.
    "char": {
        "features": {
            "word": {"max_features": 50000, "ngram_range": [1, 2], "sublinear_tf": True, "min_df": 2},
            "char": {
                "max_features": 100000,
                "ngram_range": [2, 5],
                "analyzer": "char_wb",
                "sublinear_tf": True,
                "min_df": 2,
            },
        },
        "logistic_regression": {
            "C": 4.0,
            "penalty": "l2",
            "solver": "lbfgs",
            "class_weight": "balanced",
            "max_iter": 1000,
        },
        "linear_svm": {"C": 0.3, "penalty": "l2", "loss": "squared_hinge", "class_weight": "balanced"},
        # Chosen on the davidson3 validation split (docs/baselines.md): plain character 2-5-grams (across word
        # boundaries) with word 1-3-grams, an unweighted SVM, and class priors shifted to maximise weighted F1,
        # the dataset paper's metric.
        "tasks": {
            "davidson3": {
                "features": {
                    "word": {"max_features": 100000, "ngram_range": [1, 3], "sublinear_tf": True, "min_df": 2},
                    "char": {
                        "max_features": 200000,
                        "ngram_range": [2, 5],
                        "analyzer": "char",
                        "sublinear_tf": True,
                        "min_df": 2,
                    },
                },
                "linear_svm": {"class_weight": None},
                "class_priors": "f1_weighted",
            },
            # Seven sources, their shares by temperature sampling (T=2). C and identity swaps chosen on the hate
            # validation split (docs/baselines.md): C=1 beat 4, and swapped-group copies of non-hateful texts
            # (data/augment.py) lowered validation macro-F1, so the TF-IDF model goes without them. Misspelled
            # copies of half the texts cost 0.008 validation macro-F1 and buy robustness to obfuscated words,
            # which validation barely contains (docs/baselines.md gives both sides). The model reads disguised
            # words back before scoring (obfuscation.py), and trains on its training texts read the same way.
            # Since 2026-12-04, the transformer preset's group mentions and counter-speech frames as well: three
            # copies of each friendly text with a group named in it (data/identity_mentions.py) and condemning
            # frames around 0.9 of the short hateful texts (data/counter_speech.py). They cost 0.003 validation
            # macro-F1 and pass more of the behavioural suite (0.686 -> 0.724; identity statements passed 0.425
            # -> 0.542), chosen on those two among seven candidates (docs/baselines.md).
            "hate": {
                "logistic_regression": {"C": 1.0},
                "identity_swaps": 0.0,
                "identity_mentions": 3.0,
                "counter_speech": 0.9,
                "spelling_noise": 0.5,
                "mixing_temperature": 2.0,
                "read_obfuscation": True,
            },
        },
    },
}


def preset_config(preset: str, task: str | None = None) -> dict[str, Any]:
    """A deep copy of a named preset, with its settings for ``task`` applied (``features`` and
    ``class_priors`` replace the preset's; an algorithm's settings are updated key by key)."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown baseline preset '{preset}'; use one of {', '.join(PRESETS)}")
    config = copy.deepcopy(PRESETS[preset])
    for key, value in config.pop("tasks", {}).get(task, {}).items():
        if key in ALGORITHMS:
            config[key].update(value)
        else:
            config[key] = value
    return config


def _vectorizer(features: dict[str, dict]):
    parts = []
    for name, params in features.items():
        params = dict(params)
        if "ngram_range" in params:
            params["ngram_range"] = tuple(params["ngram_range"])
        parts.append((name, TfidfVectorizer(**params)))
    return parts[0][1] if len(parts) == 1 else FeatureUnion(parts)


def _estimator(algorithm: str, params: dict[str, Any], problem_type: str):
    if algorithm == "logistic_regression":
        lr_params = dict(params)
        # scikit-learn >= 1.8 expresses the penalty as l1_ratio (0 = L2, 1 = L1).
        lr_params["l1_ratio"] = {"l2": 0.0, "l1": 1.0}[lr_params.pop("penalty", "l2")]
        if lr_params["l1_ratio"] and lr_params.get("solver", "lbfgs") not in L1_SOLVERS:
            lr_params["solver"] = "saga"  # lbfgs cannot fit an L1 penalty; saga can, for any number of classes
        est = LogisticRegression(**lr_params, random_state=0)
    elif algorithm == "linear_svm":
        svm_params = dict(params)
        if svm_params.get("penalty") == "l1":
            svm_params["dual"] = False
        # One SVM fitted on all the data, plus a sigmoid calibration learnt from cross-validated scores.
        est = CalibratedClassifierCV(LinearSVC(**svm_params, random_state=0), method="sigmoid", cv=5, ensemble=False)
    else:
        raise ConfigError(f"unknown algorithm '{algorithm}'; use one of {', '.join(ALGORITHMS)}")
    return OneVsRestClassifier(est) if problem_type == MULTI_LABEL else est


def build_pipeline(algorithm: str, config: dict[str, Any], problem_type: str) -> Pipeline:
    """normalise -> TF-IDF -> classifier, as one picklable scikit-learn pipeline."""
    if algorithm not in config:
        raise ConfigError(f"the preset has no settings for '{algorithm}'")
    return Pipeline(
        [
            ("normalise", FunctionTransformer(normalise_texts)),
            ("tfidf", _vectorizer(config["features"])),
            ("clf", _estimator(algorithm, config[algorithm], problem_type)),
        ]
    )
