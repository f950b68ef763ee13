"""Datasets: reading labelled files, the built-in tasks, and the fixed train/validation/test splits."""

from .datasets import Dataset, load_dataset
from .splits import Splits, split_dataset

__all__ = ["Dataset", "load_dataset", "Splits", "split_dataset"]
