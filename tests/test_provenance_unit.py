"""Unit tests of pipeline.provenance (with pipeline.metadata and pipeline.credentials) on fixtures made in code."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image, PngImagePlugin

import provenance_fixtures as fx
from pipeline import credentials, provenance
from pipeline.errors import UserError
from pipeline.metadata import MAX_TEXT_BYTES, find_metadata
from pipeline.provenance import read_provenance
from testdata import REPO_ROOT

@pytest.mark.parametrize("name", sorted(fx.EXPECTED))
def test_each_fixture_gets_its_verdict(name):
    answer = read_provenance(fx.FIXTURES[name]())
    verdict, sources, state = fx.EXPECTED[name]
    assert (answer["verdict"], fx.deciding_sources(answer), answer["c2pa"]["state"]) == (verdict, sources, state)


def test_signed_manifest_names_its_signer_and_why_it_is_untrusted():
    answer = read_provenance(fx.signed_generated_jpeg())
    c2pa = answer["c2pa"]
    assert c2pa["signer"] == "Provenance Test Signer" and c2pa["issuer"] == "Provenance Test Lab"
    assert c2pa["claim_generator"] == "provenance-fixtures 1.0"
    assert c2pa["failures"] == ["signingCredential.untrusted"]
    assert answer["evidence"] == [{"source": "c2pa", "field": "c2pa.created",
                                   "value": "trainedAlgorithmicMedia by Fixture Diffusion 1.0",
                                   "trust": "untrusted", "indicates": "generated"}]


def test_a_trusted_root_makes_the_signature_valid():
    answer = read_provenance(fx.signed_generated_png(), trust_anchors=fx.certificates()[2])
    assert answer["c2pa"]["state"] == "valid" and answer["c2pa"]["failures"] == []
    assert [item["trust"] for item in answer["evidence"]] == ["valid"]


def test_tampered_pixels_break_the_data_hash_and_distrust_the_manifest():
    answer = read_provenance(fx.tampered_jpeg(), trust_anchors=fx.certificates()[2])
    assert answer["c2pa"]["state"] == "tampered"
    assert "assertion.dataHash.mismatch" in answer["c2pa"]["failures"]
    c2pa_items = [item for item in answer["evidence"] if item["source"] == "c2pa"]
    assert {item["trust"] for item in c2pa_items} == {"invalid"}
    assert answer["verdict"] == "edited"


@pytest.mark.parametrize("fmt, mime", [("WEBP", "image/webp"), ("AVIF", "image/avif")])
def test_signed_webp_and_avif_are_read(fmt, mime):
    signed = fx.sign(fx.encode(fx.picture(), fmt), mime, fx.created("compositeWithTrainedAlgorithmicMedia", "Fill"))
    answer = read_provenance(signed)
    assert (answer["verdict"], answer["c2pa"]["state"]) == ("generated", "untrusted")


@pytest.mark.parametrize("fmt", ["WEBP", "AVIF", "PNG"])
def test_exif_and_xmp_are_found_in_webp_avif_and_png(fmt):
    xmp = fx.XMP_TEMPLATE.format(attributes=f'Iptc4xmpExt:DigitalSourceType="{fx.IPTC}digitalCapture"')
    data = fx.encode(fx.picture(), fmt, exif=fx.phone_exif(), xmp=xmp.encode())
    blocks = find_metadata(data)
    answer = read_provenance(data)
    assert answer["verdict"] == "camera"
    assert blocks.exif is not None
    # Pillow writes XMP into WebP and AVIF, not into PNG.
    assert ("xmp" in fx.deciding_sources(answer)) == (fmt != "PNG")


def test_xmp_in_a_compressed_png_itxt_chunk():
    info = PngImagePlugin.PngInfo()
    xmp = fx.XMP_TEMPLATE.format(attributes=f'Iptc4xmpExt:DigitalSourceType="{fx.IPTC}trainedAlgorithmicMedia"')
    info.add_itxt("XML:com.adobe.xmp", xmp, zip=True)
    answer = read_provenance(fx.encode(fx.picture(), "PNG", pnginfo=info))
    assert (answer["verdict"], fx.deciding_sources(answer)) == ("generated", {"xmp"})


def test_xmp_source_type_as_an_element_with_a_resource():
    xmp = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           f'<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
           f'<Iptc4xmpExt:DigitalSourceType rdf:resource="{fx.IPTC}compositeSynthetic"/></rdf:Description>'
           f'</rdf:RDF></x:xmpmeta>')
    answer = read_provenance(fx.encode(fx.picture(), "JPEG", xmp=xmp.encode()))
    assert answer["evidence"][0]["value"] == "compositeSynthetic" and answer["verdict"] == "generated"


def test_a1111_parameters_in_a_jpeg_user_comment():
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + fx.A1111_TEXT.encode("utf-16-be")
    answer = read_provenance(fx.encode(fx.picture(), "JPEG", exif=exif.tobytes()))
    assert [(item["field"], item["indicates"]) for item in answer["evidence"]] == [("UserComment", "generated")]


@pytest.mark.parametrize("text, generated", [
    (fx.A1111_TEXT, True),
    ('{"prompt": "a cat", "steps": 30, "sampler": "dpmpp_2m"}', True),
    ("Steps to reproduce: open the file", False),
    ("just a caption", False),
])
def test_parameters_text_counts_only_when_it_looks_like_generator_settings(text, generated):
    assert provenance.generator_parameters(text) is generated


def test_editor_and_generator_names():
    assert provenance.tool_verdict("Adobe Photoshop 25.4 (Windows)") == "edited"
    assert provenance.tool_verdict("NovelAI") == "generated"
    assert provenance.tool_verdict("G998BXXU5CVLL") is None


def test_compressed_text_is_inflated_only_up_to_the_bound():
    blocks = find_metadata(fx.ztxt_bomb_png())
    assert len(blocks.text["parameters"]) == MAX_TEXT_BYTES


def test_hostile_text_costs_linear_time():
    hostile = "Steps: 1, " * 25_000 + "\n" + "Steps: 1,\n" * 20_000
    started = time.perf_counter()
    assert not provenance.generator_parameters(hostile)
    assert time.perf_counter() - started < 0.5


def test_a_slow_validation_is_given_up_after_the_time_budget(monkeypatch):
    def slow_store(*args):
        time.sleep(0.6)

    monkeypatch.setattr(credentials, "manifest_store", slow_store)
    started = time.perf_counter()
    answer = read_provenance(fx.signed_generated_jpeg(), timeout_s=0.1)
    assert time.perf_counter() - started < 0.4
    assert answer["c2pa"]["state"] == "skipped" and "longer than 0.1 s" in answer["c2pa"]["reason"]
    assert answer["verdict"] == "unknown"


def test_an_unexpected_failure_degrades_to_unknown(monkeypatch, caplog):
    def broken(data):
        raise RuntimeError("bug")

    monkeypatch.setattr(provenance, "find_metadata", broken)
    answer = read_provenance(b"\xff\xd8\xff")
    assert answer["verdict"] == "unknown" and answer["notes"] == ["the metadata could not be read"]
    assert "Reading the provenance metadata failed" in caplog.text


def test_trust_anchors_must_be_a_readable_pem_file(tmp_path):
    assert provenance.load_trust_anchors(None) is None
    with pytest.raises(UserError, match="Cannot read"):
        provenance.load_trust_anchors(str(tmp_path / "missing.pem"))
    (tmp_path / "empty.pem").write_text("nothing here")
    with pytest.raises(UserError, match="no PEM certificate"):
        provenance.load_trust_anchors(str(tmp_path / "empty.pem"))


def test_reading_credentials_writes_nothing_to_disk(tmp_path):
    """c2pa reads from memory: a process validating signed files leaves its TMPDIR and working folder empty."""
    folder, work = tmp_path / "tmp", tmp_path / "work"
    folder.mkdir(), work.mkdir()
    fx_file = tmp_path / "signed.jpg"
    fx_file.write_bytes(fx.signed_generated_jpeg())
    script = ("import sys; from pipeline.provenance import read_provenance; "
              "answer = read_provenance(open(sys.argv[1], 'rb').read()); "
              "assert answer['c2pa']['state'] == 'untrusted', answer")
    env = {**os.environ, "TMPDIR": str(folder), "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run([sys.executable, "-c", script, str(fx_file)], cwd=work, env=env, check=True, timeout=60)
    assert list(folder.iterdir()) == [] and list(work.iterdir()) == []


def test_find_metadata_ignores_unknown_containers():
    blocks = find_metadata(fx.encode(Image.new("RGB", (8, 8)), "BMP"))
    assert (blocks.mime, blocks.exif, blocks.xmp, blocks.c2pa_declared) == (None, None, [], 0)
    assert read_provenance(io.BytesIO(b"GIF89a").getvalue())["verdict"] == "unknown"


@pytest.mark.parametrize("name", ["signed-generated-jpeg", "signed-generated-png", "comfyui-png", "xmp-generated-jpeg",
                                  "phone-exif-jpeg", "avif", "webp"])
def test_cut_or_damaged_files_never_reach_the_catch_all(name, caplog):
    """Truncated at 48 places and with bytes flipped at 48 others, every file still gets a plain answer."""
    xmp = fx.XMP_TEMPLATE.format(attributes=f'Iptc4xmpExt:DigitalSourceType="{fx.IPTC}digitalCapture"').encode()
    made = {"avif": lambda: fx.encode(fx.picture(), "AVIF", exif=fx.phone_exif(), xmp=xmp),
            "webp": lambda: fx.encode(fx.picture(), "WEBP", exif=fx.phone_exif(), xmp=xmp)}
    data = (made.get(name) or fx.FIXTURES[name])()
    rng = random.Random(name)
    variants = [data[: len(data) * i // 48] for i in range(48)]
    for _ in range(48):
        damaged = bytearray(data)
        for position in rng.sample(range(min(len(data), 4096)), 8):
            damaged[position] ^= rng.randrange(1, 256)
        variants.append(bytes(damaged))
    for variant in variants:
        answer = read_provenance(variant)
        assert answer["verdict"] in ("generated", "edited", "camera", "unknown")
        assert "the metadata could not be read" not in answer["notes"], caplog.text


def test_concurrent_validations_share_the_context_safely():
    """Server threads validate at the same time through one cached c2pa Context."""
    uploads = [fx.signed_generated_jpeg(), fx.tampered_jpeg(), fx.signed_generated_png()] * 4
    with ThreadPoolExecutor(max_workers=6) as pool:
        states = list(pool.map(lambda data: read_provenance(data, timeout_s=10)["c2pa"]["state"], uploads))
    assert states == ["untrusted", "tampered", "untrusted"] * 4
