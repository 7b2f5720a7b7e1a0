"""Which runtime scores a checkpoint, for the server, the predict command and the bulk scan alike.

The ONNX runtimes ("openvino", "onnx") use the checkpoint's sibling NAME.onnx when it was exported from exactly
these bytes, without importing PyTorch; else the PyTorch checkpoint exported in memory; else, when the graph cannot
be exported or run, PyTorch itself. "torch" is PyTorch throughout.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import constants as C
from .onnx_runtime import OnnxClassifier

if TYPE_CHECKING:  # PyTorch is imported only when a checkpoint needs it
    from .torch_runtime import Classifier

logger = logging.getLogger(__name__)


def set_torch_threads(threads: int | None) -> None:
    """Size PyTorch's intra-op pool (None: leave its default), importing torch (the caller is about to use it)."""
    import torch

    if threads:
        torch.set_num_threads(threads)


def torch_classifier(path: Path, device: Any = "cpu", threads: int | None = 1) -> Classifier:
    """The checkpoint's PyTorch model on `device`, with `threads` intra-op threads."""
    set_torch_threads(threads)
    from .torch_runtime import Classifier

    return Classifier.from_checkpoint(Path(path), device=device)


def onnx_or_torch(path: Path, classifier: Classifier | None = None, threads: int | None = 1,
                  engine: str = "onnxruntime", device: Any = "cpu") -> Classifier | OnnxClassifier:
    """The checkpoint's ONNX graph on `engine` (OnnxClassifier.from_checkpoint); its PyTorch model (`classifier`
    when the caller loaded it) if the graph cannot be exported or run."""
    try:
        return OnnxClassifier.from_checkpoint(Path(path), classifier, threads=threads, engine=engine)
    except Exception as error:  # an operator ONNX cannot express, a broken engine: keep scoring with torch
        logger.error("ONNX graph unavailable for %s (%s: %s); scoring it with PyTorch", Path(path).name,
                     error.__class__.__name__, error)
        return classifier or torch_classifier(path, device, threads)


def load_scorer(path: Path, runtime: str = C.DEFAULT_RUNTIME, device: Any = "cpu",
                threads: int | None = 1) -> Classifier | OnnxClassifier:
    """The scorer of a checkpoint on `runtime` (C.RUNTIMES): its ONNX graph for "openvino" and "onnx" (onnx_or_torch),
    its PyTorch model on `device` for "torch". `threads` sizes the runtime's pool (None: the runtime's default)."""
    if runtime not in C.RUNTIMES:
        raise ValueError(f"Unknown runtime {runtime!r}: use one of {', '.join(C.RUNTIMES)}")
    engine = C.RUNTIME_ENGINES.get(runtime)
    return onnx_or_torch(path, None, threads, engine, device) if engine else torch_classifier(path, device, threads)
