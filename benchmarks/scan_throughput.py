"""Files/s of a bulk scan on one machine: training.predict (one process) against training.scan on Ray Data with 1
and 2 actors, on the same folder, in one run. `python -m benchmarks.scan_throughput [--folder DIR] [--limit N]`.

Each command runs end to end in its own process, start-up included (Ray's start, loading the model per actor),
as someone running it would wait. Each also runs on the first file alone; the difference of the two times gives
the steady rate without start-up: (N - 1) / (t(N files) - t(1 file)).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from benchmarks.bench_utils import REPO_ROOT, SHARED_DATA, machine, machine_line, markdown_table, write_results



FACES = SHARED_DATA / "faces-gan" / "Test"


def get_args_parser() -> argparse.ArgumentParser:
    """Arguments of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, default=FACES, help=f"images to scan (default {FACES})")
    parser.add_argument("--limit", type=int, default=600, help="use the first N files (default 600)")
    parser.add_argument("--markdown", type=Path, default=REPO_ROOT / "docs" / "DEPLOYMENT.md",
                        help="file whose scan_throughput section is replaced (default docs/DEPLOYMENT.md)")
    return parser


def timed(command: list[str]) -> tuple[float, str]:
    """Wall seconds and stderr of a command run from the repository root."""
    started = time.perf_counter()
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800)
    if run.returncode != 0:
        raise RuntimeError(f"{command[2]} failed: {run.stderr[-2000:]}")
    return time.perf_counter() - started, run.stderr


def commands(files: list[Path], tmp: Path) -> list[tuple[str, Callable[[list[Path]], list[str]]]]:
    """(label, files -> command line) of training.predict and of training.scan with 1 and 2 actors."""
    python = sys.executable

    def listing(chosen: list[Path]) -> str:
        path = tmp / f"files-{len(chosen)}.txt"
        path.write_text("\n".join(str(p) for p in chosen) + "\n")
        return str(path)

    runs = [("training.predict (one process, ONNX Runtime)",
             lambda chosen: [python, "-m", "training.predict", *map(str, chosen), "--runtime", "onnx", "--format", "csv"])]
    for actors in (1, 2):
        runs.append((f"training.scan, {actors} actor{'s' if actors > 1 else ''}",
                     lambda chosen, n=actors: [python, "-m", "training.scan", listing(chosen), "--output",
                                               str(tmp / f"scan{n}-{len(chosen)}.parquet"), "--num-actors", str(n),
                                               "--num-cpus", str(n + 1)]))
    return runs


def main(argv: list[str] | None = None) -> int:
    """Run the three commands on the same files and write the table."""
    args = get_args_parser().parse_args(argv)
    files = sorted(p for p in args.folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:args.limit]
    if not files:
        raise SystemExit(f"No images in {args.folder}")
    rows, payload = [], {"machine": machine(), "files": len(files), "folder": str(args.folder), "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        for label, command in commands(files, Path(tmp)):
            whole, _ = timed(command(files))
            alone, _ = timed(command(files[:1]))
            steady = (len(files) - 1) / (whole - alone) if whole > alone else float("nan")
            rows.append([label, len(files), f"{whole:.1f}", f"{alone:.1f}", f"{len(files) / whole:.2f}", f"{steady:.2f}"])
            payload["runs"].append({"command": label, "seconds": round(whole, 2), "one_file_seconds": round(alone, 2),
                                    "files_per_s": len(files) / whole, "steady_files_per_s": steady})
            print(rows[-1], flush=True)
    table = markdown_table(["command", "files", "wall s", "wall s, 1 file", "files/s (end to end)",
                            "files/s (without start-up)"], rows)
    text = f"{machine_line(payload['machine'])}\n\n{table}\n"
    print(text)
    write_results("scan_throughput", payload, text, None, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
