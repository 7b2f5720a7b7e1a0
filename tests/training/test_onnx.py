"""ONNX export and the ONNX Runtime classifier: same answers as PyTorch, metadata inside, server option."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from PIL import Image

from pipeline.checkpoint import file_hash, load_checkpoint
from pipeline.onnx_runtime import (
    META_KEY,
    VERSION_KEY,
    OnnxClassifier,
    export_onnx_bytes,
    meta_from_onnx,
    read_onnx_metadata,
)
from pipeline.torch_runtime import Classifier
from training.data.synthetic import synthetic_face
from training.ship import export_onnx

pytestmark = [pytest.mark.timeout(120)]


def sample_images() -> list[Image.Image]:
    """Faces of several sizes and aspect ratios (preprocessing resizes them all)."""
    return [synthetic_face(i % 2, i, size) for i, size in enumerate((48, 97, 200, 31))] + [
        Image.effect_noise((120, 80), 50).convert("RGB")]


def test_export_command_writes_onnx_with_metadata_and_dynamic_batch(tiny_checkpoint, tmp_path, capsys):
    output = tmp_path / "tiny.onnx"
    assert export_onnx.main(["--checkpoint", str(tiny_checkpoint), "--output", str(output)]) == 0
    assert "wrote" in capsys.readouterr().out
    metadata = read_onnx_metadata(output)
    assert metadata[VERSION_KEY] == file_hash(tiny_checkpoint)
    _, meta = load_checkpoint(tiny_checkpoint)
    assert meta_from_onnx(metadata) == meta and META_KEY in metadata
    classifier = OnnxClassifier.from_onnx(output)
    for batch_size in (1, 5):
        assert classifier.probabilities(sample_images()[:batch_size]).shape == (batch_size,)
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.onnx"]  # no temp file left behind


@pytest.mark.parametrize("argv, message", [
    (["--checkpoint", "missing.pt"], "not found"),
    (["--checkpoint", "CHECKPOINT", "--output", "x.txt"], "must end in .onnx"),
    ([], "required"),
])
def test_export_command_bad_input_exits_2(argv, message, tiny_checkpoint, tmp_path, capsys):
    argv = [str(tiny_checkpoint) if a == "CHECKPOINT" else str(tmp_path / a) if a.endswith((".pt", ".txt")) else a
            for a in argv]
    assert export_onnx.main(argv) == 2
    assert message in capsys.readouterr().err


def test_onnx_probabilities_match_pytorch(tiny_checkpoint):
    torch_classifier = Classifier.from_checkpoint(tiny_checkpoint)
    onnx_classifier = OnnxClassifier.from_checkpoint(tiny_checkpoint, torch_classifier)
    images = sample_images()
    expected, actual = torch_classifier.probabilities(images), onnx_classifier.probabilities(images)
    np.testing.assert_allclose(actual, expected, atol=1e-4, rtol=0)
    np.testing.assert_allclose(onnx_classifier.probabilities(images[:1]), expected[:1], atol=1e-4, rtol=0)
    assert (onnx_classifier.name, onnx_classifier.version, onnx_classifier.meta) == (
        torch_classifier.name, torch_classifier.version, torch_classifier.meta)
    assert [onnx_classifier.label(float(p)) for p in actual] == [torch_classifier.label(float(p)) for p in expected]
    assert onnx_classifier.probabilities([]).shape == (0,)


def test_a_kind_head_and_crop_scale_survive_the_export(tmp_path, capsys):
    from kind_model import kind_image, write_kind_checkpoint

    checkpoint = write_kind_checkpoint(tmp_path / "kinds.pt", crop_scale=1.5)
    assert export_onnx.main(["--checkpoint", str(checkpoint)]) == 0
    onnx_classifier = OnnxClassifier.from_onnx(checkpoint.with_suffix(".onnx"))
    torch_classifier = Classifier.from_checkpoint(checkpoint)
    assert onnx_classifier.meta == torch_classifier.meta
    assert (onnx_classifier.meta.kind_names, onnx_classifier.meta.crop_scale) == (["gan", "diffusion", "swap"], 1.5)
    images = [kind_image(kind) for kind in ("gan", "diffusion", "swap")] + sample_images()
    expected, actual = torch_classifier.scores(images), onnx_classifier.scores(images)
    np.testing.assert_allclose(actual.fake, expected.fake, atol=1e-4, rtol=0)
    np.testing.assert_allclose(actual.kinds, expected.kinds, atol=1e-4, rtol=0)
    assert actual.kinds[:3].argmax(axis=1).tolist() == [0, 1, 2] and actual.kind_names == ("gan", "diffusion", "swap")
    assert OnnxClassifier.from_checkpoint(checkpoint).source == str(checkpoint.with_suffix(".onnx"))


def test_sibling_onnx_used_only_when_it_matches(tiny_checkpoint, tmp_path):
    checkpoint = tmp_path / "model.pt"
    shutil.copy(tiny_checkpoint, checkpoint)
    assert OnnxClassifier.from_checkpoint(checkpoint).source == "memory"
    assert list(tmp_path.iterdir()) == [checkpoint]  # exported in memory, nothing written

    assert export_onnx.main(["--checkpoint", str(checkpoint)]) == 0
    assert OnnxClassifier.from_checkpoint(checkpoint).source == str(checkpoint.with_suffix(".onnx"))

    model, meta = load_checkpoint(checkpoint)
    checkpoint.with_suffix(".onnx").write_bytes(export_onnx_bytes(model, meta, "another-ckpt"))
    assert OnnxClassifier.from_checkpoint(checkpoint).source == "memory"
    checkpoint.with_suffix(".onnx").write_bytes(b"not an onnx file")
    assert OnnxClassifier.from_checkpoint(checkpoint).source == "memory"


@pytest.mark.filterwarnings("error")
def test_server_runtime_onnx_answers_like_torch(tiny_checkpoint, tmp_path):
    from backend import create_app
    from pipeline.onnx_runtime import OnnxClassifier as Onnx

    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(tiny_checkpoint, models / "tiny.pt")
    buffer = io.BytesIO()
    synthetic_face(1, 7, 120).save(buffer, format="PNG")
    answers = {}
    for runtime in ("torch", "onnx"):
        app = create_app({"TESTING": True, "MODEL_DIR": str(models), "STATIC_DIR": str(tmp_path / "no-page"),
                          "THREADS": 1, "RUNTIME": runtime, "FACE_DETECTION": False})
        registry = app.extensions["deepfake_detector"].registry
        assert isinstance(registry.classifiers["tiny"], Onnx) == (runtime == "onnx")
        response = app.test_client().post("/predict?explain=1", data=buffer.getvalue(), content_type="image/png")
        assert response.status_code == 200, response.get_json()
        answers[runtime] = response.get_json()
        explanation = answers[runtime]["explanation"]  # Grad-CAM still runs on the PyTorch model
        assert explanation["target"] == answers[runtime]["label"] and (explanation["heatmap_png"] or explanation["note"])
    assert abs(answers["onnx"]["probability_fake"] - answers["torch"]["probability_fake"]) <= 1e-4
    assert answers["onnx"]["model"] == answers["torch"]["model"]
    assert sorted(p.name for p in models.iterdir()) == ["tiny.pt"]  # the export stayed in memory


def test_server_defaults_to_onnx_and_falls_back_to_torch_when_onnxruntime_fails(tiny_checkpoint, tmp_path,
                                                                                  monkeypatch):
    from backend import create_app

    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(tiny_checkpoint, models / "tiny.pt")
    config = {"TESTING": True, "MODEL_DIR": str(models), "STATIC_DIR": str(tmp_path / "no-page"), "THREADS": 1,
              "FACE_DETECTION": False}
    buffer = io.BytesIO()
    synthetic_face(0, 3, 96).save(buffer, format="PNG")
    default = create_app(config)
    assert isinstance(default.extensions["deepfake_detector"].registry.classifiers["tiny"], OnnxClassifier)
    expected = default.test_client().post("/predict", data=buffer.getvalue(), content_type="image/png").get_json()

    def broken_session(*args, **kwargs):
        raise ImportError("libonnxruntime.so: cannot open shared object file")

    monkeypatch.setattr("pipeline.onnx_runtime.create_session", broken_session)
    fallback = create_app(config)
    assert type(fallback.extensions["deepfake_detector"].registry.classifiers["tiny"]) is Classifier
    response = fallback.test_client().post("/predict", data=buffer.getvalue(), content_type="image/png")
    assert response.status_code == 200
    assert response.get_json()["probability_fake"] == pytest.approx(expected["probability_fake"], abs=1e-4)


def test_a_detector_that_cannot_load_stops_the_start_with_a_clear_message(tmp_path):
    from backend import create_app

    config = {"TESTING": True, "MODEL_DIR": str(tmp_path), "STATIC_DIR": str(tmp_path), "THREADS": 1}
    with pytest.raises(RuntimeError, match="FLASK_FACE_DETECTOR: Unknown face detector 'haar'"):
        create_app({**config, "FACE_DETECTOR": "haar"})
