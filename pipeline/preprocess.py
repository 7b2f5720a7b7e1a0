"""Model input preprocessing shared by training (evaluation transform), the predict command and the server.

Plain NumPy and Pillow, no PyTorch: exactly torchvision's Resize((s, s)) + ToTensor + Normalize on PIL images
(Pillow bilinear resize, /255, (x - mean) / std), so a server running ONNX Runtime needs no torch for it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image


def resize_square(image: Image.Image, size: int) -> Image.Image:
    """The image resized to size x size with Pillow's bilinear filter (as torchvision's Resize does)."""
    return image if image.size == (size, size) else image.resize((size, size), Image.BILINEAR)


def normalize(pixels: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """uint8 ...xHxWx3 pixels to float32 ...x3xHxW, scaled to [0, 1] and standardised per channel."""
    scaled = pixels.astype(np.float32) / np.float32(255)
    standardised = (scaled - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(np.moveaxis(standardised, -1, -3))


def to_model_input(images: Sequence[Image.Image], size: int, mean: Sequence[float],
                   std: Sequence[float]) -> np.ndarray:
    """RGB images to one float32 NCHW batch of size x size inputs."""
    if not images:
        return np.empty((0, 3, size, size), dtype=np.float32)
    pixels = np.stack([np.asarray(resize_square(image.convert("RGB"), size)) for image in images])
    return normalize(pixels, mean, std)
