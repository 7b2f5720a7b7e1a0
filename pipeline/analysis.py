"""Scoring an image the one way the server, the predict command and training's crop cache all share:
detect every face, cut its square crop, score all crops in one batch, and let the most-likely-fake face decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from . import constants as C
from .faces import Box, Face, FaceDetector, square_crop_box

# Calibrated P(fake) for a list of RGB crops, scored together (Scorer.probabilities, or an ensemble's mean).
ScoreFunction = Callable[[Sequence[Image.Image]], np.ndarray]


@dataclass
class FaceCrops:
    """The regions of an image that get classified: one per detected face, or the whole image if none."""

    boxes: list[Box]
    faces: list[Face]
    crops: list[Image.Image]

    @property
    def face_detected(self) -> bool:
        """True when the regions are faces, False when the whole image stands in for them."""
        return bool(self.faces)


@dataclass
class ImageAnalysis:
    """The face crops of an image with their calibrated P(fake); `deciding` indexes the most-fake one."""

    regions: FaceCrops
    probabilities: np.ndarray

    @property
    def deciding(self) -> int:
        """Index of the region that gives the image its verdict (the most likely fake)."""
        return int(np.argmax(self.probabilities))

    @property
    def probability_fake(self) -> float:
        """The image's P(fake): that of its most likely fake region."""
        return float(self.probabilities[self.deciding])


def face_crops(image: Image.Image, detector: FaceDetector | None, scale: float = C.CROP_SCALE) -> FaceCrops:
    """Square crops (face box x `scale`) of every face, most confident first; the whole image without faces."""
    faces = detector.detect(image) if detector is not None else []
    if not faces:
        return FaceCrops([Box(0, 0, image.width, image.height)], [], [image])
    boxes = [square_crop_box(face.box, image.size, scale) for face in faces]
    return FaceCrops(boxes, faces, [image.crop(box.pil_box()) for box in boxes])


def score_regions(regions: Sequence[FaceCrops], score: ScoreFunction) -> list[ImageAnalysis]:
    """Score the crops of several images in one batch through the model."""
    crops = [crop for region in regions for crop in region.crops]
    probabilities = np.asarray(score(crops), dtype=np.float32)
    analyses, start = [], 0
    for region in regions:
        end = start + len(region.crops)
        analyses.append(ImageAnalysis(region, probabilities[start:end]))
        start = end
    return analyses


def analyse_image(image: Image.Image, score: ScoreFunction, detector: FaceDetector | None,
                  scale: float = C.CROP_SCALE) -> ImageAnalysis:
    """Detect, crop and score one image; its verdict is that of its most likely fake face."""
    return score_regions([face_crops(image, detector, scale)], score)[0]
