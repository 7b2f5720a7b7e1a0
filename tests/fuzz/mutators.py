"""Mutations of seed bytes: the plain ones (bit flips, zeroed, duplicated or swapped chunks, truncation, inserted format
markers, oversized length fields) and structure-aware ones that find a format's length fields first (JPEG segment
lengths, PNG chunk sizes and CRCs, ISO-BMFF box sizes, EBML element sizes, JUMBF/C2PA boxes, XMP packets, EXIF IFDs).

Every mutator takes the bytes and a random.Random and returns (new bytes, what it did), or None when the bytes hold no
structure it knows; so the same generator state always gives the same mutation.
"""

from __future__ import annotations

import random
import struct
import zlib
from typing import Callable

Mutation = tuple[bytes, str]
Mutator = Callable[[bytes, random.Random], "Mutation | None"]

# Markers of every format the server reads, inserted where they do not belong.
FORMAT_MARKERS = [b"\xff\xd8\xff\xe0", b"\xff\xd9", b"\xff\xda\x00\x0c", b"\xff\xc0\x00\x11\x08", b"\xff\xe1\xff\xff",
                  b"\x89PNG\r\n\x1a\n", b"IEND", b"\x7f\xff\xff\xffIDAT", b"\x00\x00\x00\x18ftypmp42",
                  b"\x00\x00\x00\x08mdat", b"\xff\xff\xff\xffmoov", b"\x00\x00\x00\x01mdat\xff\xff\xff\xff\xff\xff\xff\xff",
                  b"\x1aE\xdf\xa3", b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff", b"\x1f\x43\xb6\x75\xff",
                  b"RIFF\xff\xff\xff\xffAVI ", b"WEBPVP8X", b"GIF89a", b"\xff\xff\xff\xffjumb", b"jumdc2pa",
                  b"Exif\x00\x00", b"<x:xmpmeta", b"II*\x00\x08\x00\x00\x00", b"MM\x00*\x00\x00\x00\x08", b"\x00" * 16]
INTERESTING_32 = [0, 1, 7, 8, 16, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]
INTERESTING_16 = [0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]
MAX_WALK = 2000  # structures read per file: mutations stay cheap whatever the seed


def chunk_span(data: bytes, rng: random.Random) -> tuple[int, int]:
    """A random (start, length) inside the data; lengths favour small chunks."""
    length = min(len(data), max(1, int(rng.expovariate(1 / 64))))
    return rng.randrange(0, len(data) - length + 1), length


# --- plain mutations ---------------------------------------------------------------------------------------------

def bit_flips(data: bytes, rng: random.Random) -> Mutation:
    out = bytearray(data)
    count = rng.choice([1, 1, 2, 4, 16])
    for _ in range(count):
        position = rng.randrange(len(out))
        out[position] ^= 1 << rng.randrange(8)
    return bytes(out), f"flip {count} bits"


def zeroed_chunk(data: bytes, rng: random.Random) -> Mutation:
    start, length = chunk_span(data, rng)
    if rng.random() < 0.15:  # the simplest clip: its middle half zeroed
        start, length = len(data) // 4, len(data) // 2
    return data[:start] + bytes(length) + data[start + length:], f"zero {length} bytes at {start}"


def duplicated_chunk(data: bytes, rng: random.Random) -> Mutation:
    start, length = chunk_span(data, rng)
    at = rng.randrange(len(data) + 1)
    return data[:at] + data[start:start + length] + data[at:], f"copy {length} bytes from {start} to {at}"


def swapped_chunks(data: bytes, rng: random.Random) -> Mutation:
    first, length = chunk_span(data, rng)
    second = rng.randrange(0, len(data) - length + 1)
    first, second = sorted((first, second))
    if second < first + length:
        return duplicated_chunk(data, rng)
    a, b = data[first:first + length], data[second:second + length]
    return data[:first] + b + data[first + length:second] + a + data[second + length:], \
        f"swap {length} bytes at {first} and {second}"


def truncated(data: bytes, rng: random.Random) -> Mutation:
    keep = rng.choice([rng.randrange(len(data)), len(data) // 2, len(data) - rng.randrange(1, 64)])
    return data[:max(0, keep)], f"truncate to {max(0, keep)}"


def deleted_chunk(data: bytes, rng: random.Random) -> Mutation:
    start, length = chunk_span(data, rng)
    return data[:start] + data[start + length:], f"delete {length} bytes at {start}"


def inserted_marker(data: bytes, rng: random.Random) -> Mutation:
    marker = rng.choice(FORMAT_MARKERS)
    at = rng.randrange(len(data) + 1)
    return data[:at] + marker + data[at:], f"insert {marker[:8]!r} at {at}"


def oversized_length(data: bytes, rng: random.Random) -> Mutation:
    """A 16- or 32-bit field anywhere set to an extreme value, in either byte order."""
    wide = rng.random() < 0.6
    value = rng.choice(INTERESTING_32 if wide else INTERESTING_16)
    packed = struct.pack(rng.choice([">I", "<I"] if wide else [">H", "<H"]), value)
    at = rng.randrange(max(1, len(data) - len(packed)))
    return data[:at] + packed + data[at + len(packed):], f"write {value:#x} at {at}"


PLAIN: list[Mutator] = [bit_flips, zeroed_chunk, duplicated_chunk, swapped_chunks, truncated, deleted_chunk,
                        inserted_marker, oversized_length]


# --- structure-aware mutations -----------------------------------------------------------------------------------

def set_length(data: bytes, at: int, width: int, old: int, rng: random.Random, order: str = ">") -> Mutation:
    """The field of `width` bytes at `at` (holding `old`) set to a boundary value, an off-by-a-few or garbage."""
    limit = (1 << (8 * width)) - 1
    value = rng.choice([0, 1, 2, width, max(0, old - 1), old + 1, old * 2, old + rng.randrange(1, 4096), limit,
                        limit >> 1, rng.randrange(limit + 1), len(data), len(data) - at])
    value &= limit
    return data[:at] + value.to_bytes(width, "big" if order == ">" else "little") + data[at + width:], \
        f"length field at {at}: {old} -> {value}"


def jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker offset, marker, length) of the segments before the first scan."""
    found, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF and len(found) < MAX_WALK:
        marker = data[pos + 1]
        length = struct.unpack_from(">H", data, pos + 2)[0]
        found.append((pos, marker, length))
        if marker == 0xDA:
            break
        pos += 2 + length
    return found


def jpeg_segment(data: bytes, rng: random.Random) -> Mutation | None:
    """A JPEG segment's length, a byte of its header fields (SOF dimensions, components), or the segment doubled."""
    segments = jpeg_segments(data) if data[:2] == b"\xff\xd8" else []
    if not segments:
        return None
    pos, marker, length = rng.choice(segments)
    choice = rng.random()
    if choice < 0.5:
        return set_length(data, pos + 2, 2, length, rng)
    if choice < 0.8 and length > 2:
        at = pos + 4 + rng.randrange(min(length - 2, 16))
        return data[:at] + bytes([rng.choice([0, 1, 0xFF, rng.randrange(256)])]) + data[at + 1:], \
            f"JPEG segment {marker:#x} byte {at}"
    segment = data[pos:pos + 2 + length]
    return data[:pos] + segment + segment + data[pos:][len(segment):], f"JPEG segment {marker:#x} doubled"


def png_chunks(data: bytes) -> list[tuple[int, int, bytes]]:
    """(offset, size, type) of every PNG chunk."""
    found, pos = [], 8
    while pos + 12 <= len(data) and len(found) < MAX_WALK:
        size, kind = struct.unpack_from(">I4s", data, pos)
        found.append((pos, size, kind))
        pos += 12 + size
    return found


def png_chunk(data: bytes, rng: random.Random) -> Mutation | None:
    """A PNG chunk's size or CRC, or its data changed with the CRC made right again (so the parser reads on)."""
    chunks = png_chunks(data) if data[:8] == b"\x89PNG\r\n\x1a\n" else []
    if not chunks:
        return None
    pos, size, kind = rng.choice(chunks)
    choice = rng.random()
    if choice < 0.35:
        return set_length(data, pos, 4, size, rng)
    if choice < 0.5:
        return data[:pos + 8 + size] + struct.pack(">I", rng.randrange(1 << 32)) + data[pos + 12 + size:], \
            f"PNG {kind!r} CRC"
    body = bytearray(data[pos + 8:pos + 8 + size])
    if not body:
        return None
    for _ in range(rng.choice([1, 2, 8])):
        body[rng.randrange(len(body))] = rng.choice([0, 0xFF, rng.randrange(256)])
    crc = struct.pack(">I", zlib.crc32(kind + bytes(body)) & 0xFFFFFFFF)
    return data[:pos + 8] + bytes(body) + crc + data[pos + 12 + size:], f"PNG {kind!r} data, CRC fixed"


BMFF_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"dinf", b"edts", b"udta", b"mvex", b"moof", b"traf",
                   b"iprp", b"ipco", b"meta", b"jumb"}


def bmff_boxes(data: bytes, start: int = 0, end: int | None = None, found: list | None = None) -> list:
    """(offset, size field width, size, type) of ISO-BMFF boxes, nested ones included."""
    found = [] if found is None else found
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end and len(found) < MAX_WALK:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header, width = 8, 4
        if size == 1 and pos + 16 <= end:
            size, header, width = struct.unpack_from(">Q", data, pos + 8)[0], 16, 8
        elif size == 0:
            size = end - pos
        if size < header or not kind.isascii():
            break
        found.append((pos, width, size, kind))
        if kind in BMFF_CONTAINERS:
            bmff_boxes(data, pos + header + (4 if kind == b"meta" else 0), min(end, pos + size), found)
        pos += size
    return found


def bmff_box(data: bytes, rng: random.Random) -> Mutation | None:
    """An ISO-BMFF box's size (mp4, mov, HEIC, AVIF), or its first payload bytes."""
    boxes = bmff_boxes(data) if data[4:8] == b"ftyp" or data[4:8] in (b"moov", b"mdat", b"wide", b"free") else []
    if not boxes:
        return None
    pos, width, size, kind = rng.choice(boxes)
    if rng.random() < 0.7:
        return set_length(data, pos + (8 if width == 8 else 0), width, size, rng)
    at = pos + 8 + rng.randrange(min(16, max(1, size - 8)))
    return data[:at] + bytes([rng.choice([0, 0xFF, rng.randrange(256)])]) + data[at + 1:], f"box {kind!r} byte {at}"


EBML_MASTERS = {0x1A45DFA3, 0x18538067, 0x1F43B675, 0x1654AE6B, 0xAE, 0xE0, 0x114D9B74, 0x4DBB, 0x1549A966, 0x1C53BB6B,
                0xA0, 0x1254C367, 0x7373, 0xBB, 0xB7}


def ebml_vint(data: bytes, pos: int) -> tuple[int, int] | None:
    """(width, value without the marker bit) of the variable-length integer at pos."""
    if pos >= len(data) or data[pos] == 0:
        return None
    width = 9 - data[pos].bit_length()
    if pos + width > len(data):
        return None
    value = int.from_bytes(data[pos:pos + width], "big") & ((1 << (7 * width)) - 1)
    return width, value


def ebml_elements(data: bytes, start: int = 0, end: int | None = None, found: list | None = None) -> list:
    """(size offset, size width, size, element id) of EBML elements (webm, mkv), master elements walked into."""
    found = [] if found is None else found
    end = len(data) if end is None else end
    pos = start
    while pos < end and len(found) < MAX_WALK:
        id_field = ebml_vint(data, pos)
        if not id_field:
            break
        element = int.from_bytes(data[pos:pos + id_field[0]], "big")
        size_field = ebml_vint(data, pos + id_field[0])
        if not size_field:
            break
        size_at, (width, size) = pos + id_field[0], size_field
        found.append((size_at, width, size, element))
        body = size_at + width
        unknown = size == (1 << (7 * width)) - 1
        if element in EBML_MASTERS:
            ebml_elements(data, body, end if unknown else min(end, body + size), found)
        pos = end if unknown else body + size
    return found


def ebml_size(data: bytes, rng: random.Random) -> Mutation | None:
    """An EBML element's size: unknown (all ones), zero, huge, off by a few, or a wider encoding."""
    elements = ebml_elements(data) if data[:4] == b"\x1a\x45\xdf\xa3" else []
    if not elements:
        return None
    at, width, size, element = rng.choice(elements)
    payload_bits = 7 * width
    value = rng.choice([0, 1, size + 1, max(0, size - 1), size * 2, (1 << payload_bits) - 1, (1 << payload_bits) - 2,
                        rng.randrange(1 << payload_bits)])
    encoded = ((1 << payload_bits) | value).to_bytes(width, "big")
    return data[:at] + encoded + data[at + width:], f"EBML {element:#x} size {size} -> {value}"


JUMBF_TYPES = (b"jumb", b"jumd", b"c2pa", b"c2ma", b"c2as", b"c2cl", b"c2cs", b"cbor", b"json", b"bfdb", b"bidb",
               b"uuid")


def jumbf_box(data: bytes, rng: random.Random) -> Mutation | None:
    """A JUMBF box of a C2PA manifest store (JPEG APP11, PNG caBX, BMFF uuid): its LBox, label, or CBOR payload."""
    positions = [i for kind in JUMBF_TYPES[:4] for i in find_all(data, kind)][:MAX_WALK]
    if not positions:
        return None
    at = rng.choice(positions)
    choice = rng.random()
    if choice < 0.5 and at >= 4:
        return set_length(data, at - 4, 4, struct.unpack_from(">I", data, at - 4)[0], rng)
    if choice < 0.7:
        return data[:at] + bytes(rng.randrange(256) for _ in range(4)) + data[at + 4:], f"JUMBF type at {at}"
    cbor = find_all(data, b"cbor") or [at]
    where = rng.choice(cbor) + 4 + rng.randrange(64)
    return data[:where] + bytes([rng.choice([0xFF, 0x9F, 0xBF, 0x5B, 0x7B, rng.randrange(256)])]) + data[where + 1:], \
        f"JUMBF payload byte {where}"


XMP_JUNK = [b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>", b"&a;&a;", b"<<<<", b"\x00\x00", b"]]>", b"<a><a><a><a>",
            b"\xff\xfe", b"xmlns:x=\"", b"</x:xmpmeta>", b"<rdf:li>"]


def xmp_packet(data: bytes, rng: random.Random) -> Mutation | None:
    """Bytes of an XMP packet overwritten in place (the container's lengths stay right) with XML trouble."""
    start = data.find(b"<x:xmpmeta")
    if start < 0:
        start = data.find(b"<?xpacket")
    if start < 0:
        return None
    end = data.find(b"</x:xmpmeta>", start)
    end = end if end > start else min(len(data), start + 512)
    junk = rng.choice(XMP_JUNK)
    at = rng.randrange(start, max(start + 1, end - len(junk)))
    return data[:at] + junk + data[at + len(junk):], f"XMP bytes at {at}: {junk[:12]!r}"


def exif_ifd(data: bytes, rng: random.Random) -> Mutation | None:
    """A field of an EXIF (TIFF) IFD: the entry count, an entry's type, count or offset, or the next-IFD offset."""
    starts = find_all(data, b"II*\x00")[:8] + find_all(data, b"MM\x00*")[:8]
    if not starts:
        return None
    tiff = rng.choice(starts)
    order = "<" if data[tiff] == ord("I") else ">"
    if tiff + 8 > len(data):
        return None
    ifd = tiff + struct.unpack_from(order + "I", data, tiff + 4)[0]
    if ifd + 2 > len(data):
        return set_length(data, tiff + 4, 4, ifd - tiff, rng, order)
    count = struct.unpack_from(order + "H", data, ifd)[0]
    entries = [ifd + 2 + 12 * i for i in range(min(count, 64)) if ifd + 14 + 12 * i <= len(data)]
    choice = rng.random()
    if choice < 0.2 or not entries:
        return set_length(data, ifd, 2, count, rng, order)
    entry = rng.choice(entries)
    if choice < 0.45:
        return set_length(data, entry + 2, 2, struct.unpack_from(order + "H", data, entry + 2)[0], rng, order)
    if choice < 0.7:
        return set_length(data, entry + 4, 4, struct.unpack_from(order + "I", data, entry + 4)[0], rng, order)
    if choice < 0.9:
        return set_length(data, entry + 8, 4, struct.unpack_from(order + "I", data, entry + 8)[0], rng, order)
    next_at = ifd + 2 + 12 * count
    if next_at + 4 > len(data):
        return None
    loop = struct.pack(order + "I", ifd - tiff)  # the next IFD is this one again: a loop
    return data[:next_at] + loop + data[next_at + 4:], f"EXIF next-IFD loop at {next_at}"


STRUCTURED: list[Mutator] = [jpeg_segment, png_chunk, bmff_box, ebml_size, jumbf_box, xmp_packet, exif_ifd]


def find_all(data: bytes, needle: bytes) -> list[int]:
    """Every offset of needle in data (at most MAX_WALK)."""
    found, at = [], data.find(needle)
    while at >= 0 and len(found) < MAX_WALK:
        found.append(at)
        at = data.find(needle, at + 1)
    return found


def mutate(data: bytes, rng: random.Random) -> Mutation:
    """1 to 3 stacked mutations: structure-aware where the bytes have a structure one knows, else plain ones."""
    steps = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        result = None
        if rng.random() < 0.55:
            for mutator in rng.sample(STRUCTURED, len(STRUCTURED)):
                result = mutator(data, rng)
                if result:
                    break
        if not result and data:
            result = rng.choice(PLAIN)(data, rng)
        if result:
            data, step = result
            steps.append(step)
    return data, "; ".join(steps) or "unchanged"
