"""Fixtures of the API tests: an app serving two copies of the tiny checkpoint, and its test client."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def model_dir(tiny_checkpoint, tmp_path_factory) -> Path:
    """A model folder holding the tiny checkpoint twice (alpha.pt, beta.pt), so the ensemble is meaningful."""
    folder = tmp_path_factory.mktemp("models")
    shutil.copy(tiny_checkpoint, folder / "alpha.pt")
    shutil.copy(tiny_checkpoint, folder / "beta.pt")
    return folder


@pytest.fixture(scope="session")
def app(model_dir, tmp_path_factory):
    """The app under test (session-wide: it holds no per-request state), without a built page."""
    from backend import create_app

    return create_app({
        "TESTING": True,
        "MODEL_DIR": str(model_dir),
        "STATIC_DIR": str(tmp_path_factory.mktemp("no-page")),
        "THREADS": 1,
        "DEFAULT_MODEL": None,
    })


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()
