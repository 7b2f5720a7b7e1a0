"""The metadata blocks of an image file, found by walking its container in memory: EXIF, XMP, PNG text and the
C2PA manifest store's size, for JPEG, PNG, WebP and ISOBMFF (AVIF, HEIC). Pixels are never decoded here.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

# Bounds that keep a hostile file cheap: blocks past these sizes or counts are skipped, with a note.
MAX_BLOCKS = 10_000  # segments, chunks or boxes walked per file
MAX_TEXT_BYTES = 256 * 1024  # one PNG text value, after decompression
MAX_XMP_BYTES = 1024 * 1024

JPEG_EXIF = b"Exif\x00\x00"
JPEG_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
C2PA_STORE = b"jumdc2pa"  # a JUMBF description box labelled with the C2PA manifest store's UUID ("c2pa....")
C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")  # the ISOBMFF uuid box holding a C2PA store
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
PNG_METADATA_CHUNKS = (*PNG_TEXT_CHUNKS, b"eXIf", b"caBX")
PNG_XMP_KEYWORD = "XML:com.adobe.xmp"
HEIF_BRANDS = {b"avif": "image/avif", b"avis": "image/avif", b"heic": "image/heic", b"heix": "image/heic",
               b"mif1": "image/heif", b"msf1": "image/heif"}


@dataclass
class MetadataBlocks:
    """What a file carries besides its pixels, still undecoded; c2pa_* count the manifest store's bytes."""

    mime: str | None = None
    exif: bytes | None = None
    xmp: list[bytes] = field(default_factory=list)
    text: dict[str, str] = field(default_factory=dict)
    c2pa_declared: int = 0  # bytes the store's boxes say they hold
    c2pa_present: int = 0  # bytes of it actually in the file
    notes: list[str] = field(default_factory=list)

    def add_c2pa(self, declared: int, present: int) -> None:
        """Count one C2PA store box (a file may, wrongly, hold several)."""
        self.c2pa_declared += declared
        self.c2pa_present += present


def find_metadata(data: bytes) -> MetadataBlocks:
    """Walk the container the bytes are in and collect its metadata blocks; unknown containers give none."""
    blocks = MetadataBlocks()
    if data[:3] == b"\xff\xd8\xff":
        blocks.mime = "image/jpeg"
        walk_jpeg(data, blocks)
    elif data[:8] == PNG_SIGNATURE:
        blocks.mime = "image/png"
        walk_png(data, blocks)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        blocks.mime = "image/webp"
        walk_webp(data, blocks)
    elif data[4:8] == b"ftyp":
        blocks.mime = HEIF_BRANDS.get(data[8:12])
        if blocks.mime:
            walk_isobmff(data, blocks)
    return blocks


def walk_jpeg(data: bytes, blocks: MetadataBlocks) -> None:
    """APP1 (EXIF, XMP) and APP11 (JUMBF: C2PA) segments, up to the start of the scan."""
    jumbf: dict[bytes, list[int]] = {}  # box instance -> [declared, present] of a C2PA store
    pos, count = 2, 0
    while pos + 4 <= len(data) and count < MAX_BLOCKS:
        if data[pos] != 0xFF:
            blocks.notes.append("JPEG segments are malformed; metadata after them was not read")
            break
        marker = data[pos + 1]
        if marker == 0xFF or 0xD0 <= marker <= 0xD8 or marker == 0x01:  # fill byte, markers without a length
            pos += 1 if marker == 0xFF else 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan or end of image: no metadata after this
            break
        length = struct.unpack_from(">H", data, pos + 2)[0]
        if marker == 0xE1:
            jpeg_app1(data[pos + 4: pos + 2 + length], blocks)
        elif marker == 0xEB and data[pos + 4: pos + 6] == b"JP" and length >= 18:
            jpeg_jumbf(data[pos + 4: pos + 2 + length], jumbf)
        pos, count = pos + 2 + max(length, 2), count + 1
    for declared, present in jumbf.values():
        blocks.add_c2pa(declared, present)


def jpeg_app1(payload: bytes, blocks: MetadataBlocks) -> None:
    """EXIF (the first one counts) or an XMP packet."""
    if payload.startswith(JPEG_EXIF) and blocks.exif is None:
        blocks.exif = payload[len(JPEG_EXIF):]
    elif payload.startswith(JPEG_XMP):
        blocks.xmp.append(payload[len(JPEG_XMP):])


def jpeg_jumbf(payload: bytes, jumbf: dict[bytes, list[int]]) -> None:
    """One APP11 packet: 'JP', box instance (2), sequence (4), then the superbox (its header repeated per packet)."""
    if len(payload) < 16:  # a segment cut short by the end of the file
        return
    instance, sequence = payload[2:4], struct.unpack_from(">I", payload, 4)[0]
    box = payload[8:]
    declared, header = box_size(box, 0)
    if sequence == 1 or instance not in jumbf:
        if box[4:8] == b"jumb" and C2PA_STORE in box[header: header + 16]:
            jumbf[instance] = [declared, len(box)]
    else:
        jumbf[instance][1] += len(box) - header


def box_size(data: bytes, pos: int) -> tuple[int, int]:
    """(declared size, header length) of an ISO/JUMBF box at pos; size 0 means 'to the end'."""
    size = struct.unpack_from(">I", data, pos)[0] if pos + 8 <= len(data) else 0
    if size == 1 and pos + 16 <= len(data):
        return struct.unpack_from(">Q", data, pos + 8)[0], 16
    return (len(data) - pos if size == 0 else size), 8


def walk_png(data: bytes, blocks: MetadataBlocks) -> None:
    """Text chunks, eXIf, iTXt XMP and caBX (C2PA) chunks, wherever they are before IEND."""
    pos, count = 8, 0
    while pos + 8 <= len(data) and count < MAX_BLOCKS:
        length, kind = struct.unpack_from(">I4s", data, pos)
        if kind == b"IEND":
            break
        if kind not in PNG_METADATA_CHUNKS:  # pixels and the like: skipped without copying
            pos, count = pos + 12 + length, count + 1
            continue
        chunk = data[pos + 8: pos + 8 + length]
        if kind == b"caBX":
            blocks.add_c2pa(max(length, box_size(chunk, 0)[0]), len(chunk))
        elif len(chunk) < length:
            blocks.notes.append(f"PNG chunk {kind.decode('latin-1')} is truncated")
            break
        elif kind in PNG_TEXT_CHUNKS:
            png_text(kind, chunk, blocks)
        elif kind == b"eXIf" and blocks.exif is None:
            blocks.exif = chunk
        pos, count = pos + 12 + length, count + 1


def png_text(kind: bytes, chunk: bytes, blocks: MetadataBlocks) -> None:
    """A tEXt, zTXt or iTXt chunk into blocks.text (or blocks.xmp), decompressed at most MAX_TEXT_BYTES."""
    keyword, _, rest = chunk.partition(b"\x00")
    name = keyword.decode("latin-1")
    try:
        if kind == b"tEXt":
            value = rest.decode("latin-1")
        elif kind == b"zTXt":
            value = inflate(rest[1:]).decode("latin-1")
        else:
            compressed, rest = rest[:1] == b"\x01", rest[2:]
            _language, _, rest = rest.partition(b"\x00")
            _translated, _, raw = rest.partition(b"\x00")
            value = (inflate(raw) if compressed else raw[:MAX_TEXT_BYTES]).decode("utf-8", "replace")
    except zlib.error:
        blocks.notes.append(f"PNG text {name!r} cannot be decompressed")
        return
    if name == PNG_XMP_KEYWORD:
        blocks.xmp.append(value.encode("utf-8"))
    else:
        blocks.text.setdefault(name, value[:MAX_TEXT_BYTES])


def inflate(raw: bytes) -> bytes:
    """zlib data, but never more than MAX_TEXT_BYTES of it (compressed text can be a bomb)."""
    return zlib.decompressobj().decompress(raw, MAX_TEXT_BYTES)


def walk_webp(data: bytes, blocks: MetadataBlocks) -> None:
    """RIFF chunks EXIF, 'XMP ' and C2PA."""
    pos, count = 12, 0
    while pos + 8 <= len(data) and count < MAX_BLOCKS:
        kind, length = struct.unpack_from("<4sI", data, pos)
        chunk = data[pos + 8: pos + 8 + length] if kind in (b"C2PA", b"EXIF", b"XMP ") else b""
        if kind == b"C2PA":
            blocks.add_c2pa(max(length, box_size(chunk, 0)[0]), len(chunk))
        elif kind == b"EXIF" and blocks.exif is None:
            blocks.exif = chunk.removeprefix(JPEG_EXIF)
        elif kind == b"XMP ":
            blocks.xmp.append(chunk)
        pos, count = pos + 8 + length + (length & 1), count + 1


def walk_isobmff(data: bytes, blocks: MetadataBlocks) -> None:
    """Top-level boxes: the C2PA uuid box, and the EXIF and XMP items of the meta box."""
    pos, count = 0, 0
    while pos + 8 <= len(data) and count < MAX_BLOCKS:
        size, header = box_size(data, pos)
        kind = data[pos + 4: pos + 8]
        if kind == b"uuid" and data[pos + header: pos + header + 16] == C2PA_UUID:
            blocks.add_c2pa(size, min(size, len(data) - pos))
        elif kind == b"meta":
            heif_items(data, data[pos + header + 4: pos + size], blocks)  # meta is a full box: skip version+flags
        if size < header:
            blocks.notes.append("ISOBMFF box sizes are malformed; metadata after them was not read")
            break
        pos, count = pos + size, count + 1


def child_boxes(data: bytes) -> dict[bytes, bytes]:
    """The direct children of a box's payload, by type (the first of each type)."""
    children: dict[bytes, bytes] = {}
    pos = 0
    while pos + 8 <= len(data) and len(children) < 64:
        size, header = box_size(data, pos)
        if size < header:
            break
        children.setdefault(data[pos + 4: pos + 8], data[pos + header: pos + size])
        pos += size
    return children


def heif_items(data: bytes, meta: bytes, blocks: MetadataBlocks) -> None:
    """The 'Exif' item and the XMP ('mime' application/rdf+xml) item of a HEIF meta box."""
    children = child_boxes(meta)
    try:
        kinds = item_types(children.get(b"iinf", b""))
        extents = item_locations(children.get(b"iloc", b""))
    except (struct.error, IndexError):
        blocks.notes.append("HEIF item boxes are malformed; their metadata was not read")
        return
    for item, kind in kinds.items():
        if item not in extents or kind not in ("Exif", "xmp"):
            continue
        payload = b"".join(data[offset: offset + length] for offset, length in extents[item])[:MAX_XMP_BYTES]
        if kind == "Exif" and len(payload) >= 4 and blocks.exif is None:
            blocks.exif = payload[4 + struct.unpack_from(">I", payload)[0]:]
        elif kind == "xmp":
            blocks.xmp.append(payload)


def item_types(iinf: bytes) -> dict[int, str]:
    """item ID -> 'Exif', 'xmp' or the item type, from an iinf box (version 2/3 infe entries)."""
    version = iinf[0] if iinf else 0
    entries = iinf[6:] if version == 0 else iinf[8:]
    found, pos = {}, 0
    while pos + 8 <= len(entries) and len(found) < MAX_BLOCKS:
        size, header = box_size(entries, pos)
        infe = entries[pos + header: pos + size]
        if size < header or entries[pos + 4: pos + 8] != b"infe" or len(infe) < 12:
            break
        if infe[0] >= 2:
            wide = infe[0] >= 3
            item = struct.unpack_from(">I" if wide else ">H", infe, 4)[0]
            start = 10 if wide else 8
            kind = infe[start: start + 4].decode("latin-1")
            if kind == "mime" and b"rdf+xml" in infe[start + 4: start + 64]:
                kind = "xmp"
            found[item] = kind
        pos += size
    return found


def item_locations(iloc: bytes) -> dict[int, list[tuple[int, int]]]:
    """item ID -> [(file offset, length)] from an iloc box (construction method 0, file offsets only)."""
    if not iloc:
        return {}
    version = iloc[0]
    offset_size, length_size = iloc[4] >> 4, iloc[4] & 15
    base_size, index_size = iloc[5] >> 4, (iloc[5] & 15) if version in (1, 2) else 0
    count, pos = (struct.unpack_from(">I", iloc, 6)[0], 10) if version == 2 else (struct.unpack_from(">H", iloc, 6)[0], 8)
    locations: dict[int, list[tuple[int, int]]] = {}
    for _ in range(min(count, MAX_BLOCKS)):
        item, pos = read_uint(iloc, pos, 4 if version == 2 else 2)
        method = 0
        if version in (1, 2):
            method, pos = read_uint(iloc, pos, 2)
        pos += 2  # data reference index
        base, pos = read_uint(iloc, pos, base_size)
        extent_count, pos = read_uint(iloc, pos, 2)
        extents = []
        for _ in range(min(extent_count, 64)):
            pos += index_size
            offset, pos = read_uint(iloc, pos, offset_size)
            length, pos = read_uint(iloc, pos, length_size)
            extents.append((base + offset, length))
        if method & 15 == 0:
            locations[item] = extents
    return locations


def read_uint(data: bytes, pos: int, size: int) -> tuple[int, int]:
    """A big-endian unsigned integer of 0, 2, 4 or 8 bytes at pos, and the position after it."""
    if size == 0:
        return 0, pos
    if pos + size > len(data):
        raise struct.error("box ends early")
    return int.from_bytes(data[pos: pos + size], "big"), pos + size
