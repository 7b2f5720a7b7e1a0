"""Clips through POST /predict (Flask test client): containers, sampling, tracks, the answer's schema, options."""

from __future__ import annotations

import base64
import io

import pytest
from clips import make_clip, truncated
from PIL import Image
from schema_check import errors, response_schema
from testdata import REAL_PHOTOS, require_dir

from pipeline.scoring import verdict_of

pytestmark = [pytest.mark.timeout(180)]

FACE_PHOTO = "face_recognition_examples__examples__obama_small.jpg"


def post_clip(client, data: bytes, query: str = "", filename: str = "clip.mp4"):
    """Upload a clip as multipart field 'file'."""
    return client.post(f"/predict{query}", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def assert_schema(client, body: dict) -> None:
    """The answer validates against the published OpenAPI schema."""
    document = client.get("/openapi.json").get_json()
    assert errors(body, response_schema(document, "/predict", "post", "200", "application/json"), document) == []


@pytest.fixture(scope="module")
def face_clip() -> bytes:
    """A 4 s clip of a real face photo sliding left to right over a moving background."""
    face = Image.open(require_dir(REAL_PHOTOS) / FACE_PHOTO).convert("RGB")
    face.thumbnail((120, 120))
    return make_clip(4, 10, (480, 270), "mp4", face=face)


@pytest.mark.parametrize("container, codec", [("mp4", "h264"), ("webm", "vp9"), ("avi", "mjpeg"), ("mkv", "h264"),
                                              ("mov", "h264")])
def test_each_container_is_recognised_and_sampled(client, container, codec):
    response = post_clip(client, make_clip(2, 10, (160, 120), container), "?frames=8", f"clip.{container}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert_schema(client, body)
    assert body["media"] == "video" and body["video"]["codec"] == codec and body["video"]["container"] == container
    assert body["video"]["duration_s"] == pytest.approx(2.0, abs=0.15) and body["video"]["fps"] == pytest.approx(10)
    assert (body["video"]["width"], body["video"]["height"]) == (160, 120) == tuple(body["image"].values())
    times = [point["t"] for point in body["timeline"]]
    assert body["video"]["frames_sampled"] == len(times) == 8 and times == sorted(times)
    assert 0 < times[0] < 0.3 and 1.7 < times[-1] < 2.0  # spread over the whole clip, not its start
    assert body["face_detected"] is False and body["tracks"] == [] and body["faces"] == []
    duration = body["video"]["duration_s"]
    assert body["decoded"] == {"seconds": duration, "of_seconds": duration, "partial": False, "note": None}
    assert body["probability_fake"] == pytest.approx(
        sorted((p["probability_fake"] for p in body["timeline"]), reverse=True)[:4][-1], abs=1) and \
        0 <= body["probability_fake"] <= 1


def test_frames_option_and_its_bounds(client):
    clip = make_clip(3, 10, (160, 120))
    assert post_clip(client, clip, "?frames=3").get_json()["video"]["frames_sampled"] == 3
    assert post_clip(client, clip).get_json()["video"]["frames_sampled"] == 16  # the default
    for bad in ("0", "65", "abc", "2.5", "-1"):
        response = post_clip(client, clip, f"?frames={bad}")
        assert response.status_code == 400 and response.mimetype == "application/problem+json", bad
        assert "frames" in response.get_json()["detail"]


def test_short_clip_gives_each_frame_once(client):
    body = post_clip(client, make_clip(0.5, 10, (160, 120)), "?frames=64").get_json()
    times = [point["t"] for point in body["timeline"]]
    assert len(times) == len(set(times)) == body["video"]["frames_sampled"] <= 5


def test_the_container_is_read_from_the_bytes_not_the_name(client, face_clip):
    as_jpeg = post_clip(client, make_clip(1, 10, (160, 120)), filename="holiday.jpg")
    assert as_jpeg.status_code == 200 and as_jpeg.get_json()["media"] == "video"
    raw = client.post("/predict", data=make_clip(1, 10, (160, 120), "webm"), content_type="application/octet-stream")
    assert raw.status_code == 200 and raw.get_json()["video"]["container"] == "webm"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(buffer, format="PNG")
    as_mp4 = post_clip(client, buffer.getvalue(), filename="clip.mp4")
    assert as_mp4.status_code == 200 and as_mp4.get_json()["media"] == "image"


@pytest.mark.shared_data
def test_a_face_moving_across_the_clip_is_one_track(client, face_clip):
    body = post_clip(client, face_clip, "?frames=8&explain=1").get_json()
    assert_schema(client, body)
    assert body["face_detected"] is True and len(body["tracks"]) == 1
    (track,) = body["tracks"]
    assert len(track["frames"]) >= 7  # found in (nearly) every sampled frame
    lefts = [frame["box"][0] for frame in track["frames"]]
    assert lefts == sorted(lefts) and lefts[-1] - lefts[0] > 100  # it slides right
    worst = sorted((f["probability_fake"] for f in track["frames"]), reverse=True)
    assert track["probability_fake"] == pytest.approx(sum(worst[:len(worst) - len(worst) // 2]) /
                                                      (len(worst) - len(worst) // 2), abs=1e-5)
    assert body["probability_fake"] == pytest.approx(track["probability_fake"], abs=1e-6)
    assert track["verdict"] == body["verdict"] == verdict_of(track["probability_fake"], body["threshold"])
    thumbnail = Image.open(io.BytesIO(base64.b64decode(track["thumbnail_jpeg"])))
    assert thumbnail.format == "JPEG" and max(thumbnail.size) <= 96
    assert body["explanation"]["t"] in [frame["t"] for frame in track["frames"]]
    deciding = [face for face in body["faces"] if face["deciding"]]
    assert len(deciding) == 1 and len(deciding[0]["landmarks"]) == 5


@pytest.mark.shared_data
def test_boxes_are_in_video_pixels_when_frames_are_downscaled(client):
    """Frames over 1280 px are analysed downscaled; boxes come back in the video's own pixels."""
    from pipeline.analysis import face_crops
    from pipeline.faces import shared_detector

    face = Image.open(require_dir(REAL_PHOTOS) / FACE_PHOTO).convert("RGB")
    face = face.resize((face.width * 3, face.height * 3))
    clip = make_clip(0.2, 5, (1920, 1080), "mp4", face=face)
    body = post_clip(client, clip, "?frames=1").get_json()
    assert body["face_detected"] is True
    (frame,) = body["tracks"][0]["frames"]
    full = face_crops(first_frame(clip), shared_detector()).boxes[0].as_list()  # the same frame at 1920 px
    assert frame["box"] == pytest.approx(full, abs=0.03 * full[2])
    assert frame["box"][2] > 1280 * full[2] / 1920 * 1.2  # clearly not in the 1280 px frame's pixels


def first_frame(clip: bytes) -> Image.Image:
    """The first frame of a clip at full size."""
    import av

    with av.open(io.BytesIO(clip)) as container:
        return next(container.decode(video=0)).to_image()


def test_a_clip_cut_short_says_how_much_was_decoded(client, tmp_path):
    """An mp4 saved with its index first, cut to its first third: the index claims 10 s, the data holds ~3."""
    clip = truncated(make_clip(10, 10, (160, 120), "mp4", folder=tmp_path), 1 / 3)
    response = post_clip(client, clip)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert_schema(client, body)
    decoded = body["decoded"]
    assert decoded["partial"] is True and decoded["of_seconds"] == body["video"]["duration_s"] == pytest.approx(10)
    assert 1 < decoded["seconds"] < 4
    assert decoded["note"].startswith(f"Only the first {decoded['seconds']:.1f} s of the clip's 10.0 s")
    times = [point["t"] for point in body["timeline"]]
    assert len(times) == body["video"]["frames_sampled"] >= 12  # the 16 samples spread over the part there is
    assert max(times) < decoded["seconds"]


def test_a_request_past_its_time_budget_is_answered_503(app, client, monkeypatch):
    """A budget too small for any work (1 ns): clips and images stop at their first check, with a problem."""
    monkeypatch.setitem(app.config, "REQUEST_BUDGET_S", 1e-9)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(buffer, format="PNG")
    for data, filename, stage in [(make_clip(1, 10, (160, 120)), "clip.mp4", "reading the clip"),
                                  (buffer.getvalue(), "photo.png", "detecting faces")]:
        response = post_clip(client, data, filename=filename)
        assert response.status_code == 503 and response.mimetype == "application/problem+json", filename
        problem = response.get_json()
        assert problem["type"].endswith(":time-budget-exhausted") and problem["budget_s"] == 1e-9
        assert stage in problem["detail"] and "try again" in problem["detail"]
    monkeypatch.setitem(app.config, "REQUEST_BUDGET_S", None)
    assert post_clip(client, make_clip(1, 10, (160, 120))).status_code == 200


def test_budget_setting_is_checked_at_start(model_dir, tmp_path):
    from backend import create_app

    config = {"TESTING": True, "MODEL_DIR": str(tmp_path / "none"), "STATIC_DIR": str(tmp_path)}
    with pytest.raises(RuntimeError, match="FLASK_REQUEST_BUDGET_S"):
        create_app({**config, "REQUEST_BUDGET_S": "soon"})
    assert create_app({**config, "REQUEST_BUDGET_S": ""}).config["REQUEST_BUDGET_S"] is None


def test_a_clip_with_too_many_frames_is_refused(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "VIDEO_MAX_FRAME_COUNT", 19)
    for container in ("mkv", "avi"):  # counted while indexing; declared in the header
        response = post_clip(client, make_clip(2, 10, (160, 120), container), filename=f"clip.{container}")
        assert response.status_code == 422, container
        problem = response.get_json()
        assert problem["type"].endswith(":video-too-many-frames") and problem["max_frame_count"] == 19
