"""Real gunicorn with the repository's config: concurrent requests, stable answers, nothing written to disk."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests
from backend_samples import encode, face_jpeg
from PIL import Image

from benchmarks.bench_utils import GUNICORN
from servers import gunicorn


def files_under(folder: Path) -> set[Path]:
    """Every file below a folder (unreadable parts skipped)."""
    found = set()
    for root, _, names in os.walk(folder, onerror=lambda error: None):
        found.update(Path(root) / name for name in names)
    return found


@pytest.mark.slow
@pytest.mark.timeout(110)
def test_gunicorn_serves_concurrent_requests_in_memory(tiny_checkpoint, tmp_path):
    if not GUNICORN.exists():
        pytest.skip(f"gunicorn not installed at {GUNICORN}")
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(tiny_checkpoint, models / "tiny.pt")
    server_tmp = tmp_path / "server-tmp"  # the server's TMPDIR, made by servers.gunicorn
    # A > 500 kB upload: Werkzeug's default stream factory would spool it to a temp file.
    rng = np.random.default_rng(0)
    big_png = encode(Image.fromarray(rng.integers(0, 255, (420, 420, 3), dtype=np.uint8)), "PNG")
    assert len(big_png) > 500_000
    images = {"small": face_jpeg(3, 128), "big": big_png}
    marker = big_png[len(big_png) // 2: len(big_png) // 2 + 64]

    system_tmp = Path(tempfile.gettempdir())
    before = {p for p in files_under(system_tmp) if server_tmp not in p.parents}
    with gunicorn(models, tmp_path, workers=2, threads=4) as server:

        def call(index: int) -> tuple[str, int, dict]:
            name = "big" if index % 4 == 0 else "small"
            query = "?faces=off" if index % 2 else ""
            if index % 3:
                response = requests.post(f"{server.base}/api/predict{query}", files={"file": ("x.png", images[name])},
                                         timeout=30)
            else:
                response = requests.post(f"{server.base}/predict{query}", data=images[name],
                                         headers={"Content-Type": "image/png"}, timeout=30)
            return f"{name}{query}", response.status_code, response.json()

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(call, range(100)))
        elapsed = time.perf_counter() - started
        log_tail = server.log_tail()
    print(f"100 requests from 8 threads in {elapsed:.1f} s")

    assert [status for _, status, _ in results] == [200] * 100, log_tail
    by_input: dict[str, set] = {}
    for key, _, body in results:
        by_input.setdefault(key, set()).add((body["probability_fake"], body["label"], body["face_detected"],
                                             str(body["faces"])))
    assert all(len(answers) == 1 for answers in by_input.values()), by_input

    assert list(server_tmp.iterdir()) == []
    new_files = {p for p in files_under(system_tmp) if server_tmp not in p.parents} - before
    for path in new_files:
        try:
            if path.stat().st_size < 50_000_000:  # uploads are at most 10 MB
                assert marker not in path.read_bytes(), f"upload bytes found in {path}"
        except OSError:  # vanished or unreadable (another process's file)
            continue
    digest = hashlib.sha256(big_png).hexdigest()
    assert not any(digest in p.name for p in new_files)
