"""Face detection: crop geometry, the face path through /predict, and recall on real portrait photos."""

from __future__ import annotations

import base64
import io
import re
import time

import pytest
from PIL import Image

from pipeline.faces import Box, shared_detector, square_crop_box
from testdata import REAL_PHOTOS, require_dir

pytestmark = [pytest.mark.filterwarnings("error")]

# Photos with several people (by file name) do not count as single portraits.
MULTI_FACE = re.compile(r"group|couple|multi|many|two_people|_and_|kit_with_rose|bbt[0-9]|insightface__t1|"
                        r"img31|img40|img54", re.IGNORECASE)
PORTRAIT = "face_recognition_examples__examples__obama_small.jpg"
GROUP = "facenet_pytorch__multiface.jpg"


def single_portraits() -> list:
    """The single-person photos of the shared real-photo folder."""
    folder = require_dir(REAL_PHOTOS)
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")
                  and not MULTI_FACE.search(p.name))


def test_square_crop_box_enlarges_and_clips():
    assert square_crop_box((40, 40, 60, 80), (200, 200), scale=1.3) == Box(24, 34, 52, 52)
    assert square_crop_box((40, 40, 60, 80), (200, 200)) == Box(10, 20, 80, 80)  # default: face at half the width
    near_edge = square_crop_box((0, 0, 50, 50), (60, 40))
    assert near_edge == Box(5, 0, 40, 40)  # shrunk to the image's short side and shifted inside, still square


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.timeout(300)
def test_detection_recall_on_single_portraits(record_property):
    import torch

    from training.data import decode_image

    photos = single_portraits()
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as a gunicorn worker on 2 cores runs it; more threads thrash on a busy machine
    assert len(photos) >= 50
    detector = shared_detector()
    started = time.perf_counter()
    try:
        missed = [p.name for p in photos if not detector.detect(decode_image(p))]
    finally:
        torch.set_num_threads(previous_threads)
    found = len(photos) - len(missed)
    record_property("face_recall", f"{found}/{len(photos)}")
    print(f"face detection recall {found}/{len(photos)} = {found / len(photos):.1%} "
          f"in {time.perf_counter() - started:.1f} s; missed: {missed}")
    assert found / len(photos) >= 0.90, missed


@pytest.mark.shared_data
@pytest.mark.timeout(120)
def test_portrait_through_the_api(client):
    data = (require_dir(REAL_PHOTOS) / PORTRAIT).read_bytes()
    body = client.post("/predict?explain=1", data=data, content_type="image/jpeg").get_json()
    width, height = body["image"]["width"], body["image"]["height"]
    assert body["face_detected"] is True and len(body["faces"]) == 1
    face = body["faces"][0]
    x, y, w, h = face["box"]
    assert face["deciding"] is True and face["probability_fake"] == body["probability_fake"]
    assert 0 <= x and 0 <= y and x + w <= width and y + h <= height and w > 20 and abs(w - h) <= 1
    assert body["explanation"]["box"] == face["box"]
    heatmap = Image.open(io.BytesIO(base64.b64decode(body["explanation"]["heatmap_png"])))
    assert heatmap.size == (w, h) and heatmap.mode == "RGBA"


@pytest.mark.shared_data
@pytest.mark.timeout(120)
def test_group_photo_verdict_is_the_most_fake_face(client):
    data = (require_dir(REAL_PHOTOS) / GROUP).read_bytes()
    body = client.post("/predict?model=ensemble", data=data, content_type="image/jpeg").get_json()
    faces = body["faces"]
    assert len(faces) >= 2 and sum(face["deciding"] for face in faces) == 1
    deciding = next(face for face in faces if face["deciding"])
    assert deciding["probability_fake"] == max(face["probability_fake"] for face in faces) == body["probability_fake"]
    assert body["label"] == deciding["label"]
