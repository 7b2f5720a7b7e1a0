"""The JSON API: /predict, /models, /health, /openapi.json (registered at / and at /api)."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from pipeline.budget import BudgetExhausted, Deadline
from pipeline.provenance import load_trust_anchors, read_provenance
from pipeline.video import VideoProblem, sniff_container

from .openapi import openapi_document
from .predictor import predict as run_prediction
from .predictor import predict_clip
from .problems import ApiProblem
from .uploads import as_api_problem, check_image_size, decode_upload, out_of_time, read_upload, read_video

bp = Blueprint("api", __name__)

TRUE_WORDS = {"1", "true", "on", "yes"}
FALSE_WORDS = {"0", "false", "off", "no"}


def state() -> Any:
    """This worker's loaded models and face detector."""
    return current_app.extensions["deepfake_detector"]


def flag(name: str, default: bool) -> bool:
    """A boolean option from the query string or form (1/0, on/off, true/false, yes/no)."""
    raw = request.args.get(name, request.form.get(name) if request.form else None)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in TRUE_WORDS | FALSE_WORDS:
        return value in TRUE_WORDS
    raise ApiProblem(400, "invalid-option", "Invalid option",
                     f"Option {name!r} must be one of on/off, 1/0, true/false; got {raw!r}.")


def option(name: str) -> str | None:
    """A query-string option, or the form field of the same name."""
    return request.args.get(name) or (request.form.get(name) if request.form else None) or None


def frames_option(maximum: int, default: int) -> int:
    """The `frames` option of a clip: how many frames to sample (1..maximum)."""
    raw = option("frames")
    if raw is None:
        return default
    if not raw.strip().isdigit() or not 1 <= int(raw) <= maximum:
        raise ApiProblem(400, "invalid-option", "Invalid option",
                         f"Option 'frames' must be a whole number from 1 to {maximum}; got {raw!r}.")
    return int(raw)


def crop_scale(config: Any) -> float | None:
    """FLASK_CROP_SCALE when set (one crop scale for every model), else None: each model's own."""
    return float(config["CROP_SCALE"]) if config["CROP_SCALE"] else None


@bp.post("/predict")
def predict():
    """Classify an uploaded image or clip as real or fake (see /openapi.json)."""
    started = time.perf_counter()
    config = current_app.config
    model_name = option("model")
    faces, explain = flag("faces", True), flag("explain", False)
    frames = frames_option(int(config["VIDEO_MAX_FRAMES"]), int(config["VIDEO_DEFAULT_FRAMES"]))
    data = read_upload(request)
    # The budget counts from here: a slow upload is the network's time, not the server's work.
    deadline = Deadline(config["REQUEST_BUDGET_S"])
    try:
        result = analyse_upload(data, model_name, faces, explain, frames, deadline)
        if config["PROVENANCE"]:
            deadline.check("reading the provenance metadata")
            result["provenance"] = read_provenance(data, load_trust_anchors(config["PROVENANCE_TRUST_ANCHORS"]),
                                                   float(config["PROVENANCE_TIMEOUT_S"]))
    except BudgetExhausted as error:
        raise out_of_time(error) from None
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
    return jsonify(result)


def analyse_upload(data: bytes, model_name: str | None, faces: bool, explain: bool, frames: int,
                   deadline: Deadline) -> dict[str, Any]:
    """The answer for an uploaded image or clip (without provenance and latency_ms)."""
    config = current_app.config
    # With FLASK_FACE_DETECTION=false there is no detector: every image is then classified whole.
    detector = state().detector if faces else None
    container = sniff_container(data)  # what the bytes are, whatever the file name or Content-Type say
    if container:
        info, sampled = read_video(data, container, config, frames, deadline)
        # Looked up after the upload is checked, so a bad upload gets its own 4xx even when no model is loaded.
        predictor = state().registry.get(model_name)
        try:
            return predict_clip(info, sampled, predictor, detector, explain, crop_scale(config),
                                str(config["TRACK_AGGREGATION"]), deadline)
        except VideoProblem as problem:  # frames decode lazily: a clip with no decodable frame fails here
            raise as_api_problem(problem) from None
    check_image_size(data, int(config["IMAGE_MAX_BYTES"]))
    image = decode_upload(data, config["ACCEPTED_TYPES"], int(config["MAX_IMAGE_PIXELS"]),
                          int(config["MIN_IMAGE_SIDE"]), int(config["DECODE_MIN_SIDE"]))
    return run_prediction(image, state().registry.get(model_name), detector, explain, crop_scale(config),
                          deadline)


@bp.get("/models")
def models():
    """The loaded models and the default one."""
    registry = state().registry
    return jsonify({"default": registry.default, "models": registry.describe()})


@bp.get("/health")
def health():
    """Liveness: answers without touching a model."""
    return jsonify({"status": "ok", "models_loaded": len(state().registry)})


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document(current_app.config))
