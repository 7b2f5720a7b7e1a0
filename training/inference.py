"""A loaded checkpoint that scores images: used by the predict command and the API server."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn

from . import constants as C
from .checkpoint import CheckpointMeta, file_hash, load_checkpoint
from .data import build_transforms
from .metrics import fake_probability


class Scorer:
    """What every runtime shares: the checkpoint's preprocessing, calibration and threshold.

    Subclasses provide `meta` and `logits(batch)`, and may override `batch(images)`.
    """

    meta: CheckpointMeta

    @property
    def transform(self):
        """The evaluation transform of this checkpoint (resize, tensor, normalise)."""
        return build_transforms(False, self.meta.image_size, self.meta.mean, self.meta.std)

    def batch(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Preprocess RGB images into one NCHW float batch."""
        transform = self.transform
        return torch.stack([transform(image) for image in images])

    def logits(self, batch) -> torch.Tensor:
        """Raw two-class logits for a preprocessed batch."""
        raise NotImplementedError

    def probabilities(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Calibrated probability of Fake for each RGB image."""
        if not images:
            return np.empty(0)
        return fake_probability(self.logits(self.batch(images)), self.meta.temperature).numpy()

    def label(self, probability_fake: float) -> str:
        """Class name for a calibrated probability, using the checkpoint's threshold."""
        index = C.FAKE_INDEX if probability_fake >= self.meta.threshold else C.REAL_INDEX
        return self.meta.class_names[index]


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

    def batch(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Preprocess RGB images into one NCHW batch on the model's device."""
        return super().batch(images).to(self.device)

    @torch.inference_mode()
    def logits(self, batch: torch.Tensor) -> torch.Tensor:
        """Raw two-class logits for a preprocessed batch."""
        return self.model(batch.to(self.device)).float().cpu()
