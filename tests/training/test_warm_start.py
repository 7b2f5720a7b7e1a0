"""Warm start (`training.train --init-from`): a trained two-class checkpoint seeds a model with a kind head."""

import pytest
import torch

from pipeline import constants as C
from pipeline.checkpoint import CheckpointMeta, save_checkpoint
from pipeline.errors import CheckpointError
from pipeline.models import create_model
from training.fit.warm_start import warm_start


@pytest.fixture
def two_class_checkpoint(tmp_path):
    torch.manual_seed(0)
    model = create_model("resnet18", num_classes=len(C.CLASS_NAMES)).eval()
    path = tmp_path / "old.pt"
    save_checkpoint(path, model, CheckpointMeta("resnet18", 32), half=True)
    return path, model


def test_warm_start_keeps_the_real_fake_head_and_adds_fresh_kind_rows(two_class_checkpoint):
    path, old = two_class_checkpoint
    torch.manual_seed(1)
    new = create_model("resnet18", num_classes=len(C.CLASS_NAMES) + len(C.KIND_NAMES))
    fresh_kind_rows = new.fc.weight[len(C.CLASS_NAMES):].detach().clone()
    warm_start(new, path, "resnet18")
    new.eval()
    image = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        # The checkpoint was stored in half precision: equal up to fp16 rounding.
        torch.testing.assert_close(new(image)[:, :2], old.half().float()(image), atol=1e-3, rtol=1e-3)
    assert torch.equal(new.fc.weight[len(C.CLASS_NAMES):], fresh_kind_rows)
    assert new.fc.weight.dtype == torch.float32


def test_warm_start_refuses_another_architecture(two_class_checkpoint):
    path, _ = two_class_checkpoint
    with pytest.raises(CheckpointError, match="resnet18 model, not mobilenet_v2"):
        warm_start(create_model("mobilenet_v2"), path, "mobilenet_v2")

