"""ONNX export and the ONNX Runtime classifier: same answers as PyTorch, metadata inside, server option."""

from __future__ import annotations

import gc
import io
import os
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest
from PIL import Image

from pipeline.checkpoint import file_hash, load_checkpoint
from pipeline.onnx_runtime import (
    ENGINES,
    META_KEY,
    VERSION_KEY,
    OnnxClassifier,
    export_onnx_bytes,
    meta_from_onnx,
    open_session,
    openvino_core,
    read_onnx_metadata,
)
from pipeline.torch_runtime import Classifier
from testdata import REPO_ROOT
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


@pytest.mark.parametrize("engine", ENGINES)
def test_onnx_probabilities_match_pytorch(tiny_checkpoint, engine):
    torch_classifier = Classifier.from_checkpoint(tiny_checkpoint)
    onnx_classifier = OnnxClassifier.from_checkpoint(tiny_checkpoint, torch_classifier, threads=1, engine=engine)
    assert onnx_classifier.runtime == engine
    images = sample_images()
    expected, actual = torch_classifier.probabilities(images), onnx_classifier.probabilities(images)
    np.testing.assert_allclose(actual, expected, atol=1e-4, rtol=0)
    np.testing.assert_allclose(onnx_classifier.probabilities(images[:1]), expected[:1], atol=1e-4, rtol=0)
    assert (onnx_classifier.name, onnx_classifier.version, onnx_classifier.meta) == (
        torch_classifier.name, torch_classifier.version, torch_classifier.meta)
    assert [onnx_classifier.label(float(p)) for p in actual] == [torch_classifier.label(float(p)) for p in expected]
    assert onnx_classifier.probabilities([]).shape == (0,)


def test_openvino_runs_the_exported_file_like_onnxruntime(tiny_checkpoint, tmp_path):
    output = tmp_path / "tiny.onnx"
    assert export_onnx.main(["--checkpoint", str(tiny_checkpoint), "--output", str(output)]) == 0
    on = {engine: OnnxClassifier.from_onnx(output, threads=1, engine=engine) for engine in ENGINES}
    size = on["openvino"].meta.image_size
    batch = np.random.default_rng(0).normal(size=(3, 3, size, size)).astype(np.float32)
    assert {engine: classifier.runtime for engine, classifier in on.items()} == {e: e for e in ENGINES}
    np.testing.assert_allclose(on["openvino"].logits(batch), on["onnxruntime"].logits(batch), atol=1e-5, rtol=0)
    np.testing.assert_allclose(on["openvino"].logits(batch[:1]), on["onnxruntime"].logits(batch[:1]), atol=1e-5)


@pytest.mark.timeout(120)
def test_openvino_answers_many_threads_at_once_without_deadlock(tiny_checkpoint):
    """gunicorn's threads share one classifier: each call gets its own input's logits, and none hangs."""
    rng, size = np.random.default_rng(1), load_checkpoint(tiny_checkpoint)[1].image_size
    batches = [rng.normal(size=(1, 3, size, size)).astype(np.float32) for _ in range(8)]
    for _ in range(3):  # a fresh classifier each time: the first calls are the ones that race
        classifier = OnnxClassifier.from_checkpoint(tiny_checkpoint, threads=1, engine="openvino")
        expected = [classifier.logits(batch) for batch in batches]
        start, results = threading.Barrier(len(batches)), {}

        def score(index: int) -> None:
            start.wait()
            results[index] = [classifier.logits(batches[index]) for _ in range(4)]

        threads = [threading.Thread(target=score, args=(i,)) for i in range(len(batches))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        for index, logits in results.items():
            for value in logits:
                np.testing.assert_array_equal(value, expected[index])
        assert len(results) == len(batches)


def test_every_openvino_session_shares_one_core_that_stays(tiny_checkpoint):
    """A released Core unloads OpenVINO's CPU plugin, after which a forked DataLoader segfaulted (tests/backend, then
    tests/test_bundled_model.py): the Core must outlive every session."""
    first = OnnxClassifier.from_checkpoint(tiny_checkpoint, threads=1, engine="openvino")
    core = openvino_core()
    del first
    gc.collect()
    second = OnnxClassifier.from_checkpoint(tiny_checkpoint, threads=1, engine="openvino")
    assert second.runtime == "openvino" and openvino_core() is core


def test_without_openvino_the_graph_runs_on_onnxruntime(tiny_checkpoint, monkeypatch, caplog):
    def missing():  # as where no OpenVINO wheel exists
        raise ModuleNotFoundError("No module named 'openvino'")

    monkeypatch.setattr("pipeline.onnx_runtime.openvino_core", missing)
    classifier = OnnxClassifier.from_checkpoint(tiny_checkpoint, threads=1, engine="openvino")
    assert classifier.runtime == "onnxruntime"
    assert "OpenVINO unavailable (ModuleNotFoundError" in caplog.text
    with pytest.raises(ValueError, match="Unknown ONNX engine 'tensorrt'"):
        open_session(b"", 1, "tensorrt", 32)


def test_the_first_inference_runs_at_load_and_a_graph_openvino_cannot_run_falls_back(tiny_checkpoint, monkeypatch,
                                                                                     caplog):
    calls = []

    def failing_run(self, output_names, feeds):
        calls.append(feeds["input"].shape)
        raise RuntimeError("Unsupported operation Foo")

    monkeypatch.setattr("pipeline.onnx_runtime.OpenVinoSession.run", failing_run)
    classifier = OnnxClassifier.from_checkpoint(tiny_checkpoint, threads=1, engine="openvino")
    size = classifier.meta.image_size
    assert calls == [(1, 3, size, size)]  # one blank input, before any request
    assert classifier.runtime == "onnxruntime" and classifier.probabilities(sample_images()[:1]).shape == (1,)
    assert "OpenVINO unavailable (RuntimeError: Unsupported operation Foo)" in caplog.text


def test_openvino_writes_nothing_and_reports_nowhere(tiny_checkpoint, tmp_path):
    output, home = tmp_path / "tiny.onnx", tmp_path / "home"
    home.mkdir()
    assert export_onnx.main(["--checkpoint", str(tiny_checkpoint), "--output", str(output)]) == 0
    code = ("import sys; from pipeline.onnx_runtime import OnnxClassifier; "
            f"scorer = OnnxClassifier.from_onnx({str(output)!r}, threads=1, engine='openvino'); "
            "print(scorer.runtime, sys.modules.get('openvino_telemetry'))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env={**os.environ, "HOME": str(home)},
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["openvino", "None"], result.stderr
    assert list(home.rglob("*")) == []  # no ~/intel/openvino_ga_cid


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
def test_server_runtimes_answer_like_torch(tiny_checkpoint, tmp_path):
    from backend import create_app
    from pipeline.onnx_runtime import OnnxClassifier as Onnx

    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(tiny_checkpoint, models / "tiny.pt")
    buffer = io.BytesIO()
    synthetic_face(1, 7, 120).save(buffer, format="PNG")
    answers = {}
    for runtime, engine in (("torch", "torch"), ("onnx", "onnxruntime"), ("openvino", "openvino")):
        app = create_app({"TESTING": True, "MODEL_DIR": str(models), "STATIC_DIR": str(tmp_path / "no-page"),
                          "THREADS": 1, "RUNTIME": runtime, "FACE_DETECTION": False})
        registry = app.extensions["deepfake_detector"].registry
        assert isinstance(registry.classifiers["tiny"], Onnx) == (runtime != "torch")
        assert app.test_client().get("/models").get_json()["models"][0]["runtime"] == engine
        response = app.test_client().post("/predict?explain=1", data=buffer.getvalue(), content_type="image/png")
        assert response.status_code == 200, response.get_json()
        answers[runtime] = response.get_json()
        explanation = answers[runtime]["explanation"]  # Grad-CAM still runs on the PyTorch model
        assert explanation["target"] == answers[runtime]["label"] and (explanation["heatmap_png"] or explanation["note"])
    for runtime in ("onnx", "openvino"):
        assert abs(answers[runtime]["probability_fake"] - answers["torch"]["probability_fake"]) <= 1e-4
        assert answers[runtime]["model"] == answers["torch"]["model"]
    assert sorted(p.name for p in models.iterdir()) == ["tiny.pt"]  # the export stayed in memory


def test_server_defaults_to_openvino_falling_back_to_onnxruntime_then_torch(tiny_checkpoint, tmp_path, monkeypatch,
                                                                             caplog):
    from backend import create_app

    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(tiny_checkpoint, models / "tiny.pt")
    config = {"TESTING": True, "MODEL_DIR": str(models), "STATIC_DIR": str(tmp_path / "no-page"), "THREADS": 1,
              "FACE_DETECTION": False}
    buffer = io.BytesIO()
    synthetic_face(0, 3, 96).save(buffer, format="PNG")

    def served(app) -> tuple[str, float]:
        answer = app.test_client().post("/predict", data=buffer.getvalue(), content_type="image/png")
        assert answer.status_code == 200
        return app.extensions["deepfake_detector"].registry.classifiers["tiny"].runtime, answer.get_json()["probability_fake"]

    runtime, expected = served(create_app(config))
    assert runtime == "openvino"

    def broken(name):
        def fail(*args, **kwargs):
            raise ImportError(f"{name}: cannot open shared object file")
        return fail

    monkeypatch.setattr("pipeline.onnx_runtime.OpenVinoSession", broken("libopenvino.so"))
    runtime, probability = served(create_app(config))
    assert runtime == "onnxruntime" and probability == pytest.approx(expected, abs=1e-4)
    assert "OpenVINO unavailable (ImportError: libopenvino.so" in caplog.text

    monkeypatch.setattr("pipeline.onnx_runtime.create_session", broken("libonnxruntime.so"))
    runtime, probability = served(create_app(config))
    assert runtime == "torch" and probability == pytest.approx(expected, abs=1e-4)


def test_the_predict_command_falls_back_like_the_server(tiny_checkpoint, tmp_path, monkeypatch, capsys):
    import json

    from commands import predict

    synthetic_face(0, 3, 96).save(tmp_path / "face.png")

    def predicted() -> float:
        assert predict.main([str(tmp_path / "face.png"), "--checkpoint", str(tiny_checkpoint), "--runtime",
                             "openvino", "--faces", "off", "--provenance", "off", "--format", "json"]) == 0
        (row,) = json.loads(capsys.readouterr().out)
        return row["probability_fake"]

    expected = predicted()

    def no_engine(*args, **kwargs):
        raise ImportError("no ONNX engine here")

    monkeypatch.setattr("pipeline.onnx_runtime.OpenVinoSession", no_engine)
    monkeypatch.setattr("pipeline.onnx_runtime.create_session", no_engine)
    assert predicted() == pytest.approx(expected, abs=1e-4)  # scored by PyTorch, as the server would be


def test_a_detector_that_cannot_load_stops_the_start_with_a_clear_message(tmp_path):
    from backend import create_app

    config = {"TESTING": True, "MODEL_DIR": str(tmp_path), "STATIC_DIR": str(tmp_path), "THREADS": 1}
    with pytest.raises(RuntimeError, match="FLASK_FACE_DETECTOR: Unknown face detector 'haar'"):
        create_app({**config, "FACE_DETECTOR": "haar"})
