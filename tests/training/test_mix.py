"""Data mixes: parsing and its errors, leak-free splits, self-blended pseudo-fakes, crop parity with the server,
per-source evaluation and a leave-one-source-out sweep, on tiny synthetic data made here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from pipeline import constants as C
from pipeline.errors import DataError
from pipeline.models import create_model
from pipeline.torch_runtime import Classifier
from testdata import REAL_PHOTOS, REPO_ROOT, TINY_IMAGE_SIZE, require_dir
from training.assess import cues, evaluate, sweep
from training.data import crops
from training.data.mix import list_source, load_mix
from training.data.mixdata import MixDataset, MixSampler, equalise, jitter_colour, sampling_weights
from training.data.sbi import cross_blend, pose_distance, self_blend, similarity_transform
from training.data.splits import assign_splits
from training.data.synthetic import make_mix, synthetic_face
from training.fit import train

pytestmark = [pytest.mark.timeout(300)]


@pytest.fixture(scope="session")
def tiny_mix(tmp_path_factory):
    """(mix file, crop cache folder) of a tiny synthetic mix; tests must not modify them."""
    root = tmp_path_factory.mktemp("tiny-mix")
    return make_mix(root / "data"), root / "cache"


@pytest.fixture(scope="session")
def tiny_mix_run(tiny_mix, tmp_path_factory):
    """A 1-epoch mobilenet_v2 run on the tiny mix; returns the run folder."""
    mix, cache = tiny_mix
    output = tmp_path_factory.mktemp("tiny-mix-runs")
    assert train.main(mix_train_argv(mix, cache, output, "mix")) == 0
    return output / "mix"


def mix_train_argv(mix, cache, output, name, *extra):
    return ["--data-mix", str(mix), "--crop-cache", str(cache), "--model", "mobilenet_v2", "--epochs", "1",
            "--batch-size", "8", "--image-size", str(TINY_IMAGE_SIZE), "--workers", "0", "--samples-per-epoch", "24",
            "--output-dir", str(output), "--run-name", name, "--seed", "0", *extra]


def write_mix(tmp_path, text):
    (tmp_path / "mix.yaml").write_text(text)
    return tmp_path / "mix.yaml"


def test_mix_file_is_parsed_with_paths_relative_to_it(tiny_mix):
    mix = load_mix(tiny_mix[0])
    assert [s.name for s in mix.sources] == ["gan", "t2i", "reals"]
    assert [s.kind for s in mix.sources] == ["faces", "photos", "photos"]
    assert mix.sources[2].label == "Real" and mix.sources[2].weight == 2
    assert all(s.path.is_dir() for s in mix.sources)
    assert mix.source_names() == ["gan", "t2i", "reals", C.SBI_SOURCE]
    assert [s.name for s in mix.without("t2i").sources] == ["gan", "reals"]


@pytest.mark.parametrize("entry, message", [
    ("{name: a, path: nowhere, kind: faces}", "Folder of source 'a' not found"),
    ("{name: a, path: empty, kind: selfies}", "unknown kind 'selfies'"),
    ("{name: a, path: empty, kind: faces}", "Source 'a' has no images in"),
    ("{name: a, path: empty, kind: faces, label: Maybe}", "label 'Maybe'"),
    ("{name: a, path: empty, kind: faces, colour: red}", "unknown key"),
    ("{name: a, path: empty, kind: faces, include: '(unclosed'}", "invalid `include` pattern"),
    ("{name: a, path: empty, kind: faces, family: cgi}", "family 'cgi'"),
    ("{name: a, path: empty, kind: faces, manifest: missing.csv}", "Manifest of source 'a' not found"),
    ("{name: a, path: empty, kind: faces, tag: {column: method}}", "has no `manifest`"),
    ("{name: a, path: empty, kind: faces, tag: {columns: method}}", "must be a regex or"),
    ("{name: a, path: empty, kind: faces, wild: '(unclosed'}", "invalid `wild` pattern"),
])
def test_bad_mix_stops_with_one_sentence_and_exit_2(tmp_path, capsys, entry, message):
    (tmp_path / "empty" / "Real").mkdir(parents=True)
    mix = write_mix(tmp_path, f"sources:\n  - {entry}\n")
    code = train.main(["--data-mix", str(mix), "--crop-cache", str(tmp_path / "cache"), "--model", "mobilenet_v2"])
    assert code == C.EXIT_BAD_INPUT
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1 and "Traceback" not in error


def test_missing_mix_file_and_unknown_leave_out(tmp_path, tiny_mix):
    with pytest.raises(DataError, match="Data mix file not found"):
        load_mix(tmp_path / "absent.yaml")
    with pytest.raises(DataError, match="neither a source nor a family"):
        load_mix(tiny_mix[0]).without("stylegan9")


def test_source_weight_replaces_a_weight_and_refuses_unknown_names(tmp_path, tiny_mix, capsys):
    mix = load_mix(tiny_mix[0]).reweighted({"t2i": 3.0, C.SBI_SOURCE: 0.5})
    assert [s.weight for s in mix.sources] == [load_mix(tiny_mix[0]).sources[0].weight, 3.0, 2.0]
    assert mix.sbi_weight == 0.5
    with pytest.raises(DataError, match="stylegan9: not a source"):
        load_mix(tiny_mix[0]).reweighted({"stylegan9": 1.0})
    argv = mix_train_argv(*tiny_mix, tmp_path, "bad", "--source-weight", "t2i:2")
    assert train.main(argv) == C.EXIT_BAD_INPUT
    assert "write NAME=WEIGHT" in capsys.readouterr().err


def test_include_keeps_only_matching_files_and_says_when_none_match(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("lab_a.jpg", "lab_b.jpg", "web_c.jpg"):
        synthetic_face(0, 1, size=32).save(folder / name)
    kept = load_mix(write_mix(tmp_path, "sources:\n  - {name: p, path: photos, label: Real, include: '^lab_'}\n"))
    assert [f.path.name for f in list_source(kept.sources[0])] == ["lab_a.jpg", "lab_b.jpg"]
    none = load_mix(write_mix(tmp_path, "sources:\n  - {name: p, path: photos, label: Real, include: '^zzz'}\n"))
    with pytest.raises(DataError, match="no images whose names match '\\^zzz'"):
        list_source(none.sources[0])


def test_false_fake_rate_leaves_out_the_photos_a_mix_trains_on(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for index, name in enumerate(("lab_a.jpg", "lab_b.jpg", "web_c.jpg", "web_d.jpg", "web_e.jpg")):
        synthetic_face(0, index, size=64).save(folder / name)
    mix = write_mix(tmp_path, "sources:\n  - {name: p, path: photos, label: Real, include: '^lab_'}\n")
    report = tmp_path / "report.json"
    run = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "false_fake_rate.py"), str(folder),
                          "--unseen-by", str(mix), "--json", str(report)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "left out 2 photos" in run.stdout
    written = json.loads(report.read_text())
    assert written["photos"] == 3 and written["left_out_as_seen"] == 2
    assert sorted(r["file"] for r in written["results"]) == ["web_c.jpg", "web_d.jpg", "web_e.jpg"]
    every = write_mix(tmp_path, "sources:\n  - {name: p, path: photos, label: Real}\n")
    run = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "false_fake_rate.py"), str(folder),
                          "--unseen-by", str(every)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "does not use" in run.stderr and "Traceback" not in run.stderr


def test_data_dir_and_data_mix_are_exclusive(tiny_dataset, tiny_mix, capsys):
    assert train.main(["--data-dir", str(tiny_dataset), "--data-mix", str(tiny_mix[0])]) == C.EXIT_BAD_INPUT
    assert "exactly one of --data-dir and --data-mix" in capsys.readouterr().err


def test_splits_keep_clips_and_near_duplicates_together():
    same = "ff" * 32
    records = pd.DataFrame({
        "group": ["clip:a", "clip:a", "clip:a", "file:x", "file:y", "file:z", "file:k"],
        "phash": ["00" * 32, "0f" * 32, "f0" * 32, same, same, "3c" * 32, "c3" * 32],
        "split": ["", "", "", "", "", "Test", ""],
    })
    records.loc[6, "phash"] = records.loc[5, "phash"][:-2] + "3d"  # 1 bit from z, which is fixed to Test
    split = assign_splits(records, 0.3, 0.3)["split"]
    assert split[0] == split[1] == split[2]
    assert split[3] == split[4]
    assert split[5] == split[6] == "Test"


def canonical_landmarks(size):
    return [(x * size, y * size) for x, y in C.CANONICAL_LANDMARKS]


def test_sbi_is_deterministic_same_size_and_changes_only_inside_the_mask():
    image = synthetic_face(0, 3, size=96)
    first, mask = self_blend(image, canonical_landmarks(96), np.random.default_rng(7))
    again, _ = self_blend(image, canonical_landmarks(96), np.random.default_rng(7))
    other, _ = self_blend(image, canonical_landmarks(96), np.random.default_rng(8))
    assert first.size == image.size and first.mode == "RGB"
    assert np.array_equal(np.asarray(first), np.asarray(again))
    assert not np.array_equal(np.asarray(first), np.asarray(other))
    changed = np.any(np.asarray(first) != np.asarray(image), axis=2)
    assert changed.any()
    assert not changed[mask == 0].any()
    # The mask (blur included) stays on the face: nothing changes in the outer band of the crop.
    assert mask[:8].max() == 0 and mask[-8:].max() == 0 and mask[:, :8].max() == 0 and mask[:, -8:].max() == 0


def test_similarity_transform_recovers_a_known_one_and_pose_distance_ignores_it():
    points = np.array(canonical_landmarks(100), dtype=np.float64)
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -5.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = points @ (scale * rotation).T + shift
    assert np.allclose(similarity_transform(points, moved), np.hstack([scale * rotation, shift[:, None]]))
    assert pose_distance(points, moved) == pytest.approx(0, abs=1e-9)
    turned = points.copy()
    turned[2, 0] += 20  # the nose far to one side: another pose
    assert pose_distance(turned, points) > 0.05


def test_cross_blend_puts_the_aligned_donor_inside_the_mask_only():
    shading = np.linspace(-40, 40, 96)[None, :, None]  # a face lit from one side, not a flat colour
    image = Image.fromarray(np.clip(np.asarray(synthetic_face(0, 3, size=96), np.float32) + shading, 0, 255).astype(np.uint8))
    stripes = np.indices((128, 128)).sum(axis=0) // 6 % 2 * 180 + 40  # a face of another texture altogether
    donor = Image.fromarray(np.stack([stripes, stripes[::-1], stripes.T], axis=-1).astype(np.uint8))
    landmarks = canonical_landmarks(96)
    donor_landmarks = [(x + 10, y + 6) for x, y in canonical_landmarks(110)]  # a bigger, shifted face
    first, mask = cross_blend(image, landmarks, donor, donor_landmarks, np.random.default_rng(7))
    again, _ = cross_blend(image, landmarks, donor, donor_landmarks, np.random.default_rng(7))
    assert first.size == image.size and first.mode == "RGB"
    assert np.array_equal(np.asarray(first), np.asarray(again))
    changed = np.any(np.asarray(first) != np.asarray(image), axis=2)
    assert changed.mean() > 0.1 and not changed[mask == 0].any()
    # Where the mask is (nearly) whole, the pixels are the donor's, not the image's.
    inside = mask > 0.95 * mask.max()
    blended, target = np.asarray(first, dtype=np.float32), np.asarray(image, dtype=np.float32)
    assert np.abs(blended[inside] - target[inside]).mean() > 5


def test_cross_blends_are_a_source_of_their_own_with_seeded_donors_from_the_same_split(tiny_mix, tmp_path):
    mix = load_mix(write_mix(tmp_path, tiny_mix[0].read_text().replace("sources:", "bi_weight: 0.5\nsources:", 1)
                             .replace("path: ", f"path: {tiny_mix[0].parent}/")))
    assert mix.bi_weight == 0.5 and mix.source_names()[-2:] == [C.SBI_SOURCE, C.BI_SOURCE]
    assert mix.without(C.BI_SOURCE).bi_weight == 0 and mix.without(C.BI_SOURCE).sbi_weight == mix.sbi_weight
    assert mix.reweighted({C.BI_SOURCE: 2.0}).sampling_weights()[C.BI_SOURCE] == 2.0
    records = crops.mix_records(mix, tiny_mix[1])
    train_records = records[records["split"] == "Train"]
    dataset = MixDataset(train_records, lambda image: image, True, seed=5, pseudo_weights=mix.pseudo_fake_weights())
    blends = dataset.items[dataset.items["pseudo"] == C.BI_SOURCE]
    assert len(blends) == len(dataset.items[dataset.items["pseudo"] == C.SBI_SOURCE]) > 1
    assert set(blends["label"]) == {C.FAKE_INDEX} and set(blends["family"]) == {"swap"}
    key = int(blends.index[0])
    record = int(dataset.items["record"].iloc[key])
    donors = {dataset.pick_donor(record, np.random.default_rng(seed)) for seed in range(20)}
    assert record not in donors and donors <= set(dataset.donors)
    assert np.array_equal(np.asarray(dataset.view(key)[0]), np.asarray(dataset.view(key)[0]))
    assert dataset.view(key)[1] == C.FAKE_INDEX


@pytest.mark.parametrize("value", ["-1", "lots", "true"])
def test_a_bad_pseudo_fake_weight_is_one_sentence(tmp_path, value):
    (tmp_path / "faces" / "Real").mkdir(parents=True)
    synthetic_face(0, 1, size=32).save(tmp_path / "faces" / "Real" / "a.png")
    with pytest.raises(DataError, match="bi_weight must be a number >= 0, not"):
        load_mix(write_mix(tmp_path, f"bi_weight: {value}\nsources:\n  - {{name: f, path: faces, kind: faces}}\n"))
    with pytest.raises(DataError, match="none of sbi, bi: bi"):
        load_mix(write_mix(tmp_path, "sources:\n  - {name: bi, path: faces, kind: faces}\n"))


def test_training_draws_are_seeded_and_classes_balanced(tiny_mix):
    mix = load_mix(tiny_mix[0])
    records = crops.mix_records(mix, tiny_mix[1])
    dataset = MixDataset(records[records["split"] == "Train"], lambda image: image, True, seed=5)
    weights = sampling_weights(dataset.items, {"gan": 1, "t2i": 1, "reals": 2, C.SBI_SOURCE: 1})
    fake = dataset.items["label"].to_numpy() == C.FAKE_INDEX
    assert weights[fake].sum() == pytest.approx(0.5)
    keys = list(MixSampler(weights, 6, seed=5))
    assert keys == list(MixSampler(weights, 6, seed=5))
    sbi_key = next(k for k in range(len(dataset)) if dataset.items["pseudo"].iloc[k] == C.SBI_SOURCE)
    assert np.array_equal(np.asarray(dataset.view(sbi_key)[0]), np.asarray(dataset.view(sbi_key)[0]))
    image, quality = equalise(Image.new("RGB", (40, 60), (90, 120, 200)), np.random.default_rng(0))
    assert min(image.size) in range(C.EQUALISE_SIDE[0], C.EQUALISE_SIDE[1] + 1)


def test_evaluate_scores_the_ensemble_as_the_server_does(tiny_mix, tiny_mix_run, tmp_path):
    mix, cache = tiny_mix
    members = tmp_path / "members"
    members.mkdir()
    for name in ("a.pt", "b.pt"):
        shutil.copy(tiny_mix_run / "best.pt", members / name)
    out = tmp_path / "eval"
    assert evaluate.main(["--checkpoint", str(members), "--data-mix", str(mix), "--crop-cache", str(cache), "--split",
                          "Test", "--output-dir", str(out), "--workers", "0", "--ensemble"]) == 0
    metrics = pd.read_csv(out / "metrics.csv").set_index("checkpoint")
    assert list(metrics.index) == ["a", "b", "ensemble"]
    member, ensemble = pd.read_csv(out / "a_predictions.csv"), pd.read_csv(out / "ensemble_predictions.csv")
    assert np.allclose(ensemble["probability_fake"], member["probability_fake"])  # the mean of two equal models
    assert metrics.loc["ensemble", "auc"] == pytest.approx(metrics.loc["a", "auc"])
    assert set(pd.read_csv(out / "per_source.csv")["checkpoint"]) == {"a", "b", "ensemble"}


def test_colour_jitter_is_seeded_keeps_the_size_and_moves_the_palette():
    image = synthetic_face(0, 3, size=64)
    first = np.asarray(jitter_colour(image, np.random.default_rng(3)))
    assert first.shape == np.asarray(image).shape
    assert np.array_equal(first, np.asarray(jitter_colour(image, np.random.default_rng(3))))
    means = [np.asarray(jitter_colour(image, np.random.default_rng(seed))).reshape(-1, 3).mean(0) for seed in range(20)]
    assert np.ptp(np.stack(means), axis=0).min() > 10  # every channel's mean moves by more than 10 levels


def test_per_source_evaluation_and_cue_check_on_a_tiny_mix(tiny_mix, tiny_mix_run, tmp_path):
    mix, cache = tiny_mix
    assert evaluate.main(["--checkpoint", str(tiny_mix_run / "best.pt"), "--data-mix", str(mix), "--crop-cache",
                          str(cache), "--split", "Test", "--output-dir", str(tmp_path), "--workers", "0"]) == 0
    table = pd.read_csv(tmp_path / "per_source.csv")
    fakes = table[table["class"] == "Fake"].set_index("source")
    reals = table[table["class"] == "Real"].set_index("source")
    assert set(fakes.index) == {"gan", "t2i", C.SBI_SOURCE} and set(reals.index) == {"gan", "reals"}
    assert fakes["auc"].between(0, 1).all() and reals["false_fake_rate"].between(0, 1).all()
    predictions = pd.read_csv(tmp_path / "best_predictions.csv")
    assert (predictions.groupby(["source", "label"]).size().to_dict()
            == {(s, c): n for s, c, n in zip(table["source"], table["class"], table["images"])})
    assert pd.read_csv(tmp_path / "metrics.csv")["worst_source_auc"].iloc[0] == pytest.approx(fakes["auc"].min())
    assert reals["called_fake"].to_dict() == pytest.approx(reals["false_fake_rate"].to_dict())
    threshold = Classifier.from_checkpoint(tiny_mix_run / "best.pt").meta.threshold
    for (source, label), group in predictions.groupby(["source", "label"]):
        row = table[(table["source"] == source) & (table["class"] == label)].iloc[0]
        p = group["probability_fake"]
        assert row["called_fake"] == pytest.approx((p >= threshold).mean())
        assert row["called_uncertain"] == pytest.approx(((p >= C.UNCERTAIN_FRACTION * threshold) & (p < threshold)).mean())
    assert "## By source" in (tmp_path / "report.md").read_text()
    report = cues.cue_check(mix, samples=40, seed=0, crop_cache=cache)
    assert 0 <= report["raw"] <= 1 and 0 <= report["as trained"] <= 1
    assert set(report["as trained by feature"]) == set(cues.FEATURES)


def test_leave_one_source_out_sweep_writes_the_matrix(tiny_mix, tiny_mix_run, tmp_path):
    mix, cache = tiny_mix
    shutil.copytree(cache, tmp_path / "cache")
    report = tmp_path / "GENERALIZATION.md"
    assert sweep.main(["--data-mix", str(mix), "--leave-out", "t2i", "--baseline", str(tiny_mix_run / "best.pt"),
                       "--models", "mobilenet_v2", "--epochs", "1", "--batch-size", "8", "--image-size",
                       str(TINY_IMAGE_SIZE), "--samples-per-epoch", "16", "--workers", "0", "--seed", "0",
                       "--output-dir", str(tmp_path / "sweep"), "--report", str(report),
                       "--train-args", f"--crop-cache {tmp_path / 'cache'}"]) == 0
    config = (tmp_path / "sweep" / "runs" / "mobilenet_v2-without-t2i" / "config.yaml").read_text()
    assert "leave_out: t2i" in config
    matrix = pd.read_csv(tmp_path / "sweep" / "report" / "generalization.csv")
    assert matrix["model"].tolist() == ["nothing left out", "mobilenet v2 without t2i"]
    assert {"t2i AUC", "gan AUC", "sbi AUC", "reals FFR"} <= set(matrix.columns)
    assert "| nothing left out |" in report.read_text()


@pytest.mark.parametrize("variant", [0, 1, 2])
def test_efficientnet_lite_loads_efficientnet_pytorch_style_weights(tmp_path, variant):
    name = f"efficientnet_lite{variant}"
    reference = create_model(name, num_classes=1000)
    tensors = [(k, v) for k, v in reference.state_dict().items() if not k.endswith("num_batches_tracked")]
    renamed = {("_conv_stem.weight" if i == 0 else f"_blocks.{i}.x"): v.clone() for i, (k, v) in enumerate(tensors)}
    torch.save(renamed, tmp_path / "lite.pth")
    model = create_model(name, weights=tmp_path / "lite.pth")
    assert torch.equal(model.features[0].weight, reference.features[0].weight)
    assert model.features[0].out_channels == 32 and model.classifier[-1].in_features == 1280
    assert model.classifier[-1].out_features == 2
    from backend.gradcam import target_layer  # the server explains this model with Grad-CAM

    assert target_layer(model) is model.features[-1]
    assert model.eval()(torch.zeros(1, 3, 64, 64)).shape == (1, 2)


@pytest.mark.shared_data
def test_training_crop_of_a_photo_is_the_crop_the_server_classifies(tmp_path, monkeypatch):
    """Train-serve parity: the cached crop equals, pixel for pixel, the crop POST /predict scores."""
    import pipeline.analysis
    from backend import create_app

    photo = require_dir(REAL_PHOTOS) / "face_recognition_examples__examples__biden.jpg"
    (tmp_path / "data" / "Real").mkdir(parents=True)
    shutil.copy(photo, tmp_path / "data" / "Real" / photo.name)
    mix = write_mix(tmp_path, "sources:\n  - {name: one, path: data, kind: photos}\n")
    records = crops.mix_records(load_mix(mix), tmp_path / "cache")
    assert json.loads(records["landmarks"].iloc[0])  # a face was found, so this is a face crop
    trained_on = np.asarray(Image.open(records["crop"].iloc[0]).convert("RGB"))

    served = []
    original = pipeline.analysis.face_crops
    monkeypatch.setattr(pipeline.analysis, "face_crops",
                        lambda *a, **k: served.append(original(*a, **k)) or served[-1])
    client = create_app({"MODEL_DIR": str(C.MODELS_DIR), "TESTING": True}).test_client()
    response = client.post("/predict", data=photo.read_bytes(), headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 200 and response.get_json()["face_detected"]
    assert np.array_equal(np.asarray(served[0].crops[0].convert("RGB")), trained_on)


def test_threshold_fitted_on_validation_reals_never_drops_below_one_half():
    from training.ship.package import fit_threshold

    reals = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9, 0.92, 0.2, 0.1])
    threshold = fit_threshold(reals, 0.2)
    assert np.mean(reals >= threshold) <= 0.2 and threshold > 0.8
    assert fit_threshold(np.array([0.1, 0.2]), 0.05) == C.DEFAULT_THRESHOLD
    assert fit_threshold(np.array([0.99, 0.99]), 0.0) == C.MAX_THRESHOLD
    # Per source: 2 small-source reals at 0.9 must not hide among 98 large-source reals at 0.1 (pooled: 2% <= 5%).
    reals = np.array([0.1] * 98 + [0.9, 0.9])
    sources = np.array(["large"] * 98 + ["small"] * 2)
    assert fit_threshold(reals, 0.05) == C.DEFAULT_THRESHOLD
    per_source = fit_threshold(reals, 0.05, sources)
    assert per_source > 0.9 and np.mean(reals[sources == "small"] >= per_source) == 0
