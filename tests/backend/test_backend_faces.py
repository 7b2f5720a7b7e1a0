"""Faces through POST /predict: boxes, landmarks, heat map, and the most-fake face deciding (detector itself:
tests/pipeline/test_faces.py)."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from pipeline.scoring import verdict_of
from testdata import REAL_PHOTOS, require_dir

pytestmark = [pytest.mark.filterwarnings("error")]

PORTRAIT = "face_recognition_examples__examples__obama_small.jpg"
GROUP = "facenet_pytorch__multiface.jpg"


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
    assert len(face["landmarks"]) == 5 and 0.7 <= face["detector_score"] <= 1
    assert all(x <= lx <= x + w and y <= ly <= y + h for lx, ly in face["landmarks"])  # inside the crop
    (left_x, _), (right_x, _) = face["landmarks"][:2]
    assert left_x < right_x  # subject's right eye first: image-left in a frontal photo
    assert body["explanation"]["box"] == face["box"]
    if body["explanation"]["heatmap_png"] is not None:  # the tiny test model may find no evidence either way
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
    assert (body["label"], body["verdict"]) == (deciding["label"], deciding["verdict"])
    for face in faces:
        assert face["verdict"] == verdict_of(face["probability_fake"], body["threshold"])
