"""Seed files for the fuzzers, built in code: every accepted image and clip format, the provenance fixtures, and
multipart bodies with odd field names and filenames. Built once per process."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from clips import CONTAINER_CODECS, make_clip
from provenance_fixtures import (a1111_png, encode, phone_exif, phone_exif_jpeg, picture, signed_generated_jpeg,
                                 signed_generated_png, xmp_generated_jpeg)

from pipeline.media import FORMAT_MIME_TYPES  # also registers pillow-heif's HEIF plugin
from pipeline.video import CONTAINER_MIME_TYPES

BOUNDARY = "fuzzboundary7MA4YWxk"
# (field name, filename) pairs a browser or a script might send; the server must answer each one with a status.
ODD_PARTS = [("file", "../../etc/passwd"), ("image", "photo.jpg"), ("file", ""), ("FILE", "x.jpg"),
             ("file[]", "x.jpg"), ("", "x.jpg"), ("file", "é ü 画像.jpg"), ("file", "a" * 2000 + ".jpg"),
             ("file", "x.jpg\x00.mp4"), ('file"; filename="evil.sh', "x.jpg"), ("file", "C:\\Users\\x\\x.jpg"),
             ("image", "clip.mp4")]


@dataclass(frozen=True)
class Seed:
    """One seed: its name (the format the statistics count by), bytes, and how it is sent.

    `multipart` seeds are whole multipart/form-data bodies (mutations hit the framing too); others are file bytes
    that a case wraps in a request.
    """

    name: str
    data: bytes
    content_type: str
    multipart: bool = False


def image_seeds() -> list[Seed]:
    """One small picture in every accepted image format, and the provenance fixtures."""
    image = picture(21, 96)
    exif = phone_exif()  # EXIF IFDs in PNG eXIf, WebP EXIF and HEIF/AVIF Exif items too
    plain = [("jpeg", "JPEG", {"quality": 85}), ("png", "PNG", {"exif": exif}),
             ("webp", "WEBP", {"quality": 80, "exif": exif}), ("gif", "GIF", {}), ("bmp", "BMP", {}),
             ("heic", "HEIF", {"quality": 60, "exif": exif}), ("avif", "AVIF", {"quality": 60, "exif": exif})]
    seeds = [Seed(name, encode(image, fmt, **params), FORMAT_MIME_TYPES[fmt]) for name, fmt, params in plain]
    return seeds + [Seed("c2pa-jpeg", signed_generated_jpeg(), "image/jpeg"),
                    Seed("c2pa-png", signed_generated_png(), "image/png"),
                    Seed("a1111-png", a1111_png(), "image/png"),
                    Seed("xmp-jpeg", xmp_generated_jpeg(), "image/jpeg"),
                    Seed("exif-jpeg", phone_exif_jpeg(), "image/jpeg")]


def clip_seeds() -> list[Seed]:
    """Short, small clips in every accepted container (cheap to decode, so many cases fit a minute)."""
    return [Seed(container, make_clip(0.6, 10, (64, 48), container, gop=3), CONTAINER_MIME_TYPES[container])
            for container in CONTAINER_CODECS]


def multipart_body(parts: list[tuple[str, str | None, bytes, str | None]], boundary: str = BOUNDARY) -> bytes:
    """A multipart/form-data body from (field name, filename or None, payload, content type or None) parts."""
    out = b""
    for name, filename, payload, content_type in parts:
        disposition = f'Content-Disposition: form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\n{disposition}\r\n".encode("utf-8", "surrogateescape")
        if content_type:
            out += f"Content-Type: {content_type}\r\n".encode()
        out += b"\r\n" + payload + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def multipart_seeds(jpeg: bytes) -> list[Seed]:
    """Whole multipart bodies: the odd field names and filenames, an option field, a duplicated file field."""
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    odd = multipart_body([(name, filename, jpeg, "image/jpeg") for name, filename in ODD_PARTS[:6]])
    unicode_names = multipart_body([("faces", None, b"off", None)] +
                                   [(name, filename, jpeg, "application/octet-stream")
                                    for name, filename in ODD_PARTS[6:]])
    return [Seed("multipart-odd-names", odd, content_type, multipart=True),
            Seed("multipart-odd-filenames", unicode_names, content_type, multipart=True)]


@functools.cache
def all_seeds() -> tuple[Seed, ...]:
    """Every seed, in a fixed order (case numbers index into it)."""
    images = image_seeds()
    return tuple(images + clip_seeds() + multipart_seeds(images[0].data))
