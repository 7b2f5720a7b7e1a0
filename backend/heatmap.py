"""The Grad-CAM heat map as a translucent RGBA PNG (NumPy and Pillow only, so a worker needs no PyTorch for it)."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

# Colour map anchors (blue -> cyan -> yellow -> red), like matplotlib's "jet" without importing matplotlib.
_ANCHORS = np.array([0.0, 0.35, 0.65, 1.0])
_COLOURS = np.array([[0, 0, 255], [0, 255, 255], [255, 255, 0], [255, 0, 0]], dtype=float)
MAX_ALPHA = 0.7


def _colour_table() -> np.ndarray:
    """256 RGBA colours: the colour map with alpha rising with the heat."""
    levels = np.linspace(0.0, 1.0, 256)
    rgb = np.stack([np.interp(levels, _ANCHORS, _COLOURS[:, channel]) for channel in range(3)], axis=-1)
    return np.concatenate([rgb, levels[:, None] * MAX_ALPHA * 255], axis=-1).round().astype(np.uint8)


_COLOUR_TABLE = _colour_table()


def heatmap_png(cam: np.ndarray, size: tuple[int, int]) -> str:
    """Base64 PNG of a heat map resized to exactly `size` (width, height), transparency following the heat."""
    grey = Image.fromarray(np.clip(cam * 255, 0, 255).astype(np.uint8))
    # A lookup table keeps memory at 4 bytes per pixel even for whole-image maps of large photos.
    rgba = _COLOUR_TABLE[np.asarray(grey.resize(size, Image.BILINEAR))]
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
