"""Clips made in code with PyAV for the video tests: moving synthetic content, optionally a face photo moving across."""

from __future__ import annotations

import io
import struct
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CONTAINER_CODECS = {"mp4": "libx264", "webm": "libvpx-vp9", "avi": "mjpeg", "mkv": "libx264", "mov": "libx264"}


def moving_frame(index: int, size: tuple[int, int], face: Image.Image | None = None) -> Image.Image:
    """Frame `index`: a drifting gradient and square, and the face (if given) sliding left to right."""
    width, height = size
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    base = np.stack([(x + index * 3) % 256 + 0 * y, (y + index * 2) % 256 + 0 * x, np.full((height, width), 90.0)], -1)
    image = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    side = max(4, min(size) // 6)
    left = (index * 7) % max(1, width - side)
    draw.rectangle([left, height // 5, left + side, height // 5 + side], fill=(240, 240, 30))
    if face is not None:
        step = max(1, (width - face.width) // 40)
        image.paste(face, (min(width - face.width, index * step), (height - face.height) // 2))
    return image


def make_clip(seconds: float = 2.0, fps: int | Fraction = 10, size: tuple[int, int] = (160, 120),
              container: str = "mp4", face: Image.Image | None = None, gop: int | None = None,
              folder: Path | None = None) -> bytes:
    """Encode a clip in memory; H.264 in mp4/mkv/mov, VP9 in webm, Motion-JPEG in avi. With `folder`, an mp4 or
    mov is written there with its index first (`faststart`, as phones and editors save them: FFmpeg moves the
    index in a second pass over a real file), so a file cut short still says how long it was meant to be."""
    import av

    target = folder / f"clip.{container}" if folder else io.BytesIO()
    rate = Fraction(fps)
    with av_open(target, container, {"movflags": "faststart"} if folder else None) as output:
        stream = output.add_stream(CONTAINER_CODECS[container], rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuvj420p" if container == "avi" else "yuv420p"
        stream.time_base = 1 / rate
        if gop:
            stream.codec_context.gop_size = gop
        for index in range(max(1, round(seconds * rate))):
            big = size[0] * size[1] > 9_000_000  # drawing 8K frames costs seconds; a flat frame is as hostile
            image = Image.new("RGB", size, (90, 90, 90)) if big else moving_frame(index, size, face)
            frame = av.VideoFrame.from_image(image)
            frame.pts = index
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return target.read_bytes() if folder else target.getvalue()


def truncated(clip: bytes, fraction: float) -> bytes:
    """The first `fraction` of a clip's bytes, as an interrupted upload or copy leaves it."""
    return clip[: int(len(clip) * fraction)]


def unsupported_codec(clip: bytes) -> bytes:
    """An mp4 whose video sample entry names a codec no decoder knows ('avc1' renamed)."""
    assert b"avc1" in clip
    return clip.replace(b"avc1", b"zzzz")


def corrupt_middle(clip: bytes) -> bytes:
    """The clip with a quarter of its bytes, starting a third in, replaced by noise."""
    data = bytearray(clip)
    start, length = len(data) // 3, len(data) // 4
    data[start:start + length] = bytes((i * 37 + 11) % 256 for i in range(length))
    return bytes(data)


def zeroed_middle(clip: bytes) -> bytes:
    """The clip with its middle half zeroed (the fuzzer's simplest clip that FFmpeg refused to seek back in)."""
    data = bytearray(clip)
    data[len(data) // 4: 3 * len(data) // 4] = bytes(len(data) // 2)
    return bytes(data)


def av_open(target: io.BytesIO | Path, container: str, options: dict[str, str] | None = None):
    """A PyAV output container writing into the buffer or file."""
    import av

    return av.open(str(target) if isinstance(target, Path) else target, mode="w", format={"mkv": "matroska", "mov": "mov"}.get(container, container),
                   options=options or {})


def audio_only(seconds: float = 1.0) -> bytes:
    """An mp4 (m4a) with one AAC audio stream and no video."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as output:
        stream = output.add_stream("aac", rate=16000)
        stream.layout = "mono"
        samples = int(seconds * 16000)
        tone = (np.sin(np.arange(samples) / 8) * 8000).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(tone, format="s16", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def mjpeg_growing(small: tuple[int, int] = (160, 120), big: tuple[int, int] = (5000, 4000), frames: int = 20,
                  fps: int = 10) -> bytes:
    """A Motion-JPEG avi whose header (and first half of frames) says `small`, and whose second half are `big`
    JPEGs: every Motion-JPEG frame has its own size, whatever the header said."""
    import av

    buffer = io.BytesIO()
    with av_open(buffer, "avi") as output:
        stream = output.add_stream("mjpeg", rate=fps)
        stream.width, stream.height = small
        stream.pix_fmt = "yuvj420p"
        stream.time_base = Fraction(1, fps)
        for index in range(frames):
            jpeg = io.BytesIO()
            Image.new("RGB", small if index < frames // 2 else big, (index * 10, 90, 90)).save(jpeg, "JPEG", quality=50)
            packet = av.Packet(jpeg.getvalue())
            packet.pts = packet.dts = index
            packet.stream, packet.time_base = stream, stream.time_base
            output.mux(packet)
    return buffer.getvalue()


def avi_declaring(clip: bytes, fps: int, frames: int) -> bytes:
    """An AVI whose headers (main and stream) declare `frames` frames at `fps`, whatever its data holds."""
    data = bytearray(clip)
    main, stream = data.index(b"avih") + 8, data.index(b"strh") + 8
    struct.pack_into("<I", data, main + 16, frames)  # dwTotalFrames
    struct.pack_into("<III", data, stream + 20, 1, fps, 0)  # dwScale, dwRate, dwStart
    struct.pack_into("<I", data, stream + 32, frames)  # dwLength
    return bytes(data)
