"""Train a grid of models x epoch counts and compare them: `python -m training.sweep --models ... --epochs ...`.

Each model is trained once for the largest epoch count, keeping a checkpoint per epoch; the shorter counts
reuse those checkpoints instead of retraining. (With a cosine schedule the epoch-4 checkpoint of an 8-epoch run
is not identical to a separate 4-epoch run; it is what the original train_models.sh compared, at half the cost.)
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pipeline import constants as C
from pipeline.errors import UserError
from pipeline.models import ARCHITECTURES

from . import train as train_command
from .cli import ArgumentParser, run_command
from .evaluate import evaluate_checkpoints

logger = logging.getLogger(__name__)


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """Arguments of the sweep command."""
    parser = ArgumentParser(description="Train models x epoch counts once each and compare on a split.", add_help=add_help)
    parser.add_argument("--data-dir", type=Path, required=True, help="folder holding Train/Validation/Test (required)")
    parser.add_argument("--models", nargs="+", default=["efficientnet_b0", "resnet50"], help="architectures (default efficientnet_b0 resnet50)")
    parser.add_argument("--epochs", nargs="+", type=int, default=[2, 4, 8], help="epoch counts to compare (default 2 4 8)")
    parser.add_argument("--weights", nargs="*", default=[], metavar="MODEL=FILE", help="local ImageNet weights per model (default none)")
    parser.add_argument("--split", choices=C.SPLITS, default="Test", help="split the report compares on (default Test)")
    parser.add_argument("--output-dir", type=Path, default=Path("runs/sweep"), help="sweep folder (default runs/sweep)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per batch (default 64)")
    parser.add_argument("--image-size", type=int, default=C.DEFAULT_IMAGE_SIZE, help=f"input side (default {C.DEFAULT_IMAGE_SIZE})")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default 1e-3)")
    parser.add_argument("--workers", type=int, default=4, help="data-loading processes (default 4)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    parser.add_argument("--amp", choices=("bf16", "fp16"), default=None, help="mixed precision on CUDA (default off)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--verbose", action="store_true", help="debug logging (default off)")
    return parser


def parse_weights(pairs: list[str]) -> dict[str, str]:
    """MODEL=FILE pairs into a dict."""
    weights = {}
    for pair in pairs:
        model, sep, path = pair.partition("=")
        if not sep or not path:
            raise UserError(f"--weights takes MODEL=FILE, got {pair!r}")
        weights[model] = path
    return weights


def train_argv(args: argparse.Namespace, model: str, weights: dict[str, str]) -> list[str]:
    """The train command line for one model of the sweep."""
    argv = [
        "--data-dir", str(args.data_dir), "--model", model, "--epochs", str(max(args.epochs)),
        "--batch-size", str(args.batch_size), "--image-size", str(args.image_size), "--lr", str(args.lr),
        "--workers", str(args.workers), "--device", args.device, "--seed", str(args.seed),
        "--output-dir", str(args.output_dir / "runs"), "--run-name", model, "--save-every-epoch",
    ]
    if args.amp:
        argv += ["--amp", args.amp]
    if model in weights:
        argv += ["--weights", weights[model]]
    return argv


def sweep(args: argparse.Namespace) -> int:
    """Train each model once, then evaluate its checkpoint at each requested epoch count."""
    unknown = [m for m in args.models if m not in ARCHITECTURES]
    if unknown:
        raise UserError(f"Unknown model(s) {', '.join(unknown)}: choose from {', '.join(sorted(ARCHITECTURES))}")
    if min(args.epochs) < 1:
        raise UserError("--epochs values must be at least 1")
    weights = parse_weights(args.weights)
    checkpoints: dict[str, Path] = {}
    for model in args.models:
        code = train_command.main(train_argv(args, model, weights))
        if code != C.EXIT_OK:
            return code
        for epochs in sorted(set(args.epochs)):
            checkpoints[f"{model}_{epochs}_epochs"] = args.output_dir / "runs" / model / f"epoch_{epochs:03d}.pt"
    eval_args = argparse.Namespace(
        data_dir=args.data_dir, split=args.split, output_dir=args.output_dir / "report",
        batch_size=args.batch_size, workers=args.workers, device=args.device,
    )
    evaluate_checkpoints(checkpoints, eval_args)
    return C.EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m training.sweep` and the deepfake-sweep console script."""
    return run_command(get_args_parser(), sweep, argv)


if __name__ == "__main__":
    sys.exit(main())
