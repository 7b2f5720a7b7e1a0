"""Faces over time: link the faces of sampled frames into tracks and give each track one probability.

A face joins the track whose face in the previous sampled frame (or the one before, so one missed detection does
not split a person in two) overlaps it most, or whose centre is close; a person who leaves and comes back later
starts a new track. A track's P(fake) is the mean of its most-fake half (TRACK_AGGREGATIONS; docs/VIDEO.md says
why), and a clip's verdict is its most-fake track, as an image's is its most-fake face.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from . import constants as C
from .faces import Face

MAX_GAP = 2  # a track may skip one sampled frame
MAX_MOVE = 1.5  # face sizes a face may move between two sampled frames
TRACK_AGGREGATIONS = ("top_half_mean", "mean", "max")


@dataclass
class Sighting:
    """One face of one sampled frame: indices into the clip's frames and that frame's faces."""

    frame: int
    face: int
    box: tuple[float, float, float, float]


@dataclass
class Track:
    """The sightings of one person, in frame order."""

    id: int
    sightings: list[Sighting] = field(default_factory=list)


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


def side(box: Sequence[float]) -> float:
    """The longer side of a box."""
    return max(box[2] - box[0], box[3] - box[1], 1e-9)


def closeness(a: Sequence[float], b: Sequence[float]) -> float:
    """1 for the same centre, 0 at a distance of MAX_MOVE face sizes or more (sampled frames are far apart in
    time, so a face may move more than its width between them); 0 when one face is over twice the other's size."""
    if max(side(a), side(b)) > 2 * min(side(a), side(b)):
        return 0.0
    distance = math.dist(((a[0] + a[2]) / 2, (a[1] + a[3]) / 2), ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2))
    return max(0.0, 1.0 - distance / (MAX_MOVE * max(side(a), side(b))))


def similarity(a: Sequence[float], b: Sequence[float]) -> float:
    """How likely two boxes in nearby sampled frames are the same face: their IoU or centre closeness."""
    return max(iou(a, b), closeness(a, b))


def link_tracks(frames: Sequence[Sequence[Face]], threshold: float = C.TRACK_IOU) -> list[Track]:
    """Tracks over the faces of each sampled frame (greedy matching, most similar pairs first)."""
    tracks: list[Track] = []
    for index, faces in enumerate(frames):
        open_tracks = [t for t in tracks if index - t.sightings[-1].frame <= MAX_GAP]
        pairs = sorted(((similarity(t.sightings[-1].box, face.box), ti, fi)
                        for ti, t in enumerate(open_tracks) for fi, face in enumerate(faces)), reverse=True)
        used_tracks, used_faces = set(), set()
        for score, ti, fi in pairs:
            if score < threshold or ti in used_tracks or fi in used_faces:
                continue
            used_tracks.add(ti)
            used_faces.add(fi)
            open_tracks[ti].sightings.append(Sighting(index, fi, faces[fi].box))
        for fi, face in enumerate(faces):
            if fi not in used_faces:
                tracks.append(Track(len(tracks) + 1, [Sighting(index, fi, face.box)]))
    return tracks


def aggregate(probabilities: Sequence[float], method: str = "top_half_mean") -> float:
    """One P(fake) from several: the mean of the most-fake half (default), the plain mean, or the maximum."""
    return aggregated(probabilities, method)[0]


def aggregated(probabilities: Sequence[float], method: str = "top_half_mean") -> tuple[float, list[int]]:
    """aggregate's P(fake) and the indices of the probabilities it is the mean of (the most-fake half, all, or
    the most-fake one), so the kind of fake can be read from the same sightings."""
    values = np.asarray(probabilities, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no probabilities to aggregate")
    order = np.argsort(-values, kind="stable")
    counts = {"mean": values.size, "max": 1, "top_half_mean": math.ceil(values.size / 2)}
    if method not in counts:
        raise ValueError(f"Unknown aggregation {method!r}: choose one of {', '.join(TRACK_AGGREGATIONS)}")
    used = order[: counts[method]]
    return float(values[used].mean()), [int(i) for i in used]
