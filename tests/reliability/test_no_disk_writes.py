"""Nothing of any upload reaches the disk: no new files in the server's temp folder, and no new file in the system
temp folder or the repository holds the uploads' unique bytes."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from provenance_fixtures import signed_generated_jpeg
from servers import changed, files_holding, gunicorn, snapshot
from testdata import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

def test_uploads_never_touch_the_disk(reliability_models, tmp_path):
    rng = np.random.default_rng(1234)
    # > 500 kB PNG: Werkzeug's default would spool it to a temp file; its middle bytes are the marker.
    big = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (450, 450, 3), dtype=np.uint8)).save(big, format="PNG")
    big_png = big.getvalue()
    junk = b"UNIQUE-UPLOAD-MARKER-" + rng.bytes(2000)
    signed = signed_generated_jpeg()  # validated by c2pa-python, which must read it from memory too
    markers = [big_png[len(big_png) // 2: len(big_png) // 2 + 64], junk[:64], signed[-2000:-1936]]
    system_tmp = Path(tempfile.gettempdir())
    before = {**snapshot(system_tmp), **snapshot(REPO_ROOT)}
    with gunicorn(reliability_models, tmp_path / "server") as server:
        requests_sent = [
            ("multipart big png", lambda: requests.post(f"{server.base}/predict", files={"file": ("../../big.png", big_png)}, timeout=60)),
            ("raw big png", lambda: requests.post(f"{server.base}/predict?explain=1", data=big_png,
                                                  headers={"Content-Type": "image/png"}, timeout=60)),
            ("junk multipart", lambda: requests.post(f"{server.base}/predict", files={"file": ("/tmp/junk.jpg", junk)}, timeout=60)),
            ("signed jpeg", lambda: requests.post(f"{server.base}/predict", files={"file": ("signed.jpg", signed)}, timeout=60)),
            ("junk raw", lambda: requests.post(f"{server.base}/predict", data=junk,
                                               headers={"Content-Type": "application/octet-stream"}, timeout=60)),
        ]
        statuses = {name: send().status_code for name, send in requests_sent}
        assert list(server.tmp_dir.iterdir()) == [], "the server wrote to its TMPDIR"
    assert statuses == {"multipart big png": 200, "raw big png": 200, "junk multipart": 415, "signed jpeg": 200,
                        "junk raw": 415}
    after = {**snapshot(system_tmp), **snapshot(REPO_ROOT)}
    assert files_holding(markers, changed(before, after), skip=[tmp_path]) == [], "upload bytes reached the disk"
    assert not (REPO_ROOT / "big.png").exists() and not Path("/tmp/junk.jpg").exists()
