"""The API's happy paths: upload styles, model choice, options, listings, prefixes, CORS, the page."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from backend_samples import face_jpeg, face_png
from PIL import Image
from schema_check import errors, response_schema

from pipeline import constants as C

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.timeout(120)]

JPEG = face_jpeg(1)


def assert_prediction(client, body: dict) -> None:
    """A /predict answer validates against the schema /openapi.json publishes."""
    document = client.get("/openapi.json").get_json()
    schema = response_schema(document, "/predict", "post", "200", "application/json")
    assert errors(body, schema, document) == []


def post_file(client, data: bytes = JPEG, field: str = "file", query: str = "", **form):
    """POST /predict with a multipart upload."""
    return client.post(f"/predict{query}", data={field: (io.BytesIO(data), "face.jpg"), **form},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("field", ["file", "image"])
def test_multipart_upload_fields(client, field):
    response = post_file(client, field=field)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert_prediction(client, body)
    assert body["label"] in ("real", "fake")
    assert body["kind"] is None and body["kind_probabilities"] is None  # an older checkpoint: no kind head
    assert body["model"]["name"] == "alpha"  # first by name: no default configured, no mobilenet_v2-faces-gan
    assert body["image"] == {"width": 96, "height": 96}


def test_verdict_follows_the_threshold_in_three_bands(app, client, monkeypatch):
    meta = app.extensions["deepfake_detector"].registry.classifiers["alpha"].meta
    probability = post_file(client, query="?model=alpha").get_json()["probability_fake"]
    assert 0.05 < probability < 0.8  # the fixture model's score of this face, which the bands below are set around
    for threshold, expected in [(probability, ("fake", "fake")), (probability / 0.85, ("real", "uncertain")),
                                (probability / (C.UNCERTAIN_FRACTION - 0.05), ("real", "real"))]:
        monkeypatch.setattr(meta, "threshold", threshold)
        body = post_file(client, query="?model=alpha").get_json()
        assert body["threshold"] == pytest.approx(threshold)
        assert (body["label"], body["verdict"]) == expected


def test_raw_body_upload_matches_multipart(client):
    raw = client.post("/predict", data=JPEG, content_type="image/jpeg").get_json()
    multipart = post_file(client).get_json()
    assert raw["probability_fake"] == multipart["probability_fake"]
    assert_prediction(client, raw)


def test_options_as_form_fields(client):
    body = post_file(client, model="beta", faces="off", explain="1").get_json()
    assert body["model"]["name"] == "beta" and body["face_detected"] is False and "explanation" in body


@pytest.mark.parametrize("model", ["alpha", "beta", "ensemble"])
def test_each_model_and_the_ensemble(client, model):
    body = post_file(client, query=f"?model={model}&faces=off").get_json()
    assert body["model"]["name"] == model
    alpha = post_file(client, query="?model=alpha&faces=off").get_json()
    # Both files hold the same weights, so the ensemble mean equals each member.
    assert body["probability_fake"] == pytest.approx(alpha["probability_fake"], abs=1e-6)
    versions = {m["name"]: m["hash"] for m in client.get("/models").get_json()["models"]}
    expected = "+".join([versions["alpha"], versions["beta"]]) if model == "ensemble" else versions[model]
    assert body["model"]["version"] == expected


def test_faces_off_classifies_the_whole_image(client):
    body = post_file(client, query="?faces=off").get_json()
    assert body["face_detected"] is False and body["faces"] == []


@pytest.mark.parametrize("model", ["alpha", "ensemble"])
def test_explain_returns_heatmap_of_the_box_size(client, model):
    body = post_file(client, data=face_png(2, 80), query=f"?explain=1&faces=off&model={model}").get_json()
    assert_prediction(client, body)
    explanation = body["explanation"]
    assert explanation["box"] == [0, 0, 80, 80]
    assert explanation["target"] == body["label"]  # the map explains the verdict, whichever it is
    if explanation["heatmap_png"] is None:
        assert "No region pushed the model toward" in explanation["note"]
    else:
        heatmap = Image.open(io.BytesIO(base64.b64decode(explanation["heatmap_png"])))
        assert heatmap.format == "PNG" and heatmap.mode == "RGBA" and heatmap.size == (80, 80)
        assert explanation["note"] is None


def test_grad_cam_of_either_class_is_never_empty_for_both(tiny_checkpoint):
    """The 'real' map is where the 'fake' evidence is negative: a real verdict gets a map too (it used to be blank)."""
    from backend.gradcam import GradCam
    from pipeline.torch_runtime import Classifier

    explainer = GradCam(Classifier.from_checkpoint(tiny_checkpoint))
    for seed in range(3):
        image = Image.open(io.BytesIO(face_png(seed, 96))).convert("RGB")
        fake, real = explainer(image, target="fake"), explainer(image, target="real")
        assert fake.shape == real.shape and fake.max() <= 1 and real.max() <= 1
        assert fake.max() > 0 or real.max() > 0
        assert not (fake > 0.5).any() or not (real > 0.5)[fake > 0.5].all()  # different regions, not one map twice


def test_same_probability_as_classifier(client, tiny_checkpoint):
    """One preprocessing path: the API (faces=off) and Classifier.probabilities agree."""
    from pipeline.torch_runtime import Classifier
    from training.data.dataset import decode_image

    classifier = Classifier.from_checkpoint(tiny_checkpoint)
    for data in (JPEG, face_png(5, 123), face_jpeg(6, 300)):
        expected = float(classifier.probabilities([decode_image(data)])[0])
        body = client.post("/predict?faces=off", data=data, content_type="image/jpeg").get_json()
        assert body["probability_fake"] == pytest.approx(expected, abs=1e-6)
        assert body["threshold"] == pytest.approx(classifier.meta.threshold)


def test_models_listing(client, tiny_checkpoint):
    from pipeline.checkpoint import file_hash

    body = client.get("/models").get_json()
    assert body["default"] == "alpha"
    assert [m["name"] for m in body["models"]] == ["alpha", "beta"]
    first = body["models"][0]
    assert first["architecture"] == "mobilenet_v2" and first["input_size"] == 32
    assert first["hash"] == file_hash(tiny_checkpoint)
    assert set(first) == {"name", "architecture", "input_size", "threshold", "temperature", "kinds", "metrics", "hash",
                          "runtime"}
    assert first["runtime"] == "openvino"  # the default runtime, installed by requirements-nodeps.txt
    assert first["kinds"] == []  # no kind head: answers carry kind null


def test_health(client):
    assert client.get("/health").get_json() == {"status": "ok", "models_loaded": 2}


def test_openapi_document(client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    for path in ("/predict", "/models", "/health", "/openapi.json"):
        assert path in document["paths"] and "/api" + path in document["paths"]
    assert "post" in document["paths"]["/predict"]
    schemas = document["components"]["schemas"]
    assert {"Prediction", "Face", "Explanation", "Problem"} <= set(schemas)
    problem = client.get("/predict").get_json()
    assert errors(problem, {"$ref": "#/components/schemas/Problem"}, document) == []


@pytest.mark.parametrize("path", ["/health", "/models", "/openapi.json"])
def test_api_prefix_is_equivalent(client, path):
    assert client.get("/api" + path).get_json() == client.get(path).get_json()


def test_api_prefix_predict(client):
    plain = post_file(client, query="?faces=off").get_json()
    prefixed = client.post("/api/predict?faces=off", data={"file": (io.BytesIO(JPEG), "f.jpg")}).get_json()
    assert prefixed["probability_fake"] == plain["probability_fake"]
    assert client.get("/api/predict").status_code == 405


def test_cors_allows_configured_origin(client):
    origin = "http://localhost:5173"
    response = client.get("/api/models", headers={"Origin": origin})
    assert response.headers.get("Access-Control-Allow-Origin") == origin
    preflight = client.options("/api/predict", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert preflight.headers.get("Access-Control-Allow-Origin") == origin


def test_cors_denies_other_origin(client):
    response = client.get("/api/models", headers={"Origin": "http://evil.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_origins_from_environment(monkeypatch, model_dir, tmp_path):
    from backend import create_app

    monkeypatch.setenv("FLASK_CORS_ORIGINS", "https://detector.example")
    monkeypatch.setenv("FLASK_MAX_CONTENT_LENGTH", "1234")
    app = create_app({"MODEL_DIR": str(model_dir), "STATIC_DIR": str(tmp_path), "THREADS": 1})
    client = app.test_client()
    assert app.config["MAX_CONTENT_LENGTH"] == 1234
    allowed = client.get("/health", headers={"Origin": "https://detector.example"})
    assert allowed.headers.get("Access-Control-Allow-Origin") == "https://detector.example"
    denied = client.get("/health", headers={"Origin": "http://localhost:5173"})
    assert "Access-Control-Allow-Origin" not in denied.headers


def test_default_upload_limit_comes_from_limits_json(app):
    import json

    from pipeline.constants import REPO_ROOT

    limits = json.loads((REPO_ROOT / "config" / "limits.json").read_text())
    assert app.config["IMAGE_MAX_BYTES"] == limits["max_upload_bytes"]
    assert app.config["VIDEO_MAX_BYTES"] == limits["max_video_upload_bytes"]
    assert app.config["MAX_CONTENT_LENGTH"] == max(limits["max_upload_bytes"], limits["max_video_upload_bytes"])
    assert app.config["ACCEPTED_TYPES"] == limits["accepted_types"]
    assert app.config["ACCEPTED_VIDEO_TYPES"] == limits["accepted_video_types"]
    assert (app.config["VIDEO_DEFAULT_FRAMES"], app.config["VIDEO_MAX_FRAMES"]) == (16, 64)


def test_default_model_from_config(model_dir, tmp_path):
    from backend import create_app

    app = create_app({"MODEL_DIR": str(model_dir), "STATIC_DIR": str(tmp_path), "DEFAULT_MODEL": "beta",
                      "THREADS": 1})
    client = app.test_client()
    assert client.get("/models").get_json()["default"] == "beta"
    assert client.post("/predict?faces=off", data=JPEG, content_type="image/jpeg").get_json()["model"]["name"] == "beta"


def test_no_models_still_starts(tmp_path, caplog):
    from backend import create_app

    empty = tmp_path / "models"
    empty.mkdir()
    (empty / "broken.pt").write_bytes(b"not a checkpoint")
    app = create_app({"MODEL_DIR": str(empty), "STATIC_DIR": str(tmp_path), "THREADS": 1})
    client = app.test_client()
    assert "broken.pt" in caplog.text
    assert client.get("/health").get_json() == {"status": "ok", "models_loaded": 0}
    assert client.get("/models").get_json() == {"default": None, "models": []}
    response = client.post("/predict", data=JPEG, content_type="image/jpeg")
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert "no model" in response.get_json()["title"].lower()


def test_invalid_checkpoint_skipped_beside_valid(model_dir, tmp_path, tiny_checkpoint):
    import shutil

    from backend import create_app

    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(tiny_checkpoint, folder / "good.pt")
    (folder / "bad.pt").write_bytes(b"\x00" * 100)
    app = create_app({"MODEL_DIR": str(folder), "STATIC_DIR": str(tmp_path), "THREADS": 1})
    client = app.test_client()
    assert [m["name"] for m in client.get("/models").get_json()["models"]] == ["good"]
    # The ensemble of a single model is that model under the name "ensemble".
    single = client.post("/predict?faces=off", data=JPEG, content_type="image/jpeg").get_json()
    ensemble = client.post("/predict?faces=off&model=ensemble", data=JPEG, content_type="image/jpeg").get_json()
    assert ensemble["model"]["name"] == "ensemble" and ensemble["probability_fake"] == single["probability_fake"]


def test_fallback_page_when_not_built(client):
    response = client.get("/")
    assert response.status_code == 200 and b"API" in response.data and b"npm run build" in response.data


def test_built_page_is_served(model_dir, tmp_path):
    from backend import create_app

    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root></div>")
    (dist / "assets" / "index-abc.js").write_text("console.log(1)")
    (dist / "favicon.svg").write_text("<svg/>")
    client = create_app({"MODEL_DIR": str(model_dir), "STATIC_DIR": str(dist), "THREADS": 1}).test_client()
    # File responses stream from disk: close them (ResourceWarnings are errors here).
    with client.get("/") as page:
        assert page.data.startswith(b"<!doctype html><div id=root>")
    with client.get("/assets/index-abc.js") as asset:
        assert asset.data == b"console.log(1)"
    with client.get("/favicon.svg") as icon:
        assert icon.status_code == 200
    assert client.get("/assets/missing.js").status_code == 404
    assert client.get("/predict").status_code == 405  # the page adds no catch-all route
    assert client.get("/api/health").get_json()["status"] == "ok"


def test_probabilities_are_finite_and_deterministic(client):
    first = post_file(client, query="?faces=off").get_json()["probability_fake"]
    second = post_file(client, query="?faces=off").get_json()["probability_fake"]
    assert np.isfinite(first) and first == second


def test_face_detection_can_be_disabled(model_dir, tmp_path):
    from backend import create_app

    app = create_app({"MODEL_DIR": str(model_dir), "STATIC_DIR": str(tmp_path), "FACE_DETECTION": False,
                      "THREADS": 1})
    body = app.test_client().post("/predict", data=JPEG, content_type="image/jpeg").get_json()
    assert body["face_detected"] is False and body["faces"] == []
