"""Scoring an image or a clip the one way the server, the predict command and training all share: detect every
face, cut its square crop (at the framing each model was trained on), score all crops in one batch, and let the
most-likely-fake face (for a clip, the most-likely-fake face track) decide, its kind of fake included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol, Sequence

import numpy as np
from PIL import Image

from . import constants as C
from .faces import Box, Face, FaceDetector, square_crop_box
from .scoring import CropsByScale, Scores
from .tracks import Track, aggregated, link_tracks
from .video import SampledFrame

# Calibrated P(fake) for a list of RGB crops, scored together (Scorer.probabilities): crops cut at C.CROP_SCALE.
ScoreFunction = Callable[[Sequence[Image.Image]], np.ndarray]


class CropScorer(Protocol):
    """A model (pipeline.scoring.Scorer) or an ensemble: the crop scales it wants, and one pass over crops."""

    @property
    def crop_scales(self) -> tuple[float, ...]:
        """The scales to cut face crops at, the first one giving the answer's boxes."""

    def score_crops(self, crops: CropsByScale) -> Scores:
        """P(fake) and P(kind | fake) of every crop."""


@dataclass
class FunctionScorer:
    """A plain score function (P(fake) of crops cut at C.CROP_SCALE, no kinds) as a CropScorer."""

    score: ScoreFunction
    crop_scales: tuple[float, ...] = (C.CROP_SCALE,)

    def score_crops(self, crops: CropsByScale) -> Scores:
        """Scores without kinds."""
        return Scores.of(self.score(crops.at(self.crop_scales[0])))


def as_crop_scorer(score: CropScorer | ScoreFunction) -> CropScorer:
    """A CropScorer as it is; a plain score function wrapped."""
    return score if hasattr(score, "score_crops") else FunctionScorer(score)


@dataclass
class FaceCrops:
    """The regions of an image that get classified: one per detected face, or the whole image if none."""

    boxes: list[Box]
    faces: list[Face]
    crops: list[Image.Image]
    # The same faces cut at other scales (an ensemble of models trained on different framings), by scale.
    other_scales: dict[float, list[Image.Image]] = field(default_factory=dict)

    def at(self, scale: float) -> list[Image.Image]:
        """The crops cut at `scale`; the main crops when none were cut at it (one scale set for every model)."""
        return self.other_scales.get(scale, self.crops)

    @property
    def face_detected(self) -> bool:
        """True when the regions are faces, False when the whole image stands in for them."""
        return bool(self.faces)


@dataclass
class ImageAnalysis:
    """The face crops of an image with their scores; `deciding` indexes the most-fake one."""

    regions: FaceCrops
    scores: Scores

    @property
    def probabilities(self) -> np.ndarray:
        """Calibrated P(fake) of each region."""
        return self.scores.fake

    @property
    def deciding(self) -> int:
        """Index of the region that gives the image its verdict (the most likely fake)."""
        return int(np.argmax(self.probabilities))

    @property
    def probability_fake(self) -> float:
        """The image's P(fake): that of its most likely fake region."""
        return float(self.probabilities[self.deciding])

    @property
    def kind_probabilities(self) -> dict[str, float] | None:
        """The image's P(kind | fake): that of its deciding region; None without a kind head."""
        return self.scores.kind_probabilities(self.deciding)


def face_crops(image: Image.Image, detector: FaceDetector | None,
               scale: float | Sequence[float] = C.CROP_SCALE) -> FaceCrops:
    """Square crops (face box x `scale`, or x each of several scales, the first giving the boxes) of every face,
    most confident first, from one detection; the whole image without faces."""
    first, *others = dict.fromkeys([scale] if isinstance(scale, (int, float)) else scale)
    faces = detector.detect(image) if detector is not None else []
    if not faces:
        return FaceCrops([Box(0, 0, image.width, image.height)], [], [image])
    boxes = [square_crop_box(face.box, image.size, first) for face in faces]
    other_scales = {other: [image.crop(square_crop_box(face.box, image.size, other).pil_box()) for face in faces]
                    for other in others}
    return FaceCrops(boxes, faces, [image.crop(box.pil_box()) for box in boxes], other_scales)


def cut_scales(scorer: CropScorer, scale: float | None) -> tuple[float, ...]:
    """The scales to cut crops at: each model's own, or `scale` for every model when one is set."""
    return (scale,) if scale else scorer.crop_scales


def joined(regions: Sequence[FaceCrops]) -> FaceCrops:
    """The crops of several images as one batch (boxes and faces are not needed to score it)."""
    scales = dict.fromkeys(scale for region in regions for scale in region.other_scales)
    return FaceCrops([], [], [crop for region in regions for crop in region.crops],
                     {scale: [crop for region in regions for crop in region.at(scale)] for scale in scales})


def score_regions(regions: Sequence[FaceCrops], score: CropScorer | ScoreFunction) -> list[ImageAnalysis]:
    """Score the crops of several images in one batch, one pass through the model (or each ensemble member)."""
    scores = as_crop_scorer(score).score_crops(joined(regions))
    analyses, start = [], 0
    for region in regions:
        end = start + len(region.crops)
        analyses.append(ImageAnalysis(region, scores[start:end]))
        start = end
    return analyses


def analyse_image(image: Image.Image, score: CropScorer | ScoreFunction, detector: FaceDetector | None,
                  scale: float | None = None) -> ImageAnalysis:
    """Detect, crop (at each model's crop scale, or `scale` for all) and score one image; its verdict is that of
    its most likely fake face."""
    scorer = as_crop_scorer(score)
    return score_regions([face_crops(image, detector, cut_scales(scorer, scale))], scorer)[0]


@dataclass
class TrackResult:
    """A track with the probability of each of its sightings, the aggregate, and the mean P(kind | fake) of the
    sightings the aggregate is made of (its most-fake half by default; None without a kind head)."""

    track: Track
    probabilities: list[float]
    probability_fake: float
    kind_probabilities: dict[str, float] | None = None

    @property
    def deciding_sighting(self) -> int:
        """Index (in the track) of its most-fake sighting."""
        return int(np.argmax(self.probabilities))


@dataclass
class ClipAnalysis:
    """Every sampled frame's regions and probabilities, the face tracks, and the clip's verdict.

    `factors` scale each frame's boxes (found on a frame at most VIDEO_FRAME_MAX_SIDE long) to video pixels.
    """

    times: list[float]
    frames: list[ImageAnalysis]
    tracks: list[TrackResult]
    probability_fake: float
    factors: list[float]
    kind_probabilities: dict[str, float] | None = None

    @property
    def face_detected(self) -> bool:
        """True when any sampled frame had a face."""
        return bool(self.tracks)

    @property
    def deciding(self) -> tuple[int, int]:
        """(frame index, region index) that decides: the deciding track's most-fake face, or the most-fake frame."""
        if self.tracks:
            best = max(self.tracks, key=lambda result: result.probability_fake)
            sighting = best.track.sightings[best.deciding_sighting]
            return sighting.frame, sighting.face
        frame = int(np.argmax([analysis.probability_fake for analysis in self.frames]))
        return frame, 0

    def timeline(self) -> list[dict]:
        """{t, probability_fake} of every sampled frame: its most-fake face, or the whole frame without one."""
        return [{"t": t, "probability_fake": round(analysis.probability_fake, 6)}
                for t, analysis in zip(self.times, self.frames)]

    def box(self, frame: int, region: int) -> list[int]:
        """[x, y, w, h] of a region in video pixels."""
        return self.frames[frame].regions.boxes[region].scaled(self.factors[frame])

    def track_summaries(self, label: Callable[[float], str], verdict: Callable[[float], str],
                        kind: Callable[[float, dict[str, float] | None], dict[str, Any]]) -> list[dict]:
        """{id, probability_fake, label, verdict, kind, kind_probabilities, frames: [{t, box, probability_fake}]} of
        every track; `kind` gives the kind fields of a P(fake) and P(kind | fake) (pipeline.scoring.kind_fields)."""
        return [{"id": result.track.id, "probability_fake": round(result.probability_fake, 6),
                 "label": label(result.probability_fake), "verdict": verdict(result.probability_fake),
                 **kind(result.probability_fake, result.kind_probabilities),
                 "frames": [{"t": self.times[s.frame], "box": self.box(s.frame, s.face), "probability_fake": round(p, 6)}
                            for s, p in zip(result.track.sightings, result.probabilities)]}
                for result in self.tracks]


def frame_regions(image: Image.Image, detector: FaceDetector | None,
                  scale: float | Sequence[float] = C.CROP_SCALE, whole_frame_side: int = C.VIDEO_WHOLE_FRAME_SIDE) -> FaceCrops:
    """A clip frame's face crops; a frame without faces is kept as a copy at most whole_frame_side long, so a
    clip of many big frames holds little memory while it waits for its one batch through the model."""
    regions = face_crops(image, detector, scale)
    if not regions.face_detected and max(image.size) > whole_frame_side:
        small = image.copy()
        small.thumbnail((whole_frame_side, whole_frame_side), Image.BILINEAR)
        regions.crops = [small]
    return regions


def analyse_clip(frames: Iterable[SampledFrame], video_width: int, score: CropScorer | ScoreFunction,
                 detector: FaceDetector | None, scale: float | None = None,
                 aggregation: str = C.TRACK_AGGREGATION) -> ClipAnalysis:
    """Detect and crop (at each model's crop scale, or `scale` for all) the faces of every sampled frame, score all crops in one batch, link the faces into
    tracks and aggregate each track; the clip's verdict is its most-fake track (or frames, without faces).

    Frames are consumed one at a time and only their crops kept, so 64 decoded 4K frames never sit in memory.
    """
    scorer = as_crop_scorer(score)
    times, regions, factors = [], [], []
    for frame in frames:
        times.append(frame.t)
        regions.append(frame_regions(frame.image, detector, cut_scales(scorer, scale)))
        factors.append(video_width / frame.image.width if video_width else 1.0)
    return analyse_regions(times, regions, factors, scorer, aggregation)


def analyse_regions(times: Sequence[float], regions: Sequence[FaceCrops], factors: Sequence[float],
                    score: CropScorer | ScoreFunction, aggregation: str = C.TRACK_AGGREGATION) -> ClipAnalysis:
    """Score the regions of a clip's frames in one batch, link faces into tracks, and aggregate each track: its
    P(fake) and, over the same sightings, its P(kind | fake)."""
    frames = score_regions(regions, score)
    tracks = link_tracks([region.faces for region in regions])
    results = []
    for track in tracks:
        probabilities = [float(frames[s.frame].probabilities[s.face]) for s in track.sightings]
        probability, used = aggregated(probabilities, aggregation)
        kinds = mean_kinds(frames, [(track.sightings[i].frame, track.sightings[i].face) for i in used])
        results.append(TrackResult(track, probabilities, probability, kinds))
    if results:
        best = max(results, key=lambda result: result.probability_fake)
        probability, kinds = best.probability_fake, best.kind_probabilities
    else:
        probability, used = aggregated([analysis.probability_fake for analysis in frames], aggregation)
        kinds = mean_kinds(frames, [(i, frames[i].deciding) for i in used])
    return ClipAnalysis(list(times), frames, results, probability, list(factors), kinds)


def mean_kinds(frames: Sequence[ImageAnalysis], picks: Sequence[tuple[int, int]]) -> dict[str, float] | None:
    """The mean P(kind | fake) of some (frame, region) crops of a clip; None without a kind head."""
    names = frames[0].scores.kind_names
    if not names:
        return None
    mean = np.mean([frames[frame].scores.kinds[region] for frame, region in picks], axis=0)
    return {name: float(p) for name, p in zip(names, mean)}
