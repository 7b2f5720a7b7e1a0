"""False-fake rate on photos of real people, through POST /predict with face detection (in-process Flask client).

    .venv/bin/python scripts/false_fake_rate.py [PHOTOS_DIR] [--model NAME] [--detector yunet] [--crop-scale 2.0]
        [--split-dir DATA/Test] [--unseen-by MIX.yaml] [--json FILE]

Every photo in the folder is real, so every "fake" verdict is a false alarm. Prints the rate, the worst
offenders, and how many photos had no face detected. With --split-dir (a folder with Real/ and Fake/), also the
accuracy on those labelled images through the same endpoint. With --unseen-by, photos that any source of that data
mix lists (so that a model trained on it may have seen) are left out, and the report says how many.
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
from pipeline.errors import UserError  # noqa: E402

DEFAULT_PHOTOS = REPO_ROOT.parent / "shared" / "data" / "photos" / "real"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"}


def get_args_parser() -> argparse.ArgumentParser:
    """Arguments of the script."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", nargs="?", type=Path, default=DEFAULT_PHOTOS, help=f"folder of real photos (default {DEFAULT_PHOTOS})")
    parser.add_argument("--model-dir", type=Path, default=C.MODELS_DIR, help="served model folder (default models/)")
    parser.add_argument("--model", default=None, help="model name or 'ensemble' (default: the server's default)")
    parser.add_argument("--detector", default=C.DEFAULT_FACE_DETECTOR, choices=C.FACE_DETECTORS, help=f"face detector (default {C.DEFAULT_FACE_DETECTOR})")
    parser.add_argument("--crop-scale", type=float, default=C.CROP_SCALE, help=f"face box enlargement of the crop (default {C.CROP_SCALE})")
    parser.add_argument("--split-dir", type=Path, default=None, help="also report accuracy on SPLIT/Real and SPLIT/Fake")
    parser.add_argument("--unseen-by", type=Path, default=None, metavar="MIX", help="leave out photos that this data mix trains on")
    parser.add_argument("--json", type=Path, default=None, help="also write per-photo results here")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Send every photo to POST /predict and count fake verdicts."""
    args = get_args_parser().parse_args(argv)
    photos = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES) if args.photos.is_dir() else []
    try:
        seen = mix_files(args.unseen_by) if args.unseen_by else set()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    left_out = [p for p in photos if p.resolve() in seen]
    photos = [p for p in photos if p.resolve() not in seen]
    if not photos:
        print(f"error: no photos in {args.photos}" + (f" that {args.unseen_by} does not use" if seen else ""), file=sys.stderr)
        return 2
    if left_out:
        print(f"left out {len(left_out)} photos that {args.unseen_by} trains on")
    client = create_app({"MODEL_DIR": str(args.model_dir), "TESTING": True, "ACCESS_LOG": False, "FACE_DETECTOR": args.detector,
                         "CROP_SCALE": args.crop_scale}).test_client()
    results, errors = classify(client, photos, args.model)
    fakes = [r for r in results if r["label"] == "fake"]
    no_face = [r for r in results if not r["face_detected"]]
    print(f"model {results[0]['model'] if results else '?'}: {len(fakes)} of {len(results)} real photos called fake "
          f"(false-fake rate {len(fakes) / max(1, len(results)):.1%}); no face found in {len(no_face)}; "
          f"{len(errors)} rejected {errors if errors else ''}")
    for r in sorted(results, key=lambda r: -r["probability_fake"])[:5]:
        print(f"  {r['probability_fake']:.3f} {r['label']:<4} faces={r['faces']} {r['file']}")
    report = {"detector": args.detector, "crop_scale": args.crop_scale, "false_fake_rate": len(fakes) / max(1, len(results)),
              "photos": len(results), "no_face": len(no_face), "left_out_as_seen": len(left_out), "results": results,
              "errors": errors}
    if args.split_dir:
        report["split"] = split_accuracy(client, args.split_dir, args.model)
        print(f"{args.split_dir}: accuracy {report['split']['accuracy']:.4f} on {report['split']['images']} images "
              f"(face found in {report['split']['face_detected']})")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def mix_files(mix_path: Path) -> set[Path]:
    """Every file any source of a data mix lists, resolved (DataError, exit 2, for a broken mix)."""
    from training.data.mix import list_source, load_mix
    return {f.path.resolve() for source in load_mix(mix_path).sources for f in list_source(source)}


def classify(client, photos: list[Path], model: str | None) -> tuple[list[dict], list[tuple[str, int]]]:
    """POST every photo; (answers, [(name, status) of rejected ones])."""
    results, errors = [], []
    for photo in photos:
        query = {"model": model} if model else {}
        response = client.post("/predict", query_string=query, data=photo.read_bytes(),
                               headers={"Content-Type": "application/octet-stream"})
        if response.status_code != 200:
            errors.append((photo.name, response.status_code))
            continue
        body = response.get_json()
        results.append({"file": photo.name, "label": body["label"], "probability_fake": body["probability_fake"],
                        "faces": len(body["faces"]), "face_detected": body["face_detected"], "model": body["model"]["name"]})
    return results, errors


def split_accuracy(client, split_dir: Path, model: str | None) -> dict:
    """Accuracy of the served verdicts on SPLIT/Real and SPLIT/Fake."""
    correct = total = with_face = 0
    for class_name in C.CLASS_NAMES:
        images = sorted(p for p in (split_dir / class_name).iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        results, _ = classify(client, images, model)
        correct += sum(r["label"] == class_name.lower() for r in results)
        with_face += sum(r["face_detected"] for r in results)
        total += len(results)
    return {"accuracy": correct / max(1, total), "images": total, "face_detected": with_face}


if __name__ == "__main__":
    sys.exit(main())
