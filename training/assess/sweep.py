"""Train a grid of models x epoch counts and compare them: `python -m training.sweep --models ... --epochs ...`.

Each model is trained once for the largest epoch count, keeping a checkpoint per epoch; the shorter counts
reuse those checkpoints instead of retraining. (With a cosine schedule the epoch-4 checkpoint of an 8-epoch run
is not identical to a separate 4-epoch run; it is what the original train_models.sh compared, at half the cost.)

With --data-mix and --leave-out SOURCE ..., each model is instead trained once per left-out source (never seeing
it in Train or Validation) and scored by source on the whole mix's split: the leave-one-source-out matrix, written
as Markdown with --report (docs/GENERALIZATION.md is made this way).
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

import pandas as pd

from pipeline import constants as C
from pipeline.cli import ArgumentParser, key_value_pairs, run_command
from pipeline.errors import UserError
from pipeline.models import ARCHITECTURES

from ..data.mix import load_mix
from ..fit import train as train_command
from .evaluate import evaluate_checkpoints
from .per_source import generalization_matrix, markdown_table

logger = logging.getLogger(__name__)


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """Arguments of the sweep command."""
    parser = ArgumentParser(description="Train models x epoch counts (or x left-out sources) and compare on a split.", add_help=add_help)
    parser.add_argument("--data-dir", type=Path, default=None, help="folder holding Train/Validation/Test (this or --data-mix)")
    parser.add_argument("--data-mix", type=Path, default=None, help="data mix YAML (this or --data-dir)")
    parser.add_argument("--leave-out", nargs="+", default=[], metavar="NAME", help="with --data-mix: one run per source or family (gan, diffusion, swap) left out (default none)")
    parser.add_argument("--baseline", type=Path, default=None, help="with --leave-out: a checkpoint trained on the whole mix, the matrix's first row (default none)")
    parser.add_argument("--report", type=Path, default=None, help="with --leave-out: write the matrix as Markdown here (default none)")
    parser.add_argument("--models", nargs="+", default=["efficientnet_b0", "resnet50"], help="architectures (default efficientnet_b0 resnet50)")
    parser.add_argument("--epochs", nargs="+", type=int, default=[2, 4, 8], help="epoch counts to compare (default 2 4 8)")
    parser.add_argument("--weights", nargs="*", default=[], metavar="MODEL=FILE", help="local ImageNet weights per model (default none)")
    parser.add_argument("--split", choices=C.MIX_SPLITS, default="Test", help="split the report compares on (default Test)")
    parser.add_argument("--output-dir", type=Path, default=Path("runs/sweep"), help="sweep folder (default runs/sweep)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per batch (default 64)")
    parser.add_argument("--image-size", type=int, default=C.DEFAULT_IMAGE_SIZE, help=f"input side (default {C.DEFAULT_IMAGE_SIZE})")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default 1e-3)")
    parser.add_argument("--samples-per-epoch", type=int, default=None, help="with --data-mix: examples per epoch (default: the Train split's size)")
    parser.add_argument("--train-args", default="", help="more train flags, one string, e.g. '--warmup-epochs 0.3' (default none)")
    parser.add_argument("--workers", type=int, default=4, help="data-loading processes (default 4)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    parser.add_argument("--amp", choices=("bf16", "fp16"), default=None, help="mixed precision on CUDA (default off)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--verbose", action="store_true", help="debug logging (default off)")
    return parser


def train_argv(args: argparse.Namespace, model: str, weights: dict[str, str], run_name: str | None = None,
               leave_out: str | None = None) -> list[str]:
    """The train command line for one model (and left-out source) of the sweep."""
    data = ["--data-mix", str(args.data_mix)] if args.data_mix else ["--data-dir", str(args.data_dir)]
    argv = [
        *data, "--model", model, "--epochs", str(max(args.epochs)),
        "--batch-size", str(args.batch_size), "--image-size", str(args.image_size), "--lr", str(args.lr),
        "--workers", str(args.workers), "--device", args.device, "--seed", str(args.seed),
        "--output-dir", str(args.output_dir / "runs"), "--run-name", run_name or model, "--save-every-epoch",
        *args.train_args.split(),
    ]
    if leave_out:
        argv += ["--leave-out", leave_out]
    if args.samples_per_epoch:
        argv += ["--samples-per-epoch", str(args.samples_per_epoch)]
    if args.amp:
        argv += ["--amp", args.amp]
    if model in weights:
        argv += ["--weights", weights[model]]
    return argv


def check_args(args: argparse.Namespace) -> None:
    """Reject impossible sweeps before any training."""
    if (args.data_dir is None) == (args.data_mix is None):
        raise UserError("Give exactly one of --data-dir and --data-mix")
    unknown = [m for m in args.models if m not in ARCHITECTURES]
    if unknown:
        raise UserError(f"Unknown model(s) {', '.join(unknown)}: choose from {', '.join(sorted(ARCHITECTURES))}")
    if min(args.epochs) < 1:
        raise UserError("--epochs values must be at least 1")
    if args.leave_out and args.data_mix is None:
        raise UserError("--leave-out needs --data-mix")
    if args.leave_out:
        names = load_mix(args.data_mix).left_out_names()
        missing = [s for s in args.leave_out if s not in names]
        if missing:
            raise UserError(f"--leave-out {', '.join(missing)}: neither a source nor a family of {args.data_mix} ({', '.join(names)})")


def eval_args(args: argparse.Namespace, folder: str) -> argparse.Namespace:
    """Arguments for evaluate_checkpoints on the sweep's split."""
    return argparse.Namespace(
        data_dir=args.data_dir, data_mix=args.data_mix, crop_cache=None, seed=args.seed, split=args.split,
        output_dir=args.output_dir / folder, batch_size=args.batch_size, workers=args.workers, device=args.device,
    )


def sweep(args: argparse.Namespace) -> int:
    """Train each model once, then evaluate its checkpoint at each requested epoch count."""
    check_args(args)
    weights = key_value_pairs(args.weights, "--weights", "MODEL=FILE")
    if args.leave_out:
        return leave_out_sweep(args, weights)
    checkpoints: dict[str, Path] = {}
    for model in args.models:
        code = train_command.main(train_argv(args, model, weights))
        if code != C.EXIT_OK:
            return code
        for epochs in sorted(set(args.epochs)):
            checkpoints[f"{model}_{epochs}_epochs"] = args.output_dir / "runs" / model / f"epoch_{epochs:03d}.pt"
    evaluate_checkpoints(checkpoints, eval_args(args, "report"))
    return C.EXIT_OK


def leave_out_sweep(args: argparse.Namespace, weights: dict[str, str]) -> int:
    """One run per model and left-out source, each scored by source on the whole mix; the matrix as Markdown."""
    checkpoints: dict[str, Path] = {"nothing left out": args.baseline} if args.baseline else {}
    for model in args.models:
        for source in args.leave_out:
            name = f"{model}-without-{source}"
            if finished_epochs(args.output_dir / "runs" / name) < max(args.epochs):
                code = train_command.main(train_argv(args, model, weights, name, source))
                if code != C.EXIT_OK:
                    return code
            checkpoints[f"{model} without {source}"] = args.output_dir / "runs" / name / "best.pt"
    table = evaluate_checkpoints({key.replace(" ", "_"): path for key, path in checkpoints.items()}, eval_args(args, "report"))
    by_source = pd.read_csv(args.output_dir / "report" / "per_source.csv")
    matrix = generalization_matrix(by_source, list(table["checkpoint"]))
    matrix.to_csv(args.output_dir / "report" / "generalization.csv", index=False)
    print(matrix.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.report:
        write_generalization_report(args, matrix)
    return C.EXIT_OK


def finished_epochs(run_dir: Path) -> int:
    """Epochs a run folder has finished (0 when absent): a rerun of a sweep skips finished runs."""
    summary = run_dir / "summary.csv"
    return len(pd.read_csv(summary)) if summary.is_file() and (run_dir / "best.pt").is_file() else 0


def write_generalization_report(args: argparse.Namespace, matrix: pd.DataFrame) -> None:
    """docs/GENERALIZATION.md: how it was made, then the matrix."""
    command = "python -m training.sweep " + shlex.join(sys.argv[1:]) if sys.argv[0].endswith("sweep.py") else "python -m training.sweep ..."
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text("\n".join([
        "# Generalisation to sources a model never saw",
        "",
        f"Made by `{command}` (data mix `{args.data_mix}`, split `{args.split}`).",
        "",
        "Each row is a model trained without one source (neither its Train nor its Validation part), scored on the "
        f"{args.split} split of the whole mix. Fake-source columns: AUC of that source against every real image of the "
        "split; real-source columns (`FFR`): the share of its images called fake at the model's threshold. The row's "
        "name says which source it never saw. The first row is the --baseline checkpoint: compare the training "
        "budgets in each run's config.yaml before reading small differences.",
        "",
        markdown_table(matrix),
        "",
    ]))


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m training.sweep` and the deepfake-sweep console script."""
    return run_command(get_args_parser(), sweep, argv)


if __name__ == "__main__":
    sys.exit(main())
