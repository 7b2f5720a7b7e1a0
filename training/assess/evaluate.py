"""Evaluate checkpoints on a split: `python -m training.evaluate --checkpoint FILE_OR_DIR --data-dir DIR`."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn.metrics as skm
import torch
from torch.utils.data import DataLoader

from pipeline import constants as C
from pipeline.checkpoint import load_checkpoint
from pipeline.cli import ArgumentParser, resolve_device, run_command
from pipeline.errors import CheckpointError, UserError
from pipeline.scoring import kind_probabilities

from ..data.crops import mix_records
from ..data.dataset import FaceFolderDataset, build_transforms, collate_samples, split_dir
from ..data.mix import load_mix
from ..data.mixdata import MixDataset, split_dataset
from ..fit.distributed import DistributedContext
from ..fit.engine import collect_logits
from .compare import comparison_markdown, compare_predictions, ships
from .metrics import compute_metrics, confusion, fake_probability
from .per_source import per_source_metrics, worst_source_auc
from .plots import plot_confusion_matrix, plot_roc_curve
from .report import write_report

logger = logging.getLogger(__name__)


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """Arguments of the evaluate command."""
    parser = ArgumentParser(description="Score checkpoints on a data split and compare them.", add_help=add_help)
    parser.add_argument("--checkpoint", type=Path, required=True, help="a .pt file, or a folder searched recursively for *.pt (required)")
    parser.add_argument("--data-dir", type=Path, default=None, help="folder holding Train/Validation/Test (this or --data-mix)")
    parser.add_argument("--data-mix", type=Path, default=None, help="data mix YAML: adds per-source metrics (this or --data-dir)")
    parser.add_argument("--crop-cache", type=Path, default=None, help="with --data-mix: face crop cache (default ~/.cache/deepfake-detector/crops)")
    parser.add_argument("--seed", type=int, default=42, help="with --data-mix: seed of the held-out pseudo-fakes (default 42, as train)")
    parser.add_argument("--split", choices=C.MIX_SPLITS, default="Test", help="split to score (default Test)")
    parser.add_argument("--output-dir", type=Path, default=Path("runs/eval"), help="where metrics, plots and report go (default runs/eval)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per batch (default 64)")
    parser.add_argument("--workers", type=int, default=2, help="data-loading processes (default 2)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    parser.add_argument("--ensemble", action="store_true", help="also score the mean of the checkpoints' probabilities "
                        "against the mean of their thresholds, as the server's model=ensemble does (default off)")
    parser.add_argument("--baseline", type=Path, default=None, help="the current default: every other checkpoint is compared "
                        "with it source by source, family by family and tag by tag, with 95%% bootstrap intervals (default none)")
    parser.add_argument("--require-no-regression", action="store_true", help="with --baseline: exit 1 when a checkpoint is "
                        "worse than the baseline on any group beyond the interval (default off)")
    parser.add_argument("--verbose", action="store_true", help="debug logging (default off)")
    return parser


def find_checkpoints(target: Path) -> list[Path]:
    """The checkpoint file itself, or every *.pt under a folder (sorted)."""
    if target.is_file():
        return [target]
    if target.is_dir():
        found = sorted(p for p in target.rglob("*.pt") if p.is_file())
        if found:
            return found
        raise CheckpointError(f"No *.pt checkpoints under {target}")
    raise CheckpointError(f"Checkpoint not found: {target}")


def checkpoint_label(path: Path, root: Path) -> str:
    """A file-name-safe name for a checkpoint, unique within the evaluated folder."""
    relative = path.relative_to(root) if root.is_dir() else Path(path.name)
    return "__".join(relative.with_suffix("").parts)


def evaluation_dataset(args: argparse.Namespace, meta, data_dir: Path | None = None):
    """The split to score, from a Kaggle-layout folder or from a data mix (with its held-out pseudo-fakes)."""
    transform = build_transforms(False, meta.image_size, meta.mean, meta.std)
    if getattr(args, "data_mix", None) is None:
        return FaceFolderDataset(split_dir(data_dir or args.data_dir, args.split), transform)
    mix, records = loaded_mix(args.data_mix, getattr(args, "crop_cache", None))
    return split_dataset(records, mix, args.split, transform, False, getattr(args, "seed", 42))


def loaded_mix(path: Path, crop_cache: Path | None):
    """A mix and its crop records, listed once per process and version of the file: evaluate and package score
    several checkpoints and splits on the same records."""
    path = Path(path)
    stamp = path.stat().st_mtime_ns if path.is_file() else 0
    mix, records = _loaded_mix(str(path.resolve()), stamp, str(crop_cache) if crop_cache else None)
    return mix, records.copy()


@lru_cache(maxsize=2)
def _loaded_mix(path: str, stamp: int, crop_cache: str | None):
    mix = load_mix(Path(path))
    return mix, mix_records(mix, Path(crop_cache) if crop_cache else None)


def evaluate_checkpoint(name: str, path: Path, data_dir: Path | None, args: argparse.Namespace,
                        device: torch.device) -> "Scored":
    """Per-image probabilities of one checkpoint on args.split."""
    model, meta = load_checkpoint(path)
    model.to(device)
    dataset = evaluation_dataset(args, meta, data_dir)
    loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.workers, collate_fn=collate_samples,
                        pin_memory=device.type == "cuda")
    logits, labels, indices, stats = collect_logits(model, loader, device, DistributedContext(), description=path.name)
    prob_fake = fake_probability(logits, meta.temperature)
    kind_probs = kind_probabilities(logits, meta.kind_temperature) if meta.kind_names else None
    predictions = pd.DataFrame({
        "file": [str(dataset.samples[i][0]) for i in indices.tolist()],
        "label": [C.CLASS_NAMES[int(y)] for y in labels],
        "probability_fake": prob_fake,
        "predicted": [meta.class_names[int(p >= meta.threshold)] for p in prob_fake],
    })
    kinds = None
    if isinstance(dataset, MixDataset):
        for position, column in enumerate(("source", "family", "tag"), start=1):
            predictions.insert(position, column, dataset.sources(indices, column))
        kinds = dataset.kinds[indices].numpy()
    if kind_probs is not None:
        predictions = predictions.assign(kind=[meta.kind_names[k] for k in kind_probs.argmax(-1)],
                                         **{f"kind_probability_{n}": kind_probs[:, i] for i, n in enumerate(meta.kind_names)})
    return Scored(name, str(path), meta.architecture, meta.epoch, meta.image_size, meta.threshold, labels.numpy(),
                  prob_fake, predictions, len(stats.skipped), path.stat().st_size / 1e6, kinds, kind_probs)


def evaluate(args: argparse.Namespace) -> int:
    """Evaluate every checkpoint named by args and write metrics, plots and a report (and the comparison with
    --baseline); exit 1 with --require-no-regression when a checkpoint regresses."""
    checkpoints = {checkpoint_label(p, args.checkpoint): p for p in find_checkpoints(args.checkpoint)}
    if args.baseline is None:
        if args.require_no_regression:
            raise UserError("--require-no-regression needs --baseline")
        evaluate_checkpoints(checkpoints, args)
        return C.EXIT_OK
    if args.baseline.resolve() in {p.resolve() for p in checkpoints.values()}:
        raise UserError("--baseline must not be one of the checkpoints evaluated")
    baseline_name = "baseline__" + checkpoint_label(args.baseline, args.baseline)
    scored = evaluate_checkpoints(checkpoints | {baseline_name: find_checkpoints(args.baseline)[0]}, args, keep_scored=True)
    by_name = {s.name: s for s in scored}
    regressions = [name for name in checkpoints if not write_comparison(by_name[name], by_name[baseline_name], args)]
    return 1 if regressions and args.require_no_regression else C.EXIT_OK


def write_comparison(candidate: "Scored", baseline: "Scored", args: argparse.Namespace) -> bool:
    """Write compare_<candidate>.csv/.md against the baseline; True when the candidate ships."""
    table = compare_predictions(candidate.predictions, baseline.predictions, candidate.threshold, baseline.threshold)
    table.to_csv(args.output_dir / f"compare_{candidate.name}.csv", index=False)
    text = comparison_markdown(table, candidate.name, baseline.name.removeprefix("baseline__"), args.split)
    (args.output_dir / f"compare_{candidate.name}.md").write_text(text)
    print(text.splitlines()[0])
    return ships(table)


def evaluate_checkpoints(named_paths: dict[str, Path], args: argparse.Namespace, keep_scored: bool = False):
    """Score named checkpoints on args.split; write predictions, plots, metrics.csv/json and report.md. Returns the
    metrics table, or with keep_scored the Scored results."""
    device = resolve_device(args.device)
    if (args.data_dir is None) == (getattr(args, "data_mix", None) is None):
        raise UserError("Give exactly one of --data-dir and --data-mix")
    if args.data_dir is not None:
        split_dir(args.data_dir, args.split)  # validates the split name early
    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    scored = [evaluate_checkpoint(name, path, args.data_dir, args, device) for name, path in named_paths.items()]
    if getattr(args, "ensemble", False) and len(scored) > 1:
        scored.append(ensemble_of(scored))
    rows, grouped = [], {}
    for result in scored:
        row, tables = summarise(result, args.split, out)
        rows.append(row)
        for by, part in tables.items():
            grouped.setdefault(by, []).append(part)
    table = pd.DataFrame(rows)
    table.to_csv(out / "metrics.csv", index=False)
    (out / "metrics.json").write_text(json.dumps(rows, indent=2, default=_json_default))
    grouped = {by: pd.concat(parts, ignore_index=True) for by, parts in grouped.items()}
    for by, part in grouped.items():
        part.to_csv(out / f"per_{by}.csv", index=False)
    by_source = grouped.get("source")
    write_report(table, out / "report.md", args.data_dir or args.data_mix, args.split, by_source)
    print(table[["checkpoint", "architecture", "images", "accuracy", "precision", "recall", "f1", "auc", "eer"]]
          .to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if by_source is not None:
        print(by_source.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"Report: {out / 'report.md'}")
    return scored if keep_scored else table


@dataclass
class Scored:
    """One checkpoint's (or the ensemble's) probabilities on the split, with what the summary row reports."""

    name: str
    path: str
    architecture: str
    epoch: int | None
    image_size: int | None
    threshold: float
    labels: np.ndarray
    prob_fake: np.ndarray
    predictions: pd.DataFrame
    skipped: int
    size_mb: float
    kinds: np.ndarray | None = None  # true kind index of each image (-1: real or unknown), for a data mix
    kind_probs: np.ndarray | None = None  # P(kind | fake) per image, for a model with a kind head


def ensemble_of(scored: list[Scored]) -> Scored:
    """The server's `model=ensemble`: the mean probability of the members against the mean of their thresholds."""
    files = scored[0].predictions["file"].tolist()
    if any(s.predictions["file"].tolist() != files for s in scored):
        raise UserError("--ensemble needs checkpoints scored on the same images in the same order")
    prob_fake = np.mean([s.prob_fake for s in scored], axis=0)
    threshold = float(np.mean([s.threshold for s in scored]))
    predictions = scored[0].predictions.assign(
        probability_fake=prob_fake, predicted=[C.CLASS_NAMES[int(p >= threshold)] for p in prob_fake])
    return Scored("ensemble", "+".join(s.path for s in scored), "+".join(s.architecture for s in scored), None, None,
                  threshold, scored[0].labels, prob_fake, predictions, max(s.skipped for s in scored),
                  sum(s.size_mb for s in scored))


def summarise(result: Scored, split: str, out: Path) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Write one result's predictions and plots (and kind confusion); return its metrics row and its tables by
    source, family and tag (none without sources)."""
    name, labels, prob_fake, threshold = result.name, result.labels, result.prob_fake, result.threshold
    metrics = compute_metrics(labels, prob_fake, threshold)
    matrix = confusion(labels, prob_fake, threshold)
    result.predictions.to_csv(out / f"{name}_predictions.csv", index=False)
    plot_confusion_matrix(matrix, f"{name} ({split})", out / f"{name}_confusion.png")
    plot_roc_curve(labels, prob_fake, f"{name} ({split})", out / f"{name}_roc.png")
    tables, extra = {}, {}
    for by in ("source", "family", "tag"):
        if by in result.predictions:
            tables[by] = per_source_metrics(result.predictions[by], labels, prob_fake, threshold)
            tables[by].insert(0, "checkpoint", name)
    if tables:
        extra = {"worst_source_auc": worst_source_auc(tables["source"])}
    if result.kind_probs is not None and result.kinds is not None:
        extra |= write_kind_confusion(result, split, out)
    row = {
        "checkpoint": name, "path": result.path, "architecture": result.architecture, "epoch": result.epoch,
        "image_size": result.image_size, "split": split, "images": int(len(labels)), "skipped_files": result.skipped,
        **metrics, "tn": int(matrix[0, 0]), "fp": int(matrix[0, 1]), "fn": int(matrix[1, 0]), "tp": int(matrix[1, 1]),
        "size_mb": result.size_mb, **extra,
    }
    logger.info("%s: acc %.4f f1 %.4f auc %.4f eer %.4f", name, metrics["accuracy"], metrics["f1"], metrics["auc"], metrics["eer"])
    return row, tables


def write_kind_confusion(result: Scored, split: str, out: Path) -> dict[str, float]:
    """Confusion of true and predicted kind over the fakes of a known kind (CSV and PNG); the kind accuracy over
    them and over those the verdict caught."""
    known = result.kinds >= 0
    predicted = result.kind_probs.argmax(-1)
    caught = known & (result.prob_fake >= result.threshold)
    matrix = skm.confusion_matrix(result.kinds[known], predicted[known], labels=list(range(len(C.KIND_NAMES))))
    pd.DataFrame(matrix, index=[f"true {k}" for k in C.KIND_NAMES], columns=[f"predicted {k}" for k in C.KIND_NAMES]) \
        .to_csv(out / f"{result.name}_kind_confusion.csv")
    plot_confusion_matrix(matrix, f"{result.name} kind of fake ({split})", out / f"{result.name}_kind_confusion.png",
                          C.KIND_NAMES)
    accuracy = lambda chosen: float((predicted[chosen] == result.kinds[chosen]).mean()) if chosen.any() else math.nan
    return {"kind_accuracy": accuracy(known), "kind_accuracy_caught": accuracy(caught), "kind_fakes_caught": int(caught.sum())}


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(type(value).__name__)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m training.evaluate` and the deepfake-evaluate console script."""
    return run_command(get_args_parser(), evaluate, argv)


if __name__ == "__main__":
    sys.exit(main())
