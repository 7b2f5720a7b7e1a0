"""End-to-end tests of the train, evaluate, predict and sweep commands, run in-process through main(argv)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

import provenance_fixtures as fx
from commands import predict
from pipeline.checkpoint import read_checkpoint
from pipeline.loading import load_scorer
from testdata import REPO_ROOT, TINY_IMAGE_SIZE
from training.assess import evaluate, sweep
from training.data.synthetic import make_dataset
from training.fit import train
from training.fit.train import SUMMARY_COLUMNS
from training.ship import package


def train_argv(data_dir, output_dir, model="mobilenet_v2", epochs=2, run_name="run", *extra):
    return [
        "--data-dir", str(data_dir), "--model", model, "--epochs", str(epochs), "--batch-size", "8",
        "--image-size", str(TINY_IMAGE_SIZE), "--workers", "0", "--output-dir", str(output_dir),
        "--run-name", run_name, "--seed", "0", *extra,
    ]


def assert_valid_png(path):
    assert path.is_file(), path
    with Image.open(path) as image:
        image.verify()
        assert image.format == "PNG"


@pytest.mark.parametrize("model", ["resnet50", "efficientnet_b0", "mobilenet_v2"])
def test_train_two_epochs_writes_a_complete_run(tiny_dataset, tmp_path, model):
    assert train.main(train_argv(tiny_dataset, tmp_path, model)) == 0
    run = tmp_path / "run"
    summary = pd.read_csv(run / "summary.csv")
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert summary["epoch"].tolist() == [1, 2]
    assert summary[["val_accuracy", "val_f1", "val_auc"]].apply(lambda c: c.between(0, 1).all()).all()
    assert (summary["train_images_per_s"] > 0).all() and (summary["train_loss"] > 0).all()
    assert_valid_png(run / "curves.png")
    assert "model: " + model in (run / "config.yaml").read_text()
    best = read_checkpoint(run / "best.pt")
    assert best["architecture"] == model
    assert best["class_names"] == ["Real", "Fake"]
    assert best["image_size"] == TINY_IMAGE_SIZE
    assert best["temperature"] > 0 and 0 < best["threshold"] < 1
    assert set(best["metrics"]) >= {"val_accuracy", "val_auc", "val_loss"}
    assert "optimizer" not in best and "optimizer" in read_checkpoint(run / "last.pt")


def test_resume_continues_the_same_run(tiny_dataset, tmp_path):
    assert train.main(train_argv(tiny_dataset, tmp_path, epochs=1)) == 0
    last = tmp_path / "run" / "last.pt"
    assert train.main(train_argv(tiny_dataset, tmp_path, epochs=2, *[]) + ["--resume", str(last)]) == 0
    summary = pd.read_csv(tmp_path / "run" / "summary.csv")
    assert summary["epoch"].tolist() == [1, 2]
    assert read_checkpoint(last)["epoch"] == 2


def test_resume_rejects_another_architecture(tiny_run, tmp_path, tiny_dataset, capsys):
    argv = train_argv(tiny_dataset, tmp_path, model="resnet18", epochs=3) + ["--resume", str(tiny_run / "last.pt")]
    assert train.main(argv) == 2
    assert "holds a mobilenet_v2 model" in capsys.readouterr().err


def test_evaluate_writes_metrics_plots_and_report(tiny_run, tiny_dataset, tmp_path):
    out = tmp_path / "eval"
    assert evaluate.main(["--checkpoint", str(tiny_run), "--data-dir", str(tiny_dataset), "--output-dir", str(out), "--workers", "0"]) == 0
    table = pd.read_csv(out / "metrics.csv")
    assert set(table["checkpoint"]) == {"best", "last"}
    for column in ("accuracy", "precision", "recall", "f1", "auc", "eer"):
        assert table[column].between(0, 1).all(), column
    assert (table["images"] == 12).all()
    assert (table[["tn", "fp", "fn", "tp"]].sum(axis=1) == 12).all()
    for name in ("best", "last"):
        assert_valid_png(out / f"{name}_confusion.png")
        assert_valid_png(out / f"{name}_roc.png")
    report = (out / "report.md").read_text()
    assert "| best |" in report and "best_confusion.png" in report
    assert json.loads((out / "metrics.json").read_text())[0]["split"] == "Test"


def test_predict_agrees_with_evaluate(tiny_checkpoint, tiny_dataset, tmp_path, capsys):
    out = tmp_path / "eval"
    assert evaluate.main(["--checkpoint", str(tiny_checkpoint), "--data-dir", str(tiny_dataset), "--output-dir", str(out), "--workers", "0"]) == 0
    expected = pd.read_csv(out / "best_predictions.csv").set_index("file")["probability_fake"]
    capsys.readouterr()
    assert predict.main([str(tiny_dataset / "Test"), "--checkpoint", str(tiny_checkpoint), "--format", "json",
                         "--faces", "off"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 12
    scorer = load_scorer(tiny_checkpoint, "torch", torch.device("cpu"))
    for row in rows:
        assert 0.0 <= row["probability_fake"] <= 1.0
        assert row["label"] == ("fake" if row["probability_fake"] >= 0.5 else "real")
        assert row["verdict"] == scorer.verdict(row["probability_fake"])
        assert row["verdict"] == ("fake" if row["probability_fake"] >= 0.5 else
                                  "uncertain" if row["probability_fake"] >= 0.35 else "real")
        assert row["face_detected"] is False and row["faces"] == 0
        assert row["probability_fake"] == pytest.approx(expected[row["file"]], abs=1e-5)


def test_predict_csv_and_table_formats(tiny_checkpoint, tiny_dataset, capsys):
    image = sorted((tiny_dataset / "Test" / "Real").iterdir())[0]
    assert predict.main([str(image), "--checkpoint", str(tiny_checkpoint), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == ("file,media,label,verdict,probability_fake,kind,kind_probability_gan,kind_probability_diffusion,"
                        "kind_probability_swap,face_detected,faces,error,provenance_verdict,provenance_source")
    assert lines[1].startswith(str(image)) and ",,,,," in lines[1]  # no kind head: the kind columns are empty
    assert predict.main([str(image), "--checkpoint", str(tiny_checkpoint)]) == 0
    assert capsys.readouterr().out.splitlines()[0].split() == ["file", "verdict", "kind", "provenance",
                                                               "probability_fake"]


def test_predict_names_the_kind_of_fake_like_the_server(tmp_path, capsys):
    from kind_model import kind_image, write_kind_checkpoint

    from backend import create_app

    checkpoint = write_kind_checkpoint(tmp_path / "models" / "kinds.pt")
    for kind in ("gan", "diffusion", "swap"):
        kind_image(kind).save(tmp_path / f"{kind}.png")
    assert predict.main([str(tmp_path / "gan.png"), str(tmp_path / "diffusion.png"), str(tmp_path / "swap.png"),
                         "--checkpoint", str(checkpoint), "--format", "csv", "--provenance", "off"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["kind"] for row in rows] == ["gan", "diffusion", "swap"]
    client = create_app({"TESTING": True, "MODEL_DIR": str(tmp_path / "models"), "STATIC_DIR": str(tmp_path),
                         "THREADS": 1, "ACCESS_LOG": False}).test_client()
    for row in rows:
        served = client.post("/predict", data=Path(row["file"]).read_bytes(),
                             content_type="application/octet-stream").get_json()
        assert {kind: float(row[f"kind_probability_{kind}"]) for kind in served["kind_probabilities"]} == \
            pytest.approx(served["kind_probabilities"], abs=1e-5)
    assert predict.main([str(tmp_path / "swap.png"), "--checkpoint", str(checkpoint)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[1:3] == ["fake", "swap"]


@pytest.mark.parametrize("threshold, fake_logit, label, verdict", [
    (0.5, 3.0, "fake", "fake"),  # P(fake) 0.953, at or above the threshold
    (0.99, 3.0, "real", "uncertain"),  # 0.953: below the threshold, above 0.7 x 0.99 = 0.693
    (0.5, -3.0, "real", "real"),  # 0.047, below 0.7 x 0.5
])
def test_predict_gives_the_servers_three_way_verdict(tmp_path, capsys, threshold, fake_logit, label, verdict):
    from kind_model import kind_image, write_kind_checkpoint

    from backend import create_app

    checkpoint = write_kind_checkpoint(tmp_path / "models" / "kinds.pt", threshold=threshold, fake_logit=fake_logit)
    kind_image("gan").save(tmp_path / "face.png")
    (tmp_path / "notes.jpg").write_text("not an image")
    files = [str(tmp_path / "face.png"), str(tmp_path / "notes.jpg")]
    assert predict.main([*files, "--checkpoint", str(checkpoint), "--format", "csv", "--provenance", "off"]) == 0
    good, bad = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert (good["label"], good["verdict"], bad["label"], bad["verdict"]) == (label, verdict, "error", "error")
    scorer = load_scorer(checkpoint, "torch", torch.device("cpu"))
    assert scorer.verdict(float(good["probability_fake"])) == verdict
    client = create_app({"TESTING": True, "MODEL_DIR": str(tmp_path / "models"), "STATIC_DIR": str(tmp_path),
                         "THREADS": 1, "ACCESS_LOG": False}).test_client()
    served = client.post("/predict", data=(tmp_path / "face.png").read_bytes(),
                         content_type="application/octet-stream").get_json()
    assert (served["label"], served["verdict"]) == (label, verdict)
    assert predict.main([*files, "--checkpoint", str(checkpoint), "--provenance", "off"]) == 0
    table = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [row[1] for row in table] == ["verdict", verdict, "error"]


def test_predict_reports_provenance(tiny_checkpoint, tmp_path, capsys):
    for name in ("a1111-png", "signed-camera-jpeg", "plain-jpeg"):
        (tmp_path / f"{name}.{name.rsplit('-', 1)[1]}").write_bytes(fx.FIXTURES[name]())
    assert predict.main([str(tmp_path), "--checkpoint", str(tiny_checkpoint), "--format", "json"]) == 0
    found = {os.path.splitext(os.path.basename(row["file"]))[0]: (row["provenance_verdict"], row["provenance_source"])
             for row in json.loads(capsys.readouterr().out)}
    assert found == {"a1111-png": ("generated", "png-text"), "signed-camera-jpeg": ("camera", "c2pa+exif"),
                     "plain-jpeg": ("unknown", "")}
    assert predict.main([str(tmp_path), "--checkpoint", str(tiny_checkpoint), "--format", "json",
                         "--provenance", "off"]) == 0
    assert {row["provenance_verdict"] for row in json.loads(capsys.readouterr().out)} == {None}


def test_predict_reports_unreadable_files(tiny_checkpoint, tmp_path, capsys):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    assert predict.main([str(bad), "--checkpoint", str(tiny_checkpoint), "--format", "json"]) == 2
    captured = capsys.readouterr()
    assert (json.loads(captured.out)[0]["label"], json.loads(captured.out)[0]["verdict"]) == ("error", "error")
    assert "could not be read" in captured.err


def test_sweep_reuses_epoch_checkpoints(tiny_dataset, tmp_path):
    out = tmp_path / "sweep"
    argv = ["--data-dir", str(tiny_dataset), "--models", "mobilenet_v2", "--epochs", "1", "2",
            "--image-size", str(TINY_IMAGE_SIZE), "--batch-size", "8", "--workers", "0", "--output-dir", str(out)]
    assert sweep.main(argv) == 0
    assert len(pd.read_csv(out / "runs" / "mobilenet_v2" / "summary.csv")) == 2  # trained once, not per count
    table = pd.read_csv(out / "report" / "metrics.csv")
    assert table["checkpoint"].tolist() == ["mobilenet_v2_1_epochs", "mobilenet_v2_2_epochs"]
    assert table["epoch"].tolist() == [1, 2]
    assert (out / "report" / "report.md").is_file()


@pytest.mark.timeout(300)
def test_two_process_ddp_on_cpu(tiny_dataset, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "training.train", *train_argv(tiny_dataset, tmp_path, epochs=1), "--device", "cpu"]
    # A new session, so that on a timeout the launcher and both ranks are killed together.
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=280)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("2-process DDP run did not finish in 280 s")
    assert process.returncode == 0, stderr[-3000:]
    config = (tmp_path / "run" / "config.yaml").read_text()
    assert "world_size: 2" in config
    summary = pd.read_csv(tmp_path / "run" / "summary.csv")
    assert len(summary) == 1  # only rank 0 writes
    assert summary["skipped_files"].iloc[0] == 0
    assert read_checkpoint(tmp_path / "run" / "best.pt")["epoch"] == 1


def test_package_recalibrates_and_halves(tiny_checkpoint, tiny_dataset, tmp_path, capsys):
    output = tmp_path / "models" / "tiny.pt"
    argv = ["--checkpoint", str(tiny_checkpoint), "--data-dir", str(tiny_dataset), "--output", str(output), "--half", "--workers", "0"]
    assert package.main(argv) == 0
    packaged = read_checkpoint(output)
    assert packaged["state_dict"]["features.0.0.weight"].dtype == torch.float16
    assert "optimizer" not in packaged and packaged["temperature"] >= 1.0
    assert packaged["config"]["packaged_from"] == str(tiny_checkpoint)
    assert output.stat().st_size < 0.6 * tiny_checkpoint.stat().st_size
    assert "Validation accuracy" in capsys.readouterr().out


# ---- bad input ---------------------------------------------------------------------------------------


def test_missing_data_dir_is_a_clear_error(tmp_path, capsys):
    assert train.main(train_argv(tmp_path / "nowhere", tmp_path)) == 2
    err = capsys.readouterr().err
    assert "Data folder not found" in err and "nowhere" in err and "Traceback" not in err


def test_empty_class_is_a_clear_error(tiny_dataset, tmp_path, capsys):
    data = shutil.copytree(tiny_dataset, tmp_path / "data")
    for file in (data / "Train" / "Fake").iterdir():
        file.unlink()
    assert train.main(train_argv(data, tmp_path)) == 2
    assert "No images" in capsys.readouterr().err


def test_missing_split_is_a_clear_error(tiny_dataset, tmp_path, capsys):
    data = shutil.copytree(tiny_dataset, tmp_path / "data")
    shutil.rmtree(data / "Validation")
    assert train.main(train_argv(data, tmp_path)) == 2
    assert "Validation" in capsys.readouterr().err


def test_unknown_model_is_a_clear_error(tiny_dataset, tmp_path, capsys):
    assert train.main(train_argv(tiny_dataset, tmp_path, model="vgg99")) == 2
    assert "Unknown model 'vgg99'" in capsys.readouterr().err


def test_bad_arguments_exit_2(capsys):
    assert train.main(["--epochs", "3"]) == 2
    assert "--data-dir" in capsys.readouterr().err


def test_corrupted_images_are_skipped_and_counted(tmp_path):
    data = make_dataset(tmp_path / "data", train=6, validation=4, test=2)
    (data / "Train" / "Real" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    good = sorted((data / "Train" / "Fake").iterdir())[0].read_bytes()
    (data / "Validation" / "Fake" / "truncated.jpg").write_bytes(good[: len(good) // 3])
    assert train.main(train_argv(data, tmp_path, epochs=1)) == 0
    summary = pd.read_csv(tmp_path / "run" / "summary.csv")
    assert summary["skipped_files"].iloc[0] == 2


def test_evaluate_rejects_a_file_that_is_not_a_checkpoint(tiny_dataset, tmp_path, capsys):
    fake = tmp_path / "model.pt"
    torch.save({"weights": torch.zeros(3)}, fake)
    assert evaluate.main(["--checkpoint", str(fake), "--data-dir", str(tiny_dataset), "--output-dir", str(tmp_path / "o")]) == 2
    assert "not a deepfake-detector checkpoint" in capsys.readouterr().err


def test_checkpoint_with_weights_of_another_architecture_is_rejected(tiny_checkpoint, tmp_path, capsys):
    payload = torch.load(tiny_checkpoint, weights_only=True)
    payload["architecture"] = "resnet18"
    forged = tmp_path / "forged.pt"
    torch.save(payload, forged)
    image = tmp_path / "x.png"
    Image.new("RGB", (40, 40)).save(image)
    assert predict.main([str(image), "--checkpoint", str(forged)]) == 2
    assert "do not fit architecture resnet18" in capsys.readouterr().err


def test_real_data_metrics_are_finite_numbers(tiny_run):
    summary = pd.read_csv(tiny_run / "summary.csv")
    assert np.isfinite(summary[["train_loss", "val_loss", "temperature"]].to_numpy()).all()


def test_min_crop_scale_out_of_range_is_a_clear_error(tiny_dataset, tmp_path, capsys):
    assert train.main(train_argv(tiny_dataset, tmp_path) + ["--min-crop-scale", "0"]) == 2
    assert "--min-crop-scale must be in (0, 1]" in capsys.readouterr().err


def test_predict_scores_clips_beside_images_like_the_server(tiny_checkpoint, tmp_path, capsys):
    from clips import make_clip

    from backend import create_app

    (tmp_path / "clip.mp4").write_bytes(make_clip(2, 10, (160, 120), "mp4"))
    (tmp_path / "clip.webm").write_bytes(make_clip(2, 10, (160, 120), "webm"))
    (tmp_path / "broken.mp4").write_bytes(make_clip(2, 10, (160, 120), "mp4")[:400])
    Image.new("RGB", (64, 64), (30, 90, 150)).save(tmp_path / "photo.png")
    assert predict.main([str(tmp_path), "--checkpoint", str(tiny_checkpoint), "--format", "json", "--frames", "6",
                         "--runtime", "onnx"]) == 0
    rows = {os.path.basename(row["file"]): row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"clip.mp4", "clip.webm", "broken.mp4", "photo.png"}
    assert rows["photo.png"]["media"] == "image"
    assert rows["broken.mp4"]["label"] == rows["broken.mp4"]["verdict"] == "error"
    assert "cannot be read" in rows["broken.mp4"]["error"]
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(tiny_checkpoint, models / "tiny.pt")
    client = create_app({"TESTING": True, "MODEL_DIR": str(models), "STATIC_DIR": str(tmp_path), "THREADS": 1}).test_client()
    for name in ("clip.mp4", "clip.webm"):
        row = rows[name]
        assert row["media"] == "video" and row["video"]["frames_sampled"] == 6 and len(row["timeline"]) == 6
        served = client.post("/predict?frames=6", data=(tmp_path / name).read_bytes(),
                             content_type="application/octet-stream").get_json()
        assert row["probability_fake"] == pytest.approx(served["probability_fake"], abs=1e-5)
        assert (row["label"], row["verdict"]) == (served["label"], served["verdict"])
        assert [t["verdict"] for t in row["tracks"]] == [t["verdict"] for t in served["tracks"]]
        assert [p["t"] for p in row["timeline"]] == [p["t"] for p in served["timeline"]]
        assert row["decoded"] == served["decoded"] and row["decoded"]["partial"] is False
