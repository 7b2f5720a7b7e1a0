"""The original project's serving approach, for comparison only: the model is rebuilt and its weights are
torch.load-ed from disk inside every request. Served by gunicorn as `benchmarks.legacy_serving:create_app()` with
LEGACY_CHECKPOINT=path; no face detection (the original had none)."""

from __future__ import annotations

import os

import torch
from flask import Flask, jsonify, request

from pipeline.checkpoint import load_checkpoint
from training.assess.metrics import fake_probability
from training.data.dataset import decode_image, preprocess


def create_app() -> Flask:
    """A Flask app whose /predict reloads the checkpoint per request."""
    app = Flask(__name__)
    checkpoint = os.environ["LEGACY_CHECKPOINT"]
    torch.set_num_threads(int(os.environ.get("FLASK_THREADS", "1")))

    @app.get("/health")
    def health():
        return jsonify({"status": "ok"})

    @app.post("/predict")
    def predict():
        data = request.files["file"].read() if "file" in request.files else request.get_data()
        image = decode_image(data)
        model, meta = load_checkpoint(checkpoint)  # the per-request reload being measured
        with torch.inference_mode():
            logits = model(preprocess(image, meta.image_size, meta.mean, meta.std))
        probability = float(fake_probability(logits, meta.temperature)[0])
        return jsonify({"probability_fake": probability, "label": "fake" if probability >= meta.threshold else "real"})

    return app
