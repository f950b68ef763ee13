"""Exports of trained models for faster runtimes: ONNX (fp32 and dynamically quantized int8), checked against the
original model on the test split before they are published."""

from .onnx_export import ExportRefused, ExportResult, export_onnx

__all__ = ["export_onnx", "ExportResult", "ExportRefused"]
