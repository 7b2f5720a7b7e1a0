"""Synthetic Kaggle-layout data sets for tests, demos and GPU checks: `python -m training.synthetic DIR`."""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from pipeline import constants as C
from pipeline.cli import ArgumentParser, run_command



def synthetic_face(label: int, seed: int, size: int = 48) -> Image.Image:
    """A face-like drawing; 'fake' ones are sharper with a dot texture a model can learn quickly."""
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size), tuple(rng.randint(90, 160) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    margin = rng.randint(4, 8)
    draw.ellipse([margin, margin, size - margin, size - margin], fill=(rng.randint(170, 230), 150, 120))
    eye_y, eye = size // 3 + rng.randint(-2, 2), max(3, size // 16)
    for eye_x in (size // 3, 2 * size // 3):
        draw.ellipse([eye_x - eye, eye_y - eye * 2 // 3, eye_x + eye, eye_y + eye * 2 // 3], fill=(30, 30, 30))
    if label == 1:
        for x in range(0, size, 4):
            for y in range(0, size, 4):
                if (x + y) % 8 == 0:
                    draw.point((x, y), fill=(255, 255, 255))
    else:
        image = image.filter(ImageFilter.GaussianBlur(1.2))
    return image


def make_split(root: Path, per_class: int, seed: int, size: int = 48) -> None:
    """Write ROOT/Real and ROOT/Fake with per_class JPEGs each."""
    for label, class_name in enumerate(C.CLASS_NAMES):
        folder = Path(root) / class_name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = synthetic_face(label, seed * 100_000 + label * 10_000 + i, size)
            image.save(folder / f"{class_name.lower()}_{i:05d}.jpg", quality=92)


def make_dataset(root: Path, train: int = 12, validation: int = 6, test: int = 6, size: int = 48) -> Path:
    """A Kaggle-layout data set (Train/Validation/Test x Real/Fake) with the given images per class."""
    for seed, (split, count) in enumerate(zip(C.SPLITS, (train, validation, test))):
        make_split(Path(root) / split, count, seed, size)
    return Path(root)


def make_mix(root: Path, per_class: int = 10, size: int = 48) -> Path:
    """A tiny data mix: a Kaggle-layout GAN set, a fakes-only folder and a plain folder of reals; returns its YAML."""
    root = Path(root)
    make_dataset(root / "gan", per_class, per_class // 2, per_class // 2, size)
    for name, label, offset in (("t2i", 1, 7), ("reals", 0, 9)):
        folder = root / name / ("Fake" if label else "")
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class * 2):
            image = synthetic_face(label, offset * 1_000_000 + i, size)
            # A block in a different place in each picture keeps their difference hashes apart (no near-duplicates).
            ImageDraw.Draw(image).rectangle([i % 4 * size // 4, i // 4 % 4 * size // 4, (i % 4 + 1) * size // 4,
                                             (i // 4 % 4 + 1) * size // 4], fill=(20 * (i % 8), 255 - 9 * i % 200, 40))
            image.save(folder / f"{name}_{i:04d}.jpg", quality=90)
    (root / "mix.yaml").write_text(
        "split: {validation: 0.25, test: 0.25}\n"
        "sources:\n"
        "  - {name: gan, path: gan, kind: faces, sbi: true}\n"
        "  - {name: t2i, path: t2i, kind: photos}\n"
        "  - {name: reals, path: reals, kind: photos, label: Real, weight: 2}\n"
    )
    return root / "mix.yaml"


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """Arguments of the synthetic command."""
    parser = ArgumentParser(description="Write a synthetic Kaggle-layout data set.", add_help=add_help)
    parser.add_argument("root", type=Path, help="folder to create")
    parser.add_argument("--per-class", type=int, default=256, help="Train images per class; Validation/Test get a quarter (default 256)")
    parser.add_argument("--size", type=int, default=256, help="image side in pixels (default 256)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m training.synthetic`."""
    def run(args: argparse.Namespace) -> int:
        quarter = max(1, args.per_class // 4)
        print(make_dataset(args.root, args.per_class, quarter, quarter, args.size))
        return C.EXIT_OK
    return run_command(get_args_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
