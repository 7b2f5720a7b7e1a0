"""The committed checkpoints: metadata, size, and the Test accuracy the model card states."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from pipeline import constants as C
from pipeline.checkpoint import file_hash, meta_from_payload, read_checkpoint
from testdata import FACES_GAN, REPO_ROOT, require_dir
from training.assess import evaluate

MODELS_DIR = REPO_ROOT / "models"
CARD = MODELS_DIR / "MODEL_CARD.md"
MAX_COMMITTED_BYTES = 20 * 1024 * 1024


def committed_checkpoints() -> list:
    """*.pt files under models/ that git tracks."""
    listed = subprocess.run(["git", "ls-files", "models"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return sorted(REPO_ROOT / line for line in listed.stdout.splitlines() if line.endswith(".pt"))


def card_test_accuracy(name: str) -> float:
    """Test accuracy of a model from the card's table headed | model | ... | accuracy | ...."""
    lines = CARD.read_text().splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == "model" and "Test accuracy" in cells:
            column = cells.index("Test accuracy")
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                values = [c.strip().strip("*`") for c in row.strip().strip("|").split("|")]
                if values[0] == name:
                    return float(re.sub(r"[^0-9.]", "", values[column]))
    raise AssertionError(f"{CARD.name} has no Test accuracy for {name}")


def test_the_default_model_is_committed():
    names = [p.stem for p in committed_checkpoints()]
    assert C.DEFAULT_MODEL_NAME in names, f"models/{C.DEFAULT_MODEL_NAME}.pt is not tracked by git"
    assert CARD.is_file()


@pytest.mark.parametrize("path", committed_checkpoints(), ids=lambda p: p.name)
def test_committed_checkpoint_metadata(path):
    assert path.stat().st_size <= MAX_COMMITTED_BYTES
    payload = read_checkpoint(path)
    assert payload["class_names"] == list(C.CLASS_NAMES)
    assert payload["architecture"] in {"mobilenet_v2", "efficientnet_b0", "efficientnet_lite0", "resnet50", "resnet18",
                                       "mobilenet_v3_large"}
    assert payload["image_size"] >= 64
    assert payload["mean"] == pytest.approx(C.IMAGENET_MEAN) and payload["std"] == pytest.approx(C.IMAGENET_STD)
    assert 0 < payload["threshold"] < 1 and payload["temperature"] >= C.MIN_TEMPERATURE
    if "wild_mean_source_auc" in payload["metrics"]:  # picked on sources held out of training: judged there
        assert payload["metrics"]["wild_mean_source_auc"] > 0.8
    else:
        assert payload["metrics"]["val_auc"] > 0.85
    if not payload["config"].get("data_mix"):  # a mix's Validation holds hard pseudo-fakes and a high threshold
        assert payload["metrics"]["val_accuracy"] > 0.9
    assert "optimizer" not in payload
    assert path.stem in CARD.read_text()


@pytest.mark.parametrize("path", committed_checkpoints(), ids=lambda p: p.name)
def test_committed_onnx_sibling_is_exported_from_this_checkpoint(path):
    """The server loads models/NAME.onnx only when it matches NAME.pt; a stale one would cost every start an export."""
    from pipeline.onnx_runtime import VERSION_KEY, OnnxClassifier, meta_from_onnx, read_onnx_metadata

    sibling = path.with_suffix(".onnx")
    assert sibling.is_file() and sibling.stat().st_size <= MAX_COMMITTED_BYTES
    metadata = read_onnx_metadata(sibling)
    assert metadata[VERSION_KEY] == file_hash(path)
    # Fields a checkpoint predates (kind head, crop scale) take the same defaults on both sides.
    assert meta_from_onnx(metadata).to_dict() == meta_from_payload(read_checkpoint(path)).to_dict()
    assert OnnxClassifier.from_checkpoint(path).source == str(sibling)


@pytest.mark.parametrize("path", committed_checkpoints(), ids=lambda p: p.name)
def test_committed_onnx_scores_the_same_on_openvino_and_onnxruntime(path):
    """The threshold was calibrated on PyTorch/ONNX Runtime scores: OpenVINO (float32) must not move them."""
    from pipeline.onnx_runtime import OnnxClassifier
    from training.data.synthetic import synthetic_face

    on = {engine: OnnxClassifier.from_onnx(path.with_suffix(".onnx"), threads=1, engine=engine)
          for engine in ("openvino", "onnxruntime")}
    assert on["openvino"].runtime == "openvino"
    faces = [synthetic_face(label, seed, 200) for label in (0, 1) for seed in range(4)]
    scores = {engine: scorer.scores(faces) for engine, scorer in on.items()}
    np.testing.assert_allclose(scores["openvino"].fake, scores["onnxruntime"].fake, atol=1e-5, rtol=0)
    np.testing.assert_allclose(scores["openvino"].kinds, scores["onnxruntime"].kinds, atol=1e-5, rtol=0)
    assert scores["openvino"].fake.shape == (len(faces),)


@pytest.mark.shared_data
@pytest.mark.slow
@pytest.mark.parametrize("path", committed_checkpoints(), ids=lambda p: p.name)
def test_committed_checkpoint_scores_test_split_as_the_card_says(path, tmp_path):
    data = require_dir(FACES_GAN)
    out = tmp_path / "eval"
    assert evaluate.main(["--checkpoint", str(path), "--data-dir", str(data), "--split", "Test",
                          "--output-dir", str(out), "--workers", "2", "--device", "cpu"]) == 0
    measured = pd.read_csv(out / "metrics.csv")["accuracy"].iloc[0]
    assert measured == pytest.approx(card_test_accuracy(path.stem), abs=0.01)
