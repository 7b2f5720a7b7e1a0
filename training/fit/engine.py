"""One training epoch and one inference pass, on any device, with optional AMP and DDP."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from pipeline import constants as C
from pipeline.scoring import class_logits, kind_logits

from ..data.dataset import Batch
from .distributed import DistributedContext, all_reduce_sum, gather_objects

logger = logging.getLogger(__name__)

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def autocast_context(device: torch.device, amp: str | None):
    """Mixed-precision context on CUDA; a no-op elsewhere or with amp=None."""
    if amp and device.type == "cuda":
        return torch.autocast("cuda", dtype=AMP_DTYPES[amp])
    return contextlib.nullcontext()


def to_device(batch: Batch, device: torch.device, channels_last: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Move a batch to the device without blocking the host."""
    images = batch.images.to(device, non_blocking=True)
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    return images, batch.labels.to(device, non_blocking=True)


def progress(loader: DataLoader, description: str, context: DistributedContext):
    """tqdm bar on a terminal (rank 0); otherwise a log line every tenth of the loader, for log files."""
    if not context.is_main:
        yield from loader
        return
    if sys.stderr.isatty():
        yield from tqdm(loader, desc=description, leave=False)
        return
    total = len(loader)
    every = max(1, total // 10)
    start = time.perf_counter()
    for step, batch in enumerate(loader, 1):
        yield batch
        if step % every == 0 and step < total:
            logger.info("%s: %d/%d batches (%.0f s)", description, step, total, time.perf_counter() - start)


@dataclass
class EpochStats:
    """Loss, throughput and skipped files of one pass."""

    loss: float
    images: int
    seconds: float
    skipped: list[str] = field(default_factory=list)

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0


def device_batches(loader: DataLoader, description: str, context: DistributedContext, device: torch.device,
                   channels_last: bool, skipped: list[str]):
    """(batch, images, labels on the device) of every non-empty batch, with progress; unreadable files go to skipped."""
    for batch in progress(loader, description, context):
        skipped.extend(batch.skipped)
        if len(batch):
            yield (batch, *to_device(batch, device, channels_last))


def train_one_epoch(
    model: nn.Module,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    device: torch.device,
    context: DistributedContext,
    amp: str | None = None,
    scaler: torch.amp.GradScaler | None = None,
    channels_last: bool = False,
    description: str = "train",
    kind_targets: torch.Tensor | None = None,
) -> EpochStats:
    """Train over the loader once, stepping the LR schedule per batch; loss is averaged over all ranks. With
    kind_targets (the kind index of every dataset item, -1 where unknown) the kind head learns beside the verdict."""
    model.train()
    loss_fn = JointLoss(kind_targets.to(device) if kind_targets is not None else None)
    loss_sum = torch.zeros(2, dtype=torch.float64, device=device)  # (sum of loss * n, n)
    skipped: list[str] = []
    start = time.perf_counter()
    for batch, images, labels in device_batches(loader, description, context, device, channels_last, skipped):
        with autocast_context(device, amp):
            loss = loss_fn(model(images), labels, batch.indices.to(device, non_blocking=True))
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        scheduler.step()
        loss_sum += torch.stack([loss.detach().double() * len(labels), torch.tensor(len(labels), device=device, dtype=torch.float64)])
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    total = all_reduce_sum(loss_sum, context).cpu()
    all_skipped = sorted({p for part in gather_objects(skipped, context) for p in part})
    count = int(total[1])
    return EpochStats(float(total[0] / max(count, 1)), count, seconds, all_skipped)


class JointLoss(nn.Module):
    """Cross-entropy of the verdict, plus (with kind targets) C.KIND_LOSS_WEIGHT x cross-entropy of the kind head on
    the fakes of a known kind: P(kind | fake) is learnt from fakes only, so reals cannot pull on it."""

    def __init__(self, kind_targets: torch.Tensor | None = None):
        super().__init__()
        self.kind_targets = kind_targets

    def forward(self, logits: torch.Tensor, labels: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        loss = nn.functional.cross_entropy(class_logits(logits), labels)
        if self.kind_targets is None or kind_logits(logits).shape[-1] == 0:
            return loss
        kinds = self.kind_targets[indices]
        known = kinds >= 0
        if not bool(known.any()):
            return loss + 0.0 * kind_logits(logits).sum()  # keeps the head in the graph (DDP needs every parameter)
        return loss + C.KIND_LOSS_WEIGHT * nn.functional.cross_entropy(kind_logits(logits)[known], kinds[known])


@torch.inference_mode()
def collect_logits(
    model: nn.Module,
    loader: DataLoader,
    device: torch.device,
    context: DistributedContext,
    amp: str | None = None,
    channels_last: bool = False,
    description: str = "eval",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, EpochStats]:
    """Logits, labels and dataset indices over a loader (gathered from all ranks, de-duplicated, in index order)."""
    model.eval()
    parts_logits, parts_labels, parts_indices, skipped = [], [], [], []
    start = time.perf_counter()
    for batch, images, labels in device_batches(loader, description, context, device, channels_last, skipped):
        with autocast_context(device, amp):
            logits = model(images)
        parts_logits.append(logits.float().cpu())
        parts_labels.append(labels.cpu())
        parts_indices.append(batch.indices)
    seconds = time.perf_counter() - start
    local = (
        torch.cat(parts_logits) if parts_logits else torch.empty(0, 2),
        torch.cat(parts_labels) if parts_labels else torch.empty(0, dtype=torch.long),
        torch.cat(parts_indices) if parts_indices else torch.empty(0, dtype=torch.long),
        skipped,
    )
    gathered = gather_objects(local, context)
    logits = torch.cat([g[0] for g in gathered])
    labels = torch.cat([g[1] for g in gathered])
    indices = torch.cat([g[2] for g in gathered])
    # DistributedSampler pads ranks with repeated samples: keep each dataset index once.
    unique_indices, first = _first_occurrences(indices)
    logits, labels = logits[first], labels[first]
    loss = nn.functional.cross_entropy(class_logits(logits), labels).item() if len(labels) else float("nan")
    all_skipped = sorted({p for g in gathered for p in g[3]})
    return logits, labels, unique_indices, EpochStats(loss, len(labels), seconds, all_skipped)


def _first_occurrences(indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sorted unique values and the position of the first occurrence of each."""
    order = torch.argsort(indices, stable=True)
    sorted_indices = indices[order]
    keep = torch.ones_like(sorted_indices, dtype=torch.bool)
    keep[1:] = sorted_indices[1:] != sorted_indices[:-1]
    return sorted_indices[keep], order[keep]
