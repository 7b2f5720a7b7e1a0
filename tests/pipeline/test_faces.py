"""Face detection (pipeline.faces): output decoding, known faces, every real photo, EXIF rotation, settings."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from pipeline import constants as C
from pipeline.errors import UserError
from pipeline.faces import (
    Box,
    RetinaFaceDetector,
    YuNetDetector,
    create_detector,
    nms,
    shared_detector,
    square_crop_box,
    verified_weights,
)
from pipeline.media import decode_image
from testdata import REAL_PHOTOS, require_dir

pytestmark = [pytest.mark.timeout(300)]

# A photo the YuNet weights' README decodes with OpenCV's FaceDetectorYN as an independent reference.
BIDEN = "face_recognition_examples__examples__biden.jpg"
BIDEN_BOX = (429.3, 175.8, 429.3 + 276.4, 175.8 + 382.3)
BIDEN_LANDMARKS = [(531.5, 323.6), (651.7, 345.3), (593.1, 411.0), (513.3, 450.1), (618.0, 470.1)]
MULTI_FACE = re.compile(r"group|couple|multi|many|two_people|_and_|kit_with_rose|bbt[0-9]|insightface__t1|"
                        r"img31|img40|img54", re.IGNORECASE)


def photo_paths() -> list:
    """Every real photo of the shared folder."""
    folder = require_dir(REAL_PHOTOS)
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def iou(a, b) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union


def test_square_crop_box_enlarges_and_clips():
    assert square_crop_box((40, 40, 60, 80), (200, 200), scale=1.3) == Box(24, 34, 52, 52)
    assert square_crop_box((40, 40, 60, 80), (200, 200)) == Box(10, 20, 80, 80)  # default: face at half the width
    near_edge = square_crop_box((0, 0, 50, 50), (60, 40))
    assert near_edge == Box(5, 0, 40, 40)  # shrunk to the image's short side and shifted inside, still square


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=np.float32)
    assert nms(boxes, np.array([0.8, 0.9, 0.7]), 0.3) == [1, 2]
    assert nms(boxes, np.array([0.8, 0.9, 0.7]), 0.99) == [1, 0, 2]


def test_yunet_decoding_of_one_grid_cell(monkeypatch):
    """A single confident cell at stride 16, row 2, col 3 decodes to the box and landmarks the format defines."""
    detector = YuNetDetector()
    height, width = 64, 96  # already multiples of 32: no padding
    outputs = {}
    for stride in YuNetDetector.STRIDES:
        cells = (height // stride) * (width // stride)
        outputs.update({f"cls_{stride}": np.zeros((1, cells, 1), np.float32),
                        f"obj_{stride}": np.zeros((1, cells, 1), np.float32),
                        f"bbox_{stride}": np.zeros((1, cells, 4), np.float32),
                        f"kps_{stride}": np.zeros((1, cells, 10), np.float32)})
    cell = 2 * (width // 16) + 3
    outputs["cls_16"][0, cell, 0], outputs["obj_16"][0, cell, 0] = 0.81, 1.0  # score sqrt(0.81) = 0.9
    outputs["bbox_16"][0, cell] = [0.5, 0.25, np.log(2.0), np.log(3.0)]
    outputs["kps_16"][0, cell] = [0, 0, 1, 0, 0.5, 0.5, 0, 1, 1, 1]
    monkeypatch.setattr(detector, "session", FakeSession(outputs, detector.output_names))
    (face,) = detector.detect_small(np.zeros((height, width, 3), np.uint8))
    cx, cy, w, h = (3 + 0.5) * 16, (2 + 0.25) * 16, 2.0 * 16, 3.0 * 16
    assert face.score == pytest.approx(0.9)
    assert face.box == pytest.approx((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    np.testing.assert_allclose(face.landmarks, [(48, 32), (64, 32), (56, 40), (48, 48), (64, 48)], atol=1e-4)


class FakeSession:
    """Stands in for an onnxruntime session, returning fixed outputs."""

    def __init__(self, outputs: dict, names: list[str]):
        self.outputs, self.names = outputs, names

    def run(self, names, feeds):
        assert feeds["input"].shape[2] % 32 == 0 and feeds["input"].shape[3] % 32 == 0
        return [self.outputs[name] for name in names]


@pytest.mark.parametrize("name", ["yunet", "retinaface"])
def test_blank_and_noise_images_have_no_face(name):
    detector = shared_detector(name)
    assert detector.detect(Image.new("RGB", (640, 480), (128, 128, 128))) == []
    assert detector.detect(Image.new("RGB", (5, 3), (0, 0, 0))) == []  # a sliver
    rng = np.random.default_rng(0)
    assert detector.detect(Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8))) == []


def test_a_new_detector_has_run_once_before_its_first_photo(monkeypatch):
    calls = []
    original = YuNetDetector.detect_small

    def counted(self, rgb):
        calls.append(rgb.shape)
        return original(self, rgb)

    monkeypatch.setattr(YuNetDetector, "detect_small", counted)
    detector = create_detector("yunet")
    assert calls == [(64, 64, 3)]  # a blank image: the first inference's set-up is paid here
    assert detector.detect(Image.new("RGB", (64, 64))) == [] and len(calls) == 2


def test_unknown_detector_and_wrong_weights_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="Unknown face detector"):
        create_detector("haar")
    tampered = tmp_path / "yunet.onnx"
    tampered.write_bytes(C.YUNET_WEIGHTS.read_bytes() + b"\0")
    with pytest.raises(UserError, match="SHA-256"):
        verified_weights(tampered, C.YUNET_SHA256)
    with pytest.raises(UserError, match="not readable"):
        verified_weights(tmp_path / "missing.onnx", C.YUNET_SHA256)


@pytest.mark.shared_data
def test_yunet_matches_the_reference_decoder_on_a_known_face():
    image = decode_image(require_dir(REAL_PHOTOS) / BIDEN)
    (face,) = YuNetDetector(max_side=max(image.size)).detect(image)  # full resolution, as the reference ran
    assert face.score == pytest.approx(0.934, abs=1e-3)
    assert face.box == pytest.approx(BIDEN_BOX, abs=0.2)
    np.testing.assert_allclose(face.landmarks, BIDEN_LANDMARKS, atol=0.2)
    (small,) = shared_detector().detect(image)  # on the <= 320 px copy: the same face
    assert iou(small.box, BIDEN_BOX) > 0.85
    (retina,) = RetinaFaceDetector().detect(image)
    assert iou(retina.box, BIDEN_BOX) > 0.8
    assert np.abs(np.subtract(retina.landmarks, BIDEN_LANDMARKS)).max() < 15


@pytest.mark.shared_data
@pytest.mark.slow
def test_every_real_photo_has_a_face_with_sane_geometry(record_property):
    detector = shared_detector()
    photos = photo_paths()
    assert len(photos) >= 150
    missed = []
    for path in photos:
        image = decode_image(path)
        faces = detector.detect(image)
        if not faces:
            missed.append(path.name)
        for face in faces:
            x1, y1, x2, y2 = face.box
            assert 0 <= x1 < x2 <= image.width and 0 <= y1 < y2 <= image.height, path.name
            assert C.YUNET_MIN_CONFIDENCE <= face.score <= 1
            margin = 0.25 * max(x2 - x1, y2 - y1)  # landmarks may stick out of a tight box a little
            for x, y in face.landmarks:
                assert x1 - margin <= x <= x2 + margin and y1 - margin <= y <= y2 + margin, path.name
        scores = [face.score for face in faces]
        assert scores == sorted(scores, reverse=True)
    record_property("photos_with_a_face", f"{len(photos) - len(missed)}/{len(photos)}")
    assert (len(photos) - len(missed)) / len(photos) >= 0.98, missed


@pytest.mark.shared_data
@pytest.mark.parametrize("orientation, rotate", [(6, Image.Transpose.ROTATE_90), (8, Image.Transpose.ROTATE_270),
                                                 (3, Image.Transpose.ROTATE_180)])
def test_exif_rotated_photo_is_detected_upright(orientation, rotate):
    """A phone photo stored sideways with an EXIF orientation tag: the face is found where it is when upright."""
    upright = decode_image(require_dir(REAL_PHOTOS) / BIDEN)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    upright.transpose(rotate).save(buffer, format="JPEG", quality=95, exif=exif)
    decoded = decode_image(buffer.getvalue())
    assert decoded.size == upright.size
    (face,) = shared_detector().detect(decoded)
    (reference,) = shared_detector().detect(upright)
    assert iou(face.box, reference.box) > 0.9
