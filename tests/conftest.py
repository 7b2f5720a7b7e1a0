"""Shared fixtures: a tiny synthetic Kaggle-layout data set and a tiny real checkpoint made by the train command."""

from __future__ import annotations

from pathlib import Path

import pytest

from testdata import TINY_IMAGE_SIZE
from training.data.synthetic import make_dataset


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """Session-wide tiny data set; tests must not modify it (copy it first)."""
    return make_dataset(tmp_path_factory.mktemp("tiny-data"))


@pytest.fixture(scope="session")
def tiny_run(tiny_dataset, tmp_path_factory) -> Path:
    """A real 2-epoch mobilenet_v2 run made by `training.fit.train.main`; returns the run folder."""
    from training.fit import train

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
