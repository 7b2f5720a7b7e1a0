"""Face detectors side by side on the same photos in one run: time per photo and photos with a face found.

    make bench-setup   # MTCNN (facenet-pytorch), the detector before YuNet
    python benchmarks/detector_speed.py [--photos ../shared/data/photos/real] [--detectors mtcnn yunet retinaface]

Each detector sees every photo decoded once, detects on its <= --max-side copy (the server's setting) with one
thread, as a gunicorn worker on 2 cores does. Prints a table, writes benchmarks/results/detector_speed.json and
refreshes docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_utils import (PERFORMANCE_MD, REAL_PHOTOS, machine, machine_line, markdown_table,  # noqa: E402
                                    percentiles, write_results)
from pipeline import constants as C  # noqa: E402
from pipeline.errors import UserError  # noqa: E402
from pipeline.faces import create_detector  # noqa: E402
from pipeline.media import decode_image  # noqa: E402

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}


def get_args_parser() -> argparse.ArgumentParser:
    """Arguments of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=REAL_PHOTOS, help=f"folder of photos (default {REAL_PHOTOS})")
    parser.add_argument("--detectors", nargs="+", default=list(C.FACE_DETECTORS), choices=C.FACE_DETECTORS,
                        help="detectors to compare (default all)")
    parser.add_argument("--max-side", type=int, default=C.DETECT_MAX_SIDE, help=f"detection copy size (default {C.DETECT_MAX_SIDE})")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the photos; p50 over all (default 3)")
    parser.add_argument("--json", type=Path, default=None, help="results file (default benchmarks/results/detector_speed.json)")
    parser.add_argument("--markdown", type=Path, default=PERFORMANCE_MD, help="markdown file to refresh (default docs/PERFORMANCE.md)")
    return parser


def measure(name: str, images: list, max_side: int, repeats: int) -> dict:
    """Per-photo detection times and face counts of one detector."""
    import torch

    torch.set_num_threads(1)
    detector = create_detector(name, max_side, threads=1)
    detector.detect(images[0])  # warm-up: first-call allocations
    times, found, faces = [], 0, 0
    for repeat in range(repeats):
        for image in images:
            started = time.perf_counter()
            detected = detector.detect(image)
            times.append((time.perf_counter() - started) * 1000)
            if repeat == 0:
                found += bool(detected)
                faces += len(detected)
    return {"detector": name, **percentiles(times), "photos": len(images), "photos_with_face": found, "faces": faces}


def main(argv: list[str] | None = None) -> int:
    """Time every detector on the same decoded photos; print, write JSON and markdown."""
    args = get_args_parser().parse_args(argv)
    paths = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES) if args.photos.is_dir() else []
    if not paths:
        print(f"error: no photos in {args.photos}", file=sys.stderr)
        return C.EXIT_BAD_INPUT
    images = [decode_image(path) for path in paths]
    info = machine()
    rows = []
    for name in args.detectors:
        try:
            rows.append(measure(name, images, args.max_side, args.repeats))
        except UserError as error:
            print(f"skipping {name}: {error}", file=sys.stderr)
            continue
        print(rows[-1])
    baseline = next((r["p50_ms"] for r in rows if r["detector"] == "mtcnn"), None)
    table = markdown_table(
        ["detector", "p50 ms / photo", "p95 ms / photo", "photos with a face", "faces found", "speed-up vs MTCNN (p50)"],
        [[r["detector"], r["p50_ms"], r["p95_ms"], f"{r['photos_with_face']} / {r['photos']}", r["faces"],
          round(baseline / r["p50_ms"], 1) if baseline else "MTCNN not installed"] for r in rows])
    print(table)
    markdown = (f"### Face detection alone ({len(images)} photos of `{args.photos.name}`, copy <= {args.max_side} px, "
                f"1 thread)\n\n`python benchmarks/detector_speed.py --max-side {args.max_side} --repeats {args.repeats}`"
                f"\n\n{machine_line(info)}\n\n{table}\n")
    write_results("detector_speed", {"machine": info, "rows": rows}, markdown, args.json, args.markdown)
    return C.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
