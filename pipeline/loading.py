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
from .checkpoint_meta import file_hash
from .onnx_runtime import VERSION_KEY, OnnxClassifier, read_onnx_metadata

if TYPE_CHECKING:  # PyTorch is imported only when a checkpoint needs it
    from .torch_runtime import Classifier

logger = logging.getLogger(__name__)


def matching_onnx(path: Path, threads: int | None, engine: str) -> OnnxClassifier | None:
    """The sibling NAME.onnx of a checkpoint when it was exported from exactly these bytes; else None."""
    sibling = Path(path).with_suffix(".onnx")
    if not sibling.is_file():
        return None
    try:
        if read_onnx_metadata(sibling).get(VERSION_KEY) != file_hash(path):
            return None
        return OnnxClassifier.from_onnx(sibling, threads=threads, engine=engine)
    except Exception as error:  # a broken sibling: the PyTorch path exports one in memory instead
        logger.warning("Cannot use %s (%s); loading %s with PyTorch", sibling, error.__class__.__name__, path.name)
        return None


def onnx_or_torch(path: Path, classifier: Classifier, threads: int | None = 1,
                  engine: str = "onnxruntime") -> Classifier | OnnxClassifier:
    """The checkpoint's ONNX graph on `engine` (see OnnxClassifier); the PyTorch model if export or loading fails."""
    try:
        return OnnxClassifier.from_checkpoint(path, classifier, threads=threads, engine=engine)
    except Exception as error:  # an operator ONNX cannot express, a broken onnxruntime: keep scoring with torch
        logger.error("ONNX graph unavailable for %s (%s: %s); scoring it with PyTorch", path.name,
                     error.__class__.__name__, error)
        return classifier


def load_scorer(path: Path, runtime: str = C.DEFAULT_RUNTIME, device: Any = "cpu",
                threads: int | None = 1) -> Classifier | OnnxClassifier:
    """The scorer of a checkpoint on `runtime` (C.RUNTIMES): a matching sibling ONNX file on CPU (no torch), else
    the PyTorch checkpoint on `device`, exported in memory when the runtime runs the ONNX graph. `threads` sizes
    the runtime's pool (None: the runtime's own default)."""
    if runtime not in C.RUNTIMES:
        raise ValueError(f"Unknown runtime {runtime!r}: use one of {', '.join(C.RUNTIMES)}")
    engine = C.RUNTIME_ENGINES.get(runtime)
    if engine and str(device) == "cpu":
        scorer = matching_onnx(Path(path), threads, engine)
        if scorer is not None:
            return scorer
    import torch

    from .torch_runtime import Classifier

    if threads:
        torch.set_num_threads(threads)
    classifier = Classifier.from_checkpoint(Path(path), device=device)
    return onnx_or_torch(Path(path), classifier, threads, engine) if engine else classifier
