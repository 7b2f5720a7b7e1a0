"""The real talking-head clips of ../shared/data/videos/real through POST /predict with the bundled default model:
every one must come out 'real' (they are all real people), in every container the folder holds.

A regression guard, not a measure of generalisation: the data mix trains on frames of most of these clips (the mix's
Test split holds 3 of them; models/MODEL_CARD.md lists which), so a new default that fails here has lost what it
was taught about talking heads."""

from __future__ import annotations

import pytest

from testdata import SHARED_DATA, require_dir

REAL_CLIPS = SHARED_DATA / "videos" / "real"
CLIP_SUFFIXES = {".mp4", ".webm", ".avi", ".mov", ".mkv"}

pytestmark = [pytest.mark.shared_data, pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def bundled_client(tmp_path_factory):
    """The app with the bundled models (the default one answers)."""
    from backend import create_app

    return create_app({"TESTING": True, "THREADS": 1,
                       "STATIC_DIR": str(tmp_path_factory.mktemp("no-page"))}).test_client()


def test_every_real_clip_is_called_real(bundled_client, record_property):
    clips = sorted(p for p in require_dir(REAL_CLIPS).iterdir() if p.suffix.lower() in CLIP_SUFFIXES)
    assert len(clips) >= 10
    scores = {}
    for clip in clips:
        response = bundled_client.post("/predict", data=clip.read_bytes(), content_type="application/octet-stream")
        assert response.status_code == 200, (clip.name, response.get_json())
        body = response.get_json()
        assert body["media"] == "video" and body["face_detected"] is True, clip.name
        assert body["video"]["frames_sampled"] >= 10 and body["tracks"], clip.name
        scores[clip.name] = (body["label"], round(body["probability_fake"], 4), len(body["tracks"]),
                             body["video"]["codec"])
    for name, score in scores.items():
        print(f"{name}: {score}")
    record_property("real_clip_scores", scores)
    assert all(label == "real" for label, *_ in scores.values()), scores
