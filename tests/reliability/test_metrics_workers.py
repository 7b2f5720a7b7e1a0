"""/metrics under gunicorn adds up every worker's samples (prometheus_client multiprocess mode)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

pytestmark = pytest.mark.timeout(120)


def health_count(base: str) -> float:
    """deepfake_requests_total for /health with status 200, as one scrape reports it."""
    text = requests.get(f"{base}/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("deepfake_requests_total{") and 'endpoint="health"' in line and 'status="200"' in line)


def test_every_worker_is_counted(server):
    assert len(server.workers()) == 2
    before = health_count(server.base)
    with ThreadPoolExecutor(4) as pool:
        answered = {response.status_code for response in
                    pool.map(lambda _: requests.get(f"{server.base}/health", timeout=10), range(24))}
    assert answered == {200}
    for _ in range(4):  # whichever worker answers the scrape, it reports all of them
        assert health_count(server.base) == before + 24
