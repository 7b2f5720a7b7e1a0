"""A checkpoint scored with PyTorch: the reference runtime, the fallback of ONNX Runtime, and Grad-CAM's model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .checkpoint import CheckpointMeta, file_hash, load_checkpoint
from .scoring import Scorer


@dataclass
class Classifier(Scorer):
    """A model in eval mode with the preprocessing and calibration its checkpoint describes."""

    model: nn.Module
    meta: CheckpointMeta
    name: str
    version: str
    device: torch.device = torch.device("cpu")

    @classmethod
    def from_checkpoint(cls, path: Path, device: str | torch.device = "cpu", name: str | None = None) -> "Classifier":
        """Load a checkpoint once; name defaults to the file stem, version to a short content hash."""
        path = Path(path)
        model, meta = load_checkpoint(path)
        device = torch.device(device)
        return cls(model.to(device), meta, name or path.stem, file_hash(path), device)

    @property
    def runtime(self) -> str:
        """What scores with this model."""
        return "torch"

    def tensor(self, batch: np.ndarray) -> torch.Tensor:
        """A preprocessed NumPy batch as a tensor on the model's device."""
        return torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(self.device)

    @torch.inference_mode()
    def logits(self, batch: np.ndarray | torch.Tensor) -> np.ndarray:
        """Raw logits (classes, then kinds) for a preprocessed batch."""
        inputs = batch.to(self.device) if isinstance(batch, torch.Tensor) else self.tensor(batch)
        return self.model(inputs).float().cpu().numpy()
