"""What every runtime shares when it scores face crops: preprocessing, calibration, threshold and labels."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from PIL import Image

from . import constants as C
from .checkpoint_meta import CheckpointMeta
from .preprocess import to_model_input


def softmax(logits: Any, temperature: float = 1.0) -> np.ndarray:
    """Softmax over the last axis of logits / temperature, in float64 for stability, returned as float32."""
    scaled = np.asarray(logits, dtype=np.float64) / float(temperature)
    scaled -= scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)


def class_logits(logits: Any) -> Any:
    """The real/fake logits of a model's output (array or tensor); a model with a kind head gives the kinds after them."""
    return logits[..., : len(C.CLASS_NAMES)]


def kind_logits(logits: Any) -> Any:
    """The kind head's logits (empty last axis for a model without one)."""
    return logits[..., len(C.CLASS_NAMES):]


def fake_probability(logits: Any, temperature: float = 1.0) -> np.ndarray:
    """Calibrated probability of the Fake class from raw logits (NumPy array or torch tensor)."""
    return softmax(class_logits(np.asarray(logits)), temperature)[..., C.FAKE_INDEX]


def kind_probabilities(logits: Any, temperature: float = 1.0) -> np.ndarray:
    """Calibrated P(kind | fake) from the logits after the class logits; shape (..., 0) for a model without a kind head."""
    kinds = kind_logits(np.asarray(logits))
    return softmax(kinds, temperature) if kinds.shape[-1] else kinds.astype(np.float32)


class Scorer:
    """A loaded model with the preprocessing, calibration and threshold its checkpoint describes.

    Runtimes (PyTorch in torch_runtime, ONNX Runtime in onnx_runtime) provide `meta`, `name`, `version` and
    `logits(batch)` for a float32 NCHW NumPy batch.
    """

    meta: CheckpointMeta
    name: str
    version: str

    def batch(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Preprocess RGB images into one float32 NCHW batch."""
        return to_model_input(images, self.meta.image_size, self.meta.mean, self.meta.std)

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw two-class logits for a preprocessed batch."""
        raise NotImplementedError

    def probabilities(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Calibrated probability of Fake for each RGB image, all scored as one batch."""
        if not images:
            return np.empty(0, dtype=np.float32)
        return fake_probability(self.logits(self.batch(images)), self.meta.temperature)

    def label(self, probability_fake: float) -> str:
        """Class name for a calibrated probability, using the checkpoint's threshold."""
        index = C.FAKE_INDEX if probability_fake >= self.meta.threshold else C.REAL_INDEX
        return self.meta.class_names[index]
