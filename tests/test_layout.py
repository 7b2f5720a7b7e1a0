"""The layout's arrows: pipeline imports none of its users, the inference commands import no training code, and every
`python -m training.<command>` name still runs its command."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest

from testdata import REPO_ROOT

PACKAGES = ("backend", "commands", "pipeline", "training")
COMMANDS = {
    "train": "training.fit.train",
    "evaluate": "training.assess.evaluate",
    "sweep": "training.assess.sweep",
    "cues": "training.assess.cues",
    "package": "training.ship.package",
    "export_onnx": "training.ship.export_onnx",
    "fetch_weights": "training.ship.fetch_weights",
    "crops": "training.data.crops",
    "synthetic": "training.data.synthetic",
    "predict": "commands.predict",
    "scan": "commands.scan",
}


def loaded_packages(code: str) -> list[str]:
    """Top-level packages of this project that a fresh interpreter has loaded after running `code`."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(PACKAGES)!r})))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_predict_and_scan_import_no_training_code():
    assert loaded_packages("import commands.predict, commands.scan, commands.scan_io") == ["commands", "pipeline"]


def test_pipeline_imports_none_of_its_users():
    code = "import pkgutil, importlib, pipeline\n" \
           "for m in pkgutil.iter_modules(pipeline.__path__): importlib.import_module(f'pipeline.{m.name}')"
    assert loaded_packages(code) == ["pipeline"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_keeps_its_training_name(name, capsys):
    entry = importlib.import_module(f"training.{name}")
    assert entry.main is importlib.import_module(COMMANDS[name]).main
    with pytest.raises(SystemExit) as exit_:
        entry.main(["--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage:")


def test_a_command_runs_by_its_training_name():
    result = subprocess.run([sys.executable, "-m", "training.predict", "--help"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "usage:" in result.stdout
