"""Scan an archive on Ray Data: `python -m training.scan INPUT... --output PATH [--resume] [--address auto]`.

Ray Data reads the files' bytes; a pool of actors, each holding the face detector and the model (loaded once),
classifies them in batches with the server's code path (pipeline.analysis: the same crops, the same
probabilities as POST /predict, clips included). One row per file goes to a .parquet, .csv or .jsonl table;
unreadable files become rows with an error. docs/DEPLOYMENT.md shows the same command on a Ray cluster.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from pipeline import constants as C
from pipeline.cli import ArgumentParser, run_command
from pipeline.errors import UserError

from .scan_io import FIELDS, RowWriter, arrow_schema, done_paths, expand_inputs, is_remote, output_format, strip_scheme

logger = logging.getLogger(__name__)

DEFAULT_CHECKPOINT = C.MODELS_DIR / f"{C.DEFAULT_MODEL_NAME}.pt"
REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_OBJECT_STORE_BYTES = 512 * 1024 * 1024


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """Arguments of the scan command."""
    parser = ArgumentParser(description="Classify every image and clip of an archive on Ray Data.", add_help=add_help)
    parser.add_argument("inputs", nargs="+", help="folders, files, text files listing paths (.txt, .lst), or "
                        "s3:// / gs:// URIs (through pyarrow's file systems)")
    parser.add_argument("--output", type=Path, required=True, help="result table: .parquet, .csv or .jsonl (required)")
    parser.add_argument("--resume", action="store_true", help="skip files already in --output and add to it "
                        "(default off: --output is replaced)")
    cluster = parser.add_argument_group("Ray")
    cluster.add_argument("--address", default=None, help="auto or ray://HOST:10001 joins a running cluster "
                         "(default: start Ray on this machine)")
    cluster.add_argument("--num-actors", type=int, default=1, help="model actors, one CPU each (default 1)")
    cluster.add_argument("--batch-size", type=int, default=16, help="files per batch given to an actor (default 16)")
    cluster.add_argument("--num-cpus", type=int, default=None, help="CPUs of a locally started Ray "
                         "(default --num-actors + 1, one for reading)")
    model = parser.add_argument_group("model (as the server)")
    model.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT,
                       help=f"model checkpoint (default the bundled {DEFAULT_CHECKPOINT.name})")
    model.add_argument("--runtime", choices=C.RUNTIMES, default=C.DEFAULT_RUNTIME,
                       help="openvino (the server's default, ONNX Runtime where OpenVINO is missing), onnx "
                            f"(ONNX Runtime) or torch (default {C.DEFAULT_RUNTIME})")
    model.add_argument("--detector", choices=C.FACE_DETECTORS, default=C.DEFAULT_FACE_DETECTOR,
                       help=f"face detector (default {C.DEFAULT_FACE_DETECTOR})")
    model.add_argument("--faces", choices=("on", "off"), default="on", help="off: classify whole images (default on)")
    model.add_argument("--frames", type=int, default=C.DEFAULT_VIDEO_FRAMES,
                       help=f"frames sampled per clip (default {C.DEFAULT_VIDEO_FRAMES})")
    model.add_argument("--provenance", choices=("on", "off"), default="on",
                       help="read C2PA, XMP, EXIF and PNG-text provenance as the server does (default on)")
    model.add_argument("--threads", type=int, default=1, help="intra-op threads per actor (default 1)")
    parser.add_argument("--verbose", action="store_true", help="debug logging (default off)")
    return parser


def error_row(path: str, error: str, media: str | None = None) -> dict[str, Any]:
    """The row of a file that could not be classified."""
    return {**dict.fromkeys(FIELDS), "path": path, "media": media, "label": "error", "verdict": "error", "error": error}


class FileClassifier:
    """A Ray Data actor: loads the detector and the model once, then classifies batches of files' bytes."""

    def __init__(self, checkpoint: str, runtime: str, detector: str | None, frames: int, provenance: bool,
                 threads: int = 1):
        from pipeline.faces import create_detector
        from pipeline.loading import load_scorer

        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        self.scorer = load_scorer(Path(checkpoint), runtime, "cpu", threads)
        self.detector = create_detector(detector, threads=threads) if detector else None
        self.frames, self.provenance = frames, provenance

    def __call__(self, batch: dict[str, Any]) -> Any:
        """Rows (a pyarrow Table) for a batch of {'path', 'bytes'}."""
        import pyarrow as pa

        rows = self.classify(list(batch["path"]), list(batch["bytes"]))
        return pa.Table.from_pylist(rows, schema=arrow_schema())

    def classify(self, paths: list[str], blobs: list[bytes]) -> list[dict[str, Any]]:
        """One row per file, through the predict command's classify_blobs (the server's code path)."""
        from .predict import classify_blobs

        try:
            verdicts = classify_blobs(self.scorer, blobs, self.detector, self.frames)
        except Exception:  # one strange file must not stop a scan of millions: find it, report it in its row
            verdicts = [self.classify_alone(path, data) for path, data in zip(paths, blobs)]
        return [self.row(path, data, verdict) for path, data, verdict in zip(paths, blobs, verdicts)]

    def classify_alone(self, path: str, data: bytes) -> dict[str, Any]:
        """One file's verdict on its own, an unexpected error becoming that file's error."""
        from .predict import classify_blobs, failure

        try:
            return classify_blobs(self.scorer, [data], self.detector, self.frames)[0]
        except Exception as error:
            logger.exception("Cannot classify %s", path)
            return failure(None, f"could not be classified ({error.__class__.__name__})")

    def row(self, path: str, data: bytes, verdict: dict[str, Any]) -> dict[str, Any]:
        """The output row of a file: its verdict, the model, and (for a classified file) its provenance."""
        from .predict import NO_PROVENANCE, provenance_columns

        if verdict["error"]:
            return error_row(path, verdict["error"], verdict["media"])
        return {"path": path, **verdict, "model": self.scorer.name, "model_version": self.scorer.version,
                **(provenance_columns(data) if self.provenance else NO_PROVENANCE)}


def connect(address: str | None, num_cpus: int) -> None:
    """Join the cluster at `address` (auto, ray://HOST:10001), or start Ray here; no-op if already connected."""
    import ray

    if ray.is_initialized():
        return check_cpus(address, num_cpus)
    try:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            # The workers import this project from this checkout, whatever is installed in the environment.
            path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                     object_store_memory=LOCAL_OBJECT_STORE_BYTES, runtime_env={"env_vars": {"PYTHONPATH": path}})
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise UserError(f"Cannot start or reach Ray at {address or 'this machine'}: {error}") from None
    check_cpus(address, num_cpus)


def check_cpus(address: str | None, needed: int) -> None:
    """Without an autoscaling cluster, the actors and one reader must fit, or the scan would wait for ever."""
    import ray

    available = int(ray.cluster_resources().get("CPU", 0))
    if address is None and available < needed:
        raise UserError(f"Ray has {available} CPUs here; --num-actors actors and one reader need {needed} "
                        "(start Ray with more --num-cpus, or use fewer actors)")


def split_readable(paths: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """Paths Ray can read, and error rows for local files that are missing or unreadable."""
    readable, rows = [], []
    for path in paths:
        if is_remote(path) or (os.path.isfile(path) and os.access(path, os.R_OK)):
            readable.append(path)
        else:
            rows.append(error_row(path, "missing" if not os.path.exists(path) else "not readable (permissions)"))
    return readable, rows


def run_scan(paths: list[str], args: argparse.Namespace, writer: RowWriter) -> int:
    """Classify `paths` on Ray, writing rows as batches finish; the number of rows written."""
    import ray.data
    from tqdm import tqdm

    ray.data.DataContext.get_current().enable_progress_bars = False
    ray.data.DataContext.get_current().print_on_execution_start = False
    dataset = ray.data.read_binary_files(paths, include_paths=True, ignore_missing_paths=True)
    classifier = (str(args.checkpoint), args.runtime, args.detector if args.faces == "on" else None, args.frames,
                  args.provenance == "on", args.threads)
    results = dataset.map_batches(FileClassifier, fn_constructor_args=classifier, batch_size=args.batch_size,
                                  batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=args.num_actors),
                                  num_cpus=1)
    by_reported = {strip_scheme(path): path for path in paths}
    seen: set[str] = set()
    with tqdm(total=len(paths), unit="file", desc="scan", file=sys.stderr, dynamic_ncols=True) as progress:
        for table in results.iter_batches(batch_size=None, batch_format="pyarrow"):
            rows = table.to_pylist()
            for row in rows:
                row["path"] = by_reported.get(strip_scheme(row["path"]), row["path"])
                seen.add(row["path"])
            writer.write(rows)
            progress.update(len(rows))
    vanished = [error_row(path, "missing") for path in paths if path not in seen]
    if vanished:
        writer.write(vanished)
    return len(seen) + len(vanished)


def scan(args: argparse.Namespace) -> int:
    """List the inputs, skip what --resume finds done, and classify the rest on Ray."""
    output_format(args.output)
    for name in ("num_actors", "batch_size", "frames", "threads"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1")
    if not args.checkpoint.is_file():
        raise UserError(f"No such checkpoint: {args.checkpoint}")
    files = expand_inputs(args.inputs)
    done = done_paths(args.output) if args.resume else set()
    todo = [path for path in files if path not in done]
    logger.info("%d files listed, %d already in %s, %d to scan", len(files), len(files) - len(todo), args.output,
                len(todo))
    readable, failed = split_readable(todo)
    writer = RowWriter(args.output, append=args.resume)
    started = connected = time.perf_counter()
    try:
        if failed:
            writer.write(failed)
        if readable:
            connect(args.address, args.num_cpus or args.num_actors + 1)
            connected = time.perf_counter()
            run_scan(readable, args, writer)
    finally:
        writer.close()
    now = time.perf_counter()
    logger.info("%d files in %.1f s; Scanned %d files in %.1f s once Ray was up (%.2f files/s) -> %s", len(todo),
                now - started, len(readable), now - connected, len(readable) / max(now - connected, 1e-9), args.output)
    return C.EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m training.scan` and the deepfake-scan console script."""
    return run_command(get_args_parser(), scan, argv)


if __name__ == "__main__":
    sys.exit(main())
