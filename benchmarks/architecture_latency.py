"""ONNX Runtime latency per face of each candidate architecture at each input size: the "ms per face" column of
the capacity grid (issue #18), measured before anything is trained.

    python benchmarks/architecture_latency.py [--architectures ...] [--sizes 128 160 192 224] [--threads 1]

Latency does not depend on the weights, so each architecture is built untrained with the default's two heads (real /
fake and the three kinds), exported as the server exports a checkpoint, and timed at batch 1 on --threads intra-op
threads (1 = what each of 2 gunicorn workers gets on a 2-core machine). Prints a table, writes
benchmarks/results/architecture_latency.json and refreshes its section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_utils import (PERFORMANCE_MD, machine, machine_line, markdown_table,  # noqa: E402
                                    percentiles, write_results)
from benchmarks.model_latency import time_runs  # noqa: E402
from pipeline import constants as C  # noqa: E402
from pipeline.checkpoint_meta import CheckpointMeta  # noqa: E402
from pipeline.models import ARCHITECTURES, create_model  # noqa: E402
from pipeline.onnx_runtime import create_session, export_onnx_bytes  # noqa: E402

DEFAULT_ARCHITECTURES = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "efficientnet_b0",
                         "mobilenet_v2", "mobilenet_v3_large", "resnet18"]


def get_args_parser() -> argparse.ArgumentParser:
    """Arguments of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--architectures", nargs="+", choices=sorted(ARCHITECTURES), default=DEFAULT_ARCHITECTURES,
                        help=f"architectures to time (default {' '.join(DEFAULT_ARCHITECTURES)})")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 160, 192, 224], help="input sides in pixels (default 128 160 192 224)")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads (default 1)")
    parser.add_argument("--iterations", type=int, default=50, help="timed runs per case (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    parser.add_argument("--json", type=Path, default=None, help="results file (default benchmarks/results/architecture_latency.json)")
    parser.add_argument("--markdown", type=Path, default=PERFORMANCE_MD, help="markdown file to refresh (default docs/PERFORMANCE.md)")
    return parser


def onnx_session(architecture: str, size: int, threads: int):
    """An ONNX Runtime session of the untrained architecture with the default's heads, exported as checkpoints are."""
    outputs = len(C.CLASS_NAMES) + len(C.KIND_NAMES)
    meta = CheckpointMeta(architecture, size, kind_names=list(C.KIND_NAMES))
    return create_session(export_onnx_bytes(create_model(architecture, num_classes=outputs), meta, "untrained"), threads)


def main(argv: list[str] | None = None) -> int:
    """Time every architecture at every size; print, write JSON and markdown."""
    args = get_args_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    info = machine()
    rows = []
    for architecture in args.architectures:
        for size in args.sizes:
            session = onnx_session(architecture, size, args.threads)
            batch = np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(np.float32)
            stats = percentiles(time_runs(lambda: session.run(None, {"input": batch}), args.iterations, args.warmup))
            rows.append({"architecture": architecture, "input": size, **stats})
            print(f"{architecture:20} {size:4d} px: p50 {stats['p50_ms']:7.2f} ms  p95 {stats['p95_ms']:7.2f} ms")
    sizes = sorted({r["input"] for r in rows})
    table = markdown_table(["architecture (ONNX Runtime, batch 1, p50 ms per face)", *(f"{s} px" for s in sizes)],
                           [[name, *(next(r["p50_ms"] for r in rows if r["architecture"] == name and r["input"] == s)
                                     for s in sizes)] for name in args.architectures])
    print(table)
    markdown = (f"### Architecture latency (untrained, ONNX Runtime, batch 1, {args.threads} thread(s))\n\n"
                f"`python benchmarks/architecture_latency.py --threads {args.threads} --iterations {args.iterations}`"
                f"\n\n{machine_line(info)}\n\n{table}\n")
    write_results("architecture_latency", {"machine": info, "args": {k: str(v) for k, v in vars(args).items()},
                                           "rows": rows}, markdown, args.json, args.markdown)
    return C.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
