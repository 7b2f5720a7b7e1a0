"""Issue #18/#20 on tiny synthetic data: tags and families per image, manifests, the Wild split held out by tag,
the shared degradation chain, the extended cue check, the kind head (joint loss, checkpoint, calibration, kind
confusion) and the no-regression comparison of a candidate with the current default."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image, ImageFilter
from sklearn.metrics import roc_auc_score

from pipeline import constants as C
from pipeline.checkpoint import load_checkpoint
from pipeline.scoring import fake_probability, kind_probabilities
from testdata import TINY_IMAGE_SIZE
from training.assess import cues, evaluate
from training.assess.compare import compare_predictions, rank_auc, ships
from training.data.crops import mix_records
from training.data.mix import load_mix
from training.data.mixdata import equalise, split_dataset
from training.data.synthetic import make_mix, synthetic_face
from training.fit import train
from training.fit.engine import JointLoss
from training.ship import package

pytestmark = [pytest.mark.timeout(300)]

# The synthetic files are named <source>_<4 digits>.jpg: the last digit is the tag, and tags 0 and 1 are held out.
TAGGED_SOURCES = """split: {validation: 0.25, test: 0.25}
sources:
  - {name: gan, path: gan, kind: faces, sbi: true, family: gan}
  - {name: t2i, path: t2i, kind: photos, family: diffusion, tag: '_\\d{3}(\\d)\\.jpg$', wild: '^[01]$'}
  - {name: reals, path: reals, kind: photos, label: Real, weight: 2, tag: '_\\d{3}(\\d)\\.jpg$', wild: '^[01]$'}
"""


@pytest.fixture(scope="module")
def tagged_mix(tmp_path_factory):
    """(mix file, crop cache) of the tiny synthetic mix with families, tags and a Wild split."""
    root = tmp_path_factory.mktemp("tagged-mix")
    make_mix(root / "data")
    (root / "data" / "tagged.yaml").write_text(TAGGED_SOURCES)
    return root / "data" / "tagged.yaml", root / "cache"


@pytest.fixture(scope="module")
def tagged_run(tagged_mix, tmp_path_factory):
    """A 1-epoch mobilenet_v2 run on the tagged mix: it has a kind head and a Wild split."""
    mix, cache = tagged_mix
    output = tmp_path_factory.mktemp("tagged-runs")
    assert train.main(["--data-mix", str(mix), "--crop-cache", str(cache), "--model", "mobilenet_v2", "--epochs", "1",
                       "--batch-size", "8", "--image-size", str(TINY_IMAGE_SIZE), "--workers", "0",
                       "--samples-per-epoch", "24", "--output-dir", str(output), "--run-name", "tagged", "--seed", "0"]) == 0
    return output / "tagged"


def test_tags_families_and_the_wild_split_come_from_the_mix(tagged_mix):
    mix, cache = tagged_mix
    records = mix_records(load_mix(mix), cache)
    t2i = records[records["source"] == "t2i"]
    assert set(t2i["tag"]) == {str(d) for d in range(10)}
    assert set(records.loc[records["source"] == "gan", "tag"]) == {"gan"}  # default tag: the source name
    held_out = records["source"].isin(["t2i", "reals"]) & records["tag"].isin(["0", "1"])
    assert held_out.sum() == 8 and records.loc[held_out, "split"].eq(C.WILD_SPLIT).all()
    # Others join Wild only as near-duplicates of a held-out picture (leak-free): never a group split across.
    pulled_in = records[(records["split"] == C.WILD_SPLIT) & ~held_out]
    assert set(pulled_in["group_id"]) <= set(records.loc[held_out, "group_id"])
    assert not set(records.loc[records["split"] != C.WILD_SPLIT, "group_id"]) & set(records.loc[held_out, "group_id"])
    assert set(records.loc[records["label"] == C.REAL_INDEX, "family"]) == {"real"}
    assert records.loc[(records["source"] == "t2i"), "family"].eq("diffusion").all()
    assert records.loc[(records["source"] == "gan") & (records["label"] == C.FAKE_INDEX), "family"].eq("gan").all()


def test_wild_split_has_no_pseudo_fakes_and_kinds_follow_families(tagged_mix):
    mix_path, cache = tagged_mix
    mix = load_mix(mix_path)
    records = mix_records(mix, cache)
    wild = split_dataset(records, mix, C.WILD_SPLIT, lambda image: image, False, 0)
    assert C.SBI_SOURCE not in set(wild.items["source"])
    train_set = split_dataset(records, mix, "Train", lambda image: image, True, 0)
    kinds = dict(zip(train_set.items["source"] + "/" + train_set.items["label"].astype(str), train_set.kinds.tolist()))
    assert kinds["gan/1"] == C.KIND_NAMES.index("gan") and kinds["t2i/1"] == C.KIND_NAMES.index("diffusion")
    assert kinds[f"{C.SBI_SOURCE}/1"] == C.KIND_NAMES.index("swap") and kinds["reals/0"] == -1


def test_manifest_columns_give_tags_and_groups(tmp_path):
    folder = tmp_path / "swaps" / "Fake"
    folder.mkdir(parents=True)
    rows = []
    for i in range(6):
        synthetic_face(1, i, 48).save(folder / f"f{i}.jpg")
        rows.append(f"Fake/f{i}.jpg,tool{i % 2},clips/{i // 3:04d}/frame{i}.png")
    (tmp_path / "swaps" / "manifest.csv").write_text("file,method,source_path\n" + "\n".join(rows) + "\n")
    (tmp_path / "mix.yaml").write_text(
        "sources:\n  - {name: swaps, path: swaps, kind: faces, family: swap, manifest: manifest.csv,\n"
        "     tag: {column: method}, group: {column: source_path, pattern: 'clips/(\\d{4})'}, wild: '^tool1$'}\n")
    source = load_mix(tmp_path / "mix.yaml").sources[0]
    assert [source.tag_of(folder / f"f{i}.jpg") for i in range(3)] == ["tool0", "tool1", "tool0"]
    from training.data.mix import list_source
    groups = {f.path.name: f.group for f in list_source(source)}
    assert groups["f0.jpg"] == groups["f2.jpg"] == "clip:0000" and groups["f3.jpg"] == "clip:0001"


def test_degradation_chain_is_seeded_and_varies_size_sharpness_and_noise():
    image = synthetic_face(0, 1, 160)
    first = equalise(image, np.random.default_rng([3, 1]))
    again = equalise(image, np.random.default_rng([3, 1]))
    assert np.array_equal(np.asarray(first[0]), np.asarray(again[0])) and first[1] == again[1]
    shorts, noises, qualities = [], [], []
    for seed in range(60):
        out, quality = equalise(image, np.random.default_rng([seed, 0]))
        shorts.append(min(out.size))
        noises.append(cues.noise_level(np.asarray(out.convert("L"), dtype=np.float32)))
        qualities.append(quality)
    assert C.EQUALISE_SIDE[0] <= min(shorts) and max(shorts) <= C.EQUALISE_SIDE[1]
    assert min(shorts) < 160 < max(shorts)  # resampled down and up
    assert np.ptp(noises) > 1.0  # some draws blurred, some noisy
    assert {q for q in qualities if q < 100} and min(q for q in qualities if q < 100) >= C.EQUALISE_JPEG_QUALITY[0]


def test_cue_features_measure_noise_and_background_blur():
    rng = np.random.default_rng(0)
    flat = np.full((96, 96), 128.0, dtype=np.float32)
    assert cues.noise_level(flat + rng.normal(0, 4, flat.shape).astype(np.float32)) == pytest.approx(4, rel=0.15)
    sharp = Image.fromarray((rng.random((96, 96, 3)) * 255).astype(np.uint8))
    blurred_border = sharp.filter(ImageFilter.GaussianBlur(3))
    blurred_border.paste(sharp.crop((24, 24, 72, 72)), (24, 24))
    assert cues.background_blur(np.asarray(blurred_border.convert("L"), dtype=np.float32)) > 1.0
    assert abs(cues.background_blur(np.asarray(sharp.convert("L"), dtype=np.float32))) < 0.3
    features = cues.image_features(sharp, 90)
    assert len(features) == len(cues.FEATURES) and features[cues.FEATURES.index("face_px")] == 96 / C.CROP_SCALE


def test_joint_loss_learns_kinds_from_fakes_only():
    kinds = torch.tensor([-1, 0, 2, -1])  # item 0 real, 1 gan fake, 2 swap fake, 3 fake of no known kind
    logits = torch.randn(4, 2 + len(C.KIND_NAMES), requires_grad=True)
    labels = torch.tensor([0, 1, 1, 1])
    loss = JointLoss(kinds)(logits, labels, torch.arange(4))
    loss.backward()
    assert torch.all(logits.grad[[0, 3], 2:] == 0) and torch.any(logits.grad[[1, 2], 2:] != 0)
    verdict_only = torch.nn.functional.cross_entropy(logits[:, :2].detach(), labels)
    kind_part = torch.nn.functional.cross_entropy(logits[[1, 2], 2:].detach(), kinds[[1, 2]])
    assert loss.item() == pytest.approx(verdict_only.item() + C.KIND_LOSS_WEIGHT * kind_part.item(), rel=1e-5)
    assert JointLoss(None)(logits, labels, torch.arange(4)).item() == pytest.approx(verdict_only.item(), rel=1e-5)


def test_training_on_a_tagged_mix_adds_a_kind_head_and_picks_on_wild(tagged_run):
    model, meta = load_checkpoint(tagged_run / "best.pt")
    assert meta.kind_names == list(C.KIND_NAMES) and meta.output_size == 5
    logits = model(torch.rand(3, 3, TINY_IMAGE_SIZE, TINY_IMAGE_SIZE)).detach().numpy()
    assert logits.shape == (3, 5)
    assert np.allclose(kind_probabilities(logits).sum(-1), 1, atol=1e-5) and fake_probability(logits).shape == (3,)
    summary = pd.read_csv(tagged_run / "summary.csv")
    assert summary["wild_auc"].between(0, 1).all() and summary["wild_kind_accuracy"].between(0, 1).all()
    assert "best_metric: wild_mean_source_auc" in (tagged_run / "config.yaml").read_text()
    assert 0 <= meta.metrics["wild_mean_source_auc"] <= 1


def test_no_kind_head_flag_and_old_layout_keep_two_outputs(tagged_mix, tmp_path):
    mix, cache = tagged_mix
    shutil.copytree(cache, tmp_path / "cache")
    assert train.main(["--data-mix", str(mix), "--crop-cache", str(tmp_path / "cache"), "--model", "mobilenet_v2",
                       "--epochs", "1", "--batch-size", "8", "--image-size", str(TINY_IMAGE_SIZE), "--workers", "0",
                       "--samples-per-epoch", "8", "--output-dir", str(tmp_path), "--run-name", "plain", "--seed", "0",
                       "--no-kind-head"]) == 0
    _, meta = load_checkpoint(tmp_path / "plain" / "last.pt")
    assert meta.kind_names == [] and meta.output_size == 2


def test_package_calibrates_on_validation_and_wild_with_a_kind_temperature(tagged_mix, tagged_run, tmp_path, capsys):
    mix, cache = tagged_mix
    output = tmp_path / "packaged.pt"
    assert package.main(["--checkpoint", str(tagged_run / "best.pt"), "--data-mix", str(mix), "--crop-cache",
                         str(cache), "--output", str(output), "--max-false-fake-rate", "0.1", "--workers", "0"]) == 0
    _, meta = load_checkpoint(output)
    assert meta.config["calibration_splits"] == ["Validation", C.WILD_SPLIT]
    assert "wild_mean_source_auc" in meta.metrics  # what chose the epoch stays with the packaged file
    assert C.MIN_TEMPERATURE <= meta.kind_temperature <= C.MAX_TEMPERATURE
    assert "fitted on Validation + Wild" in capsys.readouterr().out


def test_evaluate_writes_family_tag_tables_kind_confusion_and_the_comparison(tagged_mix, tagged_run, tmp_path):
    mix, cache = tagged_mix
    baseline = tmp_path / "current.pt"
    shutil.copy(tagged_run / "best.pt", baseline)
    out = tmp_path / "eval"
    assert evaluate.main(["--checkpoint", str(tagged_run / "best.pt"), "--baseline", str(baseline), "--data-mix", str(mix),
                          "--crop-cache", str(cache), "--split", C.WILD_SPLIT, "--output-dir", str(out), "--workers", "0",
                          "--require-no-regression"]) == 0
    family = pd.read_csv(out / "per_family.csv")
    assert set(family["source"]) == {"real", "diffusion"}  # Wild holds t2i fakes and reals only
    assert {"0", "1"} <= set(pd.read_csv(out / "per_tag.csv")["source"].astype(str))
    confusion = pd.read_csv(out / "best_kind_confusion.csv", index_col=0)
    diffusion_fakes = int(family.loc[family["source"] == "diffusion", "images"].iloc[0])
    assert confusion.shape == (3, 3) and confusion.loc["true diffusion"].sum() == diffusion_fakes
    assert (out / "best_kind_confusion.png").stat().st_size > 0
    metrics = pd.read_csv(out / "metrics.csv").set_index("checkpoint")
    assert 0 <= metrics.loc["best", "kind_accuracy"] <= 1
    comparison = pd.read_csv(out / "compare_best.csv")
    assert set(comparison["by"]) == {"family", "source", "tag"}
    assert (comparison["difference"] == 0).all() and (comparison["verdict"] == "same").all()  # the same weights
    assert "**ships**" in (out / "compare_best.md").read_text()


def test_rank_auc_matches_scikit_learn_with_ties():
    rng = np.random.default_rng(1)
    positive, negative = np.round(rng.random(40), 1), np.round(rng.random(55) * 0.8, 1)
    expected = roc_auc_score([1] * 40 + [0] * 55, np.concatenate([positive, negative]))
    assert rank_auc(positive, negative) == pytest.approx(expected)


def test_comparison_flags_a_candidate_that_loses_a_family_and_only_that_one():
    rng = np.random.default_rng(2)
    n = 120
    frame = pd.DataFrame({"file": [f"f{i}" for i in range(3 * n)],
                          "label": ["Real"] * n + ["Fake"] * 2 * n,
                          "family": ["real"] * n + ["gan"] * n + ["swap"] * n})
    frame["source"], frame["tag"] = frame["family"], frame["family"]
    real, gan, swap = rng.random(n) * 0.5, 0.5 + rng.random(n) * 0.5, 0.5 + rng.random(n) * 0.5
    baseline = frame.assign(probability_fake=np.concatenate([real, gan, swap]))
    candidate = frame.assign(probability_fake=np.concatenate([real, gan, rng.random(n) * 0.6]))  # swaps now missed
    table = compare_predictions(candidate, baseline, 0.5, 0.5)
    rows = table[table["by"] == "family"].set_index("group")
    assert rows.loc["swap", "verdict"] == "worse" and rows.loc["swap", "ci_high"] < 0
    assert rows.loc["gan", "verdict"] == "same" and rows.loc["real", "verdict"] == "same"
    assert not ships(table) and ships(compare_predictions(baseline, baseline, 0.5, 0.5))
    with pytest.raises(ValueError):
        compare_predictions(candidate.iloc[::-1], baseline, 0.5, 0.5)


def test_leave_out_takes_a_whole_family(tagged_mix):
    mix = load_mix(tagged_mix[0])
    assert mix.families() == ["gan", "diffusion"]
    assert mix.left_out_names() == ["gan", "t2i", "reals", C.SBI_SOURCE, "diffusion"]  # "gan" is a source's name too
    without_diffusion = mix.without("diffusion")
    assert [s.name for s in without_diffusion.sources] == ["gan", "reals"]
    assert without_diffusion.sbi_weight == mix.sbi_weight
    with pytest.raises(Exception, match="neither a source nor a family"):
        mix.without("swap")  # no source of the tiny mix makes swaps


def test_a_tag_too_small_for_its_interval_is_reported_but_does_not_block():
    rng = np.random.default_rng(3)
    n, small = 200, C.COMPARE_MIN_TAG_IMAGES - 1
    frame = pd.DataFrame({"file": [f"f{i}" for i in range(2 * n)], "label": ["Real"] * n + ["Fake"] * n,
                          "family": ["real"] * n + ["gan"] * n, "source": ["reals"] * n + ["gans"] * n,
                          "tag": ["r"] * n + ["tiny"] * small + ["big"] * (n - small)})
    real, fake = rng.random(n) * 0.5, 0.5 + rng.random(n) * 0.5
    baseline = frame.assign(probability_fake=np.concatenate([real, fake]))
    worse_on_tiny = fake.copy()
    worse_on_tiny[:small] = rng.random(small) * 0.45  # the tiny tag now ranks below most reals
    candidate = frame.assign(probability_fake=np.concatenate([real, worse_on_tiny]))
    table = compare_predictions(candidate, baseline, 0.5, 0.5).set_index(["by", "group"])
    assert table.loc[("tag", "tiny"), "verdict"] == "worse" and not table.loc[("tag", "tiny"), "decides"]
    assert table.loc[("family", "gan"), "decides"]
    assert ships(table.reset_index()) == (table.loc[("family", "gan"), "verdict"] != "worse")
