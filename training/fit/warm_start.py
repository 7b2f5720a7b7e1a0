"""Warm start: begin training from a trained deepfake-detector checkpoint of the same architecture instead of from
ImageNet, keeping what it learned (its real/fake head included) while a new head, such as the kind head, starts
fresh."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from pipeline.checkpoint import read_checkpoint
from pipeline.errors import CheckpointError

logger = logging.getLogger(__name__)


def warm_start(model: nn.Module, checkpoint: Path, architecture: str) -> None:
    """Copy a checkpoint's weights into model: every tensor of the same shape, and the leading rows of an output
    layer that has grown (a two-class head into a two-class-plus-kinds head); anything else keeps its fresh init."""
    payload = read_checkpoint(checkpoint)
    if payload["architecture"] != architecture:
        raise CheckpointError(f"--init-from {checkpoint} holds a {payload['architecture']} model, not {architecture}")
    target = model.state_dict()
    copied, grown = 0, []
    for name, value in payload["state_dict"].items():
        if name not in target:
            continue
        value = value.to(target[name].dtype)
        if value.shape == target[name].shape:
            target[name] = value
            copied += 1
        elif value.dim() >= 1 and value.shape[1:] == target[name].shape[1:] and value.shape[0] < target[name].shape[0]:
            target[name] = torch.cat([value, target[name][value.shape[0]:]])
            grown.append(name)
    if copied + len(grown) < len(target) // 2:
        raise CheckpointError(f"--init-from {checkpoint}: only {copied} of {len(target)} tensors fit the model")
    model.load_state_dict(target)
    logger.info("Warm start from %s: %d tensors copied, %s grown by fresh rows", checkpoint, copied, grown or "none")
