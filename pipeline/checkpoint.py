"""Self-describing checkpoints: everything needed to serve a model travels with its weights."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable

import torch
from torch import nn

from . import constants as C
from .checkpoint_meta import CheckpointMeta, file_hash  # noqa: F401 (re-exported)
from .errors import CheckpointError
from .models import create_model


def unwrap(model: nn.Module) -> nn.Module:
    """The bare model under DistributedDataParallel or torch.compile wrappers."""
    model = getattr(model, "module", model)
    return getattr(model, "_orig_mod", model)


def save_checkpoint(path: Path, model: nn.Module, meta: CheckpointMeta, half: bool = False, **extra: Any) -> None:
    """Write a checkpoint atomically (temp file + os.replace), optionally with fp16 weights."""
    state_dict = {k: v.detach().cpu() for k, v in unwrap(model).state_dict().items()}
    if half:
        state_dict = {k: v.half() if v.is_floating_point() else v for k, v in state_dict.items()}
    payload = {"format_version": C.CHECKPOINT_FORMAT_VERSION, **meta.to_dict(), "state_dict": state_dict, **extra}
    write_atomically(Path(path), lambda handle: torch.save(payload, handle))


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write a file via a temp file in the same folder and os.replace, readable by all (0644) like any release."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; checkpoints and ONNX files are meant to be shared and served
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def read_checkpoint(path: Path) -> dict[str, Any]:
    """Load the raw checkpoint dict safely (weights_only), or raise CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"Checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # corrupt, truncated, or pickled with custom classes
        raise CheckpointError(f"Cannot read checkpoint {path}: {error.__class__.__name__}") from None
    if not isinstance(payload, dict) or "state_dict" not in payload or "architecture" not in payload:
        raise CheckpointError(f"{path} is not a deepfake-detector checkpoint (no architecture/state_dict)")
    return payload


def meta_from_payload(payload: dict[str, Any]) -> CheckpointMeta:
    """The CheckpointMeta fields of a raw checkpoint dict."""
    return CheckpointMeta(**{k: payload[k] for k in CheckpointMeta.__dataclass_fields__ if k in payload})


def load_checkpoint(path: Path, expected_architecture: str | None = None) -> tuple[nn.Module, CheckpointMeta]:
    """Rebuild the model of a checkpoint in eval mode, with its metadata."""
    payload = read_checkpoint(path)
    meta = meta_from_payload(payload)
    if expected_architecture and meta.architecture != expected_architecture:
        raise CheckpointError(
            f"Checkpoint {path} holds a {meta.architecture} model, not {expected_architecture}"
        )
    model = create_model(meta.architecture, num_classes=meta.output_size)
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError:
        raise CheckpointError(f"Weights in {path} do not fit architecture {meta.architecture}") from None
    return model.float().eval(), meta
