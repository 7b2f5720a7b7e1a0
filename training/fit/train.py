"""Train a real/fake classifier: `python -m training.train --data-dir DIR --model NAME ...`."""

from __future__ import annotations

import argparse
import csv
import logging
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml
from torch.utils.data import DataLoader, DistributedSampler

from pipeline import constants as C
from pipeline.checkpoint import CheckpointMeta, read_checkpoint, save_checkpoint
from pipeline.cli import ArgumentParser, key_value_pairs, resolve_device, run_command
from pipeline.errors import CheckpointError, UserError
from pipeline.models import ARCHITECTURES, create_model
from pipeline.scoring import class_logits, kind_logits

from ..assess.metrics import compute_metrics, fake_probability, fit_temperature
from ..assess.per_source import per_source_metrics, worst_source_auc
from ..assess.plots import plot_training_curves
from ..data.crops import mix_records
from ..data.dataset import FaceFolderDataset, build_transforms, collate_samples, split_dir
from ..data.mix import load_mix
from ..data.mixdata import MixDataset, MixSampler, sampling_weights, split_dataset
from .distributed import DistributedContext, barrier, init_distributed, shutdown_distributed
from .engine import collect_logits, train_one_epoch
from .warm_start import warm_start

logger = logging.getLogger(__name__)

SUMMARY_COLUMNS = [
    "epoch", "train_loss", "val_loss", "val_accuracy", "val_precision", "val_recall", "val_f1", "val_auc",
    "val_eer", "val_worst_source_auc", "wild_auc", "wild_mean_source_auc", "wild_worst_source_auc", "wild_kind_accuracy",
    "temperature", "lr", "epoch_time_s", "train_images_per_s", "skipped_files",
]
BEST_METRICS = ("auc", "accuracy", "f1", "loss", "worst_source_auc", "wild_mean_source_auc", "wild_worst_source_auc")


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """Arguments of the train command."""
    parser = ArgumentParser(description="Train a real/fake face classifier on a Kaggle-layout folder or a data mix.", add_help=add_help)
    data = parser.add_argument_group("data (--data-dir or --data-mix)")
    data.add_argument("--data-dir", type=Path, default=None, help="folder holding Train/ and Validation/ (default none)")
    data.add_argument("--data-mix", type=Path, default=None, help="data mix YAML (config/data-mix.yaml documents it; default none)")
    data.add_argument("--leave-out", default=None, help="with --data-mix: train and validate without this source, or every source of this family (gan, diffusion, swap) (default none)")
    data.add_argument("--source-weight", nargs="+", default=[], metavar="NAME=W", help="with --data-mix: replace a source's sampling weight (sbi, bi for the pseudo-fakes), e.g. for a second, shorter stage (default: the mix's weights)")
    data.add_argument("--samples-per-epoch", type=int, default=None, help="with --data-mix: examples drawn per epoch (default: the Train split's size)")
    data.add_argument("--crop-cache", type=Path, default=None, help="with --data-mix: face crop cache (default ~/.cache/deepfake-detector/crops)")
    data.add_argument("--image-size", type=int, default=C.DEFAULT_IMAGE_SIZE, help=f"input side in pixels (default {C.DEFAULT_IMAGE_SIZE})")
    data.add_argument("--min-crop-scale", type=float, default=C.AUG_SCALE[0], help=f"smallest area fraction of a random training crop; lower teaches tighter face framings (default {C.AUG_SCALE[0]})")
    data.add_argument("--workers", type=int, default=4, help="data-loading processes per rank (default 4)")
    data.add_argument("--prefetch-factor", type=int, default=4, help="batches prefetched per worker (default 4)")
    model = parser.add_argument_group("model")
    model.add_argument("--model", default="resnet50", help=f"architecture: {', '.join(sorted(ARCHITECTURES))} (default resnet50)")
    model.add_argument("--weights", type=Path, default=None, help="local ImageNet .pth for the backbone (default: random init)")
    model.add_argument("--init-from", type=Path, default=None, help="a trained checkpoint of the same architecture to start from instead of --weights: its real/fake head is kept, a kind head starts fresh (default none)")
    model.add_argument("--no-kind-head", action="store_true", help="with --data-mix: no second head for the kind of fake (default: a kind head when the mix names families)")
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--epochs", type=int, default=8, help="total epochs (default 8)")
    optim.add_argument("--batch-size", type=int, default=64, help="images per batch per rank (default 64)")
    optim.add_argument("--lr", type=float, default=1e-3, help="peak AdamW learning rate (default 1e-3)")
    optim.add_argument("--weight-decay", type=float, default=0.05, help="AdamW weight decay (default 0.05)")
    optim.add_argument("--warmup-epochs", type=float, default=1.0, help="linear warm-up before cosine decay (default 1)")
    optim.add_argument("--best-metric", choices=BEST_METRICS, default=None, help="metric that picks best.pt; ties go to lower loss (default auc; with --data-mix wild_mean_source_auc when the mix holds a Wild split, else worst_source_auc)")
    speed = parser.add_argument_group("speed")
    speed.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    speed.add_argument("--amp", choices=("bf16", "fp16"), default=None, help="mixed precision on CUDA (default off)")
    speed.add_argument("--channels-last", action="store_true", help="NHWC memory format, faster on tensor cores (default off)")
    speed.add_argument("--compile", action="store_true", help="torch.compile the model (default off)")
    run = parser.add_argument_group("run")
    run.add_argument("--output-dir", type=Path, default=Path("runs"), help="parent of the run folder (default runs)")
    run.add_argument("--run-name", default=None, help="run folder name (default <timestamp>-<model>)")
    run.add_argument("--resume", type=Path, default=None, help="last.pt of a run to continue, in its own folder (default none)")
    run.add_argument("--save-every-epoch", action="store_true", help="also keep epoch_NNN.pt for each epoch (default off)")
    run.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    run.add_argument("--verbose", action="store_true", help="debug logging (default off)")
    return parser


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch RNGs."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_loader(dataset, args, train: bool, device: torch.device, context: DistributedContext,
                 sampler=None) -> DataLoader:
    """A DataLoader sized so the accelerator does not wait on JPEG decoding."""
    if sampler is None and context.enabled:
        sampler = DistributedSampler(dataset, shuffle=train, seed=args.seed)
    workers = max(0, args.workers)
    return DataLoader(
        dataset,
        batch_size=args.batch_size,
        shuffle=train and sampler is None,
        sampler=sampler,
        num_workers=workers,
        collate_fn=collate_samples,
        pin_memory=device.type == "cuda",
        persistent_workers=workers > 0,
        prefetch_factor=args.prefetch_factor if workers > 0 else None,
        drop_last=False,
    )


def warmup_cosine(total_steps: int, warmup_steps: int):
    """LR multiplier: linear warm-up, then cosine decay to zero."""
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return factor


def validate_args(args: argparse.Namespace) -> None:
    """Reject impossible settings before any work starts."""
    if (args.data_dir is None) == (args.data_mix is None):
        raise UserError("Give exactly one of --data-dir and --data-mix")
    if args.data_mix is None and (args.leave_out or args.samples_per_epoch or args.source_weight):
        raise UserError("--leave-out, --samples-per-epoch and --source-weight need --data-mix")
    for name in ("epochs", "batch_size", "image_size", "samples_per_epoch"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 < args.min_crop_scale <= 1:
        raise UserError("--min-crop-scale must be in (0, 1]")
    if args.image_size < 16:
        raise UserError("--image-size must be at least 16 pixels")
    if args.model not in ARCHITECTURES:
        raise UserError(f"Unknown model {args.model!r}: choose one of {', '.join(sorted(ARCHITECTURES))}")


def build_datasets(args: argparse.Namespace, context: DistributedContext):
    """(train set, validation set, Wild set or None, train sampler or None) from --data-dir or --data-mix."""
    train_transform = build_transforms(True, args.image_size, min_crop_scale=args.min_crop_scale)
    if args.data_mix is None:
        return (FaceFolderDataset(split_dir(args.data_dir, "Train"), train_transform),
                FaceFolderDataset(split_dir(args.data_dir, "Validation"), build_transforms(False, args.image_size)),
                None, None)
    mix = load_mix(args.data_mix).without(args.leave_out).reweighted(
        key_value_pairs(args.source_weight, "--source-weight", "NAME=WEIGHT, e.g. t2i-faces=1.5", float))
    records = mix_records(mix, args.crop_cache)

    def split_set(split: str, train: bool, seed: int):
        transform = train_transform if train else build_transforms(False, args.image_size)
        return split_dataset(records, mix, split, transform, train, seed)

    train_set, val_set = split_set("Train", True, args.seed + context.rank), split_set("Validation", False, args.seed)
    wild_set = split_set(C.WILD_SPLIT, False, args.seed) if (records["split"] == C.WILD_SPLIT).any() else None
    weights = mix.sampling_weights()
    sampler = MixSampler(sampling_weights(train_set.items, weights), args.samples_per_epoch or len(train_set),
                         args.seed + context.rank)
    if context.is_main:
        logger.info("Mix %s: Train %s, Validation %s, Wild %s", args.data_mix, train_set.source_counts(),
                    val_set.source_counts(), wild_set.source_counts() if wild_set else {})
    return train_set, val_set, wild_set, sampler


def wants_kind_head(args: argparse.Namespace, train_set) -> bool:
    """A kind head is trained on a mix whose Train split has fakes of a known family, unless --no-kind-head."""
    return not args.no_kind_head and isinstance(train_set, MixDataset) and bool((train_set.kinds >= 0).any())


def wild_metrics(model, wild_loader, wild_set, device, args, temperature: float) -> dict[str, float]:
    """AUC over the Wild split, the mean and lowest AUC of its fake sources, and the kind head's accuracy on its
    fakes of a known kind (NaN without a kind head)."""
    logits, labels, indices, _ = collect_logits(model, wild_loader, device, DistributedContext(), args.amp,
                                                args.channels_last, description="wild")
    probabilities = fake_probability(logits, temperature)
    table = per_source_metrics(wild_set.sources(indices), labels.numpy(), probabilities)
    logger.info("Wild by source:\n%s", table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    fake_aucs = table.loc[table["class"] == C.CLASS_NAMES[C.FAKE_INDEX], "auc"].dropna()
    kinds = wild_set.kinds[indices]
    known = kinds >= 0
    kind_accuracy = math.nan
    if kind_logits(logits).shape[-1] and bool(known.any()):
        kind_accuracy = float((kind_logits(logits)[known].argmax(-1) == kinds[known]).float().mean())
    return {"wild_auc": compute_metrics(labels.numpy(), probabilities)["auc"],
            "wild_mean_source_auc": float(fake_aucs.mean()) if len(fake_aucs) else math.nan,
            "wild_worst_source_auc": worst_source_auc(table), "wild_kind_accuracy": kind_accuracy}


def validation_worst_auc(val_set, indices, labels, logits, temperature: float) -> float:
    """The lowest per-fake-source Validation AUC of a mix (NaN for a single Kaggle-layout folder)."""
    if not isinstance(val_set, MixDataset):
        return math.nan
    table = per_source_metrics(val_set.sources(indices), labels.numpy(), fake_probability(logits, temperature))
    logger.info("Validation by source:\n%s", table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return worst_source_auc(table)


def score_of(metrics: dict[str, float], loss: float, best_metric: str) -> tuple[float, float]:
    """Sort key for best.pt: higher is better, ties broken by lower validation loss."""
    primary = -loss if best_metric == "loss" else metrics.get(best_metric, math.nan)
    primary = -math.inf if math.isnan(primary) else primary
    return (primary, -loss)


def plain_config(args: argparse.Namespace, **extra) -> dict:
    """The run's arguments as YAML-friendly plain types."""
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    config.update(extra)
    return config


def append_summary(path: Path, row: dict) -> None:
    """Append one epoch row to summary.csv, writing the header first."""
    new = not path.exists()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=SUMMARY_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow({k: row[k] for k in SUMMARY_COLUMNS})


def prepare_run_dir(args: argparse.Namespace) -> tuple[Path, dict | None]:
    """The run folder, and the resume payload when continuing a run."""
    if args.resume is not None:
        payload = read_checkpoint(args.resume)
        if "optimizer" not in payload:
            raise CheckpointError(f"{args.resume} has no optimizer state: resume from a run's last.pt")
        if payload["architecture"] != args.model:
            raise CheckpointError(f"{args.resume} holds a {payload['architecture']} model, but --model is {args.model}")
        return Path(args.resume).parent, payload
    name = args.run_name or f"{time.strftime('%Y%m%d-%H%M%S')}-{args.model}"
    return args.output_dir / name, None


def train(args: argparse.Namespace) -> int:
    """Run training as described by args; returns an exit code."""
    validate_args(args)
    device = resolve_device(args.device)
    context = init_distributed(device.type)
    try:
        return _train(args, device, context)
    finally:
        shutdown_distributed(context)


def _train(args: argparse.Namespace, device: torch.device, context: DistributedContext) -> int:
    if device.type == "cuda" and context.enabled:
        device = torch.device("cuda", context.local_rank)
        torch.cuda.set_device(device)
    if args.amp and device.type != "cuda":
        logger.warning("--amp %s ignored: mixed precision is used on CUDA only", args.amp)
        args.amp = None
    seed_everything(args.seed + context.rank)
    torch.backends.cudnn.benchmark = True

    train_set, val_set, wild_set, train_sampler = build_datasets(args, context)
    if args.best_metric is None:
        args.best_metric = "auc" if not args.data_mix else "wild_mean_source_auc" if wild_set else "worst_source_auc"
    if args.best_metric.startswith("wild_") and wild_set is None:
        raise UserError(f"--best-metric {args.best_metric} needs a data mix with a Wild split (sources with `wild:`)")
    run_dir, resume = prepare_run_dir(args)
    if context.is_main:
        logger.info("Train %s, Validation %s -> %s", train_set.class_counts(), val_set.class_counts(), run_dir)

    kind_names = list(C.KIND_NAMES) if wants_kind_head(args, train_set) else []
    kind_targets = train_set.kinds if kind_names else None
    model = create_model(args.model, num_classes=len(C.CLASS_NAMES) + len(kind_names), weights=args.weights)
    if args.init_from is not None and resume is None:
        warm_start(model, args.init_from, args.model)
    model = model.to(device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    train_loader = build_loader(train_set, args, True, device, context, train_sampler)
    val_loader = build_loader(val_set, args, False, device, context)
    wild_loader = build_loader(wild_set, args, False, device, DistributedContext()) if wild_set else None
    steps_per_epoch = len(train_loader)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(args.epochs * steps_per_epoch, int(args.warmup_epochs * steps_per_epoch))
    )
    scaler = torch.amp.GradScaler("cuda") if args.amp == "fp16" else None
    start_epoch, best_score = 1, (-math.inf, -math.inf)
    if resume is not None:
        model.load_state_dict(resume["state_dict"])
        optimizer.load_state_dict(resume["optimizer"])
        scheduler.load_state_dict(resume["scheduler"])
        if scaler is not None and resume.get("scaler"):
            scaler.load_state_dict(resume["scaler"])
        start_epoch = int(resume["epoch"]) + 1
        best_score = tuple(resume.get("best_score", best_score))
        logger.info("Resuming %s from epoch %d", run_dir, start_epoch)
    if start_epoch > args.epochs:
        raise UserError(f"Run {run_dir} already finished {start_epoch - 1} epochs; ask for more with --epochs")

    train_model = model
    if context.enabled:
        train_model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    if args.compile:
        train_model = torch.compile(train_model)

    config = plain_config(
        args, device=str(device), world_size=context.world_size, torch_version=str(torch.__version__),
        train_counts=train_set.class_counts(), validation_counts=val_set.class_counts(),
    )
    if context.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        with open(run_dir / "config.yaml", "w") as handle:
            yaml.safe_dump(config, handle, sort_keys=False)

    for epoch in range(start_epoch, args.epochs + 1):
        if hasattr(train_loader.sampler, "set_epoch"):
            train_loader.sampler.set_epoch(epoch)
        lr = optimizer.param_groups[0]["lr"]
        stats = train_one_epoch(
            train_model, train_loader, optimizer, scheduler, device, context, args.amp, scaler,
            args.channels_last, description=f"epoch {epoch}/{args.epochs}", kind_targets=kind_targets,
        )
        logits, labels, indices, val_stats = collect_logits(model, val_loader, device, context, args.amp, args.channels_last)
        temperature = fit_temperature(class_logits(logits), labels)
        metrics = compute_metrics(labels.numpy(), fake_probability(logits, temperature))
        worst = validation_worst_auc(val_set, indices, labels, logits, temperature)
        wild = dict.fromkeys(("wild_auc", "wild_mean_source_auc", "wild_worst_source_auc", "wild_kind_accuracy"), math.nan)
        if wild_loader is not None and context.is_main:
            wild = wild_metrics(model, wild_loader, wild_set, device, args, temperature)
        # NaN would make checkpoint metadata unequal to itself
        metrics |= {k: v for k, v in {"worst_source_auc": worst, **wild}.items() if not math.isnan(v)}
        row = {
            "epoch": epoch, "train_loss": stats.loss, "val_loss": val_stats.loss,
            **{f"val_{k}": v for k, v in metrics.items() if not k.startswith("wild_")}, **wild,
            "val_worst_source_auc": worst, "temperature": temperature, "lr": lr,
            "epoch_time_s": stats.seconds, "train_images_per_s": stats.images_per_second,
            "skipped_files": len(set(stats.skipped) | set(val_stats.skipped)),
        }
        score = score_of(metrics, val_stats.loss, args.best_metric)
        is_best = score > best_score
        best_score = max(score, best_score)
        if context.is_main:
            _finish_epoch(run_dir, model, args, config, row, metrics, val_stats.loss, temperature,
                          is_best, best_score, optimizer, scheduler, scaler, stats.skipped + val_stats.skipped,
                          kind_names)
        barrier(context)
    if context.is_main:
        print(f"Run folder: {run_dir}")
    return C.EXIT_OK


def _finish_epoch(run_dir, model, args, config, row, metrics, val_loss, temperature, is_best, best_score,
                  optimizer, scheduler, scaler, skipped, kind_names) -> None:
    """Log the epoch, append summary.csv, redraw plots and write checkpoints (rank 0 only)."""
    epoch = row["epoch"]
    if skipped:
        logger.warning("Epoch %d skipped %d unreadable files, e.g. %s", epoch, len(set(skipped)), sorted(set(skipped))[0])
    logger.info(
        "epoch %d: train_loss %.4f val_loss %.4f acc %.4f f1 %.4f auc %.4f (%.0f img/s)%s",
        epoch, row["train_loss"], val_loss, metrics["accuracy"], metrics["f1"], metrics["auc"],
        row["train_images_per_s"], " *best*" if is_best else "",
    )
    append_summary(run_dir / "summary.csv", row)
    plot_training_curves(pd.read_csv(run_dir / "summary.csv"), run_dir / "curves.png")
    meta = CheckpointMeta(
        architecture=args.model, image_size=args.image_size, temperature=temperature, epoch=epoch, kind_names=kind_names,
        metrics={"val_loss": val_loss, **{k if k.startswith("wild_") else f"val_{k}": v for k, v in metrics.items()}},
        config=config,
    )
    if is_best:
        save_checkpoint(run_dir / "best.pt", model, meta)
    if args.save_every_epoch:
        save_checkpoint(run_dir / f"epoch_{epoch:03d}.pt", model, meta)
    save_checkpoint(
        run_dir / "last.pt", model, meta, optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
        scaler=scaler.state_dict() if scaler is not None else None, best_score=list(best_score),
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m training.train` and the deepfake-train console script."""
    return run_command(get_args_parser(), train, argv)


if __name__ == "__main__":
    sys.exit(main())
