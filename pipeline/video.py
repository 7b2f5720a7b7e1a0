"""Clips from bytes in memory (PyAV, FFmpeg inside the wheel): recognise the container, check limits, and decode
only the frames that are sampled, spread uniformly over the duration by seeking. No temp files, no subprocess."""

from __future__ import annotations

import io
import logging
from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterator

from PIL import Image

from . import constants as C
from .budget import UNLIMITED, Deadline
from .errors import DECODER_ERRORS, MediaProblem, decoder_call

logger = logging.getLogger(__name__)

# ISO-BMFF brands of still images (HEIC/HEIF/AVIF photos share the container with mp4/mov).
IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis", b"mif2"}
# Top-level boxes that may open a QuickTime file before (or instead of) 'ftyp'.
QUICKTIME_BOXES = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
CONTAINER_MIME_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm",
                        "mkv": "video/x-matroska", "avi": "video/x-msvideo"}


class VideoProblem(MediaProblem):
    """A clip that cannot be used, with the API problem it becomes (status, slug, title)."""


def undecodable_clip(error: Exception) -> VideoProblem:
    """The problem of a clip that FFmpeg cannot read."""
    return VideoProblem(422, "undecodable-video", "Clip cannot be decoded",
                        "The file looks like a video but cannot be read (truncated or corrupt: "
                        f"{error.__class__.__name__}).")


def ffmpeg_call():
    """Wrap a call into PyAV/FFmpeg: its failure on bad bytes becomes the 422 of an undecodable clip."""
    import av

    return decoder_call(undecodable_clip, (av.error.FFmpegError, *DECODER_ERRORS))


@dataclass(frozen=True)
class ClipInfo:
    """What the container says about its video stream."""

    container: str
    codec: str
    width: int
    height: int
    fps: float
    duration_s: float

    def as_dict(self, frames_sampled: int) -> dict:
        """The `video` member of an answer."""
        return {"duration_s": round(self.duration_s, 3), "fps": round(self.fps, 3), "width": self.width,
                "height": self.height, "codec": self.codec, "container": self.container,
                "frames_sampled": frames_sampled}

    @property
    def frame_s(self) -> float:
        """How long one frame shows (25 fps when the header does not say)."""
        return 1 / self.fps if self.fps > 0 else 1 / 25


@dataclass(frozen=True)
class Coverage:
    """How much of a clip the decoder could read: `seconds` from its start, of the `of_seconds` its header claims."""

    seconds: float
    of_seconds: float
    partial: bool

    def note(self) -> str | None:
        """The sentence that says a verdict covers only part of the clip (None when it covers all of it)."""
        if not self.partial:
            return None
        return (f"Only the first {format_duration(self.seconds)} of the clip's {format_duration(self.of_seconds)} "
                "could be decoded (the file is truncated or damaged): the verdict and the timeline cover that part.")

    def as_dict(self) -> dict:
        """The `decoded` member of an answer."""
        return {"seconds": round(self.seconds, 3), "of_seconds": round(self.of_seconds, 3), "partial": self.partial,
                "note": self.note()}


@dataclass
class SampledFrame:
    """A decoded frame (RGB, at most max_side long) and its time in seconds."""

    t: float
    image: Image.Image


def sniff_container(data: bytes) -> str | None:
    """The video container the bytes start with (mp4, mov, webm, mkv, avi), or None (an image or unknown)."""
    head = data[:64]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in IMAGE_BRANDS:
            return None
        return "mov" if brand == b"qt  " else "mp4"
    if head[4:8] in QUICKTIME_BOXES and len(data) >= 16:
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head else "mkv"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    return None


def open_container(data: bytes):
    """A PyAV container reading the bytes in memory; VideoProblem if FFmpeg cannot read it."""
    import av

    with ffmpeg_call():
        return av.open(io.BytesIO(data), mode="r", options={"probesize": "5000000"})


def video_stream(container):
    """The first video stream; VideoProblem if there is none or its codec cannot be decoded."""
    if not container.streams.video:
        raise VideoProblem(422, "no-video-stream", "No video in the file",
                           "The file has no video stream (audio only?). Upload a clip with a picture.")
    stream = container.streams.video[0]
    if stream.codec_context is None or not stream.codec_context.is_decoder:
        name = stream.codec_context.name if stream.codec_context else "unknown"
        raise VideoProblem(415, "unsupported-codec", "Unsupported video codec",
                           f"The clip's video codec ({name}) cannot be decoded here. Use H.264, H.265, VP8, VP9, "
                           "AV1 or Motion-JPEG.")
    stream.thread_type = "AUTO"
    return stream


def clip_duration(container, stream) -> float:
    """Duration in seconds from the stream or container header, else from the last packet's time (demux only)."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    last = 0.0
    for packet in container.demux(stream):
        if packet.pts is not None and packet.time_base:
            last = max(last, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    container.seek(0)
    return last


def probe_clip(container, container_name: str, max_duration_s: float, max_pixels: int, min_side: int,
               max_frame_count: int = C.MAX_VIDEO_FRAME_COUNT) -> ClipInfo:
    """The clip's facts, checked against the limits before any frame is decoded."""
    stream = video_stream(container)
    context = stream.codec_context
    width, height = int(context.width or 0), int(context.height or 0)
    if width * height > max_pixels:
        raise VideoProblem(422, "video-too-large", "Video frames too large",
                           f"The clip's frames are {width}x{height}; frames of at most {max_pixels} pixels "
                           "(4K, 4096x2160) are accepted.", max_pixels=max_pixels)
    # The decoder refuses any frame over the limit before allocating it, whatever the header said (frames whose
    # size changes mid-stream, Motion-JPEG frames of their own size): decoding then stops there.
    context.options = {**context.options, "max_pixels": str(max_pixels)}
    if width and height and min(width, height) < min_side:
        raise VideoProblem(422, "video-too-small", "Video frames too small",
                           f"The clip's frames are {width}x{height} pixels; each side must be at least {min_side}.",
                           min_side=min_side)
    if stream.frames > max_frame_count:
        raise too_many_frames(stream.frames, max_frame_count)
    with ffmpeg_call():  # demuxing and seeking back may fail on corrupt packets
        duration = clip_duration(container, stream)
    if duration > max_duration_s:
        raise VideoProblem(422, "video-too-long", "Clip too long",
                           f"The clip lasts {format_duration(duration)}; at most {format_duration(max_duration_s)} "
                           "are accepted.", max_duration_s=max_duration_s)
    fps = float(stream.average_rate or stream.guessed_rate or 0)
    return ClipInfo(container_name, context.name, width, height, fps, duration)


def too_many_frames(count: int | str, max_frame_count: int) -> VideoProblem:
    """The problem of a clip with more frames than any accepted clip has."""
    return VideoProblem(422, "video-too-many-frames", "Clip has too many frames",
                        f"The clip has {count} frames; at most {max_frame_count} are accepted.",
                        max_frame_count=max_frame_count)


def format_duration(seconds: float) -> str:
    """'1 h 02 min', '12 min 05 s' or '4.2 s'."""
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    if seconds >= 60:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{seconds:.1f} s"


def sample_times(duration_s: float, count: int) -> list[float]:
    """`count` times spread uniformly over the clip: the centres of equal slices (never the very first/last)."""
    if duration_s <= 0:
        return [0.0]
    return [(index + 0.5) * duration_s / count for index in range(count)]


def downscaled(frame, max_side: int) -> Image.Image:
    """A decoded frame as RGB, scaled in FFmpeg (swscale) so its long side is at most max_side."""
    scale = min(1.0, max_side / max(frame.width, frame.height))
    width, height = max(2, round(frame.width * scale)), max(2, round(frame.height * scale))
    return frame.to_image(width=width, height=height, interpolation="AREA" if scale < 1 else None)


@dataclass(frozen=True)
class StreamIndex:
    """What the video stream's packets say without decoding any: keyframe times, and where the packets end."""

    keyframes: list[float]
    end_s: float


def index_stream(container, stream, max_frame_count: int = C.MAX_VIDEO_FRAME_COUNT,
                 deadline: Deadline = UNLIMITED) -> StreamIndex:
    """Demux every packet of the stream (cheap: nothing is decoded); a truncated or corrupt file ends the index
    where its packets stop. VideoProblem past max_frame_count packets."""
    import av

    keyframes, end, count = [], 0.0, 0
    try:
        for packet in container.demux(stream):
            if packet.pts is None or not packet.time_base:
                continue
            count += 1
            if count > max_frame_count:
                raise too_many_frames(f"more than {max_frame_count}", max_frame_count)
            deadline.check("reading the clip")
            start = float(packet.pts * packet.time_base)
            end = max(end, start + float((packet.duration or 0) * packet.time_base))
            if packet.is_keyframe:
                keyframes.append(start)
    except av.error.FFmpegError as error:  # what was read before the damage is the index
        logger.info("Demuxing stopped after %d packets (%s)", count, error.__class__.__name__)
    with ffmpeg_call():  # seeking back after the demux is refused by some corrupt containers
        container.seek(0)
    return StreamIndex(sorted(keyframes), end)


def readable_span(info: ClipInfo, packets_end_s: float) -> float:
    """The seconds the clip's packets cover: its claimed duration, unless they stop more than two frames short
    (a truncated file), when the frames are sampled over the part there is."""
    if 0 < packets_end_s < info.duration_s - 2 * info.frame_s:
        return packets_end_s
    return info.duration_s


class FrameSampler:
    """Decodes the frames nearest to increasing target times, seeking only when a keyframe lies between the
    current position and the next target (otherwise decoding on is cheaper than seeking back to a keyframe)."""

    def __init__(self, container, stream, keyframes: list[float], skip_b_frames: bool = False,
                 deadline: Deadline = UNLIMITED):
        self.container, self.stream, self.keyframes, self.deadline = container, stream, keyframes, deadline
        if skip_b_frames:
            # B-frames are never references for the I/P frames after them: skipping them decodes 2-3x faster, and
            # a sample lands on the next I/P frame (a few frames later; its real time is what is reported).
            stream.codec_context.skip_frame = "BIDIR"
        self.frames = None
        self.position = float("-inf")
        self.furthest = float("-inf")  # the latest frame time decoded so far
        self.tolerance = 0.5 / max(1.0, float(stream.average_rate or 25))

    def seek_if_worth_it(self, target_s: float) -> None:
        """Jump to the last keyframe before the target when it lies ahead of the decoder."""
        last_before = bisect_right(self.keyframes, target_s + self.tolerance) - 1
        ahead = last_before >= 0 and self.keyframes[last_before] > self.position
        if self.frames is None or ahead:
            start = self.keyframes[last_before] if last_before >= 0 else 0.0
            self.container.seek(max(0, int(start / self.stream.time_base)), stream=self.stream, backward=True)
            self.frames = self.container.decode(self.stream)

    def frame_at(self, target_s: float):
        """The first frame at or after target_s, or the last one decoded before the stream ended or broke."""
        import av

        self.seek_if_worth_it(target_s)
        last = None
        try:
            for frame in self.frames:
                self.deadline.check("decoding the clip")
                if frame.time is None:
                    continue
                last, self.position = frame, float(frame.time)
                self.furthest = max(self.furthest, self.position)
                if frame.time >= target_s - self.tolerance:
                    return frame
        except av.error.FFmpegError as error:  # corrupt packets: keep what was decoded before them
            logger.info("Decoding stopped near %.2f s (%s)", target_s, error.__class__.__name__)
            self.frames = None
        return last

    def coverage(self, info: ClipInfo, span_s: float, last_target_s: float) -> Coverage:
        """How much of the clip was read: the sampled span when its last target was reached, else up to the end
        of the last frame decoded."""
        if self.furthest >= last_target_s - self.tolerance:
            seconds = span_s
        else:
            seconds = min(span_s, max(0.0, self.furthest + info.frame_s))
        return Coverage(seconds, info.duration_s, seconds < info.duration_s - 2 * info.frame_s)


class ClipFrames:
    """A clip's sampled frames, spread uniformly over the part of it that can be read and decoded one at a time
    as they are iterated (once; duplicates of clips shorter than `count` frames dropped), then the container
    closed. After iterating, `coverage` says how much of the clip was read. VideoProblem if no frame decodes."""

    def __init__(self, container, info: ClipInfo, count: int, max_side: int,
                 max_frame_count: int = C.MAX_VIDEO_FRAME_COUNT, deadline: Deadline = UNLIMITED):
        self.container, self.info, self.count, self.max_side = container, info, count, max_side
        self.max_frame_count, self.deadline = max_frame_count, deadline
        self.coverage: Coverage | None = None

    def __iter__(self) -> Iterator[SampledFrame]:
        produced = 0
        try:
            for frame in self.sample():
                produced += 1
                yield frame
        finally:
            self.container.close()
        if not produced:
            raise VideoProblem(422, "undecodable-video", "Clip cannot be decoded",
                               "No frame of the clip could be decoded (corrupt or truncated video data).")

    def sample(self) -> Iterator[SampledFrame]:
        """The frames nearest to the sample times, then `coverage` set."""
        import av

        stream = self.container.streams.video[0]
        index = index_stream(self.container, stream, self.max_frame_count, self.deadline)
        span = readable_span(self.info, index.end_s)
        # Only when the clip has many frames per sample: skipping B-frames must not leave fewer frames than samples.
        sampler = FrameSampler(self.container, stream, index.keyframes, span * self.info.fps >= 4 * self.count,
                               self.deadline)
        targets = sample_times(span, self.count)
        seen: set[float] = set()
        for target in targets:
            try:
                frame = sampler.frame_at(target)
            except (av.error.FFmpegError, ValueError) as error:
                logger.info("Cannot seek to %.2f s (%s)", target, error.__class__.__name__)
                continue
            if frame is None or round(frame.time, 3) in seen:
                continue
            seen.add(round(frame.time, 3))
            yield SampledFrame(round(float(frame.time), 3), downscaled(frame, self.max_side))
        self.coverage = sampler.coverage(self.info, span, targets[-1])


def read_clip(data: bytes, container_name: str, count: int, max_duration_s: float = C.MAX_VIDEO_DURATION_S,
              max_pixels: int = C.MAX_VIDEO_PIXELS, min_side: int = C.MIN_IMAGE_SIDE,
              max_side: int = C.VIDEO_FRAME_MAX_SIDE, max_frame_count: int = C.MAX_VIDEO_FRAME_COUNT,
              deadline: Deadline = UNLIMITED) -> tuple[ClipInfo, ClipFrames]:
    """Check a clip against the limits, and the `count` frames spread over it, decoded one at a time as they are
    iterated (so a caller can keep only what it needs of each); VideoProblem for anything unusable, and
    BudgetExhausted once the deadline passes while it is read."""
    container = open_container(data)
    try:
        info = probe_clip(container, container_name, max_duration_s, max_pixels, min_side, max_frame_count)
    except BaseException:
        container.close()
        raise
    return info, ClipFrames(container, info, count, max_side, max_frame_count, deadline)


def clip_mime_type(container_name: str) -> str:
    """The MIME type of a container name."""
    return CONTAINER_MIME_TYPES[container_name]

