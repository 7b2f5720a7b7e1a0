"""Classify images: `python -m training.predict PATH... [--checkpoint FILE] [--format table|csv|json]`."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from pathlib import Path

from . import constants as C
from .cli import ArgumentParser, resolve_device, run_command
from .data import IMAGE_DECODE_ERRORS, decode_image
from .errors import UserError
from .inference import Classifier

logger = logging.getLogger(__name__)

DEFAULT_CHECKPOINT = C.MODELS_DIR / f"{C.DEFAULT_MODEL_NAME}.pt"
FIELDS = ["file", "label", "probability_fake", "error"]


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """Arguments of the predict command."""
    parser = ArgumentParser(description="Classify face images as Real or Fake.", add_help=add_help)
    parser.add_argument("paths", nargs="+", type=Path, help="image files or folders (searched recursively)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help=f"model checkpoint (default the bundled {DEFAULT_CHECKPOINT.name})")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default table)")
    parser.add_argument("--batch-size", type=int, default=32, help="images scored together (default 32)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    parser.add_argument("--verbose", action="store_true", help="debug logging (default off)")
    return parser


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given, folders expanded to their image files; a missing path is an error."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in C.IMAGE_EXTENSIONS))
        elif path.is_file():
            files.append(path)
        else:
            raise UserError(f"No such file or folder: {path}")
    if not files:
        raise UserError("No images found in the given paths")
    return files


def predict_files(classifier: Classifier, files: list[Path], batch_size: int) -> list[dict]:
    """One result row per file: label and calibrated probability, or the reason it could not be read."""
    rows: list[dict] = []
    for start in range(0, len(files), batch_size):
        chunk, images = [], []
        for path in files[start:start + batch_size]:
            try:
                images.append(decode_image(path))
                chunk.append(path)
            except IMAGE_DECODE_ERRORS as error:
                rows.append({"file": str(path), "label": "error", "probability_fake": None,
                             "error": f"not a readable image ({error.__class__.__name__})"})
        for path, probability in zip(chunk, classifier.probabilities(images)):
            rows.append({"file": str(path), "label": classifier.label(float(probability)),
                         "probability_fake": round(float(probability), 6), "error": ""})
    order = {str(p): i for i, p in enumerate(files)}
    return sorted(rows, key=lambda r: order[r["file"]])


def write_rows(rows: list[dict], fmt: str, stream=None) -> None:
    """Print rows as an aligned table, CSV or JSON (to stdout by default)."""
    stream = stream or sys.stdout
    if fmt == "json":
        json.dump(rows, stream, indent=2)
        stream.write("\n")
    elif fmt == "csv":
        writer = csv.DictWriter(stream, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    else:
        width = max(len("file"), *(len(r["file"]) for r in rows))
        stream.write(f"{'file':<{width}}  {'label':<5}  probability_fake\n")
        for r in rows:
            probability = "" if r["probability_fake"] is None else f"{r['probability_fake']:.4f}"
            stream.write(f"{r['file']:<{width}}  {r['label']:<5}  {probability or r['error']}\n")


def predict(args: argparse.Namespace) -> int:
    """Load the model once and classify every image named by args."""
    if args.batch_size < 1:
        raise UserError("--batch-size must be at least 1")
    files = expand_paths(args.paths)
    classifier = Classifier.from_checkpoint(args.checkpoint, resolve_device(args.device))
    rows = predict_files(classifier, files, args.batch_size)
    write_rows(rows, args.format)
    failed = [r for r in rows if r["error"]]
    if failed:
        print(f"warning: {len(failed)} of {len(rows)} files could not be read", file=sys.stderr)
    return C.EXIT_BAD_INPUT if len(failed) == len(rows) else C.EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m training.predict` and the deepfake-predict console script."""
    return run_command(get_args_parser(), predict, argv)


if __name__ == "__main__":
    sys.exit(main())
