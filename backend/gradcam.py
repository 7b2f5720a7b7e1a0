"""Grad-CAM on the last convolutional feature layer, rendered as a translucent RGBA heat map."""

from __future__ import annotations

import threading

import numpy as np
import torch
from PIL import Image
from torch import nn

from pipeline import constants as C
from pipeline.torch_runtime import Classifier

from .heatmap import heatmap_png  # noqa: F401  (its home before the heat map moved out of this torch module)


def target_layer(model: nn.Module) -> nn.Module:
    """The last convolutional block: `layer4` for ResNets, `features[-1]` for EfficientNet/MobileNet."""
    if hasattr(model, "layer4"):
        return model.layer4
    if hasattr(model, "features"):
        return model.features[-1]
    raise TypeError(f"No Grad-CAM target layer known for {type(model).__name__}")


class GradCam:
    """Grad-CAM for one classifier; safe with concurrent requests (the hook only records for the asking thread)."""

    def __init__(self, classifier: Classifier):
        self.classifier = classifier
        self._local = threading.local()
        # Registered once at load time so requests never mutate the shared module's hooks.
        target_layer(classifier.model).register_forward_hook(self._record)

    def _record(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if getattr(self._local, "active", False):
            self._local.activation = output

    def __call__(self, image: Image.Image, target: str = "fake") -> np.ndarray:
        """A [0, 1] map (feature-map resolution) of where the evidence for `target` ('fake' or 'real') lies."""
        batch = self.classifier.tensor(self.classifier.batch([image]))
        index, other = (C.FAKE_INDEX, C.REAL_INDEX) if target == "fake" else (C.REAL_INDEX, C.FAKE_INDEX)
        self._local.active = True
        try:
            with torch.enable_grad():
                logits = self.classifier.model(batch)
                # Target-minus-other logit: monotone in the calibrated P(target) for any temperature.
                score = logits[0, index] - logits[0, other]
                activation = self._local.activation
                (gradient,) = torch.autograd.grad(score, activation)
        finally:
            self._local.active = False
            self._local.activation = None
        weights = gradient[0].mean(dim=(1, 2), keepdim=True)
        cam = torch.relu((weights * activation[0].detach()).sum(dim=0))
        peak = float(cam.max())
        return (cam / peak).numpy() if peak > 0 else np.zeros(cam.shape, dtype=np.float32)
