"""Provenance of an image from its own metadata, beside the model's score: C2PA Content Credentials, the IPTC digital
source type in XMP, EXIF camera and software fields, and the text image generators leave in PNG files.

The rule set (docs/PROVENANCE.md): the verdict is "generated" if any evidence says a generative tool made the image
(or part of it), else "edited" if any says an editor changed it (or a C2PA signature broke because the asset changed
after signing), else "camera" if any says a camera captured it, else "unknown". Metadata is easy to strip or forge:
it never changes the model's probability, and its absence proves nothing.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from PIL import Image

from .credentials import DEFAULT_TIMEOUT_S, Credentials, read_credentials
from .errors import UserError
from .metadata import MAX_XMP_BYTES, MetadataBlocks, find_metadata

logger = logging.getLogger(__name__)

VERDICTS = ("generated", "edited", "camera")  # by precedence; "unknown" when none applies
MAX_VALUE_CHARS = 200
MAX_EVIDENCE = 24

# IPTC NewsCodes digital source types (http://cv.iptc.org/newscodes/digitalsourcetype/) and what each indicates.
SOURCE_TYPE_VERDICTS = {
    "trainedAlgorithmicMedia": "generated", "compositeWithTrainedAlgorithmicMedia": "generated",
    "algorithmicMedia": "generated", "compositeSynthetic": "generated",
    "humanEdits": "edited", "minorHumanEdits": "edited", "algorithmicallyEnhanced": "edited",
    "composite": "edited", "compositeCapture": "edited",
    "digitalCapture": "camera", "computationalCapture": "camera", "negativeFilm": "camera", "positiveFilm": "camera",
}
# C2PA actions that do not change what the picture shows; every other c2pa.* action is an edit.
NON_EDIT_ACTIONS = {"c2pa.created", "c2pa.opened", "c2pa.published", "c2pa.transcoded", "c2pa.converted",
                    "c2pa.repackaged", "c2pa.edited.metadata", "c2pa.watermarked", "c2pa.unknown"}
# Lower-case names found in EXIF Software, XMP CreatorTool or PNG Software.
GENERATOR_TOOLS = ("stable diffusion", "automatic1111", "comfyui", "novelai", "midjourney", "dall-e", "dall·e",
                   "invokeai", "fooocus", "firefly", "imagen", "stability ai")
EDITOR_TOOLS = ("photoshop", "lightroom", "gimp", "affinity", "pixelmator", "paint.net", "snapseed", "canva",
                "picsart", "facetune", "faceapp", "capture one", "darktable", "krita", "luminar", "photopea")
# PNG text keys that only image generators write.
GENERATOR_TEXT_KEYS = ("invokeai_metadata", "sd-metadata")
# A1111/Forge write the prompt, then one line "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, ..." (one line
# only: a pattern spanning lines could backtrack quadratically on hostile text).
A1111_PARAMETERS = re.compile(r"^Steps: *\d+,[^\n]*\b(?:Sampler|Seed|CFG scale): ", re.MULTILINE)

NS_IPTC_EXT = "{http://iptc.org/std/Iptc4xmpExt/2008-02-29/}"
NS_XMP = "{http://ns.adobe.com/xap/1.0/}"
NS_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
XMP_FIELDS = {NS_IPTC_EXT + "DigitalSourceType": "DigitalSourceType", NS_XMP + "CreatorTool": "CreatorTool"}

EXIF_IFD, MAKE, MODEL, SOFTWARE, DATETIME = 0x8769, 0x010F, 0x0110, 0x0131, 0x0132
DATETIME_ORIGINAL, USER_COMMENT = 0x9003, 0x9286
# C2PA signature state -> trust of the evidence it covers.
EVIDENCE_TRUST = {"valid": "valid", "untrusted": "untrusted", "tampered": "invalid", "invalid": "invalid"}


@dataclass
class Evidence:
    """One statement found in the file: where, which field, what it says, whether a signature covers it."""

    source: str  # "c2pa", "xmp", "exif" or "png-text"
    field: str
    value: str
    trust: str = "unsigned"  # "valid", "untrusted" (signer not trusted), "invalid" (signature broken), "unsigned"
    indicates: str | None = None  # "generated", "edited", "camera", or None for context only


def read_provenance(data: bytes, trust_anchors: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> dict:
    """The provenance answer for an upload's bytes; a metadata problem gives verdict "unknown", never an error."""
    try:
        return provenance_of(data, trust_anchors, timeout_s)
    except Exception:  # metadata must never cost the verdict on the pixels; the traceback stays in the log
        logger.exception("Reading the provenance metadata failed")
        return provenance_answer([], Credentials(), ["the metadata could not be read"])


def provenance_of(data: bytes, trust_anchors: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> dict:
    """The provenance answer for an upload's bytes; raises on a bug (read_provenance is the caller that must not)."""
    blocks = find_metadata(data)
    credentials = read_credentials(data, blocks, trust_anchors, timeout_s)
    evidence = [*c2pa_evidence(credentials), *xmp_evidence(blocks), *exif_evidence(blocks), *text_evidence(blocks)]
    evidence = [item for item in evidence if item.value or item.indicates]
    return provenance_answer(evidence[:MAX_EVIDENCE], credentials, blocks.notes)


def provenance_answer(evidence: list[Evidence], credentials: Credentials, notes: list[str]) -> dict[str, Any]:
    """The `provenance` member of a prediction."""
    return {"verdict": decide(evidence), "evidence": [asdict(item) for item in evidence],
            "c2pa": credentials.to_dict(), "notes": notes}


def decide(evidence: Iterable[Evidence]) -> str:
    """The first of generated, edited, camera that any evidence indicates, else "unknown"."""
    indicated = {item.indicates for item in evidence}
    return next((verdict for verdict in VERDICTS if verdict in indicated), "unknown")


@functools.lru_cache(maxsize=4)
def load_trust_anchors(path: str | None) -> str | None:
    """The PEM bundle of trusted C2PA signing roots at path (None: no extra anchors); read once."""
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"Cannot read the C2PA trust anchors {path}: {error}") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise UserError(f"{path} holds no PEM certificate")
    return text


def clean(value: Any) -> str:
    """A metadata value as short printable text."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def source_type(uri: Any) -> str:
    """The IPTC code of a digital source type URI (its last path segment)."""
    return str(uri or "").rstrip("/").rsplit("/", 1)[-1]


def tool_verdict(name: str) -> str | None:
    """"generated" for a known image generator's name, "edited" for a known editor's, else None."""
    lowered = name.lower()
    if any(tool in lowered for tool in GENERATOR_TOOLS):
        return "generated"
    return "edited" if any(tool in lowered for tool in EDITOR_TOOLS) else None


def c2pa_evidence(credentials: Credentials) -> list[Evidence]:
    """One item per C2PA action, trusted as far as the signature holds, plus the broken hashes of a tampered file."""
    trust = EVIDENCE_TRUST.get(credentials.state, "invalid")
    found = []
    for action in credentials.actions:
        name, code = action["action"], source_type(action["digital_source_type"])
        indicates = SOURCE_TYPE_VERDICTS.get(code)
        if indicates is None and name.startswith("c2pa.") and name not in NON_EDIT_ACTIONS:
            indicates = "edited"
        value = " by ".join(part for part in (code, clean(action["software_agent"] or "")) if part)
        found.append(Evidence("c2pa", name, value, trust, indicates))
    if credentials.state == "tampered":
        mismatches = [code for code in credentials.failures if code.endswith(".mismatch")]
        found.append(Evidence("c2pa", "validation", ", ".join(mismatches), "invalid", "edited"))
    return found


def xmp_evidence(blocks: MetadataBlocks) -> list[Evidence]:
    """DigitalSourceType and CreatorTool of every well-formed XMP packet."""
    found = []
    for packet in blocks.xmp:
        for name, value in xmp_fields(packet, blocks.notes):
            if name == "DigitalSourceType":
                code = source_type(value)
                found.append(Evidence("xmp", name, clean(code), indicates=SOURCE_TYPE_VERDICTS.get(code)))
            else:
                found.append(Evidence("xmp", name, clean(value), indicates=tool_verdict(value)))
    return found


def xmp_fields(packet: bytes, notes: list[str]) -> list[tuple[str, str]]:
    """(name, value) of the XMP_FIELDS in a packet, as attributes, element text or rdf:resource."""
    if len(packet) > MAX_XMP_BYTES or b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        notes.append("an XMP packet is too large or declares entities; it was ignored")
        return []
    try:
        root = ElementTree.fromstring(packet.strip(b"\x00 \r\n\t"))
    except ElementTree.ParseError:
        notes.append("an XMP packet is malformed; it was ignored")
        return []
    found = []
    for element in root.iter():
        found += [(XMP_FIELDS[key], value) for key, value in element.attrib.items() if key in XMP_FIELDS]
        if element.tag in XMP_FIELDS:
            value = element.get(NS_RDF + "resource") or "".join(element.itertext())
            found.append((XMP_FIELDS[element.tag], value.strip()))
    return found


def exif_evidence(blocks: MetadataBlocks) -> list[Evidence]:
    """Camera make and model, capture time, software, and generator parameters hidden in UserComment."""
    if not blocks.exif:
        return []
    exif = Image.Exif()
    try:
        exif.load(blocks.exif)
        details = exif.get_ifd(EXIF_IFD)
    except Exception:  # Pillow raises many types on corrupt TIFF structures
        blocks.notes.append("the EXIF block is malformed; it was ignored")
        return []
    if not exif and not details:
        blocks.notes.append("the EXIF block holds no readable field")
        return []
    found = []
    camera = " ".join(clean(exif[tag]) for tag in (MAKE, MODEL) if exif.get(tag))
    if camera:
        found.append(Evidence("exif", "Make/Model", camera, indicates="camera"))
    captured = details.get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    if captured:
        found.append(Evidence("exif", "DateTimeOriginal" if details.get(DATETIME_ORIGINAL) else "DateTime",
                              clean(captured)))
    if exif.get(SOFTWARE):
        found.append(Evidence("exif", "Software", clean(exif[SOFTWARE]), indicates=tool_verdict(str(exif[SOFTWARE]))))
    comment = user_comment(details.get(USER_COMMENT))
    if comment and A1111_PARAMETERS.search(comment):
        found.append(Evidence("exif", "UserComment", clean(comment), indicates="generated"))
    return found


def user_comment(raw: Any) -> str:
    """EXIF UserComment text: an 8-byte character code, then ASCII or UTF-16 (either byte order)."""
    if not isinstance(raw, bytes):
        return str(raw or "")
    code, body = raw[:8], raw[8:]
    if code.startswith(b"UNICODE"):
        big_endian = body[:1] == b"\x00" or (len(body) > 1 and body[1:2] != b"\x00")
        return body.decode("utf-16-be" if big_endian else "utf-16-le", "replace")
    return body.decode("utf-8", "replace")


def text_evidence(blocks: MetadataBlocks) -> list[Evidence]:
    """The PNG text that Stable Diffusion web UIs, ComfyUI, InvokeAI and editors write."""
    found = []
    for key, value in blocks.text.items():
        if key == "parameters":
            found.append(Evidence("png-text", key, clean(value),
                                  indicates="generated" if generator_parameters(value) else None))
        elif key in ("prompt", "workflow"):
            summary = comfyui_summary(value)
            found.append(Evidence("png-text", key, summary or clean(value),
                                  indicates="generated" if summary else None))
        elif key in GENERATOR_TEXT_KEYS:
            found.append(Evidence("png-text", key, clean(value), indicates="generated"))
        elif key == "Software":
            found.append(Evidence("png-text", key, clean(value), indicates=tool_verdict(value)))
    return found


def generator_parameters(text: str) -> bool:
    """True for A1111/Forge 'parameters' text (prompt, then 'Steps: 20, Sampler: ...') or a JSON settings dict."""
    if A1111_PARAMETERS.search(text):
        return True
    settings = parse_json(text)
    return isinstance(settings, dict) and bool({"prompt", "steps", "sampler"} & set(settings))


def comfyui_summary(text: str) -> str | None:
    """'ComfyUI graph of N nodes (models…)' for a ComfyUI prompt or workflow JSON, else None."""
    graph = parse_json(text)
    if isinstance(graph, dict) and isinstance(graph.get("nodes"), list):
        nodes = [node for node in graph["nodes"] if isinstance(node, dict)]
        models = [str(value) for node in nodes for value in node.get("widgets_values") or []
                  if isinstance(value, str) and value.endswith((".safetensors", ".ckpt"))]
    elif isinstance(graph, dict) and graph and all(isinstance(n, dict) and "class_type" in n for n in graph.values()):
        nodes = list(graph.values())
        models = [str(node.get("inputs", {}).get("ckpt_name")) for node in nodes
                  if isinstance(node.get("inputs"), dict) and node["inputs"].get("ckpt_name")]
    else:
        return None
    return clean(f"ComfyUI graph of {len(nodes)} nodes" + (f" (model {', '.join(models[:3])})" if models else ""))


def parse_json(text: str) -> Any:
    """JSON from a metadata string, or None."""
    try:
        return json.loads(text) if text.lstrip()[:1] in ("{", "[") else None
    except ValueError:
        return None
