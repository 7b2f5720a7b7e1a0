"""The in-process entry points the deep fuzzer drives and the regression test replays: upload decoding, clip probing
and frame sampling, provenance reading. Each takes the bytes of an upload and raises only the problems a user is
shown (a 4xx); any other exception is a finding. The project's modules are imported inside the functions, so that
deep.py can instrument them for coverage before their first import."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Mapping

REGRESSIONS = Path(__file__).resolve().parent / "regressions"  # <target>/<file>: inputs that once crashed a target
FRAMES = 4  # frames sampled per clip: enough to seek and decode, cheap enough for thousands of inputs a minute


@functools.cache
def server_config() -> Mapping[str, Any]:
    """The server's default settings (create_app's own), with no model loaded and no face detector."""
    from backend import create_app

    return create_app({"MODEL_DIR": "/nonexistent", "FACE_DETECTION": False, "METRICS": False}).config


def upload(data: bytes) -> None:
    """What /predict does with the bytes before a model sees them: a clip is probed and its frames sampled, an image
    checked and decoded."""
    from backend.uploads import check_image_size, decode_upload, read_video
    from pipeline.video import sniff_container

    config = server_config()
    container = sniff_container(data)
    if container:
        _, frames = read_video(data, container, config, FRAMES)
        for _ in frames:  # frames decode lazily: a clip with no decodable frame fails here
            pass
    else:
        check_image_size(data, int(config["IMAGE_MAX_BYTES"]))
        decode_upload(data, config["ACCEPTED_TYPES"], int(config["MAX_IMAGE_PIXELS"]), int(config["MIN_IMAGE_SIDE"]),
                      int(config["DECODE_MIN_SIDE"]))


def provenance(data: bytes) -> None:
    """The provenance reading of an upload (C2PA, XMP, EXIF, PNG text), without the fallback that hides its errors."""
    from pipeline.provenance import load_trust_anchors, provenance_of

    config = server_config()
    provenance_of(data, load_trust_anchors(config["PROVENANCE_TRUST_ANCHORS"]), float(config["PROVENANCE_TIMEOUT_S"]))


TARGETS: dict[str, Callable[[bytes], None]] = {"upload": upload, "provenance": provenance}


def expected_problems() -> tuple[type[Exception], ...]:
    """The exceptions a target may raise: problems a user is shown."""
    from backend.problems import ApiProblem
    from pipeline.errors import UserError

    return (ApiProblem, UserError)


def run_target(name: str, data: bytes) -> None:
    """Run one target on the bytes; a user-facing problem is a normal outcome, anything else propagates."""
    try:
        TARGETS[name](data)
    except expected_problems():
        pass


def regression_cases() -> list[Path]:
    """Every saved input of every target."""
    return sorted(path for name in TARGETS for path in (REGRESSIONS / name).glob("*")
                  if path.is_file() and not path.name.startswith("."))


def regression_case(target: str, name: str) -> bytes:
    """The bytes of one saved input."""
    return (REGRESSIONS / target / name).read_bytes()
