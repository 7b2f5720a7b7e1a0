"""Classify images and clips: `python -m training.predict PATH... [--checkpoint FILE] [--format table|csv|json]`.

Every file is scored exactly as POST /predict scores it (pipeline.analysis): faces detected and cropped, all crops
scored in one batch, the most-fake face (for a clip, the most-fake face track) deciding.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from pathlib import Path

from pipeline import constants as C
from pipeline.analysis import analyse_clip, face_crops, score_regions
from pipeline.cli import ArgumentParser, resolve_device, run_command
from pipeline.errors import UserError
from pipeline.faces import FaceDetector, create_detector
from pipeline.loading import load_scorer
from pipeline.media import IMAGE_DECODE_ERRORS, decode_image
from pipeline.provenance import read_provenance
from pipeline.scoring import Scorer
from pipeline.video import VideoProblem, read_clip, sniff_container

from .scan_io import KIND_FIELDS, KIND_PROBABILITY_FIELDS

logger = logging.getLogger(__name__)

DEFAULT_CHECKPOINT = C.MODELS_DIR / f"{C.DEFAULT_MODEL_NAME}.pt"
FIELDS = ["file", "media", "label", "verdict", "probability_fake", *KIND_FIELDS, "face_detected", "faces", "error",
          "provenance_verdict", "provenance_source"]
NO_PROVENANCE = {"provenance_verdict": None, "provenance_source": None}


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """Arguments of the predict command."""
    parser = ArgumentParser(description="Classify face images as Real or Fake.", add_help=add_help)
    parser.add_argument("paths", nargs="+", type=Path, help="image or clip files, or folders (searched recursively)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help=f"model checkpoint (default the bundled {DEFAULT_CHECKPOINT.name})")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default table)")
    parser.add_argument("--batch-size", type=int, default=32, help="images scored together (default 32)")
    parser.add_argument("--faces", choices=("on", "off"), default="on",
                        help="on: classify every face as the server does, the most-fake one deciding; off: the "
                             "whole image (default on)")
    parser.add_argument("--detector", choices=C.FACE_DETECTORS, default=C.DEFAULT_FACE_DETECTOR,
                        help=f"face detector (default {C.DEFAULT_FACE_DETECTOR})")
    parser.add_argument("--runtime", choices=C.RUNTIMES, default="torch",
                        help="torch (any device), or the ONNX graph on the CPU: openvino (the server's default, "
                             "ONNX Runtime where OpenVINO is missing) or onnx (ONNX Runtime) (default torch)")
    parser.add_argument("--frames", type=int, default=C.DEFAULT_VIDEO_FRAMES,
                        help=f"frames sampled per clip, 1-{C.MAX_VIDEO_FRAMES} (default {C.DEFAULT_VIDEO_FRAMES})")
    parser.add_argument("--provenance", choices=("on", "off"), default="on",
                        help="on: read C2PA, XMP, EXIF and PNG-text provenance as the server does (default on)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    parser.add_argument("--verbose", action="store_true", help="debug logging (default off)")
    return parser


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given, folders expanded to their image and clip files; a missing path is an error."""
    files: list[Path] = []
    extensions = C.IMAGE_EXTENSIONS | C.VIDEO_EXTENSIONS
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in extensions))
        elif path.is_file():
            files.append(path)
        else:
            raise UserError(f"No such file or folder: {path}")
    if not files:
        raise UserError("No images or clips found in the given paths")
    return files


def predict_files(scorer: Scorer, files: list[Path], batch_size: int, detector: FaceDetector | None = None,
                  decode_min_side: int | None = C.DECODE_MIN_SIDE, provenance: bool = True,
                  frames: int = C.DEFAULT_VIDEO_FRAMES) -> list[dict]:
    """One result row per file, scored exactly as POST /predict scores it, or the reason it could not be read."""
    rows: list[dict] = []
    for start in range(0, len(files), batch_size):
        chunk, blobs = [], []
        for path in files[start:start + batch_size]:
            try:
                blobs.append(path.read_bytes())
                chunk.append(path)
            except OSError as error:
                rows.append({"file": str(path), **failure(None, f"not a readable image ({error.__class__.__name__})"),
                             **NO_PROVENANCE})
        for path, data, verdict in zip(chunk, blobs, classify_blobs(scorer, blobs, detector, frames, decode_min_side)):
            origin = provenance_columns(data) if provenance and not verdict["error"] else NO_PROVENANCE
            rows.append({"file": str(path), **verdict, **origin})
    order = {str(p): i for i, p in enumerate(files)}
    return sorted(rows, key=lambda r: order[r["file"]])


def classify_blobs(scorer: Scorer, blobs: list[bytes], detector: FaceDetector | None,
                   frames: int = C.DEFAULT_VIDEO_FRAMES, decode_min_side: int | None = C.DECODE_MIN_SIDE) -> list[dict]:
    """The verdict of each file's bytes, scored exactly as POST /predict scores it: images together in one batch
    (all their face crops), each clip as one batch of the crops of its sampled frames; a file that cannot be used
    gets label and verdict 'error' and the reason. Shared by the predict command and the bulk scan."""
    verdicts: dict[int, dict] = {}
    images, regions = [], []
    for index, data in enumerate(blobs):
        container = sniff_container(data)
        try:
            if container:
                verdicts[index] = clip_row(data, container, scorer, detector, frames)
                continue
            regions.append(face_crops(decode_image(data, decode_min_side), detector, scorer.crop_scales))
            images.append(index)
        except IMAGE_DECODE_ERRORS as error:
            verdicts[index] = failure("image", f"not a readable image ({error.__class__.__name__})")
        except VideoProblem as error:
            verdicts[index] = failure("video", error.detail)
    for index, analysis in zip(images, score_regions(regions, scorer)):
        probability = analysis.probability_fake
        verdicts[index] = {"media": "image", "label": scorer.label(probability).lower(),
                           "verdict": scorer.verdict(probability), "probability_fake": round(probability, 6),
                           **kind_columns(scorer.kind(probability, analysis.kind_probabilities)),
                           "face_detected": analysis.regions.face_detected, "faces": len(analysis.regions.faces),
                           "error": ""}
    return [verdicts[index] for index in range(len(blobs))]


def kind_columns(fields: dict) -> dict:
    """The server's `kind` and `kind_probabilities` (Scorer.kind) as flat columns: `kind` and one
    `kind_probability_<kind>` per kind (empty for a real verdict or a model without a kind head)."""
    shown = fields["kind_probabilities"] or {}
    return {"kind": fields["kind"], **{column: shown.get(name) for column, name in zip(KIND_PROBABILITY_FIELDS,
                                                                                      C.KIND_NAMES)}}


def failure(media: str | None, reason: str) -> dict:
    """The verdict fields of a file that could not be classified."""
    return {"media": media, "label": "error", "verdict": "error", "probability_fake": None,
            **dict.fromkeys(KIND_FIELDS), "face_detected": None, "faces": None, "error": reason}


def clip_row(data: bytes, container: str, scorer: Scorer, detector: FaceDetector | None, frames: int) -> dict:
    """The row of a clip: its verdict (most-fake track), its face tracks as `faces`, and, for JSON, the tracks."""
    info, sampled = read_clip(data, container, frames)
    analysis = analyse_clip(sampled, info.width, scorer, detector)

    def label(probability: float) -> str:
        return scorer.label(probability).lower()  # the server's lower-case labels

    return {"media": "video", "label": label(analysis.probability_fake),
            "verdict": scorer.verdict(analysis.probability_fake),
            "probability_fake": round(analysis.probability_fake, 6),
            **kind_columns(scorer.kind(analysis.probability_fake, analysis.kind_probabilities)),
            "face_detected": analysis.face_detected, "faces": len(analysis.tracks), "error": "",
            "video": info.as_dict(len(analysis.times)), "decoded": sampled.coverage.as_dict(),
            "tracks": analysis.track_summaries(label, scorer.verdict, scorer.kind),
            "timeline": analysis.timeline()}


def provenance_columns(data: bytes) -> dict[str, str]:
    """provenance_verdict and provenance_source (the sources behind the verdict, joined by '+') of a file."""
    answer = read_provenance(data)
    sources = sorted({item["source"] for item in answer["evidence"] if item["indicates"] == answer["verdict"]})
    return {"provenance_verdict": answer["verdict"], "provenance_source": "+".join(sources)}


def write_rows(rows: list[dict], fmt: str, stream=None) -> None:
    """Print rows as an aligned table, CSV or JSON (to stdout by default)."""
    stream = stream or sys.stdout
    if fmt == "json":
        json.dump(rows, stream, indent=2)
        stream.write("\n")
    elif fmt == "csv":
        writer = csv.DictWriter(stream, fieldnames=FIELDS, extrasaction="ignore")  # clips' tracks: JSON only
        writer.writeheader()
        writer.writerows(rows)
    else:
        write_table(rows, stream)


def write_table(rows: list[dict], stream) -> None:
    """The aligned console table: the three-way verdict (the label is its fake-or-not half), kind, provenance."""
    width = max(len("file"), *(len(r["file"]) for r in rows))
    stream.write(f"{'file':<{width}}  {'verdict':<9}  {'kind':<9}  {'provenance':<10}  probability_fake\n")
    for r in rows:
        probability = "" if r["probability_fake"] is None else f"{r['probability_fake']:.4f}"
        origin = r.get("provenance_verdict") or "-"
        kind = r.get("kind") or "-"
        stream.write(f"{r['file']:<{width}}  {r['verdict']:<9}  {kind:<9}  {origin:<10}  "
                     f"{probability or r['error']}\n")


def predict(args: argparse.Namespace) -> int:
    """Load the model once and classify every image named by args."""
    if args.batch_size < 1:
        raise UserError("--batch-size must be at least 1")
    if not 1 <= args.frames <= C.MAX_VIDEO_FRAMES:
        raise UserError(f"--frames must be from 1 to {C.MAX_VIDEO_FRAMES}")
    files = expand_paths(args.paths)
    scorer = load_scorer(args.checkpoint, args.runtime, resolve_device(args.device), threads=None)
    detector = create_detector(args.detector) if args.faces == "on" else None
    rows = predict_files(scorer, files, args.batch_size, detector, provenance=args.provenance == "on",
                         frames=args.frames)
    write_rows(rows, args.format)
    failed = [r for r in rows if r["error"]]
    if failed:
        print(f"warning: {len(failed)} of {len(rows)} files could not be read", file=sys.stderr)
    return C.EXIT_BAD_INPUT if len(failed) == len(rows) else C.EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m training.predict` and the deepfake-predict console script."""
    return run_command(get_args_parser(), predict, argv)


if __name__ == "__main__":
    sys.exit(main())
