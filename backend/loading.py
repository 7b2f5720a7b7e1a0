"""How a worker loads its models lean: ONNX Runtime without PyTorch where a matching NAME.onnx lies beside
NAME.pt, and Grad-CAM's PyTorch model only when the first explain=1 asks for it.

A worker that never explains never imports torch (~880 MB RSS per worker before, see docs/DEPLOYMENT.md).
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import Any

from pipeline import constants as C
from pipeline.checkpoint_meta import file_hash
from pipeline.onnx_runtime import VERSION_KEY, OnnxClassifier, read_onnx_metadata

logger = logging.getLogger(__name__)


def set_torch_threads(threads: int) -> None:
    """Size PyTorch's intra-op pool, importing torch (the caller is about to use it)."""
    import torch

    torch.set_num_threads(threads)


def matching_onnx(path: Path, threads: int, engine: str) -> OnnxClassifier | None:
    """The sibling NAME.onnx of a checkpoint when it was exported from exactly these bytes; else None."""
    sibling = Path(path).with_suffix(".onnx")
    if not sibling.is_file():
        return None
    try:
        if read_onnx_metadata(sibling).get(VERSION_KEY) != file_hash(path):
            return None
        return OnnxClassifier.from_onnx(sibling, threads=threads, engine=engine)
    except Exception as error:  # a broken sibling: the PyTorch path below exports one in memory instead
        logger.warning("Cannot use %s (%s); loading %s with PyTorch", sibling, error.__class__.__name__, path.name)
        return None


def load_scorer(path: Path, device: str, runtime: str, threads: int) -> Any:
    """The classifier a worker scores with: a matching sibling ONNX file (no torch), else the PyTorch checkpoint,
    exported in memory when the runtime runs the ONNX graph ("openvino" or "onnx", see predictor.onnx_or_torch)."""
    engine = C.RUNTIME_ENGINES.get(runtime)
    if engine and device == "cpu":
        scorer = matching_onnx(path, threads, engine)
        if scorer is not None:
            return scorer
    set_torch_threads(threads)
    from pipeline.torch_runtime import Classifier

    from .predictor import onnx_or_torch

    classifier = Classifier.from_checkpoint(path, device=device)
    return onnx_or_torch(path, classifier, threads, engine) if engine else classifier


class LazyGradCam:
    """Grad-CAM of a checkpoint, loading its PyTorch model on the first call (once, thread-safe)."""

    def __init__(self, path: Path, device: str = "cpu", threads: int = 1):
        self.path, self.device, self.threads = Path(path), device, threads
        self._explainer = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """True once the PyTorch model is in memory."""
        return self._explainer is not None

    def explainer(self) -> Any:
        """The loaded backend.gradcam.GradCam."""
        with self._lock:
            if self._explainer is None:
                set_torch_threads(self.threads)
                from pipeline.torch_runtime import Classifier

                from .gradcam import GradCam

                self._explainer = GradCam(Classifier.from_checkpoint(self.path, device=self.device))
                logger.info("Loaded %s with PyTorch for Grad-CAM", self.path.name)
        return self._explainer

    def __call__(self, image: Any, target: str = "fake") -> Any:
        """GradCam(image, target) of the checkpoint."""
        return self.explainer()(image, target=target)


def torch_loaded() -> bool:
    """Whether this process has imported PyTorch."""
    return "torch" in sys.modules
