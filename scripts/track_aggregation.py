"""Which track aggregation separates real from fake clips best: mean, mean of the most-fake half, or max.

    .venv/bin/python scripts/track_aggregation.py [--frames 16] [--json FILE]

No fake clips are available here, so fake "tracks" are a proxy: groups of `--frames` fake face images
(faces-gan Test/Fake and t2i-faces, through the server's face detection and crop), against the face tracks of
the real clips in ../shared/data/videos/real (through the server's clip path) and real photo groups
(photos/real). Prints AUC and, at the model's threshold, the share of real and of fake tracks called fake for
each aggregation, for the served default model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from pipeline import constants as C  # noqa: E402
from pipeline.analysis import analyse_clip, face_crops, score_regions  # noqa: E402
from pipeline.faces import create_detector  # noqa: E402
from pipeline.media import decode_image  # noqa: E402
from pipeline.onnx_runtime import OnnxClassifier  # noqa: E402
from pipeline.tracks import TRACK_AGGREGATIONS, aggregate  # noqa: E402
from pipeline.video import read_clip, sniff_container  # noqa: E402

SHARED = REPO_ROOT.parent / "shared" / "data"


def get_args_parser() -> argparse.ArgumentParser:
    """Arguments of the script."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=C.DEFAULT_VIDEO_FRAMES, help="frames per track (default 16)")
    parser.add_argument("--groups", type=int, default=20, help="image groups per image source (default 20)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    return parser


def image_tracks(folder: Path, size: int, groups: int, score, detector) -> list[list[float]]:
    """Groups of `size` images of a folder, each image scored as the server scores it (its most-fake face)."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in C.IMAGE_EXTENSIONS)[: size * groups]
    analyses = score_regions([face_crops(decode_image(p), detector) for p in paths], score)
    values = [a.probability_fake for a in analyses]
    return [values[i:i + size] for i in range(0, len(values) - size + 1, size)]


def clip_tracks(folder: Path, frames: int, score, detector) -> list[list[float]]:
    """The frame probabilities of every face track of every clip in a folder."""
    tracks = []
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        container = sniff_container(data)
        if not container:
            continue
        info, sampled = read_clip(data, container, frames)
        tracks += [result.probabilities for result in analyse_clip(sampled, info.width, score, detector).tracks]
    return tracks


def main(argv: list[str] | None = None) -> int:
    """Score the proxy tracks and compare the aggregations."""
    args = get_args_parser().parse_args(argv)
    scorer = OnnxClassifier.from_checkpoint(C.MODELS_DIR / f"{C.DEFAULT_MODEL_NAME}.pt")
    detector = create_detector()
    real = clip_tracks(SHARED / "videos" / "real", args.frames, scorer.probabilities, detector)
    real += image_tracks(SHARED / "photos" / "real", args.frames, args.groups, scorer.probabilities, detector)
    fake = image_tracks(SHARED / "faces-gan" / "Test" / "Fake", args.frames, args.groups, scorer.probabilities, detector)
    fake += image_tracks(SHARED / "t2i-faces" / "Fake", args.frames, args.groups, scorer.probabilities, detector)
    labels = [0] * len(real) + [1] * len(fake)
    report = {"model": C.DEFAULT_MODEL_NAME, "real_tracks": len(real), "fake_tracks": len(fake), "aggregations": {}}
    print(f"model {C.DEFAULT_MODEL_NAME} (threshold {scorer.meta.threshold:.3f}): {len(real)} real tracks, "
          f"{len(fake)} fake proxy tracks of {args.frames}")
    print("| aggregation | AUC | real tracks called fake | fake tracks called fake |\n|---|---|---|---|")
    for method in TRACK_AGGREGATIONS:
        scores = [aggregate(track, method) for track in real + fake]
        threshold = scorer.meta.threshold
        figures = {"auc": round(float(roc_auc_score(labels, scores)), 4),
                   "real_called_fake": round(float(np.mean([s >= threshold for s in scores[:len(real)]])), 4),
                   "fake_called_fake": round(float(np.mean([s >= threshold for s in scores[len(real):]])), 4)}
        report["aggregations"][method] = figures
        print(f"| {method} | {figures['auc']} | {figures['real_called_fake']:.1%} | {figures['fake_called_fake']:.1%} |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
