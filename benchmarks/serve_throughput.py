"""Server throughput and error rate at concurrency 1, 4, 8, 16 for a fixed number of `POST /predict` requests,
for several gunicorn worker x thread settings, face detection on, in the serving set-up before the fast-detector
work (MTCNN + PyTorch) and with today's defaults (YuNet + ONNX Runtime).

    make bench-setup   # MTCNN (facenet-pytorch) for the "before" rows
    python benchmarks/serve_throughput.py [--model-dir models] [--requests 200] [--configs 2x1 2x2]

Prints a table, writes benchmarks/results/serve_throughput.json and refreshes docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_utils import (DEFAULT_IMAGES, PERFORMANCE_MD, RESULTS_DIR, SERVING_SETUPS,  # noqa: E402
                                    gunicorn_server, load_images, machine, machine_line, markdown_table, percentiles,
                                    write_results)
from pipeline import constants as C  # noqa: E402


def get_args_parser() -> argparse.ArgumentParser:
    """Arguments of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=C.MODELS_DIR, help="folder of *.pt checkpoints (default models/)")
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGES[1], help=f"upload (default {DEFAULT_IMAGES[1].name})")
    parser.add_argument("--requests", type=int, default=200, help="requests per concurrency level (default 200)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8, 16], help="levels (default 1 4 8 16)")
    parser.add_argument("--configs", nargs="+", default=["2x1", "2x2"], help="WORKERSxTHREADS (default 2x1 2x2)")
    parser.add_argument("--faces", choices=("on", "off"), default="on", help="face detection (default on)")
    parser.add_argument("--detect-max-side", type=int, default=None, help="FLASK_DETECT_MAX_SIDE (default the app's)")
    parser.add_argument("--json", type=Path, default=None, help="results file (default benchmarks/results/serve_throughput.json)")
    parser.add_argument("--markdown", type=Path, default=PERFORMANCE_MD, help="markdown file to refresh (default docs/PERFORMANCE.md)")
    return parser


def run_level(url: str, data: bytes, total: int, concurrency: int) -> dict:
    """Fire `total` uploads from `concurrency` threads (keep-alive sessions); rate, errors and latencies."""
    local = threading.local()

    def call(_: int) -> tuple[int, float]:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        try:
            status = session.post(url, files={"file": ("bench.jpg", data, "image/jpeg")}, timeout=120).status_code
        except requests.RequestException:
            status = 0
        return status, (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(call, range(total)))
    elapsed = time.perf_counter() - started
    errors = sum(status != 200 for status, _ in results)
    return {"concurrency": concurrency, "requests": total, "seconds": round(elapsed, 2),
            "req_per_s": round(total / elapsed, 1), "errors": errors, "error_rate": round(errors / total, 4),
            **percentiles([ms for _, ms in results])}


def main(argv: list[str] | None = None) -> int:
    """Run every config and level; print, write JSON and markdown."""
    args = get_args_parser().parse_args(argv)
    if not (args.model_dir.is_dir() and any(args.model_dir.glob("*.pt"))):
        print(f"error: no checkpoints (*.pt) in {args.model_dir}", file=sys.stderr)
        return C.EXIT_BAD_INPUT
    data = next(iter(load_images([args.image]).values()))
    info = machine()
    env = {"FLASK_MODEL_DIR": str(args.model_dir.resolve()), "FLASK_STATIC_DIR": str(RESULTS_DIR / "no-page")}
    if args.detect_max_side:
        env["FLASK_DETECT_MAX_SIDE"] = str(args.detect_max_side)
    rows = []
    for label, setup in SERVING_SETUPS:
        for config in args.configs:
            workers, threads = (int(v) for v in config.lower().split("x"))
            with gunicorn_server("backend:create_app()", {**env, **setup}, workers, threads,
                                 RESULTS_DIR / "serve_throughput.log") as running:
                for concurrency in args.concurrency:
                    row = {"setup": label, "workers": workers, "threads": threads,
                           **run_level(f"{running.base}/predict?faces={args.faces}", data, args.requests, concurrency)}
                    rows.append(row)
                    print(row)
    table = markdown_table(["set-up", "workers x threads", "concurrency", "requests", "req/s", "errors", "p50 ms",
                            "p95 ms"],
                           [[r["setup"], f"{r['workers']} x {r['threads']}", r["concurrency"], r["requests"],
                             r["req_per_s"], r["errors"], r["p50_ms"], r["p95_ms"]] for r in rows])
    print(table)
    markdown = (f"### Throughput (gunicorn gthread, faces {args.faces}, image "
                f"`{args.image.name}`)\n\n`python benchmarks/serve_throughput.py --model-dir {args.model_dir.name} "
                f"--requests {args.requests} --configs {' '.join(args.configs)}`\n\n{machine_line(info)}\n\n{table}\n")
    write_results("serve_throughput", {"machine": info, "args": {k: str(v) for k, v in vars(args).items()},
                                       "rows": rows}, markdown, args.json, args.markdown)
    return C.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
