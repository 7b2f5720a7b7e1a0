"""Media decoding shared by training, the predict command and the server: bytes or files to upright RGB images."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import DECODER_ERRORS

# Errors Pillow and its plugins (pillow-heif, AVIF) raise for files that are not images, truncated or otherwise broken.
IMAGE_DECODE_ERRORS = (UnidentifiedImageError, Image.DecompressionBombError, *DECODER_ERRORS)

# Pillow format name -> MIME type, for every image format the project may accept (config/limits.json picks).
FORMAT_MIME_TYPES: dict[str, str] = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # multi-picture JPEGs from phones open as MPO
    "PNG": "image/png",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "DIB": "image/bmp",
    "GIF": "image/gif",
    "HEIF": "image/heic",  # iPhone photos (HEIC), through pillow-heif
    "AVIF": "image/avif",
}

try:  # HEIC/HEIF photos; without pillow-heif they are answered as an unsupported format
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is in requirements.txt
    pillow_heif = None

# EXIF orientations 5-8 swap width and height.
TRANSPOSED_ORIENTATIONS = {5, 6, 7, 8}


def decode_image(source: bytes | str | Path, min_side: int | None = None) -> Image.Image:
    """Decode bytes or a file into an upright RGB image (EXIF rotation applied, fully loaded).

    With `min_side`, a JPEG may be decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling, much faster than
    decoding every pixel) as long as its shorter side stays at least `min_side`; other formats decode in full.
    """
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    with Image.open(stream) as image:
        image.seek(0)
        if min_side and image.format in ("JPEG", "MPO"):
            reduce_jpeg_decode(image, min_side)
        upright = to_8bit(ImageOps.exif_transpose(image))  # a copy, kept after the file closes
        return upright if upright.mode == "RGB" else upright.convert("RGB")


def reduce_jpeg_decode(image: Image.Image, min_side: int) -> None:
    """Ask libjpeg for the smallest DCT scale whose shorter side is still >= min_side (no-op if none)."""
    width, height = image.size
    shorter = min(width, height)
    if shorter < 2 * min_side:
        return
    scale = 1
    while scale < 8 and shorter // (scale * 2) >= min_side:
        scale *= 2
    image.draft(image.mode, (max(1, width // scale), max(1, height // scale)))


def to_8bit(image: Image.Image) -> Image.Image:
    """Scale 16/32-bit greyscale to 8 bits; Pillow's convert("RGB") would clip it to white instead."""
    if image.mode not in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        return image
    array = np.asarray(image).astype(np.int64)
    if array.max() > 255:
        array = array >> 8
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), "L")


def probe_image(data: bytes, formats: list[str]) -> tuple[str, tuple[int, int]]:
    """(Pillow format, upright (width, height)) from the header alone; raises IMAGE_DECODE_ERRORS if unreadable."""
    with Image.open(io.BytesIO(data), formats=formats) as probe:
        width, height = probe.size
        orientation = probe.getexif().get(0x0112) if probe.format in ("JPEG", "MPO", "WEBP", "PNG") else None
        if orientation in TRANSPOSED_ORIENTATIONS:
            width, height = height, width
        return probe.format, (width, height)
