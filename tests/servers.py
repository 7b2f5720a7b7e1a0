"""A real gunicorn with the repository's config on a loopback port, for the API and reliability tests."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from benchmarks.bench_utils import Server, gunicorn_server


@contextlib.contextmanager
def gunicorn(model_dir: Path, work_dir: Path, workers: int = 2, threads: int = 4, **env: str) -> Iterator[Server]:
    """Serve model_dir with no built page and a private TMPDIR (work_dir/server-tmp); wait for every worker."""
    tmp_dir = work_dir / "server-tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    test_env = {"FLASK_MODEL_DIR": str(model_dir), "FLASK_STATIC_DIR": str(work_dir / "no-page"),
                "TMPDIR": str(tmp_dir), "GUNICORN_TIMEOUT": "30", **env}
    with gunicorn_server("backend:create_app()", test_env, workers, threads, work_dir / "gunicorn.log",
                         timeout=90) as server:
        yield server
