"""The UI's charts (Altair), built from plain API results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd

HIGHLIGHT = "#d62728"
NORMAL = "#4c78a8"
LEGEND = ("flagged", "not flagged")  # the highlighted (flagged) bars and the others


def _layer(*charts: alt.Chart) -> alt.LayerChart:
    """``alt.layer`` of charts without row/column/facet encodings, which it returns as a plain LayerChart (it
    turns the layer into a FacetChart only to hoist such encodings)."""
    layered = alt.layer(*charts)
    assert isinstance(layered, alt.LayerChart)
    return layered


def probability_chart(
    scores: Mapping[str, float], thresholds: Mapping[str, float], highlighted: Sequence[str] = ()
) -> alt.LayerChart:
    """Horizontal bars of every label's probability (the flagged ``highlighted`` labels in red), with a black tick
    at each label's decision threshold."""
    order = list(scores)
    data = pd.DataFrame(
        {
            "label": order,
            "probability": [float(scores[k]) for k in order],
            "status": [LEGEND[0] if k in highlighted else LEGEND[1] for k in order],
            "threshold": [thresholds.get(k) for k in order],
        }
    )
    y = alt.Y("label:N", sort=order, title=None)
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1]), title="probability"),
            y=y,
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=list(LEGEND), range=[HIGHLIGHT, NORMAL]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=["label", alt.Tooltip("probability:Q", format=".3f"), alt.Tooltip("threshold:Q", format=".2f")],
        )
    )
    text = bars.mark_text(align="left", dx=3, color="black").encode(
        text=alt.Text("probability:Q", format=".3f"), color=alt.value("black")
    )
    layers = [bars, text]
    marked = data.dropna(subset=["threshold"])
    if not marked.empty:
        ticks = (
            alt.Chart(marked)
            .mark_tick(color="black", thickness=3, size=26)
            .encode(x="threshold:Q", y=y, tooltip=[alt.Tooltip("threshold:Q", format=".2f")])
        )
        layers.append(ticks)
    return _layer(*layers).properties(height=alt.Step(32))


def compare_chart(rows: pd.DataFrame) -> alt.Chart:
    """Grouped bars: for each label, one bar per model (``rows`` has model, label, probability)."""
    return (
        alt.Chart(rows)
        .mark_bar()
        .encode(
            x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("label:N", title=None, sort=list(dict.fromkeys(rows["label"]))),
            yOffset="model:N",
            color=alt.Color("model:N", legend=alt.Legend(orient="bottom")),
            tooltip=["model", "label", alt.Tooltip("probability:Q", format=".3f")],
        )
        .properties(height={"step": 16, "for": "offset"})
    )


def distribution_chart(labels: pd.Series) -> alt.Chart:
    """How many rows got each predicted label."""
    counts = labels.fillna("").replace("", "(none)").value_counts().rename_axis("label").reset_index(name="rows")
    return (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X("rows:Q", axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y("label:N", sort="-x", title=None),
            tooltip=["label", "rows"],
        )
        .properties(height=alt.Step(30))
    )


def score_histogram(scores: pd.Series, title: str, threshold: float | None = None) -> alt.Chart | alt.LayerChart:
    """Histogram of one score column in 20 bins over [0, 1], with the threshold as a vertical rule."""
    data = pd.DataFrame({"score": scores.astype(float)})
    hist = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("score:Q", bin=alt.Bin(extent=[0, 1], step=0.05), title=title),
            y=alt.Y("count():Q", title="rows", axis=alt.Axis(tickMinStep=1, format="d")),
        )
    )
    if threshold is None:
        return hist.properties(height=220)
    rule = (
        alt.Chart(pd.DataFrame({"threshold": [threshold]}))
        .mark_rule(color=HIGHLIGHT, strokeDash=[4, 3])
        .encode(x="threshold:Q")
    )
    return _layer(hist, rule).properties(height=220)


def agreement_chart(by_day: Sequence[Mapping]) -> alt.Chart:
    """Per day of decision: the share of decisions equal to the model's label (agreement) and of reviewed
    flagged items whose decision is flagged (flagged precision), as lines over [0, 1]."""
    rows = [
        {"day": day["day"], "measure": name, "share": day[key], "reviewed": day["reviewed"]}
        for day in by_day
        for name, key in (("agreement", "agreement"), ("flagged precision", "flagged_precision"))
        if day.get(key) is not None
    ]
    return (
        alt.Chart(pd.DataFrame(rows, columns=["day", "measure", "share", "reviewed"]))
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title="day of decision (UTC)", axis=alt.Axis(format="%Y-%m-%d")),
            y=alt.Y("share:Q", scale=alt.Scale(domain=[0, 1]), title="share"),
            color=alt.Color("measure:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["day:T", "measure", alt.Tooltip("share:Q", format=".1%"), "reviewed"],
        )
        .properties(height=240)
    )


def overturned_chart(overturned: Sequence[Mapping]) -> alt.Chart:
    """The most frequent changes reviewers made: one bar per (model: predicted -> decided label)."""
    rows = [
        {"change": f"{o['model']}: {o['predicted_label']} → {o['decided_label']}", "decisions": o["count"]}
        for o in overturned
    ]
    return (
        alt.Chart(pd.DataFrame(rows, columns=["change", "decisions"]))
        .mark_bar(color=HIGHLIGHT)
        .encode(
            x=alt.X("decisions:Q", axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y("change:N", sort="-x", title=None, axis=alt.Axis(labelLimit=360)),
            tooltip=["change", "decisions"],
        )
        .properties(height=alt.Step(30))
    )


def queue_chart(queue: Mapping[str, int]) -> alt.Chart:
    """Reviews per state (pending, claimed, decided)."""
    data = pd.DataFrame({"state": list(queue), "reviews": [int(n) for n in queue.values()]})
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("reviews:Q", axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y("state:N", sort=list(queue), title=None),
            tooltip=["state", "reviews"],
        )
        .properties(height=alt.Step(30))
    )
