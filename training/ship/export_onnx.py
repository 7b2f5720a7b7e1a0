"""Export a checkpoint to ONNX: `python -m training.export_onnx --checkpoint FILE [--output FILE.onnx]`.

The ONNX file has a dynamic batch axis and carries the checkpoint's metadata (metadata_props). The export is
checked against PyTorch on a random batch before the file is written (atomically).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import torch

from pipeline import constants as C
from pipeline.checkpoint import file_hash, load_checkpoint, write_atomically
from pipeline.cli import ArgumentParser, run_command
from pipeline.errors import UserError
from pipeline.onnx_runtime import OPSET, OnnxClassifier, create_session, export_onnx_bytes


logger = logging.getLogger(__name__)

TOLERANCE = 1e-4


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """Arguments of the export command."""
    parser = ArgumentParser(description="Export a checkpoint to ONNX (metadata inside, dynamic batch).",
                            add_help=add_help)
    parser.add_argument("--checkpoint", type=Path, required=True, help="model checkpoint (.pt) to export (required)")
    parser.add_argument("--output", type=Path, default=None,
                        help="ONNX file to write (default: the checkpoint's path with .onnx, which the server picks up)")
    parser.add_argument("--opset", type=int, default=OPSET, help=f"ONNX opset version (default {OPSET})")
    parser.add_argument("--verbose", action="store_true", help="debug logging (default off)")
    return parser


def max_difference(model: torch.nn.Module, session, image_size: int, batch_size: int = 3) -> float:
    """Largest absolute logit difference between PyTorch and ONNX Runtime on a random batch."""
    batch = torch.randn(batch_size, 3, image_size, image_size, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        expected = model(batch).float().numpy()
    (actual,) = session.run(None, {"input": batch.numpy()})
    return float(np.abs(expected - actual).max())


def export(args: argparse.Namespace) -> int:
    """Export, verify and write one checkpoint."""
    output = args.output or args.checkpoint.with_suffix(".onnx")
    if output.suffix.lower() != ".onnx":
        raise UserError(f"--output must end in .onnx, got {output}")
    if output.resolve() == args.checkpoint.resolve():
        raise UserError("--output must not overwrite the checkpoint")
    model, meta = load_checkpoint(args.checkpoint)
    try:
        data = export_onnx_bytes(model, meta, file_hash(args.checkpoint), opset=args.opset)
    except Exception as error:  # unsupported opset, operator without ONNX mapping, ...
        raise UserError(f"ONNX export of {args.checkpoint} failed: {error.__class__.__name__}: {error}") from None
    difference = max_difference(model, create_session(data), meta.image_size)
    if difference > TOLERANCE:
        raise UserError(f"ONNX logits differ from PyTorch by {difference:.2e} (> {TOLERANCE}); not written")
    write_atomically(output, lambda handle: handle.write(data))
    OnnxClassifier.from_onnx(output)  # the written file loads on its own
    print(f"wrote {output} ({len(data) / 1e6:.1f} MB, {meta.architecture}, input {meta.image_size}px, "
          f"max |logit difference| vs PyTorch {difference:.1e})")
    return C.EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m training.export_onnx` and the deepfake-export-onnx console script."""
    return run_command(get_args_parser(), export, argv)


if __name__ == "__main__":
    sys.exit(main())
