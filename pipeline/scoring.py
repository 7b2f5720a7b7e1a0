"""What every runtime shares when it scores face crops: preprocessing, calibration, threshold and labels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

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


@dataclass
class Scores:
    """What one pass through a model gives for a batch of crops: calibrated P(fake) per crop, and P(kind | fake) per
    crop and kind (no columns for a model without a kind head)."""

    fake: np.ndarray  # (N,)
    kinds: np.ndarray  # (N, len(kind_names))
    kind_names: tuple[str, ...] = ()

    @classmethod
    def of(cls, probabilities: Any) -> "Scores":
        """Scores as they are, or P(fake) alone (a score function without kinds) as Scores without kinds."""
        if isinstance(probabilities, Scores):
            return probabilities
        fake = np.asarray(probabilities, dtype=np.float32)
        return cls(fake, np.empty((len(fake), 0), dtype=np.float32))

    @classmethod
    def mean(cls, members: Sequence["Scores"]) -> "Scores":
        """An ensemble's scores: the mean P(fake) of all members, the mean P(kind | fake) of the members with the
        first kind head's kinds (members without a head, or with other kinds, have no say in the kind)."""
        names = next((m.kind_names for m in members if m.kind_names), ())
        with_kinds = [m.kinds for m in members if names and m.kind_names == names]
        kinds = np.mean(with_kinds, axis=0) if with_kinds else members[0].kinds[:, :0]
        return cls(np.mean([m.fake for m in members], axis=0), kinds, names)

    def __len__(self) -> int:
        return len(self.fake)

    def __getitem__(self, rows: slice) -> "Scores":
        return Scores(self.fake[rows], self.kinds[rows], self.kind_names)

    def kind_probabilities(self, row: int) -> dict[str, float] | None:
        """{kind: P(kind | fake)} of one crop; None without a kind head."""
        if not self.kind_names:
            return None
        return {name: float(p) for name, p in zip(self.kind_names, self.kinds[row])}


def verdict_of(probability_fake: float, threshold: float) -> str:
    """'fake' at or above the threshold; 'uncertain' from UNCERTAIN_FRACTION x the threshold (where the page's words
    stop saying "likely real"); else 'real' (C.VERDICTS)."""
    if probability_fake >= threshold:
        return "fake"
    return "uncertain" if probability_fake >= C.UNCERTAIN_FRACTION * threshold else "real"


def fake_or_uncertain(probability_fake: float, threshold: float) -> bool:
    """True when a verdict is fake or uncertain."""
    return verdict_of(probability_fake, threshold) != "real"


def kind_fields(probability_fake: float, threshold: float, probabilities: dict[str, float] | None) -> dict[str, Any]:
    """`kind` (the most likely kind) and `kind_probabilities` of an answer: both None for a model without a kind
    head and for a verdict that is neither fake nor uncertain."""
    if not probabilities or not fake_or_uncertain(probability_fake, threshold):
        return {"kind": None, "kind_probabilities": None}
    return {"kind": max(probabilities, key=probabilities.get),
            "kind_probabilities": {name: round(p, 6) for name, p in probabilities.items()}}


class CropsByScale(Protocol):
    """Face crops cut at each scale the models were trained on (pipeline.analysis.FaceCrops)."""

    def at(self, scale: float) -> Sequence[Image.Image]:
        """The crops cut at `scale`."""


class Scorer:
    """A loaded model with the preprocessing, calibration and threshold its checkpoint describes.

    Runtimes (PyTorch in torch_runtime, OpenVINO or ONNX Runtime in onnx_runtime) provide `meta`, `name`, `version`,
    `runtime` (the engine's name) and `logits(batch)` for a float32 NCHW NumPy batch.
    """

    meta: CheckpointMeta
    name: str
    version: str

    def batch(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Preprocess RGB images into one float32 NCHW batch."""
        return to_model_input(images, self.meta.image_size, self.meta.mean, self.meta.std)

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw logits for a preprocessed batch: the classes', then the kinds' (meta.output_size columns)."""
        raise NotImplementedError

    def scores(self, images: Sequence[Image.Image]) -> Scores:
        """Calibrated P(fake) and P(kind | fake) of each RGB image, from one pass of them all as one batch."""
        logits = self.logits(self.batch(images)) if images else np.empty((0, self.meta.output_size), np.float32)
        return Scores(fake_probability(logits, self.meta.temperature),
                      kind_probabilities(logits, self.meta.kind_temperature), tuple(self.meta.kind_names))

    def probabilities(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Calibrated probability of Fake for each RGB image, all scored as one batch."""
        return self.scores(images).fake

    @property
    def crop_scales(self) -> tuple[float, ...]:
        """The face crop framing this model was trained on (face box x scale)."""
        return (float(self.meta.crop_scale),)

    def score_crops(self, crops: CropsByScale) -> Scores:
        """Scores of face crops cut at this model's own scale."""
        return self.scores(crops.at(float(self.meta.crop_scale)))

    def label(self, probability_fake: float) -> str:
        """Class name for a calibrated probability, using the checkpoint's threshold."""
        index = C.FAKE_INDEX if probability_fake >= self.meta.threshold else C.REAL_INDEX
        return self.meta.class_names[index]

    def verdict(self, probability_fake: float) -> str:
        """'real', 'uncertain' or 'fake' for a calibrated probability at the checkpoint's threshold (verdict_of)."""
        return verdict_of(probability_fake, self.meta.threshold)

    def kind(self, probability_fake: float, kind_probabilities: dict[str, float] | None) -> dict[str, Any]:
        """`kind` and `kind_probabilities` as answers give them (kind_fields at the checkpoint's threshold)."""
        return kind_fields(probability_fake, self.meta.threshold, kind_probabilities)
