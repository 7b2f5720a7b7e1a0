"""Helpers of the benchmarks that are not timings: what they classify must be right for their tables to mean anything."""

import io

import pytest
from PIL import Image

from benchmarks.serve_latency import encoding


def encoded(fmt: str, **options) -> bytes:
    """A small noisy picture saved in a format."""
    buffer = io.BytesIO()
    Image.effect_noise((64, 48), 40).convert("RGB").save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(("fmt", "options", "expected"), [
    ("JPEG", {"progressive": True}, "progressive JPEG"),
    ("JPEG", {}, "baseline JPEG"),
    ("PNG", {}, "PNG"),
    ("WEBP", {}, "WEBP"),
])
def test_encoding_names_what_decoding_costs_depend_on(fmt, options, expected):
    assert encoding(encoded(fmt, **options)) == (expected, 64 * 48 / 1e6)
