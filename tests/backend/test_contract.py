"""The OpenAPI contract, checked by schemathesis against the real gunicorn server: every generated request,
valid or not, gets an answer the document describes, and no 5xx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from servers import gunicorn

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_schemathesis_finds_no_contract_violation(model_dir, tmp_path):
    with gunicorn(model_dir, tmp_path, workers=1, threads=2) as server:
        result = subprocess.run(
            [str(SCHEMATHESIS), "--no-color", "--config-file", str(CONFIG), "run", f"{server.base}/openapi.json",
             "--checks", "all", "--max-examples", "60", "--seed", "1"],
            capture_output=True, text=True, timeout=240, cwd=tmp_path)  # its cache stays out of the repo
        log_tail = server.log_tail()
    summary = result.stdout[-3000:]
    print(summary)
    assert result.returncode == 0, summary + result.stderr[-2000:] + log_tail
    assert " passed" in summary and "failures" not in summary.split("SUMMARY")[-1].split("Test cases")[0]
