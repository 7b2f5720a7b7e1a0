"""Hostile and broken clips against real gunicorn: each gets its documented answer (a 4xx problem+json with a
sentence a person understands, or a 200 where the file is usable after all), the worker stays up, memory stays
bounded, and nothing is written to disk."""

from __future__ import annotations

import io
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from fractions import Fraction

import pytest
import requests
from clips import (audio_only, avi_declaring, corrupt_middle, make_clip, mjpeg_growing, truncated,
                   unsupported_codec, zeroed_middle)
from PIL import Image
from reliability_helpers import PROBLEM_MIMETYPE, raw_request, rss_kib

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def png() -> bytes:
    """A small real PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class ClipCase:
    """One clip upload, the status it must get, and a word its problem detail must contain (4xx only)."""

    id: str
    build: object
    status: int
    detail: str = ""
    filename: str = "clip.mp4"
    media: str = "video"
    partial: bool = False  # a 200 whose `decoded` must say that only part of the clip was read


def first_third_of_indexed_mp4() -> bytes:
    """A 10 s mp4 with its index first (as phones save them), cut to its first third."""
    with tempfile.TemporaryDirectory() as folder:
        return truncated(make_clip(10, 10, (160, 120), "mp4", folder=Path(folder)), 1 / 3)


CLIP = make_clip(2, 10, (160, 120), "mp4")
CASES = [
    ClipCase("truncated mp4", lambda: CLIP[: len(CLIP) // 2], 422, "cannot be read"),
    ClipCase("0-byte file", lambda: b"", 400, "empty"),
    ClipCase("1-frame clip", lambda: make_clip(0.1, 10, (160, 120)), 200),
    ClipCase("audio-only file", audio_only, 422, "no video stream"),
    ClipCase("unsupported video codec", lambda: unsupported_codec(CLIP), 415, "codec"),
    ClipCase("image renamed .mp4", png, 200, media="image"),
    ClipCase("mp4 renamed .jpg", lambda: CLIP, 200, filename="holiday.jpg"),
    ClipCase("8K frames", lambda: make_clip(0.1, 10, (7680, 4320), "avi"), 422, "4K"),
    ClipCase("header claiming 10 hours", lambda: make_clip(36000, Fraction(1, 18000), (160, 120), "avi"), 422,
             "10 h 00 min"),
    ClipCase("corrupt packets in the middle", lambda: corrupt_middle(make_clip(4, 10, (320, 240), "mp4", gop=10)),
             200),
    ClipCase("many tiny frames", lambda: make_clip(30, 50, (8, 8), "avi"), 422, "at least 16"),
    ClipCase("middle half zeroed (seek back refused)", lambda: zeroed_middle(make_clip(1, 5, (64, 48), "mkv")), 422,
             "cannot be read", filename="clip.mkv"),
    ClipCase("webm with a jpg name", lambda: make_clip(1, 10, (160, 120), "webm"), 200, filename="x.jpg"),
    ClipCase("indexed mp4 cut to its first third", first_third_of_indexed_mp4, 200, partial=True),
    ClipCase("webm cut in half", lambda: truncated(make_clip(4, 10, (160, 120), "webm"), 1 / 2), 200, partial=True),
    # Motion-JPEG frames each have their own size: the decoder refuses those over 4K before allocating them.
    ClipCase("frames growing to 20 MP mid-clip", lambda: mjpeg_growing((160, 120), (5000, 4000)), 200, partial=True,
             filename="grow.avi"),
    ClipCase("header claiming 200000 frames in 10 s", lambda: avi_declaring(make_clip(1, 10, (64, 48), "avi"),
                                                                             20000, 200_000), 422, "has 200000 frames",
             filename="fast.avi"),
    ClipCase("header claiming 10 million frames", lambda: avi_declaring(make_clip(1, 10, (64, 48), "avi"), 10,
                                                                        10_000_000), 422, "at most 144000"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_clip_gets_its_documented_answer(server, case, record_property):
    response = requests.post(f"{server.base}/predict?frames=8", files={"file": (case.filename, case.build())},
                             timeout=120)
    record_property("status", response.status_code)
    assert response.status_code == case.status, (response.text[:400], server.log_tail())
    if case.status == 200:
        body = response.json()
        assert body["media"] == case.media
        if case.media == "video":
            assert body["decoded"]["partial"] is case.partial, body["decoded"]
            print(f"{case.id}: 200 {body['decoded']['note'] or 'decoded to the end'}")
        return
    assert response.headers["content-type"].startswith(PROBLEM_MIMETYPE)
    problem = response.json()
    assert problem["status"] == case.status and case.detail.lower() in problem["detail"].lower(), problem
    print(f"{case.id}: {case.status} {problem['detail']}")


def test_clip_over_the_size_limit_is_refused_before_its_body_is_read(server):
    """A 200 MB clip is declared but never sent: the 413 comes back at once."""
    head = ("POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: video/mp4\r\n"
            "Content-Length: 209715200\r\n\r\n").encode()
    status, headers, body = raw_request(server.port, head, [CLIP[:1000]], timeout=10)
    assert status == 413 and headers["content-type"].startswith(PROBLEM_MIMETYPE)
    assert json.loads(body)["status"] == 413


def test_largest_allowed_clip_frames_keep_memory_bounded(server, record_property):
    """64 frames of 4K: the worker's RSS grows by a bounded amount (reported), and it keeps serving."""
    clip = make_clip(2, 32, (3840, 2160), "mp4")
    before = {pid: rss_kib(pid) for pid in server.workers()}
    for _ in range(2):  # both workers may take one
        response = requests.post(f"{server.base}/predict?frames=64", files={"file": ("4k.mp4", clip)}, timeout=240)
        assert response.status_code == 200, response.text[:300]
        assert response.json()["video"]["frames_sampled"] == 64
    growth_mib = max(rss_kib(pid) - before.get(pid, 0) for pid in server.workers()) / 1024
    record_property("peak_rss_growth_mib", round(growth_mib))
    print(f"4K clip, 64 frames: worker RSS grew by {growth_mib:.0f} MiB")
    assert growth_mib < 1024
    assert requests.get(f"{server.base}/health", timeout=10).status_code == 200


def test_workers_survive_the_clip_corpus_and_write_nothing(server):
    assert server.process.poll() is None
    assert requests.post(f"{server.base}/predict", files={"file": ("ok.mp4", CLIP)}, timeout=60).status_code == 200
    assert "Traceback" not in server.log_tail(100_000), server.log_tail()
    assert list(server.tmp_dir.iterdir()) == []
