"""The TF-IDF baselines' arithmetic done directly on sparse rows, without scikit-learn's per-call validation.

``compile_pipeline(pipeline)`` reads a fitted ``normalise -> TF-IDF -> linear classifier`` pipeline once and
returns a ``FastTfidf`` whose ``predict_proba`` gives exactly (bit for bit) what ``pipeline.predict_proba``
gives: the same analyzer, counts, sublinear tf, idf and row normalisation, the same sequential sparse dot
products, and the same expit/softmax/sigmoid-calibration/one-vs-rest arithmetic, in the same order. One text is
scored with a handful of small NumPy operations on its non-zero columns; batches go through one SciPy sparse
product. Anything it does not recognise makes ``compile_pipeline`` raise ``Unsupported`` (saying what), and the
caller (``sklearn_backend.load``) keeps the plain pipeline.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer, normalize
from sklearn.svm import LinearSVC
from sklearn.utils.extmath import softmax

from ..estimators import PriorShiftedClassifier

LINEAR_MODELS = (LogisticRegression, LinearSVC)


class Unsupported(Exception):
    """The pipeline has a step the fast path does not reproduce exactly."""


def _analyzer(vec: TfidfVectorizer) -> Callable[[str], list]:
    """``vec.build_analyzer()``, with word n-grams built by C-level ``zip``/``map`` instead of scikit-learn's
    Python loop over every position (the slowest step of a batch): the same n-grams in the same order."""
    if vec.analyzer != "word":
        return vec.build_analyzer()
    decode, preprocess, tokenize = vec.decode, vec.build_preprocessor(), vec.build_tokenizer()
    stop_words = vec.get_stop_words()
    min_n, max_n = vec.ngram_range
    join = " ".join

    def analyze(doc: str) -> list:
        tokens = tokenize(preprocess(decode(doc)))
        if stop_words is not None:
            tokens = [w for w in tokens if w not in stop_words]
        if max_n == 1:
            return tokens
        out = list(tokens) if min_n == 1 else []
        for n in range(max(min_n, 2), max_n + 1):
            out.extend(map(join, zip(*[tokens[i:] for i in range(n)])))
        return out

    return analyze


@dataclass
class _Vectorizer:
    """One fitted TfidfVectorizer: its analyzer, vocabulary and tf-idf settings; ``offset`` is where its
    columns start in a FeatureUnion's output."""

    analyze: Callable[[str], list]
    source: TfidfVectorizer
    vocabulary: dict
    idf: np.ndarray | None
    sublinear: bool
    binary: bool
    norm: str | None
    offset: int
    size: int

    @classmethod
    def from_fitted(cls, vec, offset: int) -> _Vectorizer:
        if type(vec) is not TfidfVectorizer:
            raise Unsupported(f"feature step {type(vec).__name__} (only TfidfVectorizer)")
        if vec.input != "content" or vec.dtype not in (np.float64, float) or vec.norm not in ("l1", "l2", None):
            raise Unsupported("TfidfVectorizer with input/dtype/norm other than content/float64/l1/l2/None")
        idf = np.asarray(vec.idf_, dtype=np.float64) if vec.use_idf else None
        # Plain ints: scikit-learn's pruned vocabularies hold NumPy scalars, which are slow to sort and convert.
        vocabulary = {term: int(column) for term, column in vec.vocabulary_.items()}
        return cls(
            _analyzer(vec),
            vec,
            vocabulary,
            idf,
            bool(vec.sublinear_tf),
            bool(vec.binary),
            vec.norm,
            offset,
            len(vocabulary),
        )

    def counts(self, text: str) -> dict[int, int]:
        """Column -> count of the text's in-vocabulary features, as CountVectorizer counts them."""
        get = self.vocabulary.get
        counter: dict[int, int] = {}
        for feature in self.analyze(text):
            idx = get(feature)
            if idx is not None:
                counter[idx] = counter.get(idx, 0) + 1
        return counter

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's tf-idf row: sorted column indices (offset into the union) and values."""
        counter = self.counts(text)
        if not counter:
            return np.empty(0, dtype=np.intp), np.empty(0)
        indices = np.fromiter(sorted(counter), dtype=np.intp, count=len(counter))
        values = (
            np.ones(len(indices)) if self.binary else np.array([counter[i] for i in indices.tolist()], dtype=np.float64)
        )
        if self.sublinear:
            np.log(values, values)
            values += 1.0
        if self.idf is not None:
            values *= self.idf[indices]
        if self.norm is not None:
            # scikit-learn sums the row left to right (cumsum is sequential too) and divides by the norm.
            total = np.cumsum(values * values if self.norm == "l2" else np.abs(values))[-1]
            if total != 0.0:
                values /= np.sqrt(total) if self.norm == "l2" else total
        return indices + self.offset, values

    def matrix(self, texts: list[str]) -> sp.csr_array:
        """The tf-idf rows of many texts, equal to TfidfVectorizer.transform's: every feature's column (-1 when
        out of vocabulary) is collected in C-level loops, and the sparse constructor sums repeats into counts."""
        get, analyze = self.vocabulary.get, self.analyze
        found = array("q")
        ends = array("q", [0])
        for text in texts:
            found.extend(map(get, analyze(text), repeat(-1)))
            ends.append(len(found))
        columns = np.frombuffer(found, dtype=np.int64)
        # bound first: nested in the call, numpy's stubs pick np.diff's datetime64 overload for the buffer
        bounds = np.frombuffer(ends, dtype=np.int64)
        rows = np.repeat(np.arange(len(texts)), np.diff(bounds))
        known = columns >= 0
        X = sp.csr_array((np.ones(int(known.sum())), (rows[known], columns[known])), shape=(len(texts), self.size))
        X.sum_duplicates()
        X.sort_indices()
        if self.binary:
            X.data.fill(1)
        if self.sublinear:
            np.log(X.data, X.data)
            X.data += 1.0
        if self.idf is not None:
            X.data *= self.idf[X.indices]
        if self.norm is not None:
            X = normalize(X, norm=self.norm, copy=False)
        return X


class _Heads:
    """Collects the weights of every linear model in the classifier into one (n_features, k) matrix, so one
    gather (one text) or one sparse product (a batch) gives every model's scores; each model reads its columns."""

    def __init__(self) -> None:
        self.coefs: list[np.ndarray] = []
        self.intercepts: list[np.ndarray] = []
        self.width = 0

    def add(self, model) -> slice:
        if type(model) not in LINEAR_MODELS or sp.issparse(model.coef_):
            raise Unsupported(f"estimator {type(model).__name__} (only dense LogisticRegression / LinearSVC)")
        coef = np.asarray(model.coef_, dtype=np.float64)
        k = coef.shape[0]
        self.coefs.append(coef)
        self.intercepts.append(np.broadcast_to(np.asarray(model.intercept_, dtype=np.float64), (k,)))
        self.width += k
        return slice(self.width - k, self.width)


def _decision(scores: np.ndarray, columns: slice) -> np.ndarray:
    """``decision_function`` of one linear model: 1-D for a binary model, as scikit-learn returns it."""
    out = scores[:, columns]
    return out[:, 0] if out.shape[1] == 1 else out


# The decision function behind one output column of ``predict_proba``: a weighted sum of score columns (one term
# for a plain linear model, -1 x the single column for a binary model's negative class, an average over the
# members of an ensembled calibration). Explanations read it to split the decision into per-feature products.
DecisionTerms = list[tuple[int, float]]


def _linear_terms(columns: slice, n_classes: int, factor: float = 1.0) -> list[DecisionTerms]:
    """Each class's decision terms for one linear model whose scores are ``columns``."""
    if n_classes <= 2:
        return [[(columns.start, -factor)], [(columns.start, factor)]]
    return [[(c, factor)] for c in range(columns.start, columns.stop)]


def _compile_estimator(est, heads: _Heads) -> tuple[Callable[[np.ndarray], np.ndarray], list[DecisionTerms]]:
    """A function from the score matrix to ``est.predict_proba``, reproducing its arithmetic, and the decision
    terms of each of its output columns (before any sigmoid, softmax, calibration or prior shift)."""
    if type(est) is LogisticRegression:
        columns = heads.add(est)
        terms = _linear_terms(columns, len(est.classes_))
        if len(est.classes_) <= 2:

            def proba(scores):
                p = expit(_decision(scores, columns))
                return np.stack([1 - p, p], axis=1)

            return proba, terms
        return lambda scores: softmax(scores[:, columns], copy=True), terms
    if type(est) is CalibratedClassifierCV:
        return _compile_calibrated(est, heads)
    if type(est) is PriorShiftedClassifier:
        (inner, terms), weights = _compile_estimator(est.estimator_, heads), est.weights_

        def shifted(scores):
            proba = inner(scores) * weights
            return proba / proba.sum(axis=1, keepdims=True)

        return shifted, terms
    if type(est) is OneVsRestClassifier:
        if not est.multilabel_ or len(est.estimators_) < 2:
            raise Unsupported("one-vs-rest that is not multi-label")
        compiled = [_compile_estimator(e, heads) for e in est.estimators_]
        parts = [f for f, _ in compiled]
        return lambda scores: np.array([f(scores)[:, 1] for f in parts]).T, [terms[1] for _, terms in compiled]
    raise Unsupported(f"classifier {type(est).__name__}")


def _compile_calibrated(
    est: CalibratedClassifierCV, heads: _Heads
) -> tuple[Callable[[np.ndarray], np.ndarray], list[DecisionTerms]]:
    """CalibratedClassifierCV with the sigmoid method: per class expit(-(a*score + b)), 1 - p for binary,
    normalised rows for multi-class, averaged over the calibrated classifiers."""
    n_classes = len(est.classes_)
    members = []
    terms: list[DecisionTerms] = [[] for _ in range(n_classes)]
    for calibrated in est.calibrated_classifiers_:
        if calibrated.method != "sigmoid" or list(calibrated.classes) != list(est.classes_):
            raise Unsupported("calibration other than sigmoid")
        if list(calibrated.estimator.classes_) != list(est.classes_):
            raise Unsupported("calibrated estimator with a subset of the classes")
        columns = heads.add(calibrated.estimator)
        share = 1.0 / len(est.calibrated_classifiers_)
        for class_terms, member_terms in zip(terms, _linear_terms(columns, n_classes, share)):
            class_terms.extend(member_terms)
        members.append((columns, [(float(c.a_), float(c.b_)) for c in calibrated.calibrators]))

    def proba(scores):
        mean = np.zeros((scores.shape[0], n_classes))
        for columns, calibrators in members:
            predictions = scores[:, columns]
            p = np.zeros((scores.shape[0], n_classes))
            for class_idx, (a, b) in enumerate(calibrators):
                p[:, class_idx + 1 if n_classes == 2 else class_idx] = expit(-(a * predictions[:, class_idx] + b))
            if n_classes == 2:
                p[:, 0] = 1.0 - p[:, 1]
            else:
                denominator = np.sum(p, axis=1)[:, np.newaxis]
                p = np.divide(p, denominator, out=np.full_like(p, 1 / n_classes), where=denominator != 0)
            p[(1.0 < p) & (p <= 1.0 + 1e-5)] = 1.0
            mean += p
        mean /= len(members)
        return mean

    return proba, terms


class FastTfidf:
    """A compiled TF-IDF pipeline: ``predict_proba(texts)`` equals the pipeline's, columns in ``classes_``
    order (or label order for multi-label)."""

    def __init__(
        self,
        preprocess: list[Callable],
        vectorizers: list[_Vectorizer],
        heads: _Heads,
        finish: Callable[[np.ndarray], np.ndarray],
        decision_terms: list[DecisionTerms],
    ):
        self.preprocess = preprocess
        self.vectorizers = vectorizers
        self.finish = finish
        self.decision_terms = decision_terms
        self.weights = np.ascontiguousarray(np.concatenate(heads.coefs, axis=0).T)  # (n_features, k)
        self.intercept = np.concatenate(heads.intercepts)

    def decision_weights(self, output: int, features: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """The feature weights and intercept of the decision function behind output column ``output`` of
        ``predict_proba``: its decision is ``x @ weights + intercept`` for a tf-idf row ``x``. ``features``: only
        those features' weights (default: all)."""
        rows = self.weights if features is None else self.weights[features]
        weights = np.zeros(rows.shape[0])
        intercept = 0.0
        for column, factor in self.decision_terms[output]:
            weights += factor * rows[:, column]
            intercept += factor * float(self.intercept[column])
        return weights, intercept

    def prepared(self, texts: list[str]) -> list[str]:
        """The texts after the pipeline's preprocessing steps (what the vectorizers read)."""
        for func in self.preprocess:
            texts = func(texts)
        return list(texts)

    def scores_one(self, text: str) -> np.ndarray:
        """The (1, k) linear scores of one text: products summed in column order, as SciPy's sparse product
        sums them, plus the intercepts."""
        rows = [v.row(text) for v in self.vectorizers]
        indices = rows[0][0] if len(rows) == 1 else np.concatenate([r[0] for r in rows])
        values = rows[0][1] if len(rows) == 1 else np.concatenate([r[1] for r in rows])
        if len(indices) == 0:
            return (np.zeros(len(self.intercept)) + self.intercept)[np.newaxis]
        products = values[:, np.newaxis] * self.weights[indices]
        return (np.cumsum(products, axis=0)[-1] + self.intercept)[np.newaxis]

    def scores_batch(self, texts: list[str]) -> np.ndarray:
        """The (n, k) linear scores of many texts through one sparse product."""
        parts = [v.matrix(texts) for v in self.vectorizers]
        X = parts[0] if len(parts) == 1 else sp.hstack(parts, format="csr")
        return X @ self.weights + self.intercept

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities, identical to ``pipeline.predict_proba(texts)``."""
        texts = self.prepared(texts)
        scores = self.scores_one(texts[0]) if len(texts) == 1 else self.scores_batch(texts)
        return self.finish(scores)


def _preprocess_step(step) -> Callable:
    if type(step) is not FunctionTransformer or step.validate or step.func is None:
        raise Unsupported(f"preprocessing step {type(step).__name__}")
    kwargs = dict(step.kw_args or {})
    return lambda texts: step.func(texts, **kwargs)


def _features(step) -> list[_Vectorizer]:
    if type(step) is FeatureUnion:
        if step.transformer_weights:
            raise Unsupported("FeatureUnion with transformer weights")
        out, offset = [], 0
        for _, part in step.transformer_list:
            if part in ("drop", None):
                continue
            vec = _Vectorizer.from_fitted(part, offset)
            offset += vec.size
            out.append(vec)
        return out
    return [_Vectorizer.from_fitted(step, 0)]


def compile_pipeline(pipeline) -> FastTfidf:
    """Compile a fitted ``[FunctionTransformer...] -> TfidfVectorizer | FeatureUnion -> classifier`` pipeline;
    raises ``Unsupported`` (with the reason) for anything else."""
    if type(pipeline) is not Pipeline:
        raise Unsupported(f"model is a {type(pipeline).__name__}, not a Pipeline")
    steps = [s for _, s in pipeline.steps if s not in ("passthrough", None)]
    if len(steps) < 2:
        raise Unsupported("pipeline without a feature step and a classifier")
    *pre, features, clf = steps
    preprocess = [_preprocess_step(s) for s in pre]
    vectorizers = _features(features)
    heads = _Heads()
    finish, decision_terms = _compile_estimator(clf, heads)
    if sum(v.size for v in vectorizers) != heads.coefs[0].shape[1]:
        raise Unsupported("feature count does not match the classifier's")
    return FastTfidf(preprocess, vectorizers, heads, finish, decision_terms)
