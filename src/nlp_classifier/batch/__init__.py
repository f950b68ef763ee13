"""Batch scoring of files: ``score_frame`` scores one table (the rule every engine uses for each chunk) and
``score_file`` scores a whole file."""

from .frame import score_file, score_frame

__all__ = ["score_file", "score_frame"]
