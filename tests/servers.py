"""A real gunicorn with the repository's config on a loopback port, for the API and reliability tests; Debian's
nginx with the repository's template in front of several, for the replica test; a watch on the disk for files that
hold an upload's bytes."""

from __future__ import annotations

import contextlib
import os
import socket
import string
import subprocess
import time
from pathlib import Path
from typing import Iterable, Iterator

from benchmarks.bench_utils import Server, free_port, gunicorn_server


@contextlib.contextmanager
def gunicorn(model_dir: Path, work_dir: Path, workers: int = 2, threads: int = 4, **env: str) -> Iterator[Server]:
    """Serve model_dir with no built page and a private TMPDIR (work_dir/server-tmp); wait for every worker."""
    tmp_dir = work_dir / "server-tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    test_env = {"FLASK_MODEL_DIR": str(model_dir), "FLASK_STATIC_DIR": str(work_dir / "no-page"),
                "TMPDIR": str(tmp_dir), "GUNICORN_TIMEOUT": "30", **env}
    with gunicorn_server("backend:create_app()", test_env, workers, threads, work_dir / "gunicorn.log",
                         timeout=90) as server:
        yield server


NGINX = Path("/usr/sbin/nginx")
NGINX_TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "default.conf.template"
# The main configuration the nginx image has around its templates, with every path inside the test's folder.
# `user root`: pytest's folders are private to the user running the tests (ignored, with a warning, when not root).
NGINX_MAIN = """user root;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    include {root}/default.conf;
}}
"""


def render_nginx_template(values: dict[str, str], template: Path = NGINX_TEMPLATE) -> str:
    """The template with ${NAME} filled from values, as the nginx image's envsubst step does; $nginx_vars stay."""
    return string.Template(template.read_text()).safe_substitute(values)


@contextlib.contextmanager
def nginx(upstreams: list[int], static_root: Path, work_dir: Path, max_body: int) -> Iterator[str]:
    """Debian's nginx on a loopback port with the repository's template in front of `upstreams`; yields its URL."""
    work_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = " ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in upstreams)
    (work_dir / "default.conf").write_text(render_nginx_template(
        {"NGINX_PORT": f"127.0.0.1:{port}", "NGINX_UPSTREAM_SERVERS": servers, "NGINX_MAX_BODY": str(max_body),
         "NGINX_STATIC_ROOT": str(static_root)}))
    (work_dir / "nginx.conf").write_text(NGINX_MAIN.format(root=work_dir))
    with listening([str(NGINX), "-p", str(work_dir), "-c", str(work_dir / "nginx.conf"), "-g", "daemon off;"], port,
                   work_dir / "error.log"):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def listening(command: list[str], port: int, log: Path) -> Iterator[subprocess.Popen]:
    """Run a server until the block ends, once it listens on `port` (its log in the error if it dies first)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process, log)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 20) -> None:
    """Wait until something listens on a loopback port; fail with the log if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}: {log.read_text() if log.exists() else ''}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@contextlib.contextmanager
def redis_server(work_dir: Path) -> Iterator[str]:
    """Debian's redis-server on a loopback port, nothing persisted; yields its redis:// URL."""
    work_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with listening(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--dir", str(work_dir), "--logfile", str(work_dir / "redis.log")], port, work_dir / "redis.log"):
        yield f"redis://127.0.0.1:{port}"


SKIP_DIRS = {".git", "node_modules", ".venv", "__pycache__", ".pytest_cache"}


def snapshot(folder: Path) -> dict[Path, float]:
    """Every file below a folder with its modification time (unreadable parts and SKIP_DIRS skipped)."""
    found = {}
    for root, dirs, names in os.walk(folder, onerror=lambda error: None):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in names:
            path = Path(root) / name
            try:
                found[path] = path.stat().st_mtime
            except OSError:
                continue
    return found


def changed(before: dict[Path, float], after: dict[Path, float]) -> list[Path]:
    """Files that are new or were modified."""
    return [p for p, mtime in after.items() if before.get(p) != mtime]


def files_holding(markers: Iterable[bytes], paths: Iterable[Path], skip: Iterable[Path] = ()) -> list[Path]:
    """The paths (outside the `skip` folders) whose content holds one of the markers: uploads that reached the disk."""
    markers, skip = list(markers), list(skip)
    prefix = os.path.commonprefix(markers) if len(markers) > 1 else b""  # one scan per file for thousands of markers
    found = []
    for path in paths:
        if any(folder == path or folder in path.parents for folder in skip):
            continue
        try:
            if path.stat().st_size < 50_000_000:
                content = path.read_bytes()
                if len(prefix) >= 8 and prefix not in content:
                    continue
                found += [path] if any(marker in content for marker in markers) else []
        except OSError:  # vanished or unreadable (another process's file)
            continue
    return found
