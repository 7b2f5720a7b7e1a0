"""Data mixes: several sources described in one YAML file, listed into labelled records with leak-free splits.

A mix file (documented in config/data-mix.yaml) names sources; each is a folder in the Kaggle layout
(Train/Validation/Test with Real/ and Fake/), a folder with Real/ and/or Fake/, or a plain folder of images with
`label:`. `kind` says whether the images are already face crops (`faces`), whole photos to detect and crop
(`photos`) or video clips to sample frames from (`videos`). Sources without their own splits are split by group
(see training.data.splits), so near-duplicates and frames of one clip never straddle Train/Validation/Test.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import yaml

from pipeline import constants as C
from pipeline.errors import DataError

from .dataset import list_images

KINDS = ("faces", "photos", "videos")
VIDEO_EXTENSIONS = frozenset({".mp4", ".webm", ".avi", ".mov", ".mkv"})
SOURCE_KEYS = {"name", "path", "kind", "weight", "label", "group", "sbi", "frames_per_clip", "include", "manifest", "tag",
               "family", "wild"}
REAL_FAMILY = "real"


@dataclass(frozen=True)
class FieldSpec:
    """Where a per-file value comes from: a regex on the file name, or a column of the source's manifest (optionally
    narrowed by a regex). With a regex, the value is the first group that matched."""

    pattern: str | None = None
    column: str | None = None

    def value(self, path: Path, manifest_row: dict[str, str] | None) -> str | None:
        """The value for a file, or None when the pattern does not match or the manifest lacks the file."""
        if self.column is not None:
            if manifest_row is None or self.column not in manifest_row:
                return None
            text = manifest_row[self.column]
        else:
            text = path.name
        if self.pattern is None:
            return text or None
        match = re.search(self.pattern, text)
        return next((g for g in match.groups() if g), match.group(0)) if match else None

    def cache_key(self) -> str | list[str | None]:
        """A plain value for cache keys: the bare regex, as caches made before manifest columns stored it."""
        return self.pattern if self.column is None else [self.column, self.pattern]


@dataclass(frozen=True)
class Source:
    """One entry of a data mix."""

    name: str
    path: Path
    kind: str
    weight: float = 1.0
    label: str | None = None
    group: FieldSpec | None = None  # the clip (or scene) a file belongs to: files of one group share a split
    sbi: bool = False  # its real faces also become self-blended pseudo-fakes
    frames_per_clip: int = C.MIX_FRAMES_PER_CLIP
    include: str | None = None  # regex on the file name: only matching files belong to the source
    manifest: str | None = None  # CSV in the source folder with a `file` column, for tag and group by column
    tag: FieldSpec | None = None  # generator / method / photographer of each file (default: the source name)
    family: str | None = None  # gan, diffusion or swap: what made the source's fakes
    wild: str | None = None  # regex on the tag: matching files form the Wild split, never trained on

    def manifest_row(self, path: Path) -> dict[str, str] | None:
        """The manifest row of a file (by file name), or None."""
        return manifest_rows(self.path / self.manifest).get(path.name) if self.manifest else None

    def tag_of(self, path: Path) -> str:
        """The tag of one of the source's files."""
        value = self.tag.value(path, self.manifest_row(path)) if self.tag else None
        return value or self.name

    def is_wild(self, tag: str) -> bool:
        """True when files of this tag are held out as the Wild split."""
        return self.wild is not None and re.search(self.wild, tag) is not None


@lru_cache(maxsize=None)
def manifest_rows(path: Path) -> dict[str, dict[str, str]]:
    """A source manifest's rows keyed by file name (the `file` column may hold a relative path)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return {Path(row["file"]).name: row for row in csv.DictReader(handle) if row.get("file")}


@dataclass(frozen=True)
class DataMix:
    """A parsed mix file: its sources, the split fractions and the weights of the blended pseudo-fakes (self-blends,
    cross-identity blends) made from the real faces of its `sbi: true` sources."""

    path: Path
    sources: tuple[Source, ...]
    validation_fraction: float = C.MIX_VALIDATION_FRACTION
    test_fraction: float = C.MIX_TEST_FRACTION
    sbi_weight: float = 1.0
    bi_weight: float = 0.0

    def without(self, left_out: str | None) -> "DataMix":
        """The mix less one source, or less every source of one family (gan, diffusion, swap: the swap family takes
        the pseudo-fakes with it): a leave-one-out run; DataError for an unknown name."""
        if left_out is None:
            return self
        if left_out not in self.left_out_names():
            raise DataError(f"--leave-out {left_out!r} is neither a source nor a family of {self.path}: choose one of "
                            f"{', '.join(self.left_out_names())}")
        family = left_out in self.families() and left_out not in self.source_names()
        kept = tuple(s for s in self.sources if s.name != left_out and not (family and s.family == left_out))
        swap_family = family and left_out == "swap"
        return replace(self, sources=kept,
                       sbi_weight=0.0 if swap_family or left_out == C.SBI_SOURCE else self.sbi_weight,
                       bi_weight=0.0 if swap_family or left_out == C.BI_SOURCE else self.bi_weight)

    def reweighted(self, weights: dict[str, float]) -> "DataMix":
        """The mix with some sampling weights replaced ({source name, sbi or bi: weight}); DataError for an unknown
        name or a negative weight."""
        known = [s.name for s in self.sources] + (list(C.PSEUDO_FAKE_SOURCES) if self.has_real_faces_to_blend() else [])
        unknown = sorted(set(weights) - set(known))
        if unknown:
            raise DataError(f"--source-weight {', '.join(unknown)}: not a source of {self.path}: choose one of "
                            f"{', '.join(known)}")
        if any(w < 0 for w in weights.values()):
            raise DataError("--source-weight: a weight must not be negative")
        sources = tuple(replace(s, weight=weights.get(s.name, s.weight)) for s in self.sources)
        return replace(self, sources=sources, sbi_weight=weights.get(C.SBI_SOURCE, self.sbi_weight),
                       bi_weight=weights.get(C.BI_SOURCE, self.bi_weight))

    def has_real_faces_to_blend(self) -> bool:
        """Whether any source feeds the blended pseudo-fakes (`sbi: true`)."""
        return any(s.sbi for s in self.sources)

    def pseudo_fake_weights(self) -> dict[str, float]:
        """{pseudo-fake source: weight} of the blended pseudo-fakes this mix makes (weight > 0)."""
        weights = {C.SBI_SOURCE: self.sbi_weight, C.BI_SOURCE: self.bi_weight}
        return {name: w for name, w in weights.items() if w > 0} if self.has_real_faces_to_blend() else {}

    def sampling_weights(self) -> dict[str, float]:
        """{source name: sampling weight within its class}, the pseudo-fakes included."""
        return {s.name: s.weight for s in self.sources} | self.pseudo_fake_weights()

    def families(self) -> list[str]:
        """The kinds of fake the sources name, in C.KIND_NAMES order."""
        return [k for k in C.KIND_NAMES if any(s.family == k for s in self.sources)]

    def left_out_names(self) -> list[str]:
        """What --leave-out accepts: every source name, then every family."""
        return self.source_names() + [f for f in self.families() if f not in self.source_names()]

    def source_names(self) -> list[str]:
        """Every source name, with the pseudo-fakes this mix makes."""
        return [s.name for s in self.sources] + list(self.pseudo_fake_weights())


def load_mix(path: Path) -> DataMix:
    """Parse and check a mix file; DataError (one sentence, exit 2) for anything wrong with it or its folders."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Data mix file not found: {path}")
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise DataError(f"Data mix {path} is not valid YAML ({error.__class__.__name__})") from None
    if not isinstance(document, dict) or not isinstance(document.get("sources"), list) or not document["sources"]:
        raise DataError(f"Data mix {path} must be a mapping with a non-empty list `sources`")
    sources = tuple(parse_source(entry, path.parent, i) for i, entry in enumerate(document["sources"]))
    names = [s.name for s in sources]
    duplicated = sorted({n for n in names if names.count(n) > 1} | (set(C.PSEUDO_FAKE_SOURCES) & set(names)))
    if duplicated:
        raise DataError(f"Data mix {path}: source names must be unique and none of "
                        f"{', '.join(C.PSEUDO_FAKE_SOURCES)}: {', '.join(duplicated)}")
    split = document.get("split", {}) or {}
    mix = DataMix(path, sources, float(split.get("validation", C.MIX_VALIDATION_FRACTION)),
                  float(split.get("test", C.MIX_TEST_FRACTION)), pseudo_weight(document, "sbi_weight", 1.0, path),
                  pseudo_weight(document, "bi_weight", 0.0, path))
    if not (0 < mix.validation_fraction < 1 and 0 < mix.test_fraction < 1 and mix.validation_fraction + mix.test_fraction < 1):
        raise DataError(f"Data mix {path}: split fractions must be in (0, 1) and leave some Train")
    return mix


def pseudo_weight(document: dict, key: str, default: float, path: Path) -> float:
    """A pseudo-fake weight of the mix file (sbi_weight, bi_weight); DataError unless a number >= 0."""
    value = document.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise DataError(f"Data mix {path}: {key} must be a number >= 0, not {value!r}")
    return float(value)


def parse_source(entry, base: Path, index: int) -> Source:
    """One `sources:` entry, its path resolved against the mix file's folder."""
    if not isinstance(entry, dict) or "name" not in entry or "path" not in entry:
        raise DataError(f"Source #{index + 1} of the data mix needs at least `name` and `path`")
    name = str(entry["name"])
    unknown = sorted(set(entry) - SOURCE_KEYS)
    if unknown:
        raise DataError(f"Source {name!r} has unknown key(s) {', '.join(unknown)}: allowed are {', '.join(sorted(SOURCE_KEYS))}")
    kind = entry.get("kind", "faces")
    if kind not in KINDS:
        raise DataError(f"Source {name!r} has unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
    label = entry.get("label")
    if label is not None and label not in C.CLASS_NAMES:
        raise DataError(f"Source {name!r} has label {label!r}: choose {' or '.join(C.CLASS_NAMES)}")
    weight = float(entry.get("weight", 1.0))
    if weight <= 0:
        raise DataError(f"Source {name!r} has weight {weight}: weights must be positive")
    folder = (base / str(entry["path"])).resolve()
    if not folder.is_dir():
        raise DataError(f"Folder of source {name!r} not found: {folder}")
    for key in ("include", "wild"):
        check_regex(name, key, entry.get(key))
    manifest = entry.get("manifest")
    if manifest is not None and not (folder / str(manifest)).is_file():
        raise DataError(f"Manifest of source {name!r} not found: {folder / str(manifest)}")
    family = entry.get("family")
    if family is not None and family not in C.KIND_NAMES:
        raise DataError(f"Source {name!r} has family {family!r}: choose one of {', '.join(C.KIND_NAMES)}")
    return Source(name, folder, kind, weight, label, field_spec(name, "group", entry.get("group"), manifest),
                  bool(entry.get("sbi", False)), int(entry.get("frames_per_clip", C.MIX_FRAMES_PER_CLIP)),
                  entry.get("include"), manifest, field_spec(name, "tag", entry.get("tag"), manifest), family,
                  entry.get("wild"))


def field_spec(name: str, key: str, entry, manifest: str | None) -> FieldSpec | None:
    """A `group` or `tag` value: a regex on the file name, or {column: NAME, pattern: REGEX} on the manifest."""
    if entry is None:
        return None
    if isinstance(entry, str):
        check_regex(name, key, entry)
        return FieldSpec(pattern=entry)
    if not isinstance(entry, dict) or "column" not in entry or set(entry) - {"column", "pattern"}:
        raise DataError(f"Source {name!r}: `{key}` must be a regex or {{column: NAME, pattern: REGEX}}")
    if manifest is None:
        raise DataError(f"Source {name!r}: `{key}` names a manifest column, but the source has no `manifest`")
    check_regex(name, key, entry.get("pattern"))
    return FieldSpec(pattern=entry.get("pattern"), column=str(entry["column"]))


def check_regex(name: str, key: str, pattern) -> None:
    """DataError unless a source's regex key is absent or compiles."""
    if pattern is None:
        return
    try:
        re.compile(str(pattern))
    except re.error as error:
        raise DataError(f"Source {name!r} has an invalid `{key}` pattern {pattern!r}: {error}") from None


@dataclass(frozen=True)
class SourceFile:
    """A file of a source, its label, its split when the source fixes it, and its group (clip) key."""

    source: str
    path: Path
    label: int
    split: str | None
    group: str


def is_kaggle(folder: Path) -> bool:
    """True when a folder holds Train/ (and usually Validation/ and Test/) split folders."""
    return (folder / C.SPLITS[0]).is_dir()


def list_source(source: Source) -> list[SourceFile]:
    """Every file of a source with its label; DataError when it has none."""
    files: list[SourceFile] = []
    if is_kaggle(source.path):
        for split in C.SPLITS:
            files += class_files(source, source.path / split, split)
    elif source.label is not None:
        files = [SourceFile(source.name, p, C.CLASS_NAMES.index(source.label), None, group_key(source, p))
                 for p in media_files(source.path, source.kind)]
    else:
        files = class_files(source, source.path, None)
    if source.include:
        files = [f for f in files if re.search(source.include, f.path.name)]
    if not files:
        what = "clips" if source.kind == "videos" else "images"
        matching = f" whose names match {source.include!r}" if source.include else ""
        raise DataError(f"Source {source.name!r} has no {what}{matching} in {source.path} (expected Real/ and/or "
                        f"Fake/, the Kaggle Train/Validation/Test layout, or `label:` for a plain folder)")
    return files


def class_files(source: Source, root: Path, split: str | None) -> list[SourceFile]:
    """Files of root/Real and root/Fake, where present."""
    files = []
    for label, class_name in enumerate(C.CLASS_NAMES):
        folder = root / class_name
        if folder.is_dir():
            files += [SourceFile(source.name, p, label, split, group_key(source, p))
                      for p in media_files(folder, source.kind)]
    return files


def media_files(folder: Path, kind: str) -> list[Path]:
    """Images (or, for kind videos, clips) directly inside a folder, sorted."""
    if kind != "videos":
        return list_images(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)


def group_key(source: Source, path: Path) -> str:
    """The clip a file belongs to (letters and digits only, so frames and their clip agree), or the file itself."""
    if source.kind == "videos":
        return "clip:" + re.sub(r"[^0-9a-z]", "", path.stem.lower())
    if source.group:
        value = source.group.value(path, source.manifest_row(path))
        if value:
            return "clip:" + re.sub(r"[^0-9a-z]", "", value.lower())
    return f"file:{source.name}/{path.name}"
