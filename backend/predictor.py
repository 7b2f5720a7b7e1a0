"""Served models: every checkpoint of the model folder, one per name, plus their ensemble; and the prediction."""

from __future__ import annotations

import base64
import io
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from pipeline import constants as C
from pipeline.analysis import ImageAnalysis, analyse_clip, analyse_image
from pipeline.budget import UNLIMITED, Deadline
from pipeline.errors import UserError
from pipeline.faces import FaceDetector
from pipeline.loading import load_scorer
from pipeline.onnx_runtime import OnnxClassifier
from pipeline.scoring import CropsByScale, Scores, kind_fields, verdict_of
from pipeline.video import ClipFrames, ClipInfo

from .heatmap import heatmap_png
from .loading import LazyGradCam
from .problems import ApiProblem

if TYPE_CHECKING:  # PyTorch is imported only when a model needs it (see loading.py)
    from pipeline.torch_runtime import Classifier

    from .gradcam import GradCam

logger = logging.getLogger(__name__)

ENSEMBLE = "ensemble"
THUMBNAIL_SIDE = 96


@dataclass
class Predictor:
    """What a request is answered with: one classifier, or the mean of several (the ensemble)."""

    name: str
    version: str
    threshold: float
    members: list[Classifier | OnnxClassifier]
    explainer: GradCam | LazyGradCam
    crop_scale: float = C.CROP_SCALE  # the explained model's: the answer's boxes and Grad-CAM's crop

    @property
    def crop_scales(self) -> tuple[float, ...]:
        """Every member's crop scale, once each, the explained model's first (faces are detected once)."""
        return tuple(dict.fromkeys([self.crop_scale, *(float(m.meta.crop_scale) for m in self.members)]))

    def score_crops(self, crops: CropsByScale) -> Scores:
        """Each member's scores of the crops at its own scale (one pass each), averaged (Scores.mean)."""
        return Scores.mean([member.score_crops(crops) for member in self.members])

    def label(self, probability_fake: float) -> str:
        """'fake' at or above the threshold, else 'real'."""
        return "fake" if probability_fake >= self.threshold else "real"

    def verdict(self, probability_fake: float) -> str:
        """'fake' at or above the threshold, 'uncertain' from UNCERTAIN_FRACTION x the threshold, else 'real'."""
        return verdict_of(probability_fake, self.threshold)

    def kind(self, probability_fake: float, kind_probabilities: dict[str, float] | None) -> dict[str, Any]:
        """`kind` and `kind_probabilities`, shown for a fake or uncertain verdict of a model with a kind head."""
        return kind_fields(probability_fake, self.threshold, kind_probabilities)


@dataclass
class ModelRegistry:
    """The classifiers loaded from a model folder, by file stem."""

    classifiers: dict[str, Classifier | OnnxClassifier] = field(default_factory=dict)
    explainers: dict[str, GradCam | LazyGradCam] = field(default_factory=dict)
    default: str | None = None

    @classmethod
    def load(cls, folder: Path, device: str = "cpu", default: str | None = None,
             fallback_default: str | None = None, runtime: str = C.DEFAULT_RUNTIME, threads: int = 1) -> "ModelRegistry":
        """Load every valid *.pt in a folder; invalid ones are logged and skipped.

        runtime "openvino" (the default) or "onnx" scores the ONNX graph (a matching sibling NAME.onnx, loaded
        without PyTorch, else an in-memory export) with OpenVINO or ONNX Runtime on `threads` threads; OpenVINO falls
        back to ONNX Runtime, either to PyTorch ("torch") when that fails. Grad-CAM loads the PyTorch model on the
        first explain=1.
        """
        if runtime not in C.RUNTIMES:
            raise ValueError(f"Unknown runtime {runtime!r}: use one of {', '.join(C.RUNTIMES)}")
        registry = cls()
        folder = Path(folder)
        paths = sorted(folder.glob("*.pt")) if folder.is_dir() else []
        if not paths:
            logger.warning("No model checkpoints (*.pt) in %s: /predict will answer 503", folder)
        for path in paths:
            if path.stem == ENSEMBLE:
                logger.error("Skipping %s: 'ensemble' is a reserved model name", path)
                continue
            try:
                classifier = load_scorer(path, runtime, device, threads)
            except (UserError, TypeError, ValueError, KeyError, RuntimeError) as error:
                logger.error("Skipping checkpoint %s: %s", path, error)
                continue
            registry.explainers[classifier.name] = LazyGradCam(path, device, threads)
            registry.classifiers[classifier.name] = classifier
            logger.info("Loaded model %s (%s, version %s, %s)", classifier.name, classifier.meta.architecture,
                        classifier.version, type(registry.classifiers[classifier.name]).__name__)
        registry.default = registry.pick_default(default, fallback_default)
        return registry

    def pick_default(self, requested: str | None, fallback: str | None) -> str | None:
        """The configured default if loaded, else the fallback if loaded, else the first name."""
        if requested and requested not in self.classifiers:
            logger.warning("Configured default model %r is not loaded; choosing another", requested)
        for name in (requested, fallback):
            if name and name in self.classifiers:
                return name
        return min(self.classifiers) if self.classifiers else None

    def __len__(self) -> int:
        return len(self.classifiers)

    def names(self) -> list[str]:
        """Loaded model names, sorted, plus 'ensemble' (the mean of all of them) when any is loaded."""
        names = sorted(self.classifiers)
        return names + [ENSEMBLE] if names else names

    def describe(self) -> list[dict[str, Any]]:
        """The /models listing."""
        return [
            {
                "name": name,
                "architecture": c.meta.architecture,
                "input_size": c.meta.image_size,
                "threshold": float(c.meta.threshold),
                "temperature": float(c.meta.temperature),
                "kinds": list(c.meta.kind_names),
                "metrics": {k: float(v) for k, v in (c.meta.metrics or {}).items()},
                "hash": c.version,
                "runtime": c.runtime,
            }
            for name, c in sorted(self.classifiers.items())
        ]

    def get(self, name: str | None) -> Predictor:
        """The predictor for a model name (None = default); ApiProblem 503/404 if there is none."""
        if not self.classifiers:
            raise ApiProblem(503, "no-model", "No model loaded",
                             "The server has no model loaded; put a checkpoint (*.pt) in the model folder.")
        name = name or self.default
        if name == ENSEMBLE:
            members = [self.classifiers[n] for n in sorted(self.classifiers)]
            return Predictor(ENSEMBLE, "+".join(m.version for m in members),
                             float(np.mean([m.meta.threshold for m in members])), members,
                             self.explainers[self.default], float(self.classifiers[self.default].meta.crop_scale))
        if name not in self.classifiers:
            raise ApiProblem(404, "unknown-model", "Unknown model", f"No model named {name!r} is loaded.",
                             known_models=self.names())
        classifier = self.classifiers[name]
        return Predictor(name, classifier.version, float(classifier.meta.threshold), [classifier],
                         self.explainers[name], float(classifier.meta.crop_scale))


@dataclass
class OnTime:
    """A predictor that checks the request's time budget before each pass over the crops."""

    predictor: Predictor
    deadline: Deadline

    @property
    def crop_scales(self) -> tuple[float, ...]:
        """The predictor's crop scales."""
        return self.predictor.crop_scales

    def score_crops(self, crops: CropsByScale) -> Scores:
        """The predictor's scores; BudgetExhausted when the budget is spent."""
        self.deadline.check("scoring the faces")
        return self.predictor.score_crops(crops)


def face_entries(analysis: ImageAnalysis, predictor: Predictor, deciding: int | None,
                 factor: float = 1.0) -> list[dict[str, Any]]:
    """The `faces` of an answer (empty without faces); boxes and landmarks scaled by `factor` to original pixels."""
    regions, scores = analysis.regions, analysis.scores
    return [
        {"box": box.scaled(factor), "probability_fake": float(p), "label": predictor.label(float(p)),
         "verdict": predictor.verdict(float(p)),
         **predictor.kind(float(p), scores.kind_probabilities(i)),
         "deciding": i == deciding, "detector_score": round(face.score, 4),
         "landmarks": [[round(x * factor, 1), round(y * factor, 1)] for x, y in face.landmarks]}
        for i, (box, face, p) in enumerate(zip(regions.boxes, regions.faces, scores.fake))
    ]


def explanation(predictor: Predictor, crop: Image.Image, box: list[int], label: str) -> dict[str, Any]:
    """Grad-CAM of the decided class over the deciding region, or a sentence when no region pushed toward it."""
    started = time.perf_counter()
    cam = predictor.explainer(crop, target=label)
    logger.debug("Grad-CAM took %.1f ms", (time.perf_counter() - started) * 1000)
    if float(cam.max()) <= 0:
        return {"heatmap_png": None, "box": box, "target": label,
                "note": f"No region pushed the model toward '{label}': its evidence is spread evenly over the face."}
    return {"heatmap_png": heatmap_png(cam, (box[2], box[3])), "box": box, "target": label, "note": None}


def answer_head(predictor: Predictor, media: str, probability_fake: float,
                kind_probabilities: dict[str, float] | None) -> dict[str, Any]:
    """The fields every answer starts with: what was judged, the label and three-way verdict, its probability, the
    kind of fake, threshold and model."""
    return {"media": media, "label": predictor.label(probability_fake),
            "verdict": predictor.verdict(probability_fake), "probability_fake": probability_fake,
            **predictor.kind(probability_fake, kind_probabilities),
            "threshold": predictor.threshold, "model": {"name": predictor.name, "version": predictor.version}}


def predict(image: Image.Image, predictor: Predictor, detector: FaceDetector | None, explain: bool,
            crop_scale: float | None = None, deadline: Deadline = UNLIMITED) -> dict[str, Any]:
    """The /predict answer for a decoded RGB image (without latency_ms); crops at each model's own crop scale
    unless `crop_scale` sets one for all; BudgetExhausted past the deadline."""
    deadline.check("detecting faces")
    analysis = analyse_image(image, OnTime(predictor, deadline), detector, crop_scale)
    regions, deciding = analysis.regions, analysis.deciding
    result: dict[str, Any] = {
        **answer_head(predictor, "image", analysis.probability_fake, analysis.kind_probabilities),
        "faces": face_entries(analysis, predictor, deciding),
        "face_detected": regions.face_detected,
        "image": {"width": image.width, "height": image.height},
    }
    if explain:
        deadline.check("drawing the heat map")
        result["explanation"] = explanation(predictor, regions.crops[deciding], regions.boxes[deciding].as_list(),
                                            result["label"])
    return result


def predict_clip(info: ClipInfo, frames: ClipFrames, predictor: Predictor, detector: FaceDetector | None,
                 explain: bool, crop_scale: float | None = None, aggregation: str = C.TRACK_AGGREGATION,
                 deadline: Deadline = UNLIMITED) -> dict[str, Any]:
    """The /predict answer for a clip's sampled frames (without latency_ms); BudgetExhausted past the deadline
    (the frames check it too, between packets and decoded frames)."""
    analysis = analyse_clip(frames, info.width, OnTime(predictor, deadline), detector, crop_scale, aggregation)
    frame_index, region_index = analysis.deciding
    deciding = analysis.frames[frame_index]
    tracks = analysis.track_summaries(predictor.label, predictor.verdict, predictor.kind)
    for track, scored in zip(tracks, analysis.tracks):
        best = scored.track.sightings[scored.deciding_sighting]
        track["thumbnail_jpeg"] = thumbnail_jpeg(analysis.frames[best.frame].regions.crops[best.face])
    result: dict[str, Any] = {
        **answer_head(predictor, "video", analysis.probability_fake, analysis.kind_probabilities),
        "faces": face_entries(deciding, predictor, region_index, analysis.factors[frame_index]),
        "face_detected": analysis.face_detected,
        "image": {"width": info.width, "height": info.height},
        "video": info.as_dict(len(analysis.times)),
        "decoded": frames.coverage.as_dict(),
        "tracks": tracks,
        "timeline": analysis.timeline(),
    }
    if explain:
        deadline.check("drawing the heat map")
        box = analysis.box(frame_index, region_index)
        result["explanation"] = {**explanation(predictor, deciding.regions.crops[region_index], box, result["label"]),
                                 "t": analysis.times[frame_index]}
    return result


def thumbnail_jpeg(crop: Image.Image, side: int = THUMBNAIL_SIDE) -> str:
    """A small base64 JPEG of a face crop, for the page's track list."""
    small = crop.copy()
    small.thumbnail((side, side), Image.BILINEAR)
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=80)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
