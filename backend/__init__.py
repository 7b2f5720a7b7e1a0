"""Flask inference API of deepfake-detector: `create_app()` is the application factory."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from flask_cors import CORS
from PIL import Image

from pipeline import constants as C
from pipeline.errors import UserError
from pipeline.faces import FaceDetector, shared_detector
from pipeline.provenance import load_trust_anchors
from pipeline.system import available_cpus
from pipeline.tracks import TRACK_AGGREGATIONS

from .auth import install_auth
from .limits import install_limits, trust_proxy_headers
from .logs import install_logs
from .metrics import install_metrics
from .predictor import ModelRegistry
from .problems import register_error_handler
from .uploads import InMemoryRequest

logger = logging.getLogger(__name__)

LIMITS_FILE = C.REPO_ROOT / "config" / "limits.json"
DEFAULT_CORS_ORIGINS = "http://localhost:5173,http://127.0.0.1:5173"


@dataclass
class ServingState:
    """What each worker loads once at start: the models and the face detector."""

    registry: ModelRegistry
    detector: FaceDetector | None


def load_limits(path: Path = LIMITS_FILE) -> dict[str, Any]:
    """The upload limits shared with the frontend (config/limits.json)."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def as_list(value: Any) -> list[str]:
    """A list from a JSON list or a comma-separated string (FLASK_CORS_ORIGINS accepts both)."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [str(item) for item in value or []]


def load_detector(config: Mapping[str, Any], threads: int) -> FaceDetector | None:
    """The configured face detector, or None when detection is switched off; a bad setting stops the start."""
    if not config["FACE_DETECTION"]:
        return None
    try:
        return shared_detector(str(config["FACE_DETECTOR"]).strip().lower(), int(config["DETECT_MAX_SIDE"]), threads)
    except UserError as error:
        raise RuntimeError(f"FLASK_FACE_DETECTOR: {error}") from None


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then FLASK_* environment variables, then test_config; load models once."""
    app = Flask(__name__)
    app.request_class = InMemoryRequest
    limits = load_limits()
    app.config.from_mapping(
        MODEL_DIR=str(C.MODELS_DIR),
        DEFAULT_MODEL=None,
        DEVICE="cpu",
        RUNTIME=C.DEFAULT_RUNTIME,  # one of C.RUNTIMES; Grad-CAM always uses PyTorch
        THREADS=None,  # intra-op threads of the models and the detector; gunicorn gives each worker cores / workers
        IMAGE_MAX_BYTES=int(limits["max_upload_bytes"]),
        ACCEPTED_TYPES=list(limits["accepted_types"]),
        MAX_IMAGE_PIXELS=40_000_000,
        MIN_IMAGE_SIDE=C.MIN_IMAGE_SIDE,
        VIDEO_MAX_BYTES=int(limits["max_video_upload_bytes"]),
        VIDEO_MAX_DURATION_S=float(limits["max_video_duration_s"]),
        VIDEO_MAX_PIXELS=C.MAX_VIDEO_PIXELS,
        VIDEO_MAX_FRAME_COUNT=C.MAX_VIDEO_FRAME_COUNT,
        VIDEO_DEFAULT_FRAMES=int(limits["default_video_frames"]),
        VIDEO_MAX_FRAMES=int(limits["max_video_frames"]),
        ACCEPTED_VIDEO_TYPES=list(limits["accepted_video_types"]),
        TRACK_AGGREGATION=C.TRACK_AGGREGATION,
        FACE_DETECTION=True,
        FACE_DETECTOR=C.DEFAULT_FACE_DETECTOR,
        DETECT_MAX_SIDE=C.DETECT_MAX_SIDE,
        CROP_SCALE=None,  # a number crops faces at that scale for every model; None: each model's own crop_scale
        DECODE_MIN_SIDE=C.DECODE_MIN_SIDE,
        CORS_ORIGINS=DEFAULT_CORS_ORIGINS,
        PROVENANCE=True,  # read C2PA, XMP, EXIF and PNG-text provenance; off: answers have no `provenance`
        PROVENANCE_TRUST_ANCHORS=None,  # PEM file of trusted C2PA signing roots (e.g. the C2PA trust list)
        PROVENANCE_TIMEOUT_S=1.0,  # C2PA validation budget per upload; slower ones report state "skipped"
        # Wall-clock seconds of work per /predict (after the upload is read), checked between packets, frames and
        # batches: past it, 503 time-budget-exhausted. Under nginx's 120 s proxy_read_timeout; 0 or empty: none.
        REQUEST_BUDGET_S=90.0,
        STATIC_DIR=str(C.REPO_ROOT / "frontend" / "dist"),
        METRICS=True,  # GET /metrics (Prometheus), never behind the API key
        API_KEYS=None,  # comma-separated keys; with them (or API_KEYS_FILE, SHA-256 digests) /predict, /models need one
        API_KEYS_FILE=None,
        RATE_LIMIT=None,  # e.g. "60/minute" per API key (else per client address) on /predict and /models
        RATE_LIMIT_STORAGE="memory://",  # redis://HOST:6379 when several replicas share the limits
        PROXY_HOPS=0,  # proxies in front (nginx: 1) whose X-Forwarded-For/-Proto are trusted
        ACCESS_LOG=True,  # JSON access lines on stdout
        JSON_SORT_KEYS=False,
    )
    app.config.from_prefixed_env()
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.json.sort_keys = False
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        # Werkzeug answers 413 before reading a body over this: the larger (clip) limit; images are checked after.
        app.config["MAX_CONTENT_LENGTH"] = max(int(app.config["IMAGE_MAX_BYTES"]), int(app.config["VIDEO_MAX_BYTES"]))

    try:
        app.config["REQUEST_BUDGET_S"] = float(app.config["REQUEST_BUDGET_S"] or 0) or None
    except (TypeError, ValueError):
        raise RuntimeError("FLASK_REQUEST_BUDGET_S must be a number of seconds (0 or empty: no budget)") from None
    if app.config["TRACK_AGGREGATION"] not in TRACK_AGGREGATIONS:
        raise RuntimeError(f"FLASK_TRACK_AGGREGATION must be one of {', '.join(TRACK_AGGREGATIONS)}")
    # PyTorch's threads are set where it is first imported (backend/loading.py): a lean worker never imports it.
    threads = max(1, int(app.config["THREADS"] or available_cpus()))

    registry = ModelRegistry.load(Path(app.config["MODEL_DIR"]), device=app.config["DEVICE"],
                                  default=app.config["DEFAULT_MODEL"], fallback_default=C.DEFAULT_MODEL_NAME,
                                  runtime=str(app.config["RUNTIME"]).strip().lower(), threads=threads)
    app.extensions["deepfake_detector"] = ServingState(registry, load_detector(app.config, threads))
    Image.init()  # Pillow imports its format plugins on the first decode (~30 ms): at start, not in the first request
    try:  # read once here, so a bad path stops the start instead of failing requests
        load_trust_anchors(app.config["PROVENANCE_TRUST_ANCHORS"])
    except UserError as error:
        raise RuntimeError(f"FLASK_PROVENANCE_TRUST_ANCHORS: {error}") from None
    logger.info("Serving %d model(s) from %s; default %s; runtime %s; detector %s; %d thread(s)", len(registry),
                app.config["MODEL_DIR"], registry.default, app.config["RUNTIME"],
                app.config["FACE_DETECTOR"] if app.config["FACE_DETECTION"] else "off", threads)

    CORS(app, origins=as_list(app.config["CORS_ORIGINS"]))
    register_error_handler(app)
    trust_proxy_headers(app)
    install_logs(app)
    install_metrics(app, app.extensions["deepfake_detector"])
    install_limits(app)  # before the key check, so failed keys count against the caller's address
    install_auth(app)

    from .api import bp as api_bp
    from .pages import register_page

    app.register_blueprint(api_bp)
    app.register_blueprint(api_bp, url_prefix="/api", name="api_prefixed")
    register_page(app)
    return app
