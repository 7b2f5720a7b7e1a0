"""Paths and helpers shared by the test suites (import as `from testdata import ...`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("DEEPFAKE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
FACES_GAN = SHARED_DATA / "faces-gan"
REAL_PHOTOS = SHARED_DATA / "photos" / "real"

TINY_IMAGE_SIZE = 32


def require_dir(path: Path) -> Path:
    """Skip the calling test with a reason when a shared data folder is absent."""
    if not path.is_dir():
        pytest.skip(f"shared data not available: {path} is absent")
    return path
