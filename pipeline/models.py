"""Model factory: torchvision backbones with a two-class head."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torchvision import models as tv_models

from . import constants as C
from .errors import CheckpointError, UserError

logger = logging.getLogger(__name__)


class FeaturesClassifier(nn.Module):
    """A backbone laid out like torchvision's EfficientNet: `features` (its last block is the Grad-CAM target),
    global average pooling, then `classifier` (dropout, linear)."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential):
        super().__init__()
        self.features, self.pool, self.classifier = features, nn.AdaptiveAvgPool2d(1), classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def efficientnet_lite(variant: int) -> Callable[..., nn.Module]:
    """The builder of EfficientNet-Lite<variant>: timm's tf_efficientnet_lite<variant> (TF 'same' padding, as its
    ImageNet weights expect), its layers in the torchvision layout the server's Grad-CAM knows."""

    def build(weights=None) -> nn.Module:
        import timm

        net = timm.create_model(f"tf_efficientnet_lite{variant}", pretrained=False, num_classes=1000)
        features = nn.Sequential(net.conv_stem, net.bn1, *net.blocks, nn.Sequential(net.conv_head, net.bn2))
        return FeaturesClassifier(features, nn.Sequential(nn.Dropout(net.drop_rate), net.classifier))

    return build


def npr_resnet(weights=None) -> nn.Module:
    """NPR detector (Tan et al., CVPR 2024): a small ResNet, trained from scratch, that sees only the neighbouring-
    pixel residual x - up(down(x)), the trace that a generator's 2x up-sampling leaves in every 2x2 block."""
    net = tv_models.resnet18(weights=None)
    features = nn.Sequential(NeighbourResidual(), net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2)
    return FeaturesClassifier(features, nn.Sequential(nn.Dropout(0.2), nn.Linear(128, 1000)))


class NeighbourResidual(nn.Module):
    """x minus its 2x nearest-neighbour down- and up-sampled copy, scaled up (the residuals are small)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        coarse = nn.functional.interpolate(x[..., ::2, ::2], scale_factor=2.0, mode="nearest")
        return (x - coarse[..., : x.shape[-2], : x.shape[-1]]) * C.NPR_GAIN


# name -> builder; every builder is called with weights=None (no downloads, ever).
ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "efficientnet_lite0": efficientnet_lite(0),
    "efficientnet_lite1": efficientnet_lite(1),
    "efficientnet_lite2": efficientnet_lite(2),
    "npr_resnet": npr_resnet,
    "resnet50": tv_models.resnet50,
    "resnet18": tv_models.resnet18,
    "efficientnet_b0": tv_models.efficientnet_b0,
    "mobilenet_v2": tv_models.mobilenet_v2,
    "mobilenet_v3_large": tv_models.mobilenet_v3_large,
}


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Swap the ImageNet classifier of a torchvision model for a fresh num_classes layer."""
    if isinstance(getattr(model, "classifier", None), nn.Linear):
        model.classifier = nn.Linear(model.classifier.in_features, num_classes)
    elif isinstance(getattr(model, "fc", None), nn.Linear):
        model.fc = nn.Linear(model.fc.in_features, num_classes)
    elif isinstance(getattr(model, "classifier", None), nn.Sequential) and isinstance(model.classifier[-1], nn.Linear):
        model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, num_classes)
    else:
        raise TypeError(f"Do not know where the classifier of {type(model).__name__} is")
    return model


def load_backbone_weights(model: nn.Module, weights: Path) -> None:
    """Load an ImageNet state dict (a torchvision .pth file) into a model that still has its 1000-class head."""
    weights = Path(weights)
    if not weights.is_file():
        raise UserError(f"Weights file not found: {weights}")
    try:
        state_dict = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise CheckpointError(f"Cannot read weights file {weights}: {error.__class__.__name__}") from None
    if isinstance(state_dict, dict) and "state_dict" in state_dict:
        state_dict = state_dict["state_dict"]
    if isinstance(state_dict, dict) and any(key.startswith("_conv_stem") for key in state_dict):
        state_dict = remap_by_order(state_dict, model.state_dict())
    try:
        model.load_state_dict(state_dict)
    except (RuntimeError, TypeError, AttributeError):
        raise CheckpointError(
            f"Weights file {weights} does not match architecture {type(model).__name__.lower()}"
        ) from None
    logger.info("Loaded backbone weights from %s", weights)


def remap_by_order(weights: dict, target: dict) -> dict:
    """Rename an efficientnet_pytorch state dict (`_blocks.N._depthwise_conv...`) onto another implementation of
    the same network (timm's `blocks.i.j.conv_dw...`): both list their tensors in the same order, so pair them in
    order, checking every shape."""
    source = [(k, v) for k, v in weights.items() if not k.endswith("num_batches_tracked")]
    names = [k for k in target if not k.endswith("num_batches_tracked")]
    if len(source) != len(names) or any(v.shape != target[k].shape for (_, v), k in zip(source, names)):
        raise TypeError("weights do not pair up with the architecture")
    return {name: value for name, (_, value) in zip(names, source)} | {
        k: v for k, v in target.items() if k.endswith("num_batches_tracked")}


def create_model(name: str, num_classes: int = len(C.CLASS_NAMES), weights: Path | None = None) -> nn.Module:
    """Build an architecture by name, optionally from local ImageNet weights, with a num_classes head."""
    if name not in ARCHITECTURES:
        raise UserError(f"Unknown model {name!r}: choose one of {', '.join(sorted(ARCHITECTURES))}")
    model = ARCHITECTURES[name](weights=None)
    if weights is not None:
        load_backbone_weights(model, weights)
    return replace_head(model, num_classes)
