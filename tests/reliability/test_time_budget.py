"""The time budget of a request against real gunicorn: a worker whose request runs past FLASK_REQUEST_BUDGET_S
stops the work itself and answers the documented 503 problem (never a worker killed by gunicorn's timeout), and
goes on serving. A budget of 1 microsecond makes every analysis run past it, whatever the machine's speed."""

from __future__ import annotations

import pytest
import requests
from clips import avi_declaring, make_clip
from reliability_helpers import PROBLEM_MIMETYPE, face_jpeg

from servers import gunicorn

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def hurried_server(reliability_models, tmp_path_factory):
    """A gunicorn whose requests have 1 microsecond of work each."""
    with gunicorn(reliability_models, tmp_path_factory.mktemp("budget-server"), FLASK_REQUEST_BUDGET_S="0.000001") \
            as running:
        yield running


@pytest.mark.parametrize("name, data", [
    ("face.jpg", face_jpeg(3, 160)),
    ("clip.mp4", make_clip(2, 10, (160, 120), "mp4")),
    ("4k.mp4", make_clip(1, 16, (3840, 2160), "mp4")),
])
def test_work_past_the_budget_is_answered_503_by_a_worker_that_lives_on(hurried_server, name, data):
    workers = set(hurried_server.workers())
    for _ in range(3):  # more than one worker gets some
        response = requests.post(f"{hurried_server.base}/predict?frames=64", files={"file": (name, data)},
                                 timeout=60)
        assert response.status_code == 503, (response.text[:300], hurried_server.log_tail())
        assert response.headers["content-type"].startswith(PROBLEM_MIMETYPE)
        problem = response.json()
        assert problem["type"].endswith(":time-budget-exhausted") and problem["budget_s"] == 1e-6
        assert "time budget" in problem["detail"]
    assert set(hurried_server.workers()) == workers
    assert requests.get(f"{hurried_server.base}/health", timeout=10).json()["status"] == "ok"


def test_limits_checked_before_any_work_still_get_their_own_answer(hurried_server):
    """A header claiming 200000 frames is refused from the header alone: no budget spent, a 422."""
    clip = avi_declaring(make_clip(1, 10, (64, 48), "avi"), 20000, 200_000)
    response = requests.post(f"{hurried_server.base}/predict", files={"file": ("fast.avi", clip)}, timeout=60)
    assert response.status_code == 422 and response.json()["type"].endswith(":video-too-many-frames")


def test_no_traceback_in_the_log(hurried_server):
    assert hurried_server.process.poll() is None
    assert "Traceback" not in hurried_server.log_tail(100_000), hurried_server.log_tail()
