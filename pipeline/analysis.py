"""Scoring an image or a clip the one way the server, the predict command and training all share: detect every
face, cut its square crop, score all crops in one batch, and let the most-likely-fake face (for a clip, the
most-likely-fake face track) decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
from PIL import Image

from . import constants as C
from .faces import Box, Face, FaceDetector, square_crop_box
from .tracks import Track, aggregate, link_tracks
from .video import SampledFrame

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


@dataclass
class TrackResult:
    """A track with the probability of each of its sightings and the aggregate."""

    track: Track
    probabilities: list[float]
    probability_fake: float

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

    def track_summaries(self, label: Callable[[float], str]) -> list[dict]:
        """{id, probability_fake, label, frames: [{t, box, probability_fake}]} of every track."""
        return [{"id": result.track.id, "probability_fake": round(result.probability_fake, 6),
                 "label": label(result.probability_fake),
                 "frames": [{"t": self.times[s.frame], "box": self.box(s.frame, s.face), "probability_fake": round(p, 6)}
                            for s, p in zip(result.track.sightings, result.probabilities)]}
                for result in self.tracks]


def frame_regions(image: Image.Image, detector: FaceDetector | None, scale: float = C.CROP_SCALE,
                  whole_frame_side: int = C.VIDEO_WHOLE_FRAME_SIDE) -> FaceCrops:
    """A clip frame's face crops; a frame without faces is kept as a copy at most whole_frame_side long, so a
    clip of many big frames holds little memory while it waits for its one batch through the model."""
    regions = face_crops(image, detector, scale)
    if not regions.face_detected and max(image.size) > whole_frame_side:
        small = image.copy()
        small.thumbnail((whole_frame_side, whole_frame_side), Image.BILINEAR)
        regions.crops = [small]
    return regions


def analyse_clip(frames: Iterable[SampledFrame], video_width: int, score: ScoreFunction,
                 detector: FaceDetector | None, scale: float = C.CROP_SCALE,
                 aggregation: str = C.TRACK_AGGREGATION) -> ClipAnalysis:
    """Detect and crop the faces of every sampled frame, score all crops in one batch, link the faces into
    tracks and aggregate each track; the clip's verdict is its most-fake track (or frames, without faces).

    Frames are consumed one at a time and only their crops kept, so 64 decoded 4K frames never sit in memory.
    """
    times, regions, factors = [], [], []
    for frame in frames:
        times.append(frame.t)
        regions.append(frame_regions(frame.image, detector, scale))
        factors.append(video_width / frame.image.width if video_width else 1.0)
    return analyse_regions(times, regions, factors, score, aggregation)


def analyse_regions(times: Sequence[float], regions: Sequence[FaceCrops], factors: Sequence[float],
                    score: ScoreFunction, aggregation: str = C.TRACK_AGGREGATION) -> ClipAnalysis:
    """Score the regions of a clip's frames in one batch, link faces into tracks, and aggregate each track."""
    frames = score_regions(regions, score)
    tracks = link_tracks([region.faces for region in regions])
    results = []
    for track in tracks:
        probabilities = [float(frames[s.frame].probabilities[s.face]) for s in track.sightings]
        results.append(TrackResult(track, probabilities, aggregate(probabilities, aggregation)))
    if results:
        probability = max(result.probability_fake for result in results)
    else:
        probability = aggregate([analysis.probability_fake for analysis in frames], aggregation)
    return ClipAnalysis(list(times), frames, results, probability, list(factors))
