"""Face detection (MTCNN) on a downscaled copy, and square crops that look like the training face crops."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

logger = logging.getLogger(__name__)

DETECT_MAX_SIDE = 320  # MTCNN time grows with pixels: 2280x1588 ~1.8 s, 640 px ~0.1 s, 320 px ~0.05 s (same photos found; see docs/PERFORMANCE.md)
MIN_CONFIDENCE = 0.9
CROP_SCALE = 2.0  # training crops (CelebA, Kaggle) show the face at about half the crop's width: MTCNN's box x 2


@dataclass(frozen=True)
class Box:
    """An integer pixel rectangle in the original image: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int

    def as_list(self) -> list[int]:
        """[x, y, w, h] for JSON."""
        return [self.x, self.y, self.w, self.h]

    def pil_box(self) -> tuple[int, int, int, int]:
        """(left, upper, right, lower) for Image.crop."""
        return (self.x, self.y, self.x + self.w, self.y + self.h)


def square_crop_box(face: tuple[float, float, float, float], image_size: tuple[int, int],
                    scale: float = CROP_SCALE) -> Box:
    """A square around a face box (x1, y1, x2, y2), enlarged by `scale`, shrunk and shifted to fit the image.

    Staying square matters: the crop is resized to the model's square input, and a clipped, oblong crop would
    stretch the face. Near an edge the face is then off-centre rather than distorted.
    """
    x1, y1, x2, y2 = face
    width, height = image_size
    side = max(1, min(round(max(x2 - x1, y2 - y1) * scale), width, height))
    left = min(max(0, round((x1 + x2) / 2 - side / 2)), width - side)
    top = min(max(0, round((y1 + y2) / 2 - side / 2)), height - side)
    return Box(left, top, side, side)


class FaceDetector:
    """MTCNN finding every face; boxes come back in original image pixels."""

    def __init__(self, device: str = "cpu", max_side: int = DETECT_MAX_SIDE, min_confidence: float = MIN_CONFIDENCE):
        from facenet_pytorch import MTCNN  # imported here: loading it costs ~1.5 s

        self.mtcnn = MTCNN(keep_all=True, device=device)
        self.max_side, self.min_confidence = max_side, min_confidence

    def detect(self, image: Image.Image) -> list[tuple[tuple[float, float, float, float], float]]:
        """Face boxes (x1, y1, x2, y2) in original pixels with their confidence, most confident first."""
        scale = min(1.0, self.max_side / max(image.size))
        small = image if scale == 1.0 else image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BILINEAR)
        if min(small.size) < self.mtcnn.min_face_size:
            return []  # no face MTCNN can find fits (and MTCNN raises on such slivers)
        try:
            with torch.inference_mode():
                boxes, probs = self.mtcnn.detect(small)
        except (RuntimeError, ValueError, IndexError) as error:
            # MTCNN can fail on degenerate inputs; the image is then classified whole.
            logger.warning("Face detection failed (%s); classifying the whole image", error.__class__.__name__)
            return []
        if boxes is None:
            return []
        found = []
        for box, prob in zip(np.asarray(boxes, dtype=float), np.asarray(probs, dtype=float)):
            if prob >= self.min_confidence:
                found.append((tuple(float(v) / scale for v in box), float(prob)))
        return sorted(found, key=lambda item: -item[1])

    def crop_boxes(self, image: Image.Image, scale: float = CROP_SCALE) -> list[Box]:
        """Square training-like crop boxes of every detected face."""
        return [square_crop_box(face, image.size, scale) for face, _ in self.detect(image)]


@functools.lru_cache(maxsize=None)
def shared_detector(device: str = "cpu", max_side: int = DETECT_MAX_SIDE) -> FaceDetector:
    """One detector per process and device (apps created repeatedly, e.g. in tests, reuse it)."""
    return FaceDetector(device=device, max_side=max_side)
