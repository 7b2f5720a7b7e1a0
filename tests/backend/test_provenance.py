"""Provenance in POST /predict: every fixture (signed, generator text, XMP, EXIF, hostile) answers 200 with the
right `provenance`, or a 4xx problem+json; never a 500."""

from __future__ import annotations

import io
import struct

import pytest

import provenance_fixtures as fx
from schema_check import errors, response_schema

# Pillow warns (does not fail) on the corrupt-EXIF fixture while decoding pixels; the server answers 200 all the same.
pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning"),
              pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def fixtures() -> dict[str, bytes]:
    """Every fixture's bytes, made once."""
    return {name: make() for name, make in fx.FIXTURES.items()}


def predict(client, data: bytes, raw: bool = False):
    """POST /predict with the bytes as a multipart upload (or a raw body)."""
    if raw:
        return client.post("/predict", data=data, content_type="application/octet-stream")
    return client.post("/predict", data={"file": (io.BytesIO(data), "upload.bin")}, content_type="multipart/form-data")


def assert_valid(client, body: dict) -> None:
    """The answer validates against the published Prediction schema."""
    document = client.get("/openapi.json").get_json()
    assert errors(body, response_schema(document, "/predict", "post", "200", "application/json"), document) == []


@pytest.mark.parametrize("name", sorted(fx.EXPECTED))
def test_each_fixture_answers_200_with_its_provenance(client, fixtures, name):
    response = predict(client, fixtures[name])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert_valid(client, body)
    verdict, sources, state = fx.EXPECTED[name]
    provenance = body["provenance"]
    assert (provenance["verdict"], fx.deciding_sources(provenance), provenance["c2pa"]["state"]) == \
           (verdict, sources, state)


def test_raw_body_gets_the_same_provenance(client, fixtures):
    multipart = predict(client, fixtures["signed-generated-png"]).get_json()["provenance"]
    raw = predict(client, fixtures["signed-generated-png"], raw=True).get_json()["provenance"]
    assert raw == multipart and raw["c2pa"]["signer"] == "Provenance Test Signer"


def test_metadata_never_changes_the_probability(client, fixtures):
    with_manifest = predict(client, fixtures["signed-generated-jpeg"]).get_json()
    header_end = fixtures["signed-generated-jpeg"].index(b"\xff\xeb")
    length = struct.unpack_from(">H", fixtures["signed-generated-jpeg"], header_end + 2)[0]
    stripped = fixtures["signed-generated-jpeg"][:header_end] + fixtures["signed-generated-jpeg"][header_end + 2 + length:]
    without = predict(client, stripped).get_json()
    assert without["provenance"]["verdict"] == "unknown"
    assert with_manifest["probability_fake"] == pytest.approx(without["probability_fake"], abs=1e-6)


def test_configured_trust_anchors_make_the_signature_valid(app, client, fixtures, tmp_path, monkeypatch):
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(fx.certificates()[2])
    monkeypatch.setitem(app.config, "PROVENANCE_TRUST_ANCHORS", str(anchors))
    provenance = predict(client, fixtures["signed-generated-jpeg"]).get_json()["provenance"]
    assert provenance["c2pa"]["state"] == "valid"
    assert [item["trust"] for item in provenance["evidence"]] == ["valid"]


def test_provenance_can_be_switched_off(app, client, fixtures, monkeypatch):
    monkeypatch.setitem(app.config, "PROVENANCE", False)
    body = predict(client, fixtures["signed-generated-jpeg"]).get_json()
    assert "provenance" not in body
    assert_valid(client, body)


def test_unreadable_trust_anchors_stop_the_start(model_dir, tmp_path):
    from backend import create_app

    with pytest.raises(RuntimeError, match="FLASK_PROVENANCE_TRUST_ANCHORS"):
        create_app({"MODEL_DIR": str(model_dir), "STATIC_DIR": str(tmp_path), "THREADS": 1,
                    "PROVENANCE_TRUST_ANCHORS": str(tmp_path / "missing.pem")})


def png_chunk(kind: bytes, payload: bytes, declared: int | None = None) -> bytes:
    """A PNG chunk whose length field may lie."""
    return struct.pack(">I", len(payload) if declared is None else declared) + kind + payload + b"\x00" * 4


@pytest.mark.parametrize("case, status", [
    ("manifest-in-a-text-file", 415),
    ("signed-jpeg-with-truncated-pixels", 422),
    ("png-with-a-2-gb-c2pa-chunk", 415),
    ("png-with-a-64-mb-text-bomb", 415),
])
def test_broken_files_with_manifests_get_a_problem(client, fixtures, case, status):
    signed = fixtures["signed-generated-jpeg"]
    png = fixtures["signed-generated-png"]
    data = {
        "manifest-in-a-text-file": b"hello\n" + signed[signed.index(b"\xff\xeb"):][:4000],
        "signed-jpeg-with-truncated-pixels": signed[: len(signed) - 6000],
        "png-with-a-2-gb-c2pa-chunk": png[:33] + png_chunk(b"caBX", b"\x00" * 64, declared=2**31 - 1) + png[33:],
        "png-with-a-64-mb-text-bomb": fx.ztxt_bomb_png(64 * 1024 * 1024),
    }[case]
    response = predict(client, data)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert set(response.get_json()) >= {"type", "title", "status", "detail"}
