"""Odd and hostile inputs: each gets its documented status and a problem+json body, never a 500.

Decisions (also in /openapi.json): no file or a 0-byte file -> 400; over the upload limit -> 413; not an image or
a format outside config/limits.json (decided from the bytes, not the name or Content-Type) -> 415; an accepted
format that cannot be used (truncated pixels, too many pixels, a side < 16 px) -> 422; CMYK, 16-bit, animated
(first frame) and EXIF-rotated images are converted and answered 200.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Callable

import backend_samples as S
import pytest
from schema_check import errors, response_schema
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.timeout(60)]


@dataclass
class Case:
    """One request and the status it must get."""

    id: str
    status: int
    body: Callable[[], bytes] | None = None  # lazily built bytes
    how: str = "multipart"  # multipart | raw | none
    field_name: str = "file"
    filename: str = "upload.jpg"
    content_type: str = "image/jpeg"
    method: str = "POST"
    query: str = "?faces=off"
    form: dict[str, str] = field(default_factory=dict)
    check: Callable[[dict[str, Any]], None] | None = None


def size_is(width: int, height: int) -> Callable[[dict[str, Any]], None]:
    """Check of the decoded size reported by a 200 answer."""
    def check(body: dict[str, Any]) -> None:
        assert body["image"] == {"width": width, "height": height}
    return check


def lists_known_models(body: dict[str, Any]) -> None:
    """The 404 problem names the models that exist."""
    assert body["known_models"] == ["alpha", "beta", "ensemble"]


CASES = [
    # 400: nothing usable was sent
    Case("empty raw body", 400, lambda: b"", how="raw"),
    Case("no body no content type", 400, how="none"),
    Case("zero-byte multipart file", 400, lambda: b""),
    Case("multipart without file", 400, how="multipart-form-only", form={"model": "alpha"}),
    Case("wrong field name", 400, lambda: S.face_jpeg(), field_name="photo"),
    Case("invalid faces option", 400, lambda: S.face_jpeg(), query="?faces=maybe"),
    # 404 / 405
    Case("unknown model", 404, lambda: S.face_jpeg(), query="?model=nope", check=lists_known_models),
    Case("unknown model raw body", 404, lambda: S.face_jpeg(), how="raw", query="?model=gpt"),
    Case("GET on predict", 405, how="none", method="GET"),
    Case("PUT on predict", 405, lambda: S.face_jpeg(), how="raw", method="PUT"),
    # 413
    Case("over-limit upload", 413, lambda: b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024 + 1)),
    Case("over-limit raw body", 413, lambda: b"\x00" * (10 * 1024 * 1024 + 1), how="raw"),
    # 415: not an image, or not an accepted format
    Case("text file", 415, lambda: b"hello, this is text\n" * 10, filename="notes.txt", content_type="text/plain"),
    Case("PDF bytes", 415, lambda: S.PDF_BYTES, filename="doc.pdf", content_type="application/pdf"),
    Case("SVG", 415, lambda: S.SVG_BYTES, filename="face.svg", content_type="image/svg+xml"),
    Case("HTML as image/jpeg raw", 415, lambda: S.HTML_BYTES, how="raw"),
    Case("raw body with text/plain type", 415, lambda: S.face_jpeg(), how="raw", content_type="text/plain"),
    Case("TIFF is not accepted", 415, lambda: S.solid("TIFF"), filename="face.tif", content_type="image/tiff"),
    Case("random bytes", 415, lambda: bytes(range(256)) * 8, filename="x.jpg"),
    # 422: an accepted format that cannot be used
    Case("truncated JPEG", 422, S.truncated_jpeg),
    Case("PNG header declaring 30000x30000", 422, lambda: S.png_header_only(30000, 30000), filename="bomb.png"),
    Case("PNG header declaring 8000x6000 (over 40 MP cap)", 422, lambda: S.png_header_only(8000, 6000)),
    Case("1x1 image", 422, lambda: S.solid("PNG", (1, 1)), filename="dot.png"),
    Case("15 px side", 422, lambda: S.solid("PNG", (200, 15))),
    # 200: accepted oddities, converted
    Case("16x16 is big enough", 200, lambda: S.solid("PNG", (16, 16)), check=size_is(16, 16)),
    Case("PNG with lying .jpg name and type", 200, lambda: S.face_png(), filename="face.jpg", check=size_is(96, 96)),
    Case("CMYK JPEG", 200, S.cmyk_jpeg, check=size_is(64, 64)),
    Case("16-bit PNG", 200, S.png_16bit, filename="deep.png", check=size_is(64, 64)),
    Case("animated GIF first frame", 200, S.animated_gif, filename="anim.gif", check=size_is(60, 40)),
    Case("EXIF-rotated phone photo", 200, S.exif_rotated_jpeg, check=size_is(40, 80)),
    Case("WebP", 200, lambda: S.solid("WEBP", (40, 30)), filename="a.webp", check=size_is(40, 30)),
    Case("BMP", 200, lambda: S.solid("BMP", (30, 40)), filename="a.bmp", check=size_is(30, 40)),
    Case("16x16 with face detection", 200, lambda: S.solid("PNG", (16, 16)), query="", check=size_is(16, 16)),
    Case("thin 16x3000 with face detection", 200, lambda: S.solid("PNG", (16, 3000)), query="?explain=1"),
    Case("RGBA PNG", 200, lambda: S.solid("PNG", (32, 32), "RGBA")),
    Case("greyscale JPEG", 200, lambda: S.solid("JPEG", (32, 32), "L")),
    Case("octet-stream raw body", 200, lambda: S.face_jpeg(), how="raw", content_type="application/octet-stream"),
    Case("faces on, no face in a drawing", 200, lambda: S.face_jpeg(), query="",
         check=lambda body: body["face_detected"] is False or body["faces"]),
]


def send(client, case: Case):
    """Make the request a case describes."""
    url = "/predict" + case.query
    if case.how == "none":
        return client.open(url, method=case.method)
    if case.how == "raw":
        return client.open(url, method=case.method, data=case.body(), content_type=case.content_type)
    data: dict[str, Any] = dict(case.form)
    if case.how == "multipart":
        data[case.field_name] = FileStorage(io.BytesIO(case.body()), case.filename, content_type=case.content_type)
    # Encoded here in memory: the test client would spool a large body to an (unclosed) temp file.
    boundary, body = encode_multipart(data)
    return client.open(url, method=case.method, data=body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_or_odd_input(client, case):
    response = send(client, case)
    body = response.get_json(force=True, silent=True)
    assert response.status_code == case.status, body
    assert isinstance(body, dict)
    document = client.get("/openapi.json").get_json()
    if case.status == 200:
        assert response.mimetype == "application/json"
        assert errors(body, response_schema(document, "/predict", "post", "200", "application/json"), document) == []
    else:
        assert response.mimetype == "application/problem+json"
        assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == case.status
        assert errors(body, {"$ref": "#/components/schemas/Problem"}, document) == []
        text = response.get_data(as_text=True)
        assert "Traceback" not in text and "Error:" not in text
        if case.status != 405:
            assert str(case.status) in document["paths"]["/predict"]["post"]["responses"]
    if case.check:
        case.check(body)


def test_table_is_big_enough():
    assert len([case for case in CASES if case.status != 200]) >= 20


def test_unexpected_error_is_a_generic_500(app, monkeypatch):
    """A bug becomes problem+json 500 without exception text; the traceback stays in the log."""
    from backend import api

    def explode(*args, **kwargs):
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(api, "run_prediction", explode)
    response = app.test_client().post("/predict?faces=off", data=S.face_jpeg(), content_type="image/jpeg")
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    assert "secret" not in response.get_data(as_text=True)
    assert set(response.get_json()) == {"type", "title", "status", "detail"}


@pytest.mark.parametrize("name, status", [("avif-missing-image-item.avif", 415), ("avif-color-planes-failed.avif", 422),
                                          ("mkv-middle-half-zeroed-seek-refused.mkv", 422)])
def test_third_party_decoder_failure_is_a_4xx_with_a_sentence(client, name, status):
    """Pillow's AVIF plugin (RuntimeError) and FFmpeg refusing to seek (PermissionError): 4xx, never 500."""
    from fuzz.targets import regression_case

    response = client.post("/predict", data={"file": (io.BytesIO(regression_case("upload", name)), name)})
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert response.get_json()["detail"].endswith(".")


def test_decoder_error_types_raised_by_our_own_code_stay_a_500(app, monkeypatch):
    """The line is drawn around calls into decoders only: the same exception types from our code are bugs."""
    from backend import api

    def broken(data):
        raise OSError("a bug of ours")

    monkeypatch.setattr(api, "sniff_container", broken)
    response = app.test_client().post("/predict?faces=off", data=S.face_jpeg(), content_type="image/jpeg")
    assert response.status_code == 500 and response.mimetype == "application/problem+json"


def test_upload_limit_follows_config(model_dir, tmp_path):
    from backend import create_app

    app = create_app({"MODEL_DIR": str(model_dir), "STATIC_DIR": str(tmp_path), "MAX_CONTENT_LENGTH": 1000,
                      "THREADS": 1})
    response = app.test_client().post("/predict", data=b"\x00" * 2000, content_type="image/jpeg")
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
