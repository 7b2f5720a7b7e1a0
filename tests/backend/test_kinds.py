"""The kind of fake beside the verdict: a checkpoint with a kind head answers kind and kind_probabilities on the
image, each face, each track and the clip; an older checkpoint without the head answers null; each model gets
crops at its own crop scale from one face detection."""

from __future__ import annotations

import io
import shutil

import pytest
from clips import make_clip
from kind_model import kind_image, write_kind_checkpoint
from schema_check import errors, response_schema

from pipeline import constants as C
from pipeline.faces import Face

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.timeout(180)]

MARKS = ((0.0, 0.0),) * 5


class CountingDetector:
    """Finds the given faces in any image and counts its calls (faces are detected once per image)."""

    def __init__(self, faces):
        self.faces, self.calls = faces, 0

    def detect(self, image):
        self.calls += 1
        return self.faces


@pytest.fixture(scope="module")
def kind_app(tiny_checkpoint, tmp_path_factory):
    """An app serving the colour-kind checkpoint at two crop scales (kinds, kinds_wide) and an old one (alpha)."""
    from backend import create_app

    folder = tmp_path_factory.mktemp("kind-models")
    write_kind_checkpoint(folder / "kinds.pt", crop_scale=1.0)
    write_kind_checkpoint(folder / "kinds_wide.pt", crop_scale=3.0)
    shutil.copy(tiny_checkpoint, folder / "alpha.pt")
    return create_app({"TESTING": True, "MODEL_DIR": str(folder), "THREADS": 1, "DEFAULT_MODEL": "kinds",
                       "STATIC_DIR": str(tmp_path_factory.mktemp("no-page")), "ACCESS_LOG": False})


@pytest.fixture
def kind_client(kind_app):
    """A test client of kind_app, its detector swapped back after the test."""
    state = kind_app.extensions["deepfake_detector"]
    detector = state.detector
    yield kind_app.test_client()
    state.detector = detector


def png(image) -> bytes:
    """An image as PNG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def post(client, data: bytes, query: str = ""):
    """POST /predict with a raw body; the answer checked against the published schema."""
    response = client.post(f"/predict{query}", data=data, content_type="application/octet-stream")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    document = client.get("/openapi.json").get_json()
    assert errors(body, response_schema(document, "/predict", "post", "200", "application/json"), document) == []
    return body


@pytest.mark.parametrize("kind", C.KIND_NAMES)
def test_a_model_with_a_kind_head_names_the_kind(kind_client, kind):
    body = post(kind_client, png(kind_image(kind)), "?faces=off")
    assert body["label"] == "fake" and body["model"]["name"] == "kinds"
    assert body["kind"] == kind
    probabilities = body["kind_probabilities"]
    assert list(probabilities) == list(C.KIND_NAMES) and sum(probabilities.values()) == pytest.approx(1, abs=1e-5)
    assert max(probabilities, key=probabilities.get) == kind and probabilities[kind] > 0.8


def test_a_model_without_a_kind_head_answers_null(kind_client):
    body = post(kind_client, png(kind_image("gan")), "?faces=off&model=alpha")
    assert body["kind"] is None and body["kind_probabilities"] is None
    listed = {m["name"]: m["kinds"] for m in kind_client.get("/models").get_json()["models"]}
    assert listed == {"alpha": [], "kinds": list(C.KIND_NAMES), "kinds_wide": list(C.KIND_NAMES)}


def test_each_face_has_its_kind_and_the_deciding_face_gives_the_image_its_kind(kind_app, kind_client):
    image = kind_image("gan", 200)
    image.paste(kind_image("swap", 60), (120, 120))  # a blue face in the corner of a red picture
    kind_app.extensions["deepfake_detector"].detector = CountingDetector(
        [Face((60, 60, 140, 140), 0.9, MARKS), Face((135, 135, 165, 165), 0.8, MARKS)])
    body = post(kind_client, png(image))
    assert [face["kind"] for face in body["faces"]] == ["gan", "swap"]
    deciding = next(face for face in body["faces"] if face["deciding"])
    assert (body["kind"], body["kind_probabilities"]) == (deciding["kind"], deciding["kind_probabilities"])


def test_the_ensemble_crops_once_per_scale_from_one_detection(kind_app, kind_client):
    """kinds (crop x1) sees the red face alone; kinds_wide (crop x3) sees mostly the blue picture around it."""
    image = kind_image("swap", 300)
    image.paste(kind_image("gan", 60), (120, 120))
    detector = CountingDetector([Face((125, 125, 175, 175), 0.9, MARKS)])
    kind_app.extensions["deepfake_detector"].detector = detector
    tight, wide, ensemble = (post(kind_client, png(image), f"?model={name}") for name in
                             ("kinds", "kinds_wide", "ensemble"))
    assert detector.calls == 3
    assert tight["kind"] == "gan" and wide["kind"] == "swap"
    assert tight["faces"][0]["box"] == [125, 125, 50, 50] and wide["faces"][0]["box"] == [75, 75, 150, 150]
    for kind in C.KIND_NAMES:
        mean = (tight["kind_probabilities"][kind] + wide["kind_probabilities"][kind]) / 2
        assert ensemble["kind_probabilities"][kind] == pytest.approx(mean, abs=1e-5)
    assert ensemble["faces"][0]["box"] == tight["faces"][0]["box"]  # the default (explained) model's crop


def test_one_crop_scale_for_every_model_when_configured(tiny_checkpoint, tmp_path):
    from backend import create_app

    write_kind_checkpoint(tmp_path / "kinds.pt", crop_scale=1.0)
    app = create_app({"TESTING": True, "MODEL_DIR": str(tmp_path), "THREADS": 1, "CROP_SCALE": 2.0,
                      "STATIC_DIR": str(tmp_path), "ACCESS_LOG": False})
    app.extensions["deepfake_detector"].detector = CountingDetector([Face((125, 125, 175, 175), 0.9, MARKS)])
    body = post(app.test_client(), png(kind_image("gan", 300)))
    assert body["faces"][0]["box"] == [100, 100, 100, 100]


def test_a_clip_track_and_the_clip_carry_the_kind(kind_app, kind_client):
    kind_app.extensions["deepfake_detector"].detector = CountingDetector([Face((50, 30, 110, 90), 0.9, MARKS)])
    clip = make_clip(2, 10, (160, 120), "mp4", face=kind_image("diffusion", 100))
    body = post(kind_client, clip, "?frames=6")
    (track,) = body["tracks"]
    assert track["kind"] == max(track["kind_probabilities"], key=track["kind_probabilities"].get)
    assert (body["kind"], body["kind_probabilities"]) == (track["kind"], track["kind_probabilities"])
    old = post(kind_client, clip, "?frames=6&model=alpha")
    assert old["kind"] is None and all(t["kind"] is None and t["kind_probabilities"] is None for t in old["tracks"])
