"""A corpus of hostile and broken uploads against real gunicorn: each gets its documented 4xx problem+json, never
a 5xx, and the server answers normally afterwards."""

from __future__ import annotations

import gzip
import io
import json
import socket
import struct
import zipfile
import zlib
from dataclasses import dataclass, field

import pytest
import requests
from PIL import Image
from reliability_helpers import PROBLEM_MIMETYPE, face_jpeg, raw_request, rss_kib

import pipeline.media  # noqa: F401  (registers the HEIF plugin, to write the HEIC cases)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

BOUNDARY = "reliabilityboundary"


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    """Image -> bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk with its CRC."""
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_declaring(width: int, height: int, idat: bytes = zlib.compress(b"\x00" * 64)) -> bytes:
    """A PNG whose header declares width x height, whatever its data holds."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def png_zlib_bomb() -> bytes:
    """A ~50 kB PNG that inflates to 30000x30000 pixels (2.7 GB) of zeros."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + 30000 * 3)
    data = b"".join(compressor.compress(row) for _ in range(200)) + compressor.flush()
    return png_declaring(30000, 30000, data)


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real JPEG whose SOF0 header is edited to declare width x height."""
    data = bytearray(face_jpeg(5, 64))
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def zip_bomb() -> bytes:
    """A zip holding 50 MB of zeros in ~50 kB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\x00" * 50_000_000)
    return buffer.getvalue()


def corrupt_png() -> bytes:
    """A PNG whose pixel data is overwritten with junk (CRCs no longer match)."""
    data = bytearray(encode(Image.effect_noise((64, 64), 40).convert("RGB"), "PNG"))
    data[60:200] = b"\xab" * 140
    return bytes(data)


def multipart(parts: list[tuple[str, bytes, str | None, str | None]]) -> bytes:
    """A multipart body from (field, payload, filename, content type) parts."""
    out = b""
    for name, payload, filename, content_type in parts:
        disposition = f'form-data; name="{name}"'.encode()
        if filename is not None:
            disposition += b'; filename="' + (filename.encode("latin-1") if filename.isascii() is False and
                                               all(ord(c) < 256 for c in filename) else filename.encode()) + b'"'
        out += f"--{BOUNDARY}\r\n".encode() + b"Content-Disposition: " + disposition + b"\r\n"
        if content_type:
            out += f"Content-Type: {content_type}\r\n".encode()
        out += b"\r\n" + payload + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def head(path: str, content_type: str | None, length: int | None, extra: str = "") -> bytes:
    """A request head for POST path."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + ("\r\n" + extra if extra else "") + "\r\n\r\n").encode("latin-1")


@dataclass
class Case:
    """One hostile request: a raw body or multipart parts, and the status it must get."""

    id: str
    status: int
    body: bytes | None = None  # raw body (Content-Type content_type)
    parts: list = field(default_factory=list)  # multipart parts instead of a raw body
    content_type: str | None = "image/jpeg"
    path: str = "/predict?faces=off"
    extra_headers: str = ""
    slow: bool = False  # send the body in small chunks with pauses


def text_part(payload: bytes, filename: str) -> list:
    return [("file", payload, filename, "image/jpeg")]


CASES = [
    Case("truncated jpeg", 422, parts=text_part(face_jpeg(1, 256)[:1500], "cut.jpg")),
    Case("corrupt png data", 422, parts=text_part(corrupt_png(), "corrupt.png")),
    Case("png zlib bomb 30000x30000", 422, parts=text_part(png_zlib_bomb(), "bomb.png")),
    Case("png header 100000x100000", 422, body=png_declaring(100_000, 100_000), content_type="image/png"),
    Case("jpeg header 65000x65000", 422, parts=text_part(jpeg_declaring(65000, 65000), "huge.jpg")),
    Case("gif header 65535x65535", 415, body=b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00;",
         content_type="image/gif"),
    Case("image 8x8 too small", 422, parts=text_part(encode(Image.new("RGB", (8, 8)), "PNG"), "tiny.png")),
    Case("zip file", 415, parts=text_part(zip_bomb()[:20_000], "photo.jpg")),
    Case("zip bomb", 415, body=zip_bomb(), content_type="application/octet-stream"),
    Case("gzip body as jpeg", 415, body=gzip.compress(face_jpeg(2)), extra_headers="Content-Encoding: gzip"),
    Case("tiff not accepted", 415, parts=text_part(encode(Image.new("RGB", (64, 64)), "TIFF"), "x.tiff")),
    Case("svg script", 415, body=b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
         content_type="image/svg+xml"),
    Case("html named jpg", 415, parts=text_part(b"<html><body>hi</body></html>", "x.jpg")),
    Case("null bytes", 415, parts=text_part(b"\x00" * 4096, "zeros.jpg")),
    Case("zero-byte file", 400, parts=text_part(b"", "empty.jpg")),
    Case("empty raw body", 400, body=b"", content_type="image/jpeg"),
    Case("raw text/plain", 415, body=b"hello", content_type="text/plain"),
    Case("raw application/json", 415, body=json.dumps({"image": "x"}).encode(), content_type="application/json"),
    Case("multipart without file", 400, parts=[("model", b"tiny", None, None)]),
    Case("multipart file under wrong field", 400, parts=[("photo", face_jpeg(3), "a.jpg", "image/jpeg")]),
    Case("multipart 2000 parts", 413, parts=[(f"f{i}", b"x", None, None) for i in range(2000)]),
    Case("multipart without boundary", 400, body=b"--x\r\n\r\n", content_type="multipart/form-data"),
    Case("multipart broken framing", 400, body=b"--" + BOUNDARY.encode() + b"\r\ngarbage without end",
         content_type=f"multipart/form-data; boundary={BOUNDARY}"),
    Case("over 10 MB upload", 413, body=b"\xff\xd8" + b"\x00" * (10 * 1024 * 1024 + 10)),
    Case("content-length 1 GB declared", 413, body=b"", extra_headers="X-Declared: yes"),
    Case("path-like filename", 415, parts=text_part(b"root:x:0:0:root:/root:/bin/bash\n", "../../etc/passwd")),
    Case("absolute path filename", 415, parts=text_part(b"not an image", "/tmp/../../../../etc/shadow")),
    # Werkzeug drops a part whose headers are not UTF-8, so the upload counts as missing (browsers send UTF-8).
    Case("non-utf8 filename", 400, parts=text_part(b"not an image", "caf\xe9-\xff\xfe.jpg")),
    Case("invalid option", 400, parts=text_part(face_jpeg(4), "a.jpg"), path="/predict?faces=maybe"),
    Case("unknown model", 404, parts=text_part(face_jpeg(4), "a.jpg"), path="/predict?model=..%2F..%2Fetc"),
    Case("slow client truncated jpeg", 422, parts=text_part(face_jpeg(6, 256)[:1500], "slow.jpg"), slow=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_upload_gets_documented_problem(server, case):
    if case.parts:
        body = multipart(case.parts)
        content_type = f"multipart/form-data; boundary={BOUNDARY}"
    else:
        body, content_type = case.body or b"", case.content_type
    length = 1_000_000_000 if case.id.startswith("content-length 1 GB") else len(body)
    request_head = head(case.path, content_type, length, case.extra_headers)
    if case.slow:  # ~2 s to send the body, 64 bytes at a time
        chunks = [body[i:i + 64] for i in range(0, len(body), 64)]
        status, headers, answer = raw_request(server.port, request_head, chunks, delay=2.0 / len(chunks))
    else:
        status, headers, answer = raw_request(server.port, request_head, [body])
    assert status == case.status, (status, answer[:300], server.log_tail())
    assert headers.get("content-type", "").startswith(PROBLEM_MIMETYPE)
    problem = json.loads(answer)
    assert {"type", "title", "status", "detail"} <= set(problem) and problem["status"] == status


def animated(frames: list[Image.Image], fmt: str, **params) -> bytes:
    """An animated image (GIF, APNG, WebP, AVIF sequence) of these frames."""
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=40, **params)


def gif_of_frames(size: tuple[int, int], count: int) -> bytes:
    """A GIF of `count` full-size frames (a flat frame LZW-coded once and repeated: Pillow would take minutes)."""
    one = encode(Image.new("P", size, 1), "GIF")
    start = one.index(b"\x2c\x00\x00\x00\x00")  # the frame's image descriptor at (0, 0)
    control = b"\x21\xf9\x04\x04\x02\x00\x00\x00"  # graphic control: keep the frame, 20 ms
    return one[:start].replace(b"GIF87a", b"GIF89a") + (control + one[start:-1]) * count + b"\x3b"


def webp_canvas(side: int) -> bytes:
    """An animated WebP of four 16x16 frames on a canvas declared side x side (libwebp allocates the canvas)."""
    data = bytearray(animated([Image.new("RGB", (16, 16), (40 * i, 90, 90)) for i in range(4)], "WEBP",
                              lossless=True))
    data[24:30] = (side - 1).to_bytes(3, "little") * 2  # VP8X canvas width - 1, height - 1
    return bytes(data)


def heic_declaring(side: int) -> bytes:
    """A 64x64 HEIC whose 'ispe' box (the size a grid or a photo declares) says side x side."""
    data = bytearray(encode(Image.new("RGB", (64, 64), (200, 40, 40)), "HEIF"))
    struct.pack_into(">II", data, data.index(b"ispe") + 8, side, side)
    return bytes(data)


@dataclass
class DecodeCase:
    """An upload that would cost much memory or time if decoded whole, and the status it must get."""

    id: str
    build: object
    status: int


# Only the first frame of an animation or sequence is ever decoded, and only after the (upright) size of that
# frame or canvas is checked against the pixel limit: memory per upload is bounded by FLASK_MAX_IMAGE_PIXELS.
DECODE_CASES = [
    DecodeCase("gif of 1000 frames of 9 MP", lambda: gif_of_frames((3000, 3000), 1000), 200),
    DecodeCase("apng of 100 frames of 1 MP", lambda: animated([Image.new("RGB", (1000, 1000), (i, 0, 0))
                                                               for i in range(100)], "PNG"), 200),
    DecodeCase("webp animation on a 16383x16383 canvas", lambda: webp_canvas(16383), 422),
    DecodeCase("avif sequence", lambda: animated([Image.new("RGB", (64, 64), (40 * i, 0, 0)) for i in range(8)],
                                                 "AVIF"), 200),
    DecodeCase("heic declaring 60000x60000", lambda: heic_declaring(60000), 422),
    DecodeCase("heic declaring 7000x7000 (over 40 MP)", lambda: heic_declaring(7000), 422),
    DecodeCase("heic declaring 6000x6000 over 64x64 data", lambda: heic_declaring(6000), 422),
]


def test_uploads_costly_to_decode_are_bounded(server, record_property):
    """Every case gets its answer (the image itself or a 422 problem), and the workers' memory stays bounded."""
    before = {pid: rss_kib(pid) for pid in server.workers()}
    for case in DECODE_CASES:
        response = requests.post(f"{server.base}/predict?faces=off", files={"file": ("upload", case.build())},
                                 timeout=60)
        assert response.status_code == case.status, (case.id, response.text[:300], server.log_tail())
        if case.status != 200:
            assert response.headers["content-type"].startswith(PROBLEM_MIMETYPE), case.id
    growth_mib = max(rss_kib(pid) - before.get(pid, 0) for pid in server.workers()) / 1024
    record_property("rss_growth_mib", round(growth_mib))
    assert growth_mib < 512, growth_mib
    assert set(server.workers()) == set(before)  # no worker was killed and replaced


def test_slow_valid_upload_is_answered(server):
    """A client that trickles a valid image over ~3 s still gets its prediction."""
    body = multipart(text_part(face_jpeg(7, 160), "slow.jpg"))
    chunks = [body[i:i + 256] for i in range(0, len(body), 256)]
    status, _, answer = raw_request(server.port, head("/predict", f"multipart/form-data; boundary={BOUNDARY}",
                                                      len(body)), chunks, delay=3.0 / len(chunks))
    assert status == 200 and "probability_fake" in json.loads(answer)


def test_client_that_stops_mid_body_does_not_hurt_the_server(server):
    """A client that declares 100 kB, sends 1 kB and hangs up; the next requests are served."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head("/predict", "image/jpeg", 100_000) + face_jpeg(8)[:1000])
    for _ in range(4):  # more requests than one worker's threads: none is stuck behind the dead client
        assert requests.post(f"{server.base}/predict?faces=off", data=face_jpeg(9),
                             headers={"Content-Type": "image/jpeg"}, timeout=30).status_code == 200


def test_server_still_answers_correctly_after_the_corpus(server):
    data = face_jpeg(10, 128)
    answers = [requests.post(f"{server.base}/predict", files={"file": ("ok.jpg", data, "image/jpeg")}, timeout=30)
               for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3, server.log_tail()
    assert len({a.json()["probability_fake"] for a in answers}) == 1
    assert requests.get(f"{server.base}/health", timeout=10).json()["status"] == "ok"
    assert server.process.poll() is None
    assert "Traceback" not in server.log_tail(100_000), server.log_tail()
