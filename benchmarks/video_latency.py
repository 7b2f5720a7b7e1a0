"""A clip through `POST /predict` end to end (gunicorn, loopback), and where its time goes.

    python benchmarks/video_latency.py [--clip FILE] [--requests 10] [--frames 16]

Without --clip it encodes (once, cached in benchmarks/results/) a 20 s 1280x720 H.264 clip at 30 fps, default
x264 keyframe interval, with a real face photo sliding across a moving background. One request at a time against
gunicorn with 2 workers x 1 thread; then the same clip in-process with 1 thread, split into decode (seek +
decode + scale of the sampled frames), detect + crop, classify (one batch) and tracking + JSON.
Prints tables, writes benchmarks/results/video_latency.json and refreshes docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from benchmarks.bench_utils import (PERFORMANCE_MD, REAL_PHOTOS, RESULTS_DIR, gunicorn_server, machine,  # noqa: E402
                                    machine_line, markdown_table, percentiles, write_results)
from pipeline import constants as C  # noqa: E402

FACE_PHOTO = REAL_PHOTOS / "face_recognition_examples__examples__obama_small.jpg"
CACHED_CLIP = RESULTS_DIR / "clip-20s-720p.mp4"


def get_args_parser() -> argparse.ArgumentParser:
    """Arguments of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=None, help="clip to send (default a generated 20 s 720p H.264)")
    parser.add_argument("--model-dir", type=Path, default=C.MODELS_DIR, help="served models (default models/)")
    parser.add_argument("--requests", type=int, default=10, help="timed requests (default 10)")
    parser.add_argument("--frames", type=int, default=C.DEFAULT_VIDEO_FRAMES, help="frames sampled (default 16)")
    parser.add_argument("--json", type=Path, default=None, help="results file (default benchmarks/results/video_latency.json)")
    parser.add_argument("--markdown", type=Path, default=PERFORMANCE_MD, help="markdown file to refresh (default docs/PERFORMANCE.md)")
    return parser


def benchmark_clip() -> bytes:
    """The cached 20 s 720p clip, encoded on first use."""
    if CACHED_CLIP.is_file():
        return CACHED_CLIP.read_bytes()
    from clips import make_clip
    from PIL import Image

    face = Image.open(FACE_PHOTO).convert("RGB") if FACE_PHOTO.is_file() else None
    if face is not None:
        face = face.resize((face.width * 2, face.height * 2))
    data = make_clip(20, 30, (1280, 720), "mp4", face=face)
    CACHED_CLIP.parent.mkdir(parents=True, exist_ok=True)
    CACHED_CLIP.write_bytes(data)
    return data


def stage_split(data: bytes, model_dir: Path, frames: int, repeats: int) -> dict[str, float]:
    """p50 ms of each stage of one clip, in this process with 1 thread (one gunicorn worker on 2 cores)."""
    import torch

    from pipeline.loading import onnx_or_torch
    from pipeline.analysis import analyse_regions, frame_regions
    from pipeline.faces import create_detector
    from pipeline.torch_runtime import Classifier
    from pipeline.video import read_clip, sniff_container

    torch.set_num_threads(1)
    path = model_dir / f"{C.DEFAULT_MODEL_NAME}.pt"
    engine = C.RUNTIME_ENGINES[C.DEFAULT_RUNTIME]
    scorer = onnx_or_torch(path, Classifier.from_checkpoint(path), threads=1, engine=engine)
    detector = create_detector(threads=1)
    stages: dict[str, list[float]] = {}
    for index in range(repeats + 1):
        started = time.perf_counter()
        info, sampled = read_clip(data, sniff_container(data), frames)
        decoded = list(sampled)
        decode = time.perf_counter()
        regions = [frame_regions(frame.image, detector) for frame in decoded]
        detect = time.perf_counter()
        crops = [crop for region in regions for crop in region.crops]
        scorer.probabilities(crops)
        classify = time.perf_counter()
        analyse_regions([f.t for f in decoded], regions, [1.0] * len(decoded), scorer.probabilities)
        everything = time.perf_counter()
        if index == 0:
            continue  # warm-up
        for name, ms in (("decode (seek, decode, scale)", decode - started), ("detect + crop", detect - decode),
                         ("classify (all crops, one batch)", classify - detect),
                         ("tracks + aggregation (scores again)", everything - classify)):
            stages.setdefault(name, []).append(ms * 1000)
    return {name: percentiles(samples)["p50_ms"] for name, samples in stages.items()}


def time_clip(url: str, data: bytes, count: int) -> tuple[list[float], list[float], int, dict]:
    """Client and server latencies (ms) of sequential uploads, errors, and the last answer."""
    client, server, errors, body = [], [], 0, {}
    with requests.Session() as session:
        for index in range(count + 1):
            started = time.perf_counter()
            response = session.post(url, files={"file": ("clip.mp4", data, "video/mp4")}, timeout=120)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                errors += 1
                continue
            body = response.json()
            if index:
                client.append(elapsed)
                server.append(body["latency_ms"])
    return client, server, errors, body


def main(argv: list[str] | None = None) -> int:
    """Time the clip through gunicorn and in-process; print, write JSON and markdown."""
    args = get_args_parser().parse_args(argv)
    data = args.clip.read_bytes() if args.clip else benchmark_clip()
    name = args.clip.name if args.clip else "20 s 1280x720 H.264 30 fps (generated)"
    info = machine()
    env = {"FLASK_MODEL_DIR": str(args.model_dir.resolve()), "FLASK_STATIC_DIR": str(RESULTS_DIR / "no-page")}
    with gunicorn_server("backend:create_app()", env, 2, 1, RESULTS_DIR / "video_latency.log") as running:
        client, server, errors, body = time_clip(f"{running.base}/predict?frames={args.frames}", data, args.requests)
    split = stage_split(data, args.model_dir, args.frames, max(3, args.requests // 2))
    row = {"clip": name, "bytes": len(data), "frames": args.frames, "errors": errors, **percentiles(client),
           "server_p50_ms": percentiles(server)["p50_ms"], "tracks": len(body.get("tracks", [])),
           "label": body.get("label")}
    print(row)
    table = markdown_table(["clip", "frames sampled", "p50 ms", "p95 ms", "server-side p50 ms", "errors", "face tracks"],
                           [[name, args.frames, row["p50_ms"], row["p95_ms"], row["server_p50_ms"], errors,
                             row["tracks"]]])
    split_table = markdown_table(["stage (p50 ms, 1 thread, in-process)", "ms"], [[k, v] for k, v in split.items()])
    print(table)
    print(split_table)
    markdown = (f"### A clip through `POST /predict` (gunicorn, 2 workers x 1 thread, default model, faces on)\n\n"
                f"`python benchmarks/video_latency.py --requests {args.requests} --frames {args.frames}`\n\n"
                f"{machine_line(info)}\n\n{table}\n\nWhere the time goes:\n\n{split_table}\n")
    write_results("video_latency", {"machine": info, "row": row, "stages": split}, markdown, args.json, args.markdown)
    return C.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
