"""A real gunicorn with the repository's config on a loopback port, for the API and reliability tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import requests

from testdata import REPO_ROOT

GUNICORN = Path(sys.executable).with_name("gunicorn")


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
