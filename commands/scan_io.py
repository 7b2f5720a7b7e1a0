"""What the bulk scan reads and writes: the list of files to scan (local or through pyarrow's file systems) and
the result table (.parquet, .csv or .jsonl, one row per file), which --resume reads back."""

from __future__ import annotations

import csv
import json
import logging
import os
from pathlib import Path
from typing import Any, Iterable

from pipeline import constants as C
from pipeline.errors import UserError

logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi"})
SCAN_EXTENSIONS = C.IMAGE_EXTENSIONS | {".bmp", ".gif", ".heic", ".heif", ".avif"} | VIDEO_EXTENSIONS
LIST_EXTENSIONS = frozenset({".txt", ".lst"})
REMOTE_SCHEMES = ("s3://", "gs://", "gcs://", "hdfs://", "abfs://")
FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl"}
# One row per file; the first columns match commands.predict's (file is `path` here). `verdict` (real, uncertain,
# fake; error) is the server's three-way verdict beside the real-or-fake `label`; outputs of earlier versions lack it.
# The kind of fake (a model with a kind head, verdict fake or uncertain): the most likely kind, and P(kind | fake) in
# one kind_probability_<kind> column per kind of pipeline.constants.KIND_NAMES; commands.predict writes the same.
KIND_PROBABILITY_FIELDS = [f"kind_probability_{name}" for name in C.KIND_NAMES]
KIND_FIELDS = ["kind", *KIND_PROBABILITY_FIELDS]
FIELDS = ["path", "media", "label", "verdict", "probability_fake", *KIND_FIELDS, "face_detected", "faces", "model",
          "model_version", "error", "provenance_verdict", "provenance_source"]


def is_remote(path: str) -> bool:
    """True for a URI that pyarrow's file systems read (s3://, gs://, ...)."""
    return path.startswith(REMOTE_SCHEMES)


def strip_scheme(path: str) -> str:
    """A path as Ray Data reports it back: without the URI scheme."""
    return path.split("://", 1)[1] if "://" in path else path


def remote_listing(uri: str) -> list[str]:
    """Files under a remote folder URI (or the URI itself when it is a file), as URIs."""
    try:
        from pyarrow import fs as pafs

        filesystem, root = pafs.FileSystem.from_uri(uri)
        info = filesystem.get_file_info(root)
        if info.type == pafs.FileType.File:
            return [uri]
        if info.type == pafs.FileType.NotFound:
            raise UserError(f"No such file or folder: {uri}")
        infos = filesystem.get_file_info(pafs.FileSelector(root, recursive=True))
    except UserError:
        raise
    except (ImportError, NotImplementedError) as error:
        raise UserError(f"Reading {uri.split('://')[0]}:// needs pyarrow built with that file system, which is not "
                        f"installed here ({first_line(error)})") from None
    except Exception as error:  # credentials, network, bucket: one sentence, not a traceback
        raise UserError(f"Cannot list {uri}: {first_line(error)}") from None
    scheme = uri.split("://", 1)[0]
    return sorted(f"{scheme}://{i.path}" for i in infos
                  if i.type == pafs.FileType.File and Path(i.path).suffix.lower() in SCAN_EXTENSIONS)


def first_line(error: BaseException) -> str:
    """The first line of an error's message (pyarrow's can run to dozens)."""
    return (str(error).strip().splitlines() or [error.__class__.__name__])[0]


def listed_paths(list_file: Path) -> list[str]:
    """The paths a text file lists, one a line ('#' comments); relative ones are relative to the list's folder."""
    paths = []
    for line in list_file.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            paths.append(line if is_remote(line) or os.path.isabs(line) else str(list_file.parent / line))
    return paths


def expand_inputs(inputs: Iterable[str]) -> list[str]:
    """Every file to scan, in order and without repeats: folders searched recursively for images and clips, list
    files (.txt, .lst) read, other files taken as they are; local paths made absolute."""
    files: list[str] = []
    for item in inputs:
        if is_remote(item):
            files.extend(remote_listing(item))
        elif os.path.isdir(item):
            files.extend(sorted(str(p.absolute()) for p in Path(item).rglob("*")
                                if p.is_file() and p.suffix.lower() in SCAN_EXTENSIONS))
        elif Path(item).suffix.lower() in LIST_EXTENSIONS and os.path.isfile(item):
            files.extend(expand_listed(listed_paths(Path(item))))
        elif os.path.exists(item):
            files.append(os.path.abspath(item))
        else:
            raise UserError(f"No such file or folder: {item}")
    return list(dict.fromkeys(files))


def expand_listed(paths: list[str]) -> list[str]:
    """Listed paths, kept even when missing (the scan reports them as rows with an error)."""
    return [path if is_remote(path) else os.path.abspath(path) for path in paths]


def output_format(path: Path) -> str:
    """parquet, csv or jsonl, from the output's extension."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UserError(f"--output must end in .parquet, .csv or .jsonl; got {path.name!r}")
    return fmt


def done_paths(path: Path) -> set[str]:
    """The paths an earlier scan already wrote to `path` (empty when there is no such file)."""
    if not path.is_file() or path.stat().st_size == 0:
        return set()
    fmt = output_format(path)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return set(pq.read_table(path, columns=["path"]).column("path").to_pylist())
        with open(path, encoding="utf-8", newline="") as handle:
            if fmt == "csv":
                return {row["path"] for row in csv.DictReader(handle) if row.get("path")}
            return {json.loads(line)["path"] for line in handle if line.strip().endswith("}")}
    except (OSError, ValueError, KeyError) as error:
        raise UserError(f"Cannot resume from {path}: not a scan output ({error.__class__.__name__})") from None


def arrow_schema():
    """The pyarrow schema of a result table (explicit, so all-null columns keep their type; read by name, so the
    columns an older output lacks come back null)."""
    import pyarrow as pa

    types = {"probability_fake": pa.float64(), "face_detected": pa.bool_(), "faces": pa.int64(),
             **dict.fromkeys(KIND_PROBABILITY_FIELDS, pa.float64())}
    return pa.schema([(name, types.get(name, pa.string())) for name in FIELDS])


def csv_header(path: Path) -> list[str]:
    """The columns of an existing CSV output, which appended rows keep (one header per file, rows never shifted)."""
    with open(path, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle), [])
    if "path" not in header:
        raise UserError(f"Cannot resume from {path}: not a scan output (no path column)")
    missing = [name for name in FIELDS if name not in header]
    if missing:
        # Rewriting days of rows to add a column risks them; the new rows go under the old header instead.
        logger.warning("%s was written by an earlier version without the %s column(s): the rows added keep its "
                       "columns (a new --output has them all)", path, ", ".join(missing))
    return header


class RowWriter:
    """Appends result rows as they arrive: CSV and JSON Lines are flushed per batch (a killed scan keeps them);
    Parquet goes to PATH.partial and replaces PATH, with the earlier rows when resuming, at close()."""

    def __init__(self, path: Path, append: bool):
        self.path, self.format = path, output_format(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.append = append and path.is_file() and path.stat().st_size > 0
        self.parquet = None
        if self.format == "parquet":
            self.partial = path.with_name(path.name + ".partial")
            return
        fields = csv_header(path) if self.format == "csv" and self.append else FIELDS
        self.handle = open(path, "a" if self.append else "w", encoding="utf-8", newline="")
        if self.format == "csv":
            self.csv = csv.DictWriter(self.handle, fieldnames=fields, extrasaction="ignore")
            if not self.append:
                self.csv.writeheader()

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Add rows."""
        if self.format == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self.parquet is None:
                self.parquet = pq.ParquetWriter(self.partial, arrow_schema())
            self.parquet.write_table(pa.Table.from_pylist(rows, schema=arrow_schema()))
            return
        if self.format == "csv":
            self.csv.writerows(rows)
        else:
            self.handle.writelines(json.dumps(row) + "\n" for row in rows)
        self.handle.flush()

    def close(self) -> None:
        """Finish the file."""
        if self.format != "parquet":
            self.handle.close()
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        tables = [pq.read_table(self.path, schema=arrow_schema())] if self.append else []
        if self.parquet is not None:
            self.parquet.close()
            tables.append(pq.read_table(self.partial, schema=arrow_schema()))
        table = pa.concat_tables(tables) if tables else arrow_schema().empty_table()
        pq.write_table(table, self.partial)
        os.replace(self.partial, self.path)
