"""False-fake rate on photos of real people, through POST /predict with face detection (in-process Flask client).

    .venv/bin/python scripts/false_fake_rate.py [PHOTOS_DIR] [--model NAME] [--json FILE]

Every photo in the folder is real, so every "fake" verdict is a false alarm. Prints the rate, the worst
offenders, and how many photos had no face detected.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from backend import create_app  # noqa: E402
from pipeline import constants as C  # noqa: E402

DEFAULT_PHOTOS = REPO_ROOT.parent / "shared" / "data" / "photos" / "real"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"}


def get_args_parser() -> argparse.ArgumentParser:
    """Arguments of the script."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", nargs="?", type=Path, default=DEFAULT_PHOTOS, help=f"folder of real photos (default {DEFAULT_PHOTOS})")
    parser.add_argument("--model-dir", type=Path, default=C.MODELS_DIR, help="served model folder (default models/)")
    parser.add_argument("--model", default=None, help="model name or 'ensemble' (default: the server's default)")
    parser.add_argument("--json", type=Path, default=None, help="also write per-photo results here")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Send every photo to POST /predict and count fake verdicts."""
    args = get_args_parser().parse_args(argv)
    photos = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES) if args.photos.is_dir() else []
    if not photos:
        print(f"error: no photos in {args.photos}", file=sys.stderr)
        return 2
    client = create_app({"MODEL_DIR": str(args.model_dir), "TESTING": True}).test_client()
    results, errors = [], []
    for photo in photos:
        query = {"model": args.model} if args.model else {}
        response = client.post("/predict", query_string=query, data=photo.read_bytes(),
                               headers={"Content-Type": "application/octet-stream"})
        if response.status_code != 200:
            errors.append((photo.name, response.status_code))
            continue
        body = response.get_json()
        results.append({"file": photo.name, "label": body["label"], "probability_fake": body["probability_fake"],
                        "faces": len(body["faces"]), "face_detected": body["face_detected"], "model": body["model"]["name"]})
    fakes = [r for r in results if r["label"] == "fake"]
    no_face = [r for r in results if not r["face_detected"]]
    print(f"model {results[0]['model'] if results else '?'}: {len(fakes)} of {len(results)} real photos called fake "
          f"(false-fake rate {len(fakes) / max(1, len(results)):.1%}); no face found in {len(no_face)}; "
          f"{len(errors)} rejected {errors if errors else ''}")
    for r in sorted(results, key=lambda r: -r["probability_fake"])[:5]:
        print(f"  {r['probability_fake']:.3f} {r['label']:<4} faces={r['faces']} {r['file']}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "errors": errors}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
