"""End-to-end `POST /predict` latency through gunicorn on loopback, face detection on and off, for the serving
set-up before the fast-detector work (MTCNN + PyTorch) and today's defaults (YuNet + ONNX Runtime), beside the
original project's serving approach (weights reloaded per request), plus an in-process split of where a request's
time goes in each set-up, and today's defaults on every real photo of a folder (how long a typical photo takes: one
photo's decoding cost depends on its size and JPEG encoding).

    make bench-setup   # MTCNN (facenet-pytorch) for the "before" rows
    python benchmarks/serve_latency.py [--model-dir models] [--requests 40]

One request at a time (latency, not throughput) against gunicorn with 2 workers x 1 thread (the 2-core
recommendation). Prints tables, writes benchmarks/results/serve_latency.json and refreshes docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
import requests
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_utils import (DEFAULT_IMAGES, PERFORMANCE_MD, REAL_PHOTOS, RESULTS_DIR,  # noqa: E402
                                    SERVING_SETUPS, gunicorn_server, load_images, machine, machine_line,
                                    markdown_table, percentiles, write_results)
from pipeline import constants as C  # noqa: E402

PHOTO_TARGET_MS = 20.0  # issue #18: a photo through gunicorn at p50 <= 20 ms on 2 cores


def get_args_parser() -> argparse.ArgumentParser:
    """Arguments of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=C.MODELS_DIR, help="folder of *.pt checkpoints (default models/)")
    parser.add_argument("--model", default=None, help=f"model to query (default {C.DEFAULT_MODEL_NAME} if present, else the first)")
    parser.add_argument("--image", type=Path, nargs="+", default=DEFAULT_IMAGES, help="upload(s) (default a dataset face and a 600x800 photo)")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per case (default 40)")
    parser.add_argument("--photo-set", type=Path, default=REAL_PHOTOS,
                        help=f"folder whose every photo is sent 3 times to today's set-up (default {REAL_PHOTOS}; "
                             "skipped if absent)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--detect-max-side", type=int, default=None, help="FLASK_DETECT_MAX_SIDE for the server (default the app's)")
    parser.add_argument("--no-legacy", action="store_true", help="skip the per-request-reload comparison (default: include it)")
    parser.add_argument("--json", type=Path, default=None, help="results file (default benchmarks/results/serve_latency.json)")
    parser.add_argument("--markdown", type=Path, default=PERFORMANCE_MD, help="markdown file to refresh (default docs/PERFORMANCE.md)")
    return parser


def time_requests(url: str, data: bytes, count: int, warmup: int = 3) -> tuple[list[float], list[float], int]:
    """Client-side and server-reported latencies (ms) of sequential uploads on one keep-alive session; errors."""
    client, server, errors = [], [], 0
    with requests.Session() as session:
        for index in range(warmup + count):
            started = time.perf_counter()
            response = session.post(url, files={"file": ("upload.jpg", data, "image/jpeg")}, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            if index < warmup:
                continue
            if response.status_code != 200:
                errors += 1
                continue
            client.append(elapsed)
            server.append(float(response.json().get("latency_ms", elapsed)))
    return client, server, errors


def encoding(data: bytes) -> tuple[str, float]:
    """('progressive JPEG', 'baseline JPEG' or the format's name, megapixels): what decoding a photo costs."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        name = image.format
        if name == "JPEG":
            name = "progressive JPEG" if image.info.get("progressive") else "baseline JPEG"
        return name, image.width * image.height / 1e6


def photo_set_rows(url: str, folder: Path, repeats: int = 3,
                   target_ms: float = PHOTO_TARGET_MS) -> list[dict[str, object]]:
    """p50/p95 over a folder's photos of each photo's median client-side latency (`repeats` sends), in all and
    per encoding, with their median size and the share of photos answered within the target."""
    timed: dict[str, list[tuple[float, float]]] = {}  # encoding -> (ms, megapixels) per photo
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in C.IMAGE_EXTENSIONS:
            continue
        data = path.read_bytes()
        client, _, errors = time_requests(url, data, repeats, warmup=0 if timed else 3)
        if client and not errors:
            name, megapixels = encoding(data)
            timed.setdefault(name, []).append((float(np.median(client)), megapixels))
    groups = {"all photos": [row for rows in timed.values() for row in rows], **dict(sorted(timed.items()))}
    return [{"photos": group, **percentiles([ms for ms, _ in rows]),
             "median_megapixels": round(float(np.median([mp for _, mp in rows])), 2),
             "within_target": f"{sum(ms <= target_ms for ms, _ in rows) / len(rows):.0%}"}
            for group, rows in groups.items() if rows]


def stage_split(model_path: Path, data: bytes, setup: dict[str, str], repeats: int,
                detect_max_side: int | None) -> dict[str, float]:
    """p50 ms of each stage of a request in one serving set-up, run in this process with 1 thread (as one worker
    on 2 cores)."""
    from backend.gradcam import GradCam, heatmap_png
    from pipeline.loading import onnx_or_torch
    from backend.uploads import decode_upload
    from pipeline.faces import create_detector, square_crop_box
    from pipeline.torch_runtime import Classifier

    torch.set_num_threads(1)
    classifier = Classifier.from_checkpoint(model_path)
    engine = C.RUNTIME_ENGINES.get(setup.get("FLASK_RUNTIME", C.DEFAULT_RUNTIME))
    scorer = onnx_or_torch(model_path, classifier, threads=1, engine=engine) if engine else classifier
    detector = create_detector(setup.get("FLASK_FACE_DETECTOR", C.DEFAULT_FACE_DETECTOR),
                               detect_max_side or C.DETECT_MAX_SIDE)
    explainer = GradCam(classifier)
    stages: dict[str, list[float]] = {}

    def timed(name, function, *args):
        started = time.perf_counter()
        value = function(*args)
        stages.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        return value

    def crop(image, faces):
        boxes = [square_crop_box(face.box, image.size) for face in faces]
        return boxes, [image.crop(box.pil_box()) for box in boxes] or [image]

    for index in range(repeats + 2):
        if index == 2:
            stages.clear()  # the first two are warm-up
        image = timed("decode + checks", decode_upload, data, ["image/jpeg", "image/png"], 40_000_000, 16,
                      C.DECODE_MIN_SIDE)
        faces = timed("face detection", detector.detect, image)
        boxes, crops = timed("crop", crop, image, faces)
        probabilities = timed("classify (preprocess + model, all faces in one batch)", scorer.probabilities, crops)
        timed("JSON", json.dumps, {"probability_fake": float(probabilities.max()),
                                   "faces": [{"box": b.as_list(), "landmarks": f.landmark_list()}
                                             for b, f in zip(boxes, faces)]})
        cam = timed("Grad-CAM (explain=1 only)", explainer, crops[0])
        timed("heat-map PNG (explain=1 only)", heatmap_png, cam, crops[0].size)
    return {name: percentiles(samples)["p50_ms"] for name, samples in stages.items()}


def main(argv: list[str] | None = None) -> int:
    """Run every case; print, write JSON and markdown."""
    args = get_args_parser().parse_args(argv)
    paths = sorted(args.model_dir.glob("*.pt")) if args.model_dir.is_dir() else []
    if not paths:
        print(f"error: no checkpoints (*.pt) in {args.model_dir}", file=sys.stderr)
        return C.EXIT_BAD_INPUT
    names = [p.stem for p in paths]
    model = args.model or (C.DEFAULT_MODEL_NAME if C.DEFAULT_MODEL_NAME in names else names[0])
    images = load_images(args.image)
    info = machine()
    env = {"FLASK_MODEL_DIR": str(args.model_dir.resolve()), "FLASK_STATIC_DIR": str(RESULTS_DIR / "no-page")}
    if args.detect_max_side:
        env["FLASK_DETECT_MAX_SIDE"] = str(args.detect_max_side)
    rows, photo_rows = [], []
    for label, setup in SERVING_SETUPS:
        with gunicorn_server("backend:create_app()", {**env, **setup}, args.workers, 1,
                             RESULTS_DIR / "serve_latency.log") as running:
            for image_name, data in images.items():
                for faces in ("on", "off"):
                    client, server, errors = time_requests(f"{running.base}/predict?faces={faces}&model={model}", data,
                                                           args.requests)
                    rows.append({"server": label, "image": image_name, "faces": faces, "errors": errors,
                                 **percentiles(client), "server_p50_ms": percentiles(server)["p50_ms"]})
                    print(rows[-1])
            if not setup and args.photo_set.is_dir():  # today's defaults only
                photo_rows = photo_set_rows(f"{running.base}/predict?model={model}", args.photo_set)
                print(photo_rows)
    if not args.no_legacy:
        legacy_env = {"LEGACY_CHECKPOINT": str((args.model_dir / f"{model}.pt").resolve())}
        with gunicorn_server("benchmarks.legacy_serving:create_app()", legacy_env, args.workers, 1,
                             RESULTS_DIR / "serve_latency-legacy.log") as running:
            for image_name, data in images.items():
                client, _, errors = time_requests(f"{running.base}/predict", data, args.requests)
                rows.append({"server": "original (reload per request)", "image": image_name, "faces": "off (none)",
                             "errors": errors, **percentiles(client), "server_p50_ms": ""})
                print(rows[-1])
        for row in rows:
            legacy = next(r for r in rows if r["server"].startswith("original") and r["image"] == row["image"])
            row["original_p50_over_this_p50"] = round(legacy["p50_ms"] / row["p50_ms"], 2)
    photo = list(images.values())[-1]
    split = {label: stage_split(args.model_dir / f"{model}.pt", photo, setup, max(10, args.requests // 2),
                                args.detect_max_side) for label, setup in SERVING_SETUPS}
    table = markdown_table(
        ["server", "image", "faces", "p50 ms", "p95 ms", "server-side p50 ms", "errors", "original p50 / this p50"],
        [[r["server"], r["image"], r["faces"], r["p50_ms"], r["p95_ms"], r["server_p50_ms"], r["errors"],
          r.get("original_p50_over_this_p50", "")] for r in rows])
    labels = [label for label, _ in SERVING_SETUPS]
    split_table = markdown_table(["stage (p50 ms, 1 thread, in-process)", *labels],
                                 [[stage, *(split[label][stage] for label in labels)] for stage in split[labels[0]]])
    photo_table = markdown_table(["photos", "count", "median megapixels", "p50 ms", "p95 ms",
                                  f"within {PHOTO_TARGET_MS:g} ms"],
                                 [[r["photos"], r["n"], r["median_megapixels"], r["p50_ms"], r["p95_ms"],
                                   r["within_target"]] for r in photo_rows])
    print(table)
    print(split_table)
    print(photo_table)
    markdown = (f"### End-to-end `POST /predict` latency (gunicorn, {args.workers} workers x 1 thread, loopback, "
                f"one request at a time, model `{model}`)\n\n"
                f"`python benchmarks/serve_latency.py --model-dir {args.model_dir.name} --requests {args.requests}"
                f"{f' --detect-max-side {args.detect_max_side}' if args.detect_max_side else ''}`\n\n"
                f"{machine_line(info)}\n\n{table}\n\nWhere the time of one request goes (image "
                f"`{list(images)[-1]}`):\n\n{split_table}\n")
    if photo_rows:
        markdown += (f"\nToday's defaults on every photo of `{args.photo_set.name}` (faces on, client-side; "
                     f"per photo the median of 3 requests):\n\n{photo_table}\n")
    write_results("serve_latency", {"machine": info, "model": model, "rows": rows, "stages": split,
                                    "photo_set": photo_rows},
                  markdown, args.json, args.markdown)
    return C.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
