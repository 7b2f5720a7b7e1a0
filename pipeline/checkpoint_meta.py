"""What a checkpoint says about its model besides the weights, and its version hash (no PyTorch needed)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import constants as C


@dataclass
class CheckpointMeta:
    """What a checkpoint says about its model, besides the weights."""

    architecture: str
    image_size: int
    class_names: list[str] = field(default_factory=lambda: list(C.CLASS_NAMES))
    mean: list[float] = field(default_factory=lambda: list(C.IMAGENET_MEAN))
    std: list[float] = field(default_factory=lambda: list(C.IMAGENET_STD))
    threshold: float = C.DEFAULT_THRESHOLD
    temperature: float = 1.0
    # A second head (issue: what kind of fake): logits after the class logits, one per kind; empty for older models.
    kind_names: list[str] = field(default_factory=list)
    kind_temperature: float = 1.0
    # The square crop around a detected face: face box x crop_scale (the framing the model was trained on).
    crop_scale: float = C.CROP_SCALE
    epoch: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A tuple saved by training and the list an ONNX file's JSON gives back are the same meta.
        self.kind_names = list(self.kind_names)
        self.crop_scale = float(self.crop_scale)

    @property
    def output_size(self) -> int:
        """Number of logits the model gives: the classes, then the kinds."""
        return len(self.class_names) + len(self.kind_names)

    def to_dict(self) -> dict[str, Any]:
        """Plain-type dict, loadable with weights_only=True."""
        return {key: getattr(self, key) for key in self.__dataclass_fields__}


def file_hash(path: Path, length: int = 12) -> str:
    """Short SHA-256 of a file's bytes: the version of a served model."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:length]
