"""Images with provenance metadata, made in memory: C2PA-signed with c2pa-python's Builder and a throwaway
certificate chain (so validators report an untrusted signer), generator text, XMP, EXIF, and hostile variants.

    python -m tests.provenance_fixtures OUT.jpg [--kind signed-generated-jpeg]   # writes one fixture (browser test)
"""

from __future__ import annotations

import argparse
import datetime
import functools
import io
import json
import struct
import sys
import zlib
from pathlib import Path
from typing import Callable

from PIL import Image, ImageDraw, PngImagePlugin

from training.data.synthetic import synthetic_face

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
A1111_TEXT = ("portrait photo of a woman, 85mm, bokeh\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, "
              "CFG scale: 7, Seed: 1234, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly")
XMP_TEMPLATE = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
                '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
                'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
                'xmlns:xmp="http://ns.adobe.com/xap/1.0/" {attributes}/></rdf:RDF></x:xmpmeta>'
                '<?xpacket end="w"?>')


def picture(seed: int = 7, size: int = 160) -> Image.Image:
    """A face-like drawing to carry the metadata."""
    return synthetic_face(seed % 2, seed, size)


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    """Image -> bytes in a format."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


@functools.cache
def certificates() -> tuple[bytes, bytes, str]:
    """(signing chain PEM, private key PEM, root CA PEM) of a fresh throwaway CA and an ES256 signing certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Provenance Test Lab")])

    def certificate(subject: str, key, issuer: x509.Name, issuer_key, ca: bool) -> x509.Certificate:
        now = datetime.datetime.now(datetime.timezone.utc)
        usage = dict(digital_signature=not ca, content_commitment=False, key_encipherment=False,
                     data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                     encipher_only=False, decipher_only=False)
        builder = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(issuer)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(**usage), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                                  critical=False))
        if not ca:  # C2PA signers need an allowed extended key usage
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                                            critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    root_key, signer_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = certificate("Provenance Test Root CA", root_key, name("Provenance Test Root CA"), root_key, ca=True)
    signer = certificate("Provenance Test Signer", signer_key, root.subject, root_key, ca=False)
    pem = serialization.Encoding.PEM
    key = signer_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return signer.public_bytes(pem) + root.public_bytes(pem), key, root.public_bytes(pem).decode("ascii")


def sign(asset: bytes, mime: str, actions: list[dict]) -> bytes:
    """The asset with an embedded C2PA manifest holding these actions, signed by the throwaway chain."""
    import c2pa

    chain, key, _ = certificates()
    manifest = {"claim_generator_info": [{"name": "provenance-fixtures", "version": "1.0"}],
                "title": "fixture", "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}]}
    context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, key, None))
    output = io.BytesIO()
    with c2pa.Builder(manifest, context=context) as builder:
        builder.sign(signer, mime, io.BytesIO(asset), output)
    return output.getvalue()


def created(source_type: str, agent: str) -> list[dict]:
    """A c2pa.created action with an IPTC digital source type."""
    return [{"action": "c2pa.created", "digitalSourceType": IPTC + source_type, "softwareAgent": {"name": agent}}]


def phone_exif() -> bytes:
    """EXIF as a phone writes it: make, model, firmware as Software, capture time."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131], exif[0x0132] = "Apple", "iPhone 15 Pro", "17.1.2", "2024:05:04 10:11:12"
    exif.get_ifd(0x8769)[0x9003] = "2024:05:04 10:11:12"
    return exif.tobytes()


def signed_generated_jpeg() -> bytes:
    """A JPEG whose C2PA manifest says a generative model created it."""
    return sign(encode(picture(), "JPEG", quality=90), "image/jpeg",
                created("trainedAlgorithmicMedia", "Fixture Diffusion 1.0"))


def signed_generated_png() -> bytes:
    """A PNG whose C2PA manifest says a generative model created it."""
    return sign(encode(picture(), "PNG"), "image/png", created("trainedAlgorithmicMedia", "Fixture Diffusion 1.0"))


def signed_camera_jpeg() -> bytes:
    """A phone JPEG (EXIF) whose C2PA manifest says it is a digital capture."""
    return sign(encode(picture(3), "JPEG", quality=90, exif=phone_exif()), "image/jpeg",
                created("digitalCapture", "Fixture Camera App"))


def tampered_jpeg() -> bytes:
    """The signed camera JPEG with its pixels changed after signing (the manifest kept as it was)."""
    signed = signed_camera_jpeg()
    image = Image.open(io.BytesIO(signed)).convert("RGB")
    ImageDraw.Draw(image).rectangle([20, 20, 80, 80], fill=(255, 0, 0))
    repainted = encode(image, "JPEG", quality=90)
    end = header_end(signed)
    return signed[:end] + repainted[header_end(repainted):]


def header_end(jpeg: bytes) -> int:
    """Where the first segment after the APPn metadata segments starts."""
    pos = 2
    while 0xE0 <= jpeg[pos + 1] <= 0xEF:
        pos += 2 + struct.unpack_from(">H", jpeg, pos + 2)[0]
    return pos


def png_with_text(**text: str) -> bytes:
    """A PNG with tEXt chunks."""
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    return encode(picture(5), "PNG", pnginfo=info)


def a1111_png() -> bytes:
    """A PNG as the Stable Diffusion web UI saves it: prompt and settings in a 'parameters' chunk."""
    return png_with_text(parameters=A1111_TEXT)


def comfyui_png() -> bytes:
    """A PNG as ComfyUI saves it: the API graph in 'prompt', the editor graph in 'workflow'."""
    prompt = {"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
              "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "model": ["4", 0]}}}
    workflow = {"nodes": [{"id": 4, "type": "CheckpointLoaderSimple", "widgets_values": ["sd_xl_base_1.0.safetensors"]},
                          {"id": 3, "type": "KSampler", "widgets_values": [1, "fixed", 20]}], "links": []}
    return png_with_text(prompt=json.dumps(prompt), workflow=json.dumps(workflow))


def xmp_generated_jpeg() -> bytes:
    """A JPEG whose XMP says trainedAlgorithmicMedia (the IPTC marking generators write)."""
    xmp = XMP_TEMPLATE.format(attributes=f'Iptc4xmpExt:DigitalSourceType="{IPTC}trainedAlgorithmicMedia" '
                                         'xmp:CreatorTool="Fixture Image Generator"')
    return encode(picture(9), "JPEG", quality=90, xmp=xmp.encode("utf-8"))


def phone_exif_jpeg() -> bytes:
    """A JPEG with a phone's EXIF and nothing else."""
    return encode(picture(11), "JPEG", quality=90, exif=phone_exif())


def photoshop_jpeg() -> bytes:
    """A phone JPEG saved again by Photoshop (EXIF Software)."""
    exif = Image.Exif()
    exif.load(phone_exif())
    exif[0x0131] = "Adobe Photoshop 25.4 (Macintosh)"
    return encode(picture(13), "JPEG", quality=90, exif=exif.tobytes())


def plain_jpeg() -> bytes:
    """A JPEG with no metadata at all."""
    return encode(picture(15), "JPEG", quality=90)


def app_segment(marker: int, payload: bytes) -> bytes:
    """One JPEG APPn segment."""
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def after_soi(jpeg: bytes, *segments: bytes) -> bytes:
    """A JPEG with segments inserted right after its start-of-image marker."""
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def huge_manifest_jpeg() -> bytes:
    """A JPEG whose APP11 C2PA manifest store declares 50 MB but holds a few bytes."""
    description = struct.pack(">I", 30) + b"jumd" + b"c2pa" + bytes.fromhex("00110010800000aa00389b71") + b"\x03c2pa\x00"
    box = struct.pack(">I", 50_000_000) + b"jumb" + description
    return after_soi(plain_jpeg(), app_segment(0xEB, b"JP" + b"\x02\x11" + struct.pack(">I", 1) + box))


def truncated_jumbf_jpeg() -> bytes:
    """The signed generated JPEG with its APP11 manifest cut in half (segment lengths adjusted to match)."""
    signed = signed_generated_jpeg()
    start = signed.index(b"\xff\xeb")
    length = struct.unpack_from(">H", signed, start + 2)[0]
    half = length // 2
    return signed[:start] + app_segment(0xEB, signed[start + 4: start + 2 + half]) + signed[start + 2 + length:]


def corrupt_jumbf_jpeg() -> bytes:
    """The signed generated JPEG with its manifest's inner bytes scrambled, every length left intact."""
    signed = bytearray(signed_generated_jpeg())
    start = signed.index(b"\xff\xeb") + 60  # past the JUMBF headers
    for i in range(start, start + 400):
        signed[i] ^= 0x5A
    return bytes(signed)


def malformed_xmp_jpeg() -> bytes:
    """A JPEG whose XMP packet is broken XML (an unclosed element) claiming trainedAlgorithmicMedia."""
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><Iptc4xmpExt:DigitalSourceType>{IPTC}trainedAlgorithmicMedia'
    return encode(picture(17), "JPEG", quality=90, xmp=xmp.encode("utf-8"))


def entity_xmp_jpeg() -> bytes:
    """A JPEG whose XMP packet declares nested entities (the 'billion laughs' shape)."""
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10 if i else "ha"}">' for i in range(9))
    xmp = f'<!DOCTYPE x [{entities}]><x:xmpmeta xmlns:x="adobe:ns:meta/">&e8;</x:xmpmeta>'
    return encode(picture(19), "JPEG", quality=90, xmp=xmp.encode("utf-8"))


def malformed_exif_jpeg() -> bytes:
    """A JPEG whose EXIF block has a TIFF header pointing far outside it."""
    return after_soi(plain_jpeg(), app_segment(0xE1, b"Exif\x00\x00MM\x00*\xff\xff\xff\xf0" + b"\x00" * 40))


def ztxt_bomb_png(inflated: int = 1_000_000) -> bytes:
    """A PNG whose compressed 'parameters' text inflates to ~1 MB (Pillow refuses to open more than 1 MiB)."""
    bomb = zlib.compress(b"\x00" * inflated, 9)
    png = encode(picture(21), "PNG")
    chunk = b"parameters\x00\x00" + bomb
    ztxt = struct.pack(">I", len(chunk)) + b"zTXt" + chunk + struct.pack(">I", zlib.crc32(b"zTXt" + chunk))
    return png[:33] + ztxt + png[33:]  # after the signature and IHDR


FIXTURES: dict[str, Callable[[], bytes]] = {
    "signed-generated-jpeg": signed_generated_jpeg, "signed-generated-png": signed_generated_png,
    "signed-camera-jpeg": signed_camera_jpeg, "tampered-jpeg": tampered_jpeg, "a1111-png": a1111_png,
    "comfyui-png": comfyui_png, "xmp-generated-jpeg": xmp_generated_jpeg, "phone-exif-jpeg": phone_exif_jpeg,
    "photoshop-jpeg": photoshop_jpeg, "plain-jpeg": plain_jpeg, "huge-manifest-jpeg": huge_manifest_jpeg,
    "truncated-jumbf-jpeg": truncated_jumbf_jpeg, "corrupt-jumbf-jpeg": corrupt_jumbf_jpeg,
    "malformed-xmp-jpeg": malformed_xmp_jpeg, "entity-xmp-jpeg": entity_xmp_jpeg,
    "malformed-exif-jpeg": malformed_exif_jpeg, "ztxt-bomb-png": ztxt_bomb_png,
}

# fixture -> (verdict, evidence sources that indicate it, c2pa state)
EXPECTED: dict[str, tuple[str, set[str], str]] = {
    "signed-generated-jpeg": ("generated", {"c2pa"}, "untrusted"),
    "signed-generated-png": ("generated", {"c2pa"}, "untrusted"),
    "signed-camera-jpeg": ("camera", {"c2pa", "exif"}, "untrusted"),
    "tampered-jpeg": ("edited", {"c2pa"}, "tampered"),
    "a1111-png": ("generated", {"png-text"}, "none"),
    "comfyui-png": ("generated", {"png-text"}, "none"),
    "xmp-generated-jpeg": ("generated", {"xmp"}, "none"),
    "phone-exif-jpeg": ("camera", {"exif"}, "none"),
    "photoshop-jpeg": ("edited", {"exif"}, "none"),
    "plain-jpeg": ("unknown", set(), "none"),
    "huge-manifest-jpeg": ("unknown", set(), "skipped"),
    "truncated-jumbf-jpeg": ("unknown", set(), "invalid"),
    "corrupt-jumbf-jpeg": ("unknown", set(), "invalid"),
    "malformed-xmp-jpeg": ("unknown", set(), "none"),
    "entity-xmp-jpeg": ("unknown", set(), "none"),
    "malformed-exif-jpeg": ("unknown", set(), "none"),
    "ztxt-bomb-png": ("unknown", set(), "none"),
}


def deciding_sources(answer: dict) -> set[str]:
    """Sources of the evidence that indicates a provenance answer's verdict."""
    return {item["source"] for item in answer["evidence"] if item["indicates"] == answer["verdict"]}


def get_args_parser() -> argparse.ArgumentParser:
    """Arguments of the fixture writer."""
    parser = argparse.ArgumentParser(description="Write one provenance test image.")
    parser.add_argument("output", type=Path, help="file to write")
    parser.add_argument("--kind", choices=sorted(FIXTURES), default="signed-generated-jpeg",
                        help="which fixture (default signed-generated-jpeg)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Write the fixture and print its path."""
    args = get_args_parser().parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(FIXTURES[args.kind]())
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
