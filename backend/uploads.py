"""Reading an upload from a request and decoding it defensively, entirely in memory."""

from __future__ import annotations

import io
from typing import IO, Any, Iterable, Mapping

from flask import Request
from PIL import Image

from pipeline.budget import UNLIMITED, BudgetExhausted, Deadline
from pipeline.media import FORMAT_MIME_TYPES, IMAGE_DECODE_ERRORS, decode_image
from pipeline.video import ClipFrames, ClipInfo, VideoProblem, clip_mime_type, read_clip

from .problems import ApiProblem

UPLOAD_FIELDS = ("file", "image")
# Raw bodies are accepted with these content types besides image/* and video/*.
RAW_BODY_TYPES = ("application/octet-stream",)


class InMemoryRequest(Request):
    """A request whose multipart files stay in memory: uploads never touch the disk (no temp-file spooling)."""

    def _get_file_stream(
        self, total_content_length: int | None, content_type: str | None,
        filename: str | None = None, content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()


def read_upload(request: Request) -> bytes:
    """The uploaded bytes: multipart field `file` or `image`, or a raw body with an image or video content type."""
    mimetype = request.mimetype
    if mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        storage = next((request.files[name] for name in UPLOAD_FIELDS if name in request.files), None)
        if storage is None:
            raise ApiProblem(400, "missing-file", "No file uploaded",
                             "Send the image or clip as multipart form field 'file' (or 'image'), or as the raw "
                             "request body with an image or video Content-Type.", accepted_fields=list(UPLOAD_FIELDS))
        data = storage.read()
    else:
        data = request.get_data(cache=False)
        if not data and not mimetype:
            raise ApiProblem(400, "missing-file", "No file uploaded",
                             "The request has no body. Send the image or clip as multipart form field 'file' or as "
                             "the raw request body with an image or video Content-Type.",
                             accepted_fields=list(UPLOAD_FIELDS))
        if mimetype and not (mimetype.startswith(("image/", "video/")) or mimetype in RAW_BODY_TYPES):
            raise ApiProblem(415, "unsupported-media-type", "Unsupported Media Type",
                             f"A raw request body must have an image or video Content-Type, not {mimetype!r}.")
    if not data:
        raise ApiProblem(400, "empty-file", "Empty upload", "The uploaded file is empty (0 bytes).")
    return data


def decode_upload(data: bytes, accepted_types: Iterable[str], max_pixels: int, min_side: int,
                  decode_min_side: int | None = None) -> Image.Image:
    """Check what the bytes really are, then decode them with the shared decoder; raise ApiProblem if unusable.

    Big JPEGs are decoded at reduced scale, keeping the shorter side >= decode_min_side.
    """
    accepted = set(accepted_types)
    Image.init()  # register every plugin so `formats` may name any of them (no-op after the first call)
    formats = [fmt for fmt, mime in FORMAT_MIME_TYPES.items() if mime in accepted and fmt in Image.OPEN]
    try:
        # Opening reads only the header; Pillow's decompression-bomb guard stays on.
        with Image.open(io.BytesIO(data), formats=formats) as probe:
            image_format, (width, height) = probe.format, probe.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels(max_pixels) from None
    except IMAGE_DECODE_ERRORS:
        raise ApiProblem(415, "unsupported-media-type", "Unsupported Media Type",
                         "The upload is not an image in an accepted format.",
                         accepted_types=sorted(accepted)) from None
    if FORMAT_MIME_TYPES.get(image_format) not in accepted:
        raise ApiProblem(415, "unsupported-media-type", "Unsupported Media Type",
                         f"{image_format} images are not accepted.", accepted_types=sorted(accepted))
    if width * height > max_pixels:
        raise too_many_pixels(max_pixels)
    if min(width, height) < min_side:
        raise ApiProblem(422, "image-too-small", "Image too small",
                         f"The image is {width}x{height} pixels; each side must be at least {min_side} pixels.",
                         min_side=min_side)
    try:
        return decode_image(data, decode_min_side)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels(max_pixels) from None
    except IMAGE_DECODE_ERRORS:
        raise ApiProblem(422, "undecodable-image", "Image cannot be decoded",
                         f"The file starts like a {image_format} image but its pixel data is truncated or "
                         "corrupt.") from None


def check_image_size(data: bytes, max_bytes: int) -> None:
    """Images have a smaller limit than clips (the request limit is the clips' one): 413 past it."""
    if len(data) > max_bytes:
        raise ApiProblem(413, "image-too-large-file", "Image file too large",
                         f"The image is {len(data)} bytes; images may be at most {max_bytes} bytes "
                         "(clips have their own, larger limit).", max_bytes=max_bytes)


def read_video(data: bytes, container: str, config: Mapping[str, Any], frames: int,
               deadline: Deadline = UNLIMITED) -> tuple[ClipInfo, ClipFrames]:
    """Check a clip against the video limits; its sampled frames decode as they are consumed (a VideoProblem
    then may still come: see as_api_problem). ApiProblem if unusable."""
    if clip_mime_type(container) not in set(config["ACCEPTED_VIDEO_TYPES"]):
        raise ApiProblem(415, "unsupported-media-type", "Unsupported Media Type",
                         f"{container} clips are not accepted.", accepted_types=sorted(config["ACCEPTED_VIDEO_TYPES"]))
    if len(data) > int(config["VIDEO_MAX_BYTES"]):
        raise ApiProblem(413, "video-too-large-file", "Clip file too large",
                         f"The clip is {len(data)} bytes; at most {config['VIDEO_MAX_BYTES']} bytes are accepted.",
                         max_bytes=int(config["VIDEO_MAX_BYTES"]))
    try:
        return read_clip(data, container, frames, float(config["VIDEO_MAX_DURATION_S"]),
                         int(config["VIDEO_MAX_PIXELS"]), int(config["MIN_IMAGE_SIDE"]),
                         max_frame_count=int(config["VIDEO_MAX_FRAME_COUNT"]), deadline=deadline)
    except VideoProblem as problem:
        raise as_api_problem(problem) from None


def as_api_problem(problem: VideoProblem) -> ApiProblem:
    """The API problem of a clip problem."""
    return ApiProblem(problem.status, problem.slug, problem.title, problem.detail, **problem.extras)


def too_many_pixels(max_pixels: int) -> ApiProblem:
    """The problem for decompression bombs and oversized images."""
    return ApiProblem(422, "image-too-large", "Image has too many pixels",
                      f"The image has more than {max_pixels} pixels.", max_pixels=max_pixels)


def out_of_time(error: BudgetExhausted) -> ApiProblem:
    """The problem of a request that ran past FLASK_REQUEST_BUDGET_S: 503, the server gave up on it in time."""
    return ApiProblem(503, "time-budget-exhausted", "Analysis took too long",
                      f"The analysis was stopped after {error.budget_s:g} s (the time budget of a request), while "
                      f"{error.stage}. The server may be busy: try again later, or with fewer frames (frames=) or "
                      "a shorter clip.", budget_s=error.budget_s)
