"""Run a behavioural test suite (a cases file) against any model and report pass rates per functionality,
overall, and the false-positive rate per identity group on neutral and positive identity statements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..data.readers import read_table
from ..decision import DEFAULT_THRESHOLD
from ..errors import ConfigError, DataError
from ..metrics import interval_text, wilson_interval
from ..paths import PROJECT_ROOT, data_dir
from ..tasks import MULTI_LABEL

HATEFUL, NOT_HATEFUL = "hateful", "not_hateful"
EXPECTED_VALUES = (NOT_HATEFUL, HATEFUL)
REQUIRED_COLUMNS = ("functionality", "text", "expected")
OPTIONAL_COLUMNS = ("case_id", "target_group")
# Functionalities whose cases count towards the per-group false-positive rates.
FPR_FUNCTIONALITIES = ("neutral_identity_statement", "positive_identity_statement")


def default_cases_path() -> Path:
    """The shipped cases file: data/behaviour/cases.csv under $NLPC_DATA_DIR if it has one, else the checkout's."""
    own = data_dir() / "behaviour" / "cases.csv"
    return own if own.is_file() else PROJECT_ROOT / "data" / "behaviour" / "cases.csv"


@dataclass
class Cases:
    """A loaded cases file: one row per case with ``case_id``, ``functionality``, ``text``, ``expected``,
    ``target_group`` (strings; ``target_group`` may be empty)."""

    frame: pd.DataFrame
    source: str

    def __len__(self) -> int:
        return len(self.frame)


def load_cases(path: str | Path | None = None) -> Cases:
    """Read and check a cases file (CSV/TSV/JSONL/Parquet). Bad input raises DataError naming the file, the row
    (1-based data row) and the column."""
    path = Path(path) if path is not None else default_cases_path()
    frame = read_table(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in REQUIRED_COLUMNS:
        if column not in frame.columns:
            raise DataError(
                f"missing column '{column}'; a cases file needs columns "
                f"{', '.join(REQUIRED_COLUMNS)} (and optionally {', '.join(OPTIONAL_COLUMNS)}); "
                f"found: {', '.join(map(str, frame.columns))}",
                path=str(path),
                column=column,
            )
    if frame.empty:
        raise DataError("the file has no cases", path=str(path))
    out = pd.DataFrame(index=range(len(frame)))
    for column in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
        if column in frame.columns:
            values = frame[column].reset_index(drop=True)
            out[column] = ["" if _missing(v) else str(v).strip() for v in values]
        else:
            out[column] = [str(i) for i in range(1, len(frame) + 1)] if column == "case_id" else ""
    out["expected"] = out["expected"].str.lower()
    for i, row in enumerate(out.itertuples(index=False), start=1):
        if not row.text:
            raise DataError("empty text", path=str(path), row=i, column="text")
        if not row.functionality:
            raise DataError("empty functionality", path=str(path), row=i, column="functionality")
        if row.expected not in EXPECTED_VALUES:
            raise DataError(
                f"unknown expected label '{row.expected}'; use {' or '.join(EXPECTED_VALUES)}",
                path=str(path),
                row=i,
                column="expected",
            )
    dupes = out["case_id"].duplicated()
    if dupes.any():
        i = int(dupes.to_numpy().nonzero()[0][0])
        raise DataError(f"duplicate case_id '{out['case_id'][i]}'", path=str(path), row=i + 1, column="case_id")
    return Cases(out[["case_id", "functionality", "text", "expected", "target_group"]], str(path))


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def hateful_decision(classifier) -> Callable:
    """A function ``prediction -> bool`` saying whether a model's Prediction counts as hateful:
    not_hateful/hateful models by their label; Davidson binary ("Regular Speech"/"Hate Speech") by "Hate Speech";
    davidson3 ("hate"/"offensive"/"neither") by "hate" only; multi-label toxicity models (Jigsaw) when
    ``identity_hate`` is flagged or at/over its threshold."""
    labels = list(classifier.labels)
    if classifier.problem_type == MULTI_LABEL:
        if "identity_hate" not in labels:
            raise ConfigError(
                f"model '{classifier.name}' is multi-label without an 'identity_hate' label "
                f"(labels: {', '.join(labels)}); cannot tell which predictions are hateful"
            )
        limit = classifier.thresholds.get("identity_hate", DEFAULT_THRESHOLD)
        return lambda p: "identity_hate" in p.flagged or p.scores["identity_hate"] >= limit
    for positive in ("hateful", "Hate Speech", "hate"):
        if positive in labels:
            return lambda p, positive=positive: p.label == positive
    raise ConfigError(
        f"model '{classifier.name}' has labels {', '.join(labels)}; a behavioural check needs one "
        "of 'hateful', 'Hate Speech', 'hate' or a multi-label 'identity_hate'"
    )


def _rate(passed: int, n: int) -> float | None:
    return passed / n if n else None


FUNCTIONALITY_COLUMNS = ["functionality", "expected", "cases", "passed", "pass rate", "95% interval"]
GROUP_COLUMNS = ["group", "cases", "false positives", "rate", "95% interval"]


def functionality_rows(report: dict, by_expected: bool = True) -> list[list]:
    """A check report's table rows (``FUNCTIONALITY_COLUMNS``): each functionality, then (with ``by_expected``)
    all cases of each expected label, then the overall row."""

    def row(name: str, expected: str, s: dict) -> list:
        return [name, expected, s["n"], s["passed"], s["pass_rate"], interval_text(s.get("interval_95"))]

    rows = [row(f["functionality"], f["expected"], f) for f in report["functionalities"]]
    if by_expected:
        rows += [row(f"all {label} cases", label, s) for label, s in report["by_expected"].items() if s["n"]]
    return [*rows, row("overall", "", report["overall"])]


def group_rows(report: dict) -> list[list]:
    """A check report's per-group false-positive rows (``GROUP_COLUMNS``)."""
    return [
        [g["group"], g["n"], g["false_positives"], g["false_positive_rate"], interval_text(g.get("interval_95"))]
        for g in report["group_false_positive_rates"]["groups"]
    ]


def run_check(classifier, cases: Cases, batch_size: int = 256, progress: Callable[[int], None] | None = None) -> dict:
    """Classify every case and report: overall, per functionality (in file order), by expected label, the
    false-positive rate per target group on ``FPR_FUNCTIONALITIES``, and every failed case. Each rate comes with
    its 95% Wilson interval (``interval_95``): a group of 12 cases moves 8 points per case."""
    if batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    is_hateful = hateful_decision(classifier)
    frame = cases.frame
    texts = frame["text"].tolist()
    predicted: list[bool] = []
    labels: list[str | None] = []
    for start in range(0, len(texts), batch_size):
        for p in classifier.predict(texts[start : start + batch_size]):
            predicted.append(bool(is_hateful(p)))
            labels.append(p.label)
        if progress:
            progress(min(start + batch_size, len(texts)))
    frame = frame.assign(predicted=[HATEFUL if h else NOT_HATEFUL for h in predicted], model_label=labels)
    frame["passed"] = frame["predicted"] == frame["expected"]

    def summary(part: pd.DataFrame) -> dict:
        n, passed = len(part), int(part["passed"].sum())
        return {"n": n, "passed": passed, "pass_rate": _rate(passed, n), "interval_95": wilson_interval(passed, n)}

    functionalities = []
    for name, part in frame.groupby("functionality", sort=False):
        expected = sorted(set(part["expected"]))
        functionalities.append(
            {"functionality": name, "expected": expected[0] if len(expected) == 1 else "mixed", **summary(part)}
        )
    groups = []
    fpr_part = frame[
        frame["functionality"].isin(FPR_FUNCTIONALITIES)
        & (frame["expected"] == NOT_HATEFUL)
        & (frame["target_group"] != "")
    ]
    for group, part in fpr_part.groupby("target_group", sort=False):
        false_pos = int((part["predicted"] == HATEFUL).sum())
        groups.append(
            {
                "group": group,
                "n": len(part),
                "false_positives": false_pos,
                "false_positive_rate": _rate(false_pos, len(part)),
                "interval_95": wilson_interval(false_pos, len(part)),
            }
        )
    failures = frame[~frame["passed"]]
    return {
        "model": classifier.name,
        "backend": classifier.backend,
        "cases": cases.source,
        "overall": summary(frame),
        "by_expected": {label: summary(frame[frame["expected"] == label]) for label in EXPECTED_VALUES},
        "functionalities": functionalities,
        "group_false_positive_rates": {"functionalities": list(FPR_FUNCTIONALITIES), "groups": groups},
        "failures": [
            {
                "case_id": r.case_id,
                "functionality": r.functionality,
                "text": r.text,
                "expected": r.expected,
                "predicted": r.predicted,
                "model_label": r.model_label,
            }
            for r in failures.itertuples(index=False)
        ],
    }
