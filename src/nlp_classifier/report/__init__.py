"""The evaluation report behind ``nlpc evaluate --report``: one self-contained HTML page (metrics per label and
source, confusion matrix, ROC, precision-recall and reliability curves, a threshold table, score histograms, the
most confident errors with their explanations, the behavioural suite and the identity-bias audit), several
models compared on one dataset, and every chart as a PNG file. ``gather`` measures, ``figures`` and ``charts``
draw, ``html`` renders, ``build`` puts them together and writes the files."""

from .build import Report, build_report, write_figures, write_html
from .figures import Figure
from .gather import GRID_THRESHOLDS, N_ERRORS, ModelReport, gather_model

__all__ = [
    "GRID_THRESHOLDS",
    "N_ERRORS",
    "Figure",
    "ModelReport",
    "Report",
    "build_report",
    "gather_model",
    "write_figures",
    "write_html",
]
