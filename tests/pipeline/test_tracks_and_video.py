"""Face tracks over sampled frames, track aggregation, container sniffing and frame sampling."""

from __future__ import annotations

import io

import pytest
from clips import make_clip, mjpeg_growing, truncated
from PIL import Image

from pipeline.budget import BudgetExhausted, Deadline
from pipeline.faces import Face
from pipeline.tracks import aggregate, link_tracks
from pipeline.video import VideoProblem, read_clip, sample_times, sniff_container

MARKS = ((0.0, 0.0),) * 5


def face(x: float, y: float, side: float = 50) -> Face:
    """A face box of `side` px at (x, y)."""
    return Face((x, y, x + side, y + side), 0.9, MARKS)


def test_a_face_moving_a_little_each_frame_is_one_track_and_two_people_are_two():
    frames = [[face(10 + 40 * i, 100), face(600, 100 + 5 * i)] for i in range(5)]
    tracks = link_tracks(frames)
    assert len(tracks) == 2
    assert [len(t.sightings) for t in tracks] == [5, 5]
    assert all({s.face for s in t.sightings} == {t.sightings[0].face} for t in tracks)


def test_one_missed_frame_keeps_the_track_but_a_long_absence_starts_a_new_one():
    present, absent = [face(100, 100)], []
    assert len(link_tracks([present, absent, present])) == 1  # one missed detection
    assert len(link_tracks([present, absent, absent, present])) == 2  # left and came back


def test_faces_far_apart_or_of_very_different_size_are_not_linked():
    assert len(link_tracks([[face(0, 0)], [face(400, 0)]])) == 2
    assert len(link_tracks([[face(100, 100, 40)], [face(100, 100, 200)]])) == 2


def test_aggregations():
    values = [0.1, 0.9, 0.2, 0.8, 0.3]
    assert aggregate(values, "mean") == pytest.approx(0.46)
    assert aggregate(values, "max") == pytest.approx(0.9)
    assert aggregate(values, "top_half_mean") == pytest.approx((0.9 + 0.8 + 0.3) / 3)
    assert aggregate([0.4], "top_half_mean") == pytest.approx(0.4)
    with pytest.raises(ValueError):
        aggregate(values, "median")
    with pytest.raises(ValueError):
        aggregate([], "mean")


@pytest.mark.parametrize("container", ["mp4", "webm", "avi", "mkv", "mov"])
def test_containers_are_recognised_from_their_bytes(container):
    assert sniff_container(make_clip(0.3, 10, (64, 48), container)) == container


def test_images_and_junk_are_not_clips():
    for fmt in ("PNG", "JPEG", "GIF", "WEBP", "AVIF"):
        buffer = io.BytesIO()
        Image.new("RGB", (32, 32)).save(buffer, format=fmt)
        assert sniff_container(buffer.getvalue()) is None, fmt
    heic_like = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
    assert sniff_container(heic_like) is None and sniff_container(b"") is None and sniff_container(b"RIFF") is None


def test_sample_times_are_slice_centres():
    assert sample_times(10, 5) == [1, 3, 5, 7, 9]
    assert sample_times(0, 5) == [0.0]


def test_frames_are_sampled_by_seeking_and_scaled_down():
    clip = make_clip(6, 10, (1600, 900), "mp4", gop=20)
    info, frames = read_clip(clip, "mp4", 4, max_side=800)
    frames = list(frames)
    assert (info.width, info.height, info.codec) == (1600, 900, "h264")
    assert [f.t for f in frames] == pytest.approx([0.7, 2.2, 3.7, 5.2], abs=0.31)
    assert all(f.image.size == (800, 450) for f in frames)


def test_a_tracks_kind_is_the_mean_over_the_sightings_that_make_its_probability():
    import numpy as np

    from pipeline.analysis import FaceCrops, analyse_regions
    from pipeline.faces import Box
    from pipeline.scoring import Scores
    from pipeline.tracks import aggregated

    fakes = [0.9, 0.1, 0.8, 0.2]
    kinds = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])

    class FixedScores:
        crop_scales = (2.0,)

        def score_crops(self, crops):
            return Scores(np.array(fakes), kinds, ("gan", "diffusion", "swap"))

    image = Image.new("RGB", (8, 8))
    regions = [FaceCrops([Box(0, 0, 8, 8)], [face(100, 100)], [image]) for _ in fakes]
    analysis = analyse_regions([0.0, 1.0, 2.0, 3.0], regions, [1.0] * 4, FixedScores())
    (track,) = analysis.tracks
    assert track.probability_fake == pytest.approx(0.85)  # the most-fake half: sightings 0 and 2
    assert track.kind_probabilities == pytest.approx({"gan": 0.5, "diffusion": 0.5, "swap": 0.0})
    assert analysis.kind_probabilities == track.kind_probabilities
    assert aggregated(fakes, "max") == (0.9, [0]) and aggregated(fakes, "mean")[1] == [0, 2, 3, 1]


@pytest.mark.parametrize("container", ["webm", "mkv", "mp4"])
def test_a_clip_cut_short_is_sampled_over_the_part_there_is_and_says_so(container, tmp_path):
    clip = make_clip(10, 10, (160, 120), container, folder=tmp_path if container == "mp4" else None)
    info, frames = read_clip(truncated(clip, 1 / 3), container, 16)
    times = [frame.t for frame in frames]
    assert info.duration_s == pytest.approx(10, abs=0.1)  # what the header claims
    coverage = frames.coverage
    assert coverage.partial and 1 < coverage.seconds < 4 and coverage.of_seconds == info.duration_s
    assert len(times) >= 12 and max(times) < coverage.seconds  # 16 samples spread over the readable part
    assert f"first {coverage.seconds:.1f} s of the clip's 10.0 s" in coverage.as_dict()["note"]


def test_a_whole_clip_is_not_partial():
    info, frames = read_clip(make_clip(2, 10, (160, 120), "mkv"), "mkv", 64)
    assert len(list(frames)) == 20
    assert frames.coverage.as_dict() == {"seconds": info.duration_s, "of_seconds": info.duration_s,
                                         "partial": False, "note": None}


def test_the_decoder_refuses_frames_over_the_pixel_limit_whatever_the_header_says():
    """A Motion-JPEG clip that declares 160x120 and turns 5000x4000 half-way: decoding stops there."""
    info, frames = read_clip(mjpeg_growing(), "avi", 8)
    sizes = {frame.image.size for frame in frames}
    assert (info.width, info.height) == (160, 120) and sizes == {(160, 120)}
    assert frames.coverage.partial and frames.coverage.seconds == pytest.approx(1.0, abs=0.15)


def test_a_clip_with_more_frames_than_the_limit_is_refused():
    clip = make_clip(2, 10, (64, 48), "mkv")  # Matroska has no frame count in its header: counted while indexing
    with pytest.raises(VideoProblem, match="more than 19 frames"):
        list(read_clip(clip, "mkv", 4, max_frame_count=19)[1])
    with pytest.raises(VideoProblem, match="has 20 frames"):  # AVI declares its frame count: refused at once
        read_clip(make_clip(2, 10, (64, 48), "avi"), "avi", 4, max_frame_count=19)
    assert len(list(read_clip(clip, "mkv", 4, max_frame_count=20)[1])) == 4


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_deadline_passes_after_its_budget_and_never_without_one():
    clock = FakeClock()
    deadline = Deadline(2.0, clock)
    clock.now += 1.9
    deadline.check("working")
    clock.now += 0.1
    with pytest.raises(BudgetExhausted, match="budget of 2 s while scoring") as raised:
        deadline.before(lambda: "never called", "scoring")()
    assert raised.value.stage == "scoring" and raised.value.budget_s == 2.0
    clock.now += 1e9
    Deadline(None, clock).check("working")
    Deadline(0, clock).check("working")


def test_decoding_a_clip_stops_when_the_deadline_passes():
    clock = FakeClock()
    deadline = Deadline(1.0, clock)
    info, frames = read_clip(make_clip(2, 10, (160, 120), "mkv"), "mkv", 8, deadline=deadline)
    iterator = iter(frames)
    next(iterator)
    clock.now += 1.0
    with pytest.raises(BudgetExhausted, match="decoding the clip"):
        next(iterator)
