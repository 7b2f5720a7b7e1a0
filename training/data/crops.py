"""The crop cache of a data mix: every photo and video frame goes through the server's decoder, face detector and
square crop (pipeline.media.decode_image, pipeline.analysis.face_crops) once; training then reads the crops.

`python -m training.crops --data-mix FILE` fills the cache ahead of training (train does it when missing).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from pipeline import constants as C
from pipeline.analysis import face_crops
from pipeline.cli import ArgumentParser, run_command
from pipeline.errors import DataError
from pipeline.faces import FaceDetector, create_detector
from pipeline.media import IMAGE_DECODE_ERRORS, decode_image

from .mix import REAL_FAMILY, Source, SourceFile, list_source, load_mix
from .splits import assign_splits

logger = logging.getLogger(__name__)
RECORD_COLUMNS = ["source", "file", "crop", "label", "split", "group", "landmarks", "phash", "width", "height"]


@dataclass
class CropRecord:
    """One training example: a face crop (a file of its own, or the source file itself for `faces` sources)."""

    source: str
    file: str
    crop: str
    label: int
    split: str
    group: str
    landmarks: str  # JSON [[x, y] x 5] in crop pixels, or "" when no face was found
    phash: str
    width: int
    height: int


def default_cache_dir() -> Path:
    """Where crops are cached unless --crop-cache says otherwise (never committed)."""
    return Path.home() / ".cache" / "deepfake-detector" / "crops"


def difference_hash(image: Image.Image, size: int = C.MIX_HASH_SIZE) -> str:
    """A size*size-bit difference hash (dHash) as hex: near-duplicates differ in a few bits."""
    small = np.asarray(image.convert("L").resize((size + 1, size), Image.BILINEAR), dtype=np.int16)
    return np.packbits(small[:, 1:] > small[:, :-1]).tobytes().hex()


def source_cache_dir(cache_dir: Path, source: Source) -> Path:
    """A folder per source and crop setting: a change of either makes a fresh cache."""
    group = source.group.cache_key() if source.group else None
    key = json.dumps([str(source.path), source.kind, source.label, group, source.frames_per_clip, source.sbi,
                      C.MIX_HASH_SIZE, C.CROP_SCALE, C.DEFAULT_FACE_DETECTOR, C.DETECT_MAX_SIDE, C.DECODE_MIN_SIDE, C.MIX_MAX_FACES]
                     + ([source.include] if source.include else []))  # caches made before `include` stay valid
    return Path(cache_dir) / f"{source.name}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def source_records(source: Source, cache_dir: Path, detector: FaceDetector) -> pd.DataFrame:
    """The crop records of one source, from its cache or made now."""
    folder = source_cache_dir(cache_dir, source)
    table = folder / "records.csv"
    if table.is_file():
        return pd.read_csv(table, dtype={"split": str, "landmarks": str, "phash": str}, keep_default_na=False)
    folder.mkdir(parents=True, exist_ok=True)
    records: list[CropRecord] = []
    for item in tqdm(list_source(source), desc=f"crops {source.name}", leave=False):
        records += file_records(source, item, folder, detector)
    frame = pd.DataFrame([asdict(r) for r in records], columns=RECORD_COLUMNS)
    frame.to_csv(folder / "records.tmp", index=False)
    (folder / "records.tmp").replace(table)
    logger.info("Cached %d crops of %s in %s", len(frame), source.name, folder)
    return pd.read_csv(table, dtype={"split": str, "landmarks": str, "phash": str}, keep_default_na=False)


def file_records(source: Source, item: SourceFile, folder: Path, detector: FaceDetector) -> list[CropRecord]:
    """The records of one file: the face crop(s) of a photo, each sampled frame of a clip, or a face crop as is."""
    try:
        if source.kind == "videos":
            return clip_records(source, item, folder, detector)
        image = decode_image(item.path, C.DECODE_MIN_SIDE)
    except IMAGE_DECODE_ERRORS as error:
        logger.warning("Skipping unreadable %s (%s)", item.path, error.__class__.__name__)
        return []
    if source.kind == "faces":
        landmarks = ""
        if source.sbi and item.label == C.REAL_INDEX:
            faces = detector.detect(image)
            points = faces[0].landmarks if faces else [(x * image.width, y * image.height) for x, y in C.CANONICAL_LANDMARKS]
            landmarks = json.dumps([[round(x, 1), round(y, 1)] for x, y in points])
        return [make_record(item, str(item.path), image, landmarks)]
    return photo_records(item, image, folder, detector, item.path.stem)


def photo_records(item: SourceFile, image: Image.Image, folder: Path, detector: FaceDetector, stem: str) -> list[CropRecord]:
    """The server's crops of one photo (its faces, or the whole image without one), saved losslessly."""
    regions = face_crops(image, detector)
    keep = C.MIX_MAX_FACES if item.label == C.REAL_INDEX else 1
    records = []
    for i, (crop, box) in enumerate(list(zip(regions.crops, regions.boxes))[:keep]):
        landmarks = ""
        if regions.face_detected:
            landmarks = json.dumps([[round(x - box.x, 1), round(y - box.y, 1)] for x, y in regions.faces[i].landmarks])
        digest = hashlib.sha256(str(item.path).encode()).hexdigest()[:8]
        target = folder / f"{stem}_{digest}_{i}.png"
        crop.save(target)
        records.append(make_record(item, str(target), crop, landmarks))
    return records


def clip_records(source: Source, item: SourceFile, folder: Path, detector: FaceDetector) -> list[CropRecord]:
    """Face crops of frames sampled from a clip the way POST /predict samples them."""
    from pipeline.video import VideoProblem, read_clip, sniff_container

    data = item.path.read_bytes()
    try:
        _, frames = read_clip(data, sniff_container(data) or item.path.suffix.lstrip("."), source.frames_per_clip)
    except VideoProblem as problem:
        logger.warning("Skipping clip %s (%s)", item.path, problem.detail)
        return []
    records = []
    for index, frame in enumerate(frames):
        records += photo_records(item, frame.image, folder, detector, f"{item.path.stem}_f{index:03d}")
    return records


def make_record(item: SourceFile, crop_path: str, crop: Image.Image, landmarks: str) -> CropRecord:
    """A record with the crop's hash and size; the split is decided later for sources without their own."""
    return CropRecord(item.source, str(item.path), crop_path, item.label, item.split or "", item.group, landmarks,
                      difference_hash(crop), crop.width, crop.height)


def mix_records(mix, cache_dir: Path | None = None) -> pd.DataFrame:
    """Crop records of every source of a mix (cached), tagged, with leak-free splits assigned and the Wild split
    (tags held out by the mix) taken out of the others."""
    detector = create_detector(C.DEFAULT_FACE_DETECTOR, C.DETECT_MAX_SIDE)
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    frames = []
    for source in mix.sources:
        frame = source_records(source, cache_dir, detector)
        if frame.empty:
            raise DataError(f"Source {source.name!r} gave no usable images in {source.path}")
        frames.append(tag_records(frame, source))
    records = assign_splits(pd.concat(frames, ignore_index=True), mix.validation_fraction, mix.test_fraction)
    return hold_out_wild(records)


def tag_records(frame: pd.DataFrame, source: Source) -> pd.DataFrame:
    """Add each record's tag, family (real, or the source's kind of fake) and whether its tag is held out."""
    tags = [source.tag_of(Path(f)) for f in frame["file"]]
    families = [REAL_FAMILY if label == C.REAL_INDEX else source.family or "" for label in frame["label"]]
    return frame.assign(tag=tags, family=families, wild=[source.is_wild(t) for t in tags])


def hold_out_wild(records: pd.DataFrame) -> pd.DataFrame:
    """Put held-out tags in the Wild split, with every record of their groups (near-duplicates and clip mates,
    whatever their source), so nothing of a held-out source leaks into Train."""
    wild_groups = set(records.loc[records["wild"], "group_id"])
    held = records["group_id"].isin(wild_groups)
    return records.assign(split=np.where(held, C.WILD_SPLIT, records["split"])).drop(columns="wild")


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """Arguments of the crops command."""
    parser = ArgumentParser(description="Detect and crop every photo and clip frame of a data mix once.", add_help=add_help)
    parser.add_argument("--data-mix", type=Path, required=True, help="data mix YAML file (required)")
    parser.add_argument("--crop-cache", type=Path, default=None, help=f"cache folder (default {default_cache_dir()})")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m training.crops`."""
    def run(args: argparse.Namespace) -> int:
        records = mix_records(load_mix(args.data_mix), args.crop_cache)
        print(records.groupby(["source", "split", "label"]).size().to_string())
        return C.EXIT_OK
    return run_command(get_args_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
