"""Shared by the serving benchmarks: machine description, percentiles, a gunicorn server, result files."""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
PERFORMANCE_MD = REPO_ROOT / "docs" / "PERFORMANCE.md"
SHARED_DATA = Path(os.environ.get("DEEPFAKE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
# A dataset-style face crop and an ordinary 800x533 portrait photo (the kinds of upload the API gets).
DEFAULT_IMAGES = [SHARED_DATA / "faces-gan" / "Test" / "Fake" / "fake_007adb48ebc2.jpg",
                  SHARED_DATA / "photos" / "real" / "deepface_tests__img14.jpg"]
REAL_PHOTOS = SHARED_DATA / "photos" / "real"
# The serving set-ups before the fast-detector work, before OpenVINO, and now: (label, FLASK_* settings).
SERVING_SETUPS = [("before: MTCNN + PyTorch", {"FLASK_FACE_DETECTOR": "mtcnn", "FLASK_RUNTIME": "torch"}),
                  ("YuNet + ONNX Runtime", {"FLASK_RUNTIME": "onnx"}),
                  ("now: YuNet + OpenVINO (defaults)", {})]


def machine() -> dict[str, Any]:
    """CPU model, cores, load and library versions: printed beside every table."""
    import onnxruntime
    import torch

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2), "python": platform.python_version(),
            "torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "openvino": openvino_version(),
            "date": time.strftime("%Y-%m-%d %H:%M")}


def openvino_version() -> str:
    """The installed OpenVINO's version, or "not installed" (without importing it)."""
    try:
        return importlib.metadata.version("openvino")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_line(info: dict[str, Any]) -> str:
    """The machine as one markdown line."""
    return (f"Machine: {info['cpu']}, {info['cores']} cores, load average {info['load_average_1m']} at start "
            f"(a value near or above the core count means another job shared the CPU); Python {info['python']}, "
            f"torch {info['torch']}, onnxruntime {info['onnxruntime']}, openvino {info.get('openvino', '?')}; "
            f"{info['date']}.")


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50/p95/mean of latencies in ms."""
    array = np.asarray(samples_ms, dtype=float)
    return {"p50_ms": round(float(np.percentile(array, 50)), 2), "p95_ms": round(float(np.percentile(array, 95)), 2),
            "mean_ms": round(float(array.mean()), 2), "n": int(array.size)}


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_results(name: str, payload: dict[str, Any], markdown: str, json_path: Path | None,
                  markdown_path: Path | None) -> None:
    """Write the JSON results and replace this benchmark's section of docs/PERFORMANCE.md (or another file)."""
    json_path = json_path or RESULTS_DIR / f"{name}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {json_path}")
    if markdown_path is None:
        return
    begin, end = f"<!-- BEGIN {name} (generated: do not edit by hand) -->", f"<!-- END {name} -->"
    section = f"{begin}\n{markdown.strip()}\n{end}"
    text = markdown_path.read_text() if markdown_path.exists() else "# Performance\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.write_text(text)
    print(f"updated {markdown_path}")


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running gunicorn: base URL, port, master process, log file and the TMPDIR it was given (if any)."""

    base: str
    port: int
    process: subprocess.Popen
    log_path: Path
    tmp_dir: Path | None = None

    def workers(self) -> list[int]:
        """PIDs of the current worker processes (children of the master in /proc)."""
        with contextlib.suppress(OSError):
            return [int(pid) for pid in
                    Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()]
        return []

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server log, for error messages."""
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""


@contextlib.contextmanager
def gunicorn_server(app: str, env: dict[str, str], workers: int, threads: int, log_path: Path,
                    timeout: float = 180) -> Iterator[Server]:
    """Run gunicorn with backend/gunicorn.conf.py on a loopback port until every worker booted; stop it after."""
    port = free_port()
    full_env = {**os.environ, "WEB_CONCURRENCY": str(workers), "GUNICORN_THREADS": str(threads),
                "GUNICORN_LOG_LEVEL": "warning", **env}
    if "FLASK_THREADS" not in env:  # let gunicorn.conf.py give each worker cores / workers threads
        full_env.pop("FLASK_THREADS", None)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(GUNICORN), "-c", "backend/gunicorn.conf.py", "-b", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
             app], cwd=REPO_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        tmp_dir = Path(env["TMPDIR"]) if "TMPDIR" in env else None
        server = Server(f"http://127.0.0.1:{port}", port, process, log_path, tmp_dir)
        try:
            wait_until_ready(server, workers, timeout)
            yield server
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_ready(server: Server, workers: int, timeout: float) -> None:
    """Poll /health until every worker has booted (each loads the models itself)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}: {server.log_tail()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{server.base}/health", timeout=5).status_code == 200 and len(server.workers()) >= workers:
                return
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn not ready in {timeout} s: {server.log_tail()}")


def load_images(paths: list[Path]) -> dict[str, bytes]:
    """name -> bytes of benchmark images; a synthetic 600x800 portrait-like JPEG when none exists."""
    images = {p.name: p.read_bytes() for p in paths if p.is_file()}
    if not images:
        import io

        from PIL import Image, ImageDraw

        image = Image.new("RGB", (600, 800), (120, 130, 140))
        ImageDraw.Draw(image).ellipse([170, 200, 430, 540], fill=(210, 160, 130))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90)
        images["synthetic-600x800.jpg"] = buffer.getvalue()
    return images
