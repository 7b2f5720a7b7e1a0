"""Package a trained checkpoint for serving: `python -m training.package --checkpoint best.pt --data-dir DIR --output models/NAME.pt`.

Refits the temperature (and the kind head's) on the Validation split (and the Wild split of a mix) with the current calibration rules, optionally stores fp16 weights
(half the size), checks that the packaged file scores Validation as the original does, and writes it atomically
without optimizer state.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from pipeline import constants as C
from pipeline.checkpoint import file_hash, load_checkpoint, save_checkpoint
from pipeline.cli import ArgumentParser, run_command
from pipeline.errors import UserError

from ..assess.evaluate import evaluation_dataset, loaded_mix
from ..data.dataset import collate_samples
from ..fit.distributed import DistributedContext
from ..fit.engine import collect_logits
from pipeline.scoring import class_logits, kind_logits

from ..assess.metrics import compute_metrics, fake_probability, fit_temperature
from ..data.mixdata import MixDataset

logger = logging.getLogger(__name__)

# fp16 weights may move Validation accuracy by at most this much before packaging refuses.
MAX_ACCURACY_DROP = 0.005


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """Arguments of the package command."""
    parser = ArgumentParser(description="Recalibrate and package a checkpoint for serving.", add_help=add_help)
    parser.add_argument("--checkpoint", type=Path, required=True, help="trained checkpoint, e.g. runs/<run>/best.pt (required)")
    parser.add_argument("--data-dir", type=Path, default=None, help="folder holding Validation/ (this or --data-mix)")
    parser.add_argument("--data-mix", type=Path, default=None, help="data mix YAML whose Validation split refits the temperature (this or --data-dir)")
    parser.add_argument("--crop-cache", type=Path, default=None, help="with --data-mix: face crop cache (default ~/.cache/deepfake-detector/crops)")
    parser.add_argument("--output", type=Path, required=True, help="packaged checkpoint to write, e.g. models/NAME.pt (required)")
    parser.add_argument("--half", action="store_true", help="store fp16 weights (default fp32)")
    parser.add_argument("--max-false-fake-rate", type=float, default=None, help="raise the decision threshold (never below 0.5) until at most this share of the calibration reals of every real source is called fake (default: keep 0.5)")
    parser.add_argument("--splits", nargs="+", choices=C.MIX_SPLITS, default=None, help="splits that fit the temperature and the threshold (default: Validation, and Wild when the data mix holds one)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per batch (default 64)")
    parser.add_argument("--workers", type=int, default=2, help="data-loading processes (default 2)")
    parser.add_argument("--verbose", action="store_true", help="debug logging (default off)")
    return parser


def calibration_logits(model, meta, data_dir: Path, args) -> tuple[torch.Tensor, torch.Tensor, np.ndarray, torch.Tensor]:
    """Logits, labels, source names (one source for a Kaggle folder) and kind targets (-1 where unknown) of a model
    on the calibration splits, with the checkpoint's own preprocessing."""
    parts = []
    for split in args.splits:
        dataset = evaluation_dataset(argparse.Namespace(**{**vars(args), "split": split}), meta, data_dir)
        loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.workers, collate_fn=collate_samples)
        logits, labels, indices, _ = collect_logits(model, loader, torch.device("cpu"), DistributedContext(), description=split)
        mix = isinstance(dataset, MixDataset)
        parts.append((logits, labels, dataset.sources(indices) if mix else np.full(len(labels), "data"),
                      dataset.kinds[indices] if mix else torch.full((len(labels),), -1)))
    return (torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]), np.concatenate([p[2] for p in parts]),
            torch.cat([p[3] for p in parts]))


def default_splits(args) -> list[str]:
    """Validation, plus Wild when the data mix holds sources out."""
    if args.data_mix is None:
        return ["Validation"]
    _, records = loaded_mix(args.data_mix, args.crop_cache)
    return ["Validation"] + ([C.WILD_SPLIT] if (records["split"] == C.WILD_SPLIT).any() else [])


def fit_threshold(real_probabilities: np.ndarray, max_false_fake_rate: float, sources: np.ndarray | None = None) -> float:
    """The lowest threshold in [0.5, MAX_THRESHOLD] that calls at most max_false_fake_rate of the reals fake, of
    every real source on its own when sources are given (a small source must not hide behind a large one)."""
    if not 0 <= max_false_fake_rate < 1:
        raise UserError("--max-false-fake-rate must be in [0, 1)")
    if sources is not None:
        return max(fit_threshold(real_probabilities[sources == source], max_false_fake_rate)
                   for source in np.unique(sources))
    candidates = np.concatenate([[C.DEFAULT_THRESHOLD], np.sort(real_probabilities) + 1e-6])
    for threshold in candidates[candidates >= C.DEFAULT_THRESHOLD]:
        if np.mean(real_probabilities >= threshold) <= max_false_fake_rate:
            return float(min(threshold, C.MAX_THRESHOLD))
    return C.MAX_THRESHOLD


def package(args: argparse.Namespace) -> int:
    """Recalibrate, convert and verify; write the packaged checkpoint."""
    if (args.data_dir is None) == (args.data_mix is None):
        raise UserError("Give exactly one of --data-dir and --data-mix")
    if args.output.resolve() == args.checkpoint.resolve():
        raise UserError("--output must differ from --checkpoint (the trained file is kept as it is)")
    if args.data_mix is None and args.splits and args.splits != ["Validation"]:
        raise UserError("--splits other than Validation need --data-mix")
    args.splits = args.splits or default_splits(args)
    model, meta = load_checkpoint(args.checkpoint)
    logits, labels, sources, kinds = calibration_logits(model, meta, args.data_dir, args)
    meta.temperature = fit_temperature(class_logits(logits), labels)
    if meta.kind_names and bool((kinds >= 0).any()):
        meta.kind_temperature = fit_temperature(kind_logits(logits)[kinds >= 0], kinds[kinds >= 0])
    probabilities = fake_probability(logits, meta.temperature)
    if args.max_false_fake_rate is not None:
        real = labels.numpy() == C.REAL_INDEX
        meta.threshold = fit_threshold(probabilities[real], args.max_false_fake_rate, sources[real])
    metrics = compute_metrics(labels.numpy(), probabilities, meta.threshold)
    chosen_on = {k: v for k, v in meta.metrics.items() if k.startswith("wild_")}  # what picked the epoch, kept
    meta.metrics = {"val_loss": float(torch.nn.functional.cross_entropy(class_logits(logits) / meta.temperature, labels)),
                    **{f"val_{k}": v for k, v in metrics.items()}, **chosen_on}
    meta.config = {**meta.config, "packaged_from": str(args.checkpoint), "packaged_from_sha256": file_hash(args.checkpoint),
                   "calibration_splits": list(args.splits)}
    save_checkpoint(args.output, model, meta, half=args.half)

    packaged, packaged_meta = load_checkpoint(args.output)
    packaged_logits, _, _, _ = calibration_logits(packaged, packaged_meta, args.data_dir, args)
    packaged_accuracy = compute_metrics(labels.numpy(), fake_probability(packaged_logits, meta.temperature),
                                        meta.threshold)["accuracy"]
    if metrics["accuracy"] - packaged_accuracy > MAX_ACCURACY_DROP:
        args.output.unlink()
        raise UserError(f"fp16 weights lose {metrics['accuracy'] - packaged_accuracy:.4f} Validation accuracy; package without --half")
    kind = f", kind temperature {meta.kind_temperature:.3f}" if meta.kind_names else ""
    splits = " + ".join(args.splits)
    print(f"{args.output}: {args.output.stat().st_size / 1e6:.1f} MB, temperature {meta.temperature:.3f}{kind}, "
          f"threshold {meta.threshold:.3f} (fitted on {splits}), {splits} accuracy {metrics['accuracy']:.4f} "
          f"(packaged {packaged_accuracy:.4f}), AUC {metrics['auc']:.4f}")
    return C.EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m training.package`."""
    return run_command(get_args_parser(), package, argv)


if __name__ == "__main__":
    sys.exit(main())
