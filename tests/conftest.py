"""Shared fixtures: a tiny synthetic Kaggle-layout data set and a tiny real checkpoint made by the train command."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFilter

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("DEEPFAKE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
FACES_GAN = SHARED_DATA / "faces-gan"
REAL_PHOTOS = SHARED_DATA / "photos" / "real"

TINY_SIZE = 48
TINY_IMAGE_SIZE = 32


def synthetic_face(label: int, seed: int, size: int = TINY_SIZE) -> Image.Image:
    """A face-like drawing; 'fake' ones are sharper with a checkerboard texture a model can learn quickly."""
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size), tuple(rng.randint(90, 160) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    margin = rng.randint(4, 8)
    draw.ellipse([margin, margin, size - margin, size - margin], fill=(rng.randint(170, 230), 150, 120))
    eye_y = size // 3 + rng.randint(-2, 2)
    for eye_x in (size // 3, 2 * size // 3):
        draw.ellipse([eye_x - 3, eye_y - 2, eye_x + 3, eye_y + 2], fill=(30, 30, 30))
    if label == 1:
        for x in range(0, size, 4):
            for y in range(0, size, 4):
                if (x + y) % 8 == 0:
                    draw.point((x, y), fill=(255, 255, 255))
    else:
        image = image.filter(ImageFilter.GaussianBlur(1.2))
    return image


def make_split(root: Path, per_class: int, seed: int) -> None:
    """Write ROOT/Real and ROOT/Fake with per_class JPEGs each."""
    for label, class_name in enumerate(("Real", "Fake")):
        folder = root / class_name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            synthetic_face(label, seed * 1000 + label * 100 + i).save(folder / f"{class_name.lower()}_{i:03d}.jpg", quality=92)


def make_dataset(root: Path, train: int = 12, validation: int = 6, test: int = 6) -> Path:
    """A tiny Kaggle-layout data set (Train/Validation/Test x Real/Fake)."""
    for seed, (split, count) in enumerate((("Train", train), ("Validation", validation), ("Test", test))):
        make_split(root / split, count, seed)
    return root


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """Session-wide tiny data set; tests must not modify it (copy it first)."""
    return make_dataset(tmp_path_factory.mktemp("tiny-data"))


@pytest.fixture(scope="session")
def tiny_run(tiny_dataset, tmp_path_factory) -> Path:
    """A real 2-epoch mobilenet_v2 run made by `training.train.main`; returns the run folder."""
    from training import train

    output = tmp_path_factory.mktemp("tiny-runs")
    code = train.main([
        "--data-dir", str(tiny_dataset), "--model", "mobilenet_v2", "--epochs", "2",
        "--batch-size", "8", "--image-size", str(TINY_IMAGE_SIZE), "--workers", "0",
        "--output-dir", str(output), "--run-name", "tiny", "--seed", "0",
    ])
    assert code == 0
    return output / "tiny"


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_run) -> Path:
    """best.pt of the tiny run."""
    return tiny_run / "best.pt"


def require_dir(path: Path) -> Path:
    """Skip the calling test with a reason when a shared data folder is absent."""
    if not path.is_dir():
        pytest.skip(f"shared data not available: {path} is absent")
    return path
