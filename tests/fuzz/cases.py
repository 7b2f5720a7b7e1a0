"""Fuzz cases, deterministic: case `index` of run `seed` is always the same request (same seed file, mutations,
field name, filename, Content-Type and options), whatever machine makes it."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from .mutators import mutate
from .seeds import BOUNDARY, ODD_PARTS, Seed, all_seeds, multipart_body

# Options sent with some cases; explain=1 is left out (it loads PyTorch: minutes per case on a busy machine).
QUERIES = ["", "", "", "?faces=off", "?frames=3", "?faces=0&frames=1"]
RAW_TYPES = ["application/octet-stream", "image/jpeg", "image/png", "image/avif", "video/mp4", "video/webm", None]
UNMUTATED_SHARE = 0.03  # seeds sent as they are: a check that the seeds themselves are accepted
MARKER_EVERY = 25  # every 25th upload ends with bytes unique to it, looked for on the disk afterwards


@dataclass
class Case:
    """One upload: what it came from and the request that carries it."""

    index: int
    format: str  # the seed's name: statistics are counted by it
    mutation: str
    payload: bytes  # the file, before a request wraps it
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    path: str = "/predict"
    marker: bytes | None = None

    def describe(self) -> str:
        """One line that names the case (enough to make it again with make_case)."""
        return f"case {self.index} ({self.format}, {self.path}, {self.headers.get('Content-Type')}): {self.mutation}"


def make_case(seed: int, index: int) -> Case:
    """Case `index` of the run numbered `seed`."""
    rng = random.Random(f"fuzz:{seed}:{index}")
    source: Seed = rng.choice(all_seeds())
    data, mutation = (source.data, "unchanged") if rng.random() < UNMUTATED_SHARE else mutate(source.data, rng)
    marker = disk_marker(seed, index) if index % MARKER_EVERY == 0 else None
    data += marker or b""  # trailing bytes: decoders ignore them
    path = "/predict" + rng.choice(QUERIES)
    if source.multipart:
        return Case(index, source.name, mutation, data, data, {"Content-Type": source.content_type}, path, marker)
    how = rng.random()
    if how < 0.7:  # a browser's upload
        name, filename = "file", rng.choice(["upload", "photo.jpg", "clip.mp4", "x.png"])
    elif how < 0.85:  # a script's upload, with odd names
        name, filename = rng.choice(ODD_PARTS)
        name = name if rng.random() < 0.7 else "file"
    else:  # a raw body
        content_type = rng.choice([source.content_type, *RAW_TYPES])
        return Case(index, source.name, mutation + " (raw body)", data, data,
                    {"Content-Type": content_type} if content_type else {}, path, marker)
    body = multipart_body([(name, filename, data, rng.choice([source.content_type, "application/octet-stream"]))])
    return Case(index, source.name, f"{mutation} (field {name[:20]!r})", data, body,
                {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}, path, marker)


def disk_marker(seed: int, index: int) -> bytes:
    """48 bytes no other file holds, appended to some uploads: finding them on disk means an upload was written."""
    return b"FUZZ-DISK-MARKER" + hashlib.sha256(f"fuzz-marker:{seed}:{index}".encode()).digest()
