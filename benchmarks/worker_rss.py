"""Resident memory of each gunicorn worker serving the bundled models: after start, after a prediction, and
after the first heat map (explain=1, which loads PyTorch in a lean worker). `python -m benchmarks.worker_rss`."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import requests

from benchmarks.bench_utils import DEFAULT_IMAGES, gunicorn_server, load_images, machine, machine_line

PHASES = ("started", "after /predict", "after /predict?explain=1")


def get_args_parser() -> argparse.ArgumentParser:
    """Arguments of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    return parser


def rss_mb(pid: int) -> float:
    """VmRSS of a process in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(workers: int) -> dict[str, list[float]]:
    """RSS of every worker (MB) at each phase; every worker gets the requests (one worker at a time answers)."""
    image = next(iter(load_images(DEFAULT_IMAGES).values()))
    figures: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, \
            gunicorn_server("backend:create_app()", {"FLASK_ACCESS_LOG": "false"}, workers, 1,
                            Path(tmp) / "gunicorn.log") as server:
        figures[PHASES[0]] = [rss_mb(pid) for pid in server.workers()]
        for phase, query in zip(PHASES[1:], ("", "?explain=1")):
            for _ in range(4 * workers):  # one thread per worker: the requests reach every worker
                requests.post(f"{server.base}/predict{query}", data=image, timeout=120,
                              headers={"Content-Type": "image/jpeg"}).raise_for_status()
            figures[phase] = [rss_mb(pid) for pid in server.workers()]
    return figures


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    args = get_args_parser().parse_args(argv)
    figures = measure(args.workers)
    print(machine_line(machine()))
    print("| phase | RSS per worker (MB) |\n|---|---|")
    for phase, values in figures.items():
        print(f"| {phase} | {', '.join(f'{v:.0f}' for v in values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
