"""Model latency on CPU for every checkpoint of a model folder: eager PyTorch vs ONNX Runtime vs torch.compile.

    python benchmarks/model_latency.py [--model-dir models] [--threads 1] [--iterations 50]

Times the model alone on a preprocessed batch (batch 1 and 8), p50/p95 per batch and per image, with --threads
intra-op threads (1 = what each of 2 gunicorn workers gets on a 2-core machine). Prints a table, writes
benchmarks/results/model_latency.json and refreshes its section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_utils import (PERFORMANCE_MD, machine, machine_line, markdown_table,  # noqa: E402
                                    percentiles, write_results)
from pipeline import constants as C  # noqa: E402
from pipeline.torch_runtime import Classifier  # noqa: E402
from pipeline.onnx_runtime import ENGINES, OnnxClassifier  # noqa: E402


def get_args_parser() -> argparse.ArgumentParser:
    """Arguments of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=C.MODELS_DIR, help="folder of *.pt checkpoints (default models/)")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads for every runtime (default 1)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8], help="batch sizes (default 1 8)")
    parser.add_argument("--iterations", type=int, default=50, help="timed runs per case (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile (default: include it)")
    parser.add_argument("--json", type=Path, default=None, help="results file (default benchmarks/results/model_latency.json)")
    parser.add_argument("--markdown", type=Path, default=PERFORMANCE_MD, help="markdown file to refresh (default docs/PERFORMANCE.md)")
    return parser


def time_runs(run: Callable[[], object], iterations: int, warmup: int) -> list[float]:
    """Latencies (ms) of `iterations` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def runtimes(path: Path, compile_model: bool) -> dict[str, Callable[[torch.Tensor], object]]:
    """name -> function scoring a preprocessed batch, for each runtime that loads."""
    classifier = Classifier.from_checkpoint(path)
    found: dict[str, Callable[[torch.Tensor], object]] = {"torch eager": classifier.logits}
    for engine in ENGINES:
        scorer = OnnxClassifier.from_checkpoint(path, classifier, threads=torch.get_num_threads(), engine=engine)
        if scorer.runtime == engine:  # not a fallback
            found[engine] = scorer.logits
    if compile_model:
        compiled = torch.compile(classifier.model, dynamic=False)

        @torch.inference_mode()
        def run_compiled(batch: torch.Tensor) -> object:
            return compiled(batch)

        found["torch.compile"] = run_compiled
    return found


def main(argv: list[str] | None = None) -> int:
    """Benchmark every checkpoint; print, write JSON and markdown."""
    args = get_args_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    paths = sorted(args.model_dir.glob("*.pt")) if args.model_dir.is_dir() else []
    if not paths:
        print(f"error: no checkpoints (*.pt) in {args.model_dir}", file=sys.stderr)
        return C.EXIT_BAD_INPUT
    info = machine()
    rows = []
    for path in paths:
        classifier = Classifier.from_checkpoint(path)
        size = classifier.meta.image_size
        for runtime, run in runtimes(path, not args.no_compile).items():
            for batch_size in args.batch_sizes:
                batch = torch.randn(batch_size, 3, size, size)
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        started = time.perf_counter()
                        run(batch)  # first call: compiles for torch.compile
                        first_ms = (time.perf_counter() - started) * 1000
                        stats = percentiles(time_runs(lambda: run(batch), args.iterations, args.warmup))
                except Exception as error:  # torch.compile needs a C++ toolchain; report instead of dying
                    rows.append({"model": path.stem, "runtime": runtime, "batch": batch_size,
                                 "error": f"{error.__class__.__name__}: {str(error)[:200]}"})
                    print(f"{path.stem} {runtime} batch {batch_size}: failed ({error.__class__.__name__})")
                    continue
                row = {"model": path.stem, "architecture": classifier.meta.architecture, "input": size,
                       "runtime": runtime, "batch": batch_size, **stats,
                       "p50_ms_per_image": round(stats["p50_ms"] / batch_size, 2), "first_call_ms": round(first_ms, 1)}
                rows.append(row)
                print(f"{path.stem:28} {runtime:13} batch {batch_size}: p50 {stats['p50_ms']:8.2f} ms  "
                      f"p95 {stats['p95_ms']:8.2f} ms  per image {row['p50_ms_per_image']:7.2f} ms")
    eager = {(r["model"], r["batch"]): r["p50_ms"] for r in rows if r["runtime"] == "torch eager" and "p50_ms" in r}
    for row in rows:
        if "p50_ms" in row and (row["model"], row["batch"]) in eager:
            row["speedup_vs_eager"] = round(eager[(row["model"], row["batch"])] / row["p50_ms"], 2)
    table = markdown_table(
        ["model", "runtime", "batch", "p50 ms / batch", "p95 ms / batch", "p50 ms / image", "speedup vs eager",
         "first call ms"],
        [[r["model"], r["runtime"], r["batch"], r.get("p50_ms", "failed"), r.get("p95_ms", r.get("error", "")),
          r.get("p50_ms_per_image", ""), r.get("speedup_vs_eager", ""), r.get("first_call_ms", "")] for r in rows])
    print(table)
    markdown = (f"### Model latency (model only, preprocessed input, {args.threads} thread(s))\n\n"
                f"`python benchmarks/model_latency.py --model-dir {args.model_dir.name} --threads {args.threads} "
                f"--iterations {args.iterations}`\n\n{machine_line(info)}\n\n{table}\n")
    write_results("model_latency", {"machine": info, "args": {k: str(v) for k, v in vars(args).items()}, "rows": rows},
                  markdown, args.json, args.markdown)
    return C.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
