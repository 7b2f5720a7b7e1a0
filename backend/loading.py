"""How a worker loads its models lean: the ONNX graph without PyTorch where a matching NAME.onnx lies beside NAME.pt
(pipeline.loading.load_scorer), and Grad-CAM's PyTorch model only when the first explain=1 asks for it.

A worker that never explains never imports torch (~880 MB RSS per worker before, see docs/DEPLOYMENT.md).
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import Any

from pipeline.loading import set_torch_threads

logger = logging.getLogger(__name__)


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
