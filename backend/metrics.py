"""Prometheus metrics at GET /metrics: requests, per-stage latency, faces per upload, verdicts, loaded models.

Under gunicorn every worker writes its samples to PROMETHEUS_MULTIPROC_DIR (set and emptied by gunicorn.conf.py,
in /dev/shm, outside TMPDIR) and /metrics adds them up; without it (flask run, tests) the counters live in memory.
Those sample files are the only thing the server writes while it answers requests. FLASK_METRICS=false
switches the endpoint and the counting off.
"""

from __future__ import annotations

import functools
import os
import time
from typing import Any, Callable

from flask import Flask, Response, g, has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import REGISTRY, multiprocess

STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
FACE_BUCKETS = (0, 1, 2, 3, 4, 6, 8, 12, 16, 32)

REQUESTS = Counter("deepfake_requests_total", "HTTP requests by endpoint, status and media type (image, video or "
                   "none when no media was analysed)", ["endpoint", "status", "media"])
REQUEST_SECONDS = Histogram("deepfake_request_seconds", "Time to answer a request, by endpoint", ["endpoint"],
                            buckets=STAGE_BUCKETS)
STAGE_SECONDS = Histogram("deepfake_stage_seconds", "Time per stage of /predict: decode (from the request's start "
                          "to the first model call: upload read and decoded), detect (face detector), classify "
                          "(one batch through one model)", ["stage"], buckets=STAGE_BUCKETS)
FACES = Histogram("deepfake_faces_per_upload", "Faces found per analysed upload (a clip: its face tracks)",
                  ["media"], buckets=FACE_BUCKETS)
VERDICTS = Counter("deepfake_verdicts_total", "Answers of /predict by label (real / fake), verdict (real / uncertain / "
                   "fake) and media type", ["label", "verdict", "media"])
MODEL_INFO = Gauge("deepfake_model_info", "The loaded models (value 1)", ["name", "version", "runtime"],
                   multiprocess_mode="livemax")


def timed(method: Callable[..., Any], stage: str) -> Callable[..., Any]:
    """A bound method that records its duration as `stage` (and the decode stage before the first model call)."""
    if getattr(method, "timed_stage", None):  # a detector shared by several apps is instrumented once
        return method

    @functools.wraps(method)
    def run(*args: Any, **kwargs: Any) -> Any:
        mark_decoded()
        with STAGE_SECONDS.labels(stage).time():
            return method(*args, **kwargs)

    run.timed_stage = stage
    return run


def mark_decoded() -> None:
    """Record the decode stage once per request: the time from its start to the first model call."""
    if not has_request_context():
        return
    started = g.get("metrics_started")
    if started is not None and not g.get("metrics_decoded"):
        g.metrics_decoded = True
        STAGE_SECONDS.labels("decode").observe(time.perf_counter() - started)


def endpoint_name() -> str:
    """The route's view name without the blueprint (so /predict and /api/predict count together)."""
    return (request.endpoint or "unmatched").rsplit(".", 1)[-1]


def record_request(response: Response) -> Response:
    """Count the request; for a /predict answer also its verdict and number of faces."""
    media = "none"
    if endpoint_name() == "predict" and response.status_code == 200 and response.is_json:
        answer = response.get_json(silent=True) or {}
        media = str(answer.get("media", "image"))
        VERDICTS.labels(str(answer.get("label")), str(answer.get("verdict")), media).inc()
        FACES.labels(media).observe(len(answer.get("tracks", answer.get("faces", []))))
    REQUESTS.labels(endpoint_name(), str(response.status_code), media).inc()
    started = g.get("metrics_started")
    if started is not None:
        REQUEST_SECONDS.labels(endpoint_name()).observe(time.perf_counter() - started)
    return response


def start_timer() -> None:
    """Note when the request started."""
    g.metrics_started = time.perf_counter()


def metrics_view() -> Response:
    """The Prometheus text exposition, summed over every gunicorn worker in multiprocess mode."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def install_metrics(app: Flask, state: Any) -> None:
    """Time the detector and the models of `state`, count every request and serve GET /metrics."""
    if not app.config["METRICS"]:
        return
    # Instance attributes over the methods: the objects keep their types (tests and the registry check them).
    if state.detector is not None:
        state.detector.detect = timed(state.detector.detect, "detect")
    for name, scorer in state.registry.classifiers.items():
        scorer.scores = timed(scorer.scores, "classify")
        MODEL_INFO.labels(name, scorer.version, scorer.runtime).set(1)
    app.before_request(start_timer)
    app.after_request(record_request)
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
