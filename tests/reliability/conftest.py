"""Fixtures of the reliability tests: one real gunicorn (2 workers x 4 threads) serving the tiny checkpoint."""

from __future__ import annotations

import shutil

import pytest

from servers import gunicorn


@pytest.fixture(scope="session")
def reliability_models(tiny_checkpoint, tmp_path_factory):
    """A model folder with the tiny checkpoint as the only model."""
    folder = tmp_path_factory.mktemp("reliability-models")
    shutil.copy(tiny_checkpoint, folder / "tiny.pt")
    return folder


@pytest.fixture(scope="module")
def server(reliability_models, tmp_path_factory):
    """A gunicorn serving the tiny model, with its own TMPDIR (so writes to the temp folder would show)."""
    with gunicorn(reliability_models, tmp_path_factory.mktemp("reliability-server")) as running:
        yield running
