"""The production topology without Docker: Debian's nginx with deploy/nginx/default.conf.template in front of two
gunicorn instances sharing rate limits in Redis, on loopback ports. Requests spread over both; one instance is
killed mid-load and nginx keeps answering."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from servers import NGINX, gunicorn, nginx, redis_server

from training.data.synthetic import synthetic_face

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow,
              pytest.mark.skipif(not NGINX.exists() or not shutil.which("redis-server"),
                                 reason="needs Debian's nginx and redis-server (make nginx installs them)")]

LIMITS = json.loads((Path(__file__).resolve().parents[2] / "config" / "limits.json").read_text())
MAX_BODY = max(LIMITS["max_upload_bytes"], LIMITS["max_video_upload_bytes"])
RATE = 40


def jpeg(seed: int) -> bytes:
    """A small synthetic face as JPEG."""
    import io

    buffer = io.BytesIO()
    synthetic_face(seed % 2, seed, 96).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def model_dir(tiny_checkpoint, tmp_path_factory) -> Path:
    """A model folder with the tiny checkpoint as the only model."""
    folder = tmp_path_factory.mktemp("replica-models")
    shutil.copy(tiny_checkpoint, folder / "tiny.pt")
    return folder


@pytest.fixture(scope="module")
def topology(model_dir, tmp_path_factory):
    """Redis, two gunicorn instances (one worker each) and nginx in front; yields (nginx URL, [instances])."""
    root = tmp_path_factory.mktemp("replicas")
    page = root / "page"
    page.mkdir()
    (page / "index.html").write_text("<!doctype html><title>deepfake-detector</title>")
    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_server(root / "redis"))
        env = {"FLASK_RATE_LIMIT": f"{RATE}/minute", "FLASK_RATE_LIMIT_STORAGE": redis_url, "FLASK_PROXY_HOPS": "1",
               "FLASK_API_KEYS": "load-key,limit-key,failover-key"}
        instances = [stack.enter_context(gunicorn(model_dir, root / f"instance-{i}", workers=1, threads=2,
                                                  **env)) for i in range(2)]
        url = stack.enter_context(nginx([s.port for s in instances], page, root / "nginx", MAX_BODY))
        yield url, instances


def predict(url: str, key: str, seed: int) -> requests.Response:
    """POST /api/predict through nginx."""
    return requests.post(f"{url}/api/predict", data=jpeg(seed), timeout=60,
                         headers={"Content-Type": "image/jpeg", "X-API-Key": key})


def predict_count(instance) -> float:
    """Answered /predict requests with status 200, from one instance's own /metrics (all its workers)."""
    text = requests.get(f"{instance.base}/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("deepfake_requests_total{") and 'endpoint="predict"' in line and 'status="200"' in line)


def test_requests_spread_over_both_instances(topology):
    url, instances = topology
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda seed: predict(url, "load-key", seed).status_code, range(16)))
    assert statuses == [200] * 16
    counts = [predict_count(instance) for instance in instances]
    assert sum(counts) == 16 and all(count > 0 for count in counts), counts


def test_request_id_passes_through_nginx(topology):
    url, _ = topology
    response = requests.get(f"{url}/health", headers={"X-Request-ID": "trace-123"}, timeout=10)
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "trace-123"
    assert len(requests.get(f"{url}/health", timeout=10).headers["X-Request-ID"]) == 32  # made by nginx


def test_rate_limit_is_shared_through_redis(topology):
    """Round-robin over two instances, one budget: without shared storage the 41st would still pass."""
    url, _ = topology
    statuses = [requests.get(f"{url}/api/models", headers={"X-API-Key": "limit-key"}, timeout=10).status_code
                for _ in range(RATE)]
    assert statuses == [200] * RATE
    over = requests.get(f"{url}/api/models", headers={"X-API-Key": "limit-key"}, timeout=10)
    assert over.status_code == 429 and over.headers["Content-Type"] == "application/problem+json"
    assert int(over.headers["Retry-After"]) > 0


def test_key_is_needed_through_nginx(topology):
    url, _ = topology
    response = requests.post(f"{url}/api/predict", data=jpeg(1), headers={"Content-Type": "image/jpeg"}, timeout=30)
    assert response.status_code == 401 and response.headers["Content-Type"] == "application/problem+json"


def test_page_metrics_and_upload_limit_at_the_proxy(topology):
    url, _ = topology
    assert "deepfake-detector" in requests.get(f"{url}/", timeout=10).text
    assert requests.get(f"{url}/metrics", timeout=10).status_code == 404  # scraped per replica, not through here
    address = urlparse(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    connection.putrequest("POST", "/api/predict")
    connection.putheader("Content-Length", str(MAX_BODY + 1))
    connection.putheader("Content-Type", "image/jpeg")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413 and response.getheader("Content-Type") == "application/problem+json"
    assert json.loads(response.read())["status"] == 413
    connection.close()


def test_nginx_keeps_answering_when_an_instance_is_killed_mid_load(topology):
    url, instances = topology
    victim = instances[0]
    killed = threading.Event()

    def send(seed: int) -> int:
        if seed == 8:
            for pid in [victim.process.pid, *victim.workers()]:
                os.kill(pid, signal.SIGKILL)
            killed.set()
        return predict(url, "failover-key", seed).status_code

    with ThreadPoolExecutor(3) as pool:
        statuses = list(pool.map(send, range(30)))
    assert killed.is_set() and victim.process.wait(timeout=10) == -signal.SIGKILL
    assert statuses == [200] * 30
    time.sleep(0.5)
    assert requests.get(f"{url}/health", timeout=10).status_code == 200
