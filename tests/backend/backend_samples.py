"""Image bytes for API tests, made in memory."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from training.data.synthetic import synthetic_face


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    """Image -> bytes in a format."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def face_jpeg(seed: int = 1, size: int = 96) -> bytes:
    """A synthetic face drawing as JPEG."""
    return encode(synthetic_face(seed % 2, seed, size), "JPEG", quality=90)


def face_png(seed: int = 1, size: int = 96) -> bytes:
    """A synthetic face drawing as PNG."""
    return encode(synthetic_face(seed % 2, seed, size), "PNG")


def truncated_jpeg() -> bytes:
    """A JPEG cut in half: the header reads, the pixels do not."""
    data = encode(Image.effect_noise((256, 256), 64).convert("RGB"), "JPEG", quality=95)
    return data[: len(data) // 2]


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk with its CRC."""
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_header_only(width: int, height: int) -> bytes:
    """A small PNG file whose header declares width x height (a decompression bomb's shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def cmyk_jpeg() -> bytes:
    """A CMYK JPEG (as print workflows produce)."""
    return encode(synthetic_face(0, 3, 64).convert("CMYK"), "JPEG", quality=90)


def png_16bit() -> bytes:
    """A 16-bit greyscale PNG."""
    ramp = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16)
    return encode(Image.fromarray(ramp), "PNG")


def animated_gif() -> bytes:
    """A three-frame animated GIF, 60x40."""
    frames = [Image.new("RGB", (60, 40), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def exif_rotated_jpeg() -> bytes:
    """A 80x40 (landscape-stored) JPEG whose EXIF orientation 6 says: display rotated, 40x80."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(Image.new("RGB", (80, 40), (120, 90, 60)), "JPEG", exif=exif.tobytes())


def solid(fmt: str, size: tuple[int, int] = (32, 32), mode: str = "RGB", **params) -> bytes:
    """A plain image of a size, mode and format."""
    return encode(Image.new(mode, size, 128 if mode in ("L", "I;16") else (128, 64, 32, 255)[: len(mode)]), fmt,
                  **params)


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SVG_BYTES = b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle cx="32" cy="32" r="30"/></svg>'
HTML_BYTES = b"<!doctype html><html><body><h1>not an image</h1></body></html>"
