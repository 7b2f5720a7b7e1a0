"""Unit tests of preprocessing, models, metrics, calibration and checkpoints."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from pipeline import constants as C
from pipeline.checkpoint import CheckpointMeta, load_checkpoint, read_checkpoint, save_checkpoint
from pipeline.errors import CheckpointError, DataError, UserError
from pipeline.models import create_model
from pipeline.torch_runtime import Classifier
from training.assess.metrics import compute_metrics, equal_error_rate, fit_temperature
from training.data.dataset import (FaceFolderDataset, build_transforms, collate_samples, decode_image, find_samples,
                                   preprocess)


def test_eval_transform_is_deterministic_and_normalised():
    image = Image.new("RGB", (100, 60), (124, 116, 104))  # ImageNet mean colour
    batch = preprocess(image, 64, C.IMAGENET_MEAN, C.IMAGENET_STD)
    assert batch.shape == (1, 3, 64, 64)
    assert batch.abs().max() < 0.01


def test_train_transform_keeps_shape_and_varies():
    torch.manual_seed(0)
    image = Image.effect_noise((80, 80), 60).convert("RGB")
    transform = build_transforms(True, 48)
    outputs = [transform(image) for _ in range(4)]
    assert all(o.shape == (3, 48, 48) for o in outputs)
    assert not all(torch.equal(outputs[0], o) for o in outputs[1:])


def test_decode_image_applies_exif_rotation_and_rgb():
    image = Image.new("L", (40, 20), 200)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    decoded = decode_image(buffer.getvalue())
    assert decoded.mode == "RGB" and decoded.size == (20, 40)


def test_decode_image_scales_16_bit_greyscale():
    array = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(array, "I;16").save(buffer, format="PNG")
    decoded = np.asarray(decode_image(buffer.getvalue()))
    assert decoded.shape == (64, 64, 3)
    assert decoded.min() == 0 and decoded.max() == 255
    assert 100 < decoded.mean() < 155  # a ramp, not clipped to white


def test_find_samples_labels_real_0_fake_1(tiny_dataset):
    samples = find_samples(tiny_dataset / "Train")
    labels = {path.parent.name: label for path, label in samples}
    assert labels == {"Real": 0, "Fake": 1}


def test_find_samples_names_the_missing_class(tmp_path):
    (tmp_path / "Real").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "Real" / "a.png")
    with pytest.raises(DataError, match="Fake"):
        find_samples(tmp_path)


def test_collate_drops_unreadable_samples(tmp_path, tiny_dataset):
    dataset = FaceFolderDataset(tiny_dataset / "Test", build_transforms(False, 32))
    dataset.samples.append((tmp_path / "missing.jpg", 1))
    batch = collate_samples([dataset[0], dataset[len(dataset) - 1]])
    assert batch.images.shape == (1, 3, 32, 32)
    assert batch.skipped == [str(tmp_path / "missing.jpg")]


@pytest.mark.parametrize("name", ["resnet50", "efficientnet_b0", "mobilenet_v2", "resnet18", "npr_resnet"])
def test_create_model_outputs_two_logits(name):
    model = create_model(name).eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 64, 64)).shape == (2, 2)


def test_npr_model_sees_only_the_residual_of_up_sampling():
    residual = create_model("npr_resnet").features[0]
    coarse = torch.rand(1, 3, 16, 16)
    upsampled = coarse.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)  # what a 2x nearest up-sampler makes
    assert torch.count_nonzero(residual(upsampled)) == 0
    detailed = torch.rand(1, 3, 33, 31)
    out = residual(detailed)
    assert out.shape == detailed.shape and out[..., 0::2, 0::2].abs().max() == 0 and out.abs().max() > 0


def test_create_model_loads_local_backbone_weights(tmp_path):
    reference = create_model("resnet18", num_classes=1000)
    path = tmp_path / "imagenet.pth"
    torch.save(reference.state_dict(), path)
    model = create_model("resnet18", weights=path)
    assert torch.equal(model.conv1.weight, reference.conv1.weight)
    assert model.fc.out_features == 2


def test_create_model_rejects_weights_of_another_architecture(tmp_path):
    path = tmp_path / "other.pth"
    torch.save(create_model("mobilenet_v2", num_classes=1000).state_dict(), path)
    with pytest.raises(CheckpointError, match="does not match"):
        create_model("resnet18", weights=path)


def test_unknown_model_name():
    with pytest.raises(UserError, match="Unknown model"):
        create_model("alexnet-9000")


def test_metrics_on_known_values():
    labels = np.array([0, 0, 1, 1])
    metrics = compute_metrics(labels, np.array([0.1, 0.6, 0.4, 0.9]))
    assert metrics["accuracy"] == 0.5
    assert metrics["precision"] == 0.5 and metrics["recall"] == 0.5
    assert metrics["auc"] == 0.75
    assert equal_error_rate(labels, np.array([0.1, 0.2, 0.8, 0.9])) == 0.0


def test_fit_temperature_recovers_overconfidence():
    torch.manual_seed(0)
    true_logits = torch.randn(4000, 2)
    labels = torch.distributions.Categorical(logits=true_logits).sample()
    assert fit_temperature(true_logits * 3.0, labels) == pytest.approx(3.0, rel=0.1)


def test_fit_temperature_never_sharpens_a_perfectly_separated_set():
    logits = torch.tensor([[4.0, -4.0], [-4.0, 4.0]] * 50)
    labels = torch.tensor([0, 1] * 50)
    assert fit_temperature(logits, labels) == 1.0


def test_checkpoint_roundtrip_is_weights_only_and_atomic(tmp_path):
    model = create_model("mobilenet_v2").eval()
    meta = CheckpointMeta("mobilenet_v2", 64, temperature=1.7, metrics={"val_auc": 0.9})
    path = tmp_path / "m.pt"
    save_checkpoint(path, model, meta)
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temp file left behind
    loaded, loaded_meta = load_checkpoint(path)
    assert loaded_meta == meta
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model(x))


def test_half_precision_checkpoint_is_smaller_and_close(tmp_path):
    model = create_model("mobilenet_v2").eval()
    save_checkpoint(tmp_path / "full.pt", model, CheckpointMeta("mobilenet_v2", 64))
    save_checkpoint(tmp_path / "half.pt", model, CheckpointMeta("mobilenet_v2", 64), half=True)
    assert (tmp_path / "half.pt").stat().st_size < 0.6 * (tmp_path / "full.pt").stat().st_size
    loaded, _ = load_checkpoint(tmp_path / "half.pt")
    assert next(loaded.parameters()).dtype == torch.float32


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="Cannot read checkpoint"):
        read_checkpoint(path)


def test_classifier_probabilities_are_calibrated_probabilities(tiny_checkpoint, tiny_dataset):
    classifier = Classifier.from_checkpoint(tiny_checkpoint)
    images = [decode_image(p) for p in sorted((tiny_dataset / "Test" / "Fake").iterdir())[:3]]
    probabilities = classifier.probabilities(images)
    assert probabilities.shape == (3,)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    assert len(classifier.version) == 12
