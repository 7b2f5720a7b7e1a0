"""Helpers of the reliability tests: a real gunicorn on loopback, raw-socket requests, worker memory."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import requests
from PIL import Image, ImageDraw

REPO_ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
PROBLEM_MIMETYPE = "application/problem+json"


@dataclass
class Server:
    """A running gunicorn: its base URL, master process, temp folder and log file."""

    base: str
    port: int
    process: subprocess.Popen
    tmp_dir: Path
    log_path: Path

    def workers(self) -> list[int]:
        """PIDs of the current worker processes."""
        with contextlib.suppress(OSError):
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
            return [int(pid) for pid in text.split()]
        return []

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server log, for assertion messages."""
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB (0 if it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@contextlib.contextmanager
def gunicorn(model_dir: Path, work_dir: Path, workers: int = 2, threads: int = 4, **env: str) -> Iterator[Server]:
    """Start gunicorn with the repository's config on a loopback port; wait until every worker booted."""
    tmp_dir = work_dir / "server-tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    full_env = {**os.environ, "FLASK_MODEL_DIR": str(model_dir), "FLASK_STATIC_DIR": str(work_dir / "no-page"),
                "TMPDIR": str(tmp_dir), "WEB_CONCURRENCY": str(workers), "GUNICORN_THREADS": str(threads),
                "GUNICORN_TIMEOUT": "30", "GUNICORN_LOG_LEVEL": "warning", **env}
    full_env.pop("FLASK_TORCH_THREADS", None)
    log_path = work_dir / "gunicorn.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [str(GUNICORN), "-c", "backend/gunicorn.conf.py", "-b", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
         "backend:create_app()"], cwd=REPO_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", port, process, tmp_dir, log_path)
    try:
        wait_ready(server, workers)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_ready(server: Server, workers: int, timeout: float = 90) -> None:
    """Poll /health until it answers and all workers exist."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {server.process.returncode}: {server.log_tail()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{server.base}/health", timeout=5).status_code == 200 and len(server.workers()) >= workers:
                return
        time.sleep(0.3)
    raise AssertionError(f"gunicorn not ready in {timeout} s: {server.log_tail()}")


def raw_request(port: int, head: bytes, body_chunks: list[bytes] = (), delay: float = 0.0,
                timeout: float = 20) -> tuple[int, dict[str, str], bytes]:
    """Send a hand-written HTTP/1.1 request (body in chunks, `delay` s apart); parse status, headers, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        for chunk in body_chunks:
            if delay:
                time.sleep(delay)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(chunk)
        received = b""
        with contextlib.suppress(ConnectionResetError):
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                received += data
                if b"\r\n\r\n" in received:
                    header_text, _, rest = received.partition(b"\r\n\r\n")
                    length = next((int(line.split(b":")[1]) for line in header_text.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), None)
                    if length is not None and len(rest) >= length:
                        break
    header_text, _, body = received.partition(b"\r\n\r\n")
    lines = header_text.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def face_jpeg(seed: int = 1, size: int = 96) -> bytes:
    """A small face-like drawing as JPEG."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(90, 160, 3)))
    draw = ImageDraw.Draw(image)
    draw.ellipse([size // 8, size // 8, size - size // 8, size - size // 8], fill=(200, 150, 120))
    for eye_x in (size // 3, 2 * size // 3):
        draw.ellipse([eye_x - 4, size // 3 - 3, eye_x + 4, size // 3 + 3], fill=(30, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()
