"""Gunicorn settings: `gunicorn -c backend/gunicorn.conf.py 'backend:create_app()'` (override the bind with -b).

Environment: GUNICORN_BIND (or PORT), WEB_CONCURRENCY (workers), GUNICORN_THREADS, GUNICORN_TIMEOUT,
GUNICORN_LOG_LEVEL, GUNICORN_ACCESS_LOG (gunicorn's own text access log; the app writes JSON lines already),
PROMETHEUS_MULTIPROC_DIR (emptied at start; default a fresh folder in /dev/shm, removed at exit), and the app's
FLASK_* variables (FLASK_MODEL_DIR, FLASK_THREADS, ...).
"""

import glob
import logging
import os
import shutil
import tempfile

try:
    _cores = len(os.sched_getaffinity(0))
except AttributeError:  # not on Linux
    _cores = os.cpu_count() or 1

# GUNICORN_BIND, else 0.0.0.0:$PORT when a platform sets PORT, else local only.
bind = [os.environ.get("GUNICORN_BIND") or (f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT")
                                           else "127.0.0.1:5000")]
# Each worker holds its own copy of the models; two workers suit a 2-core machine.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2, _cores)))
# Threads overlap upload I/O with inference inside a worker.
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
# No preload: PyTorch state forked from a parent that already ran torch can deadlock; load in each worker.
preload_app = False
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
# The heartbeat file lives in memory where possible, keeping the temp folder untouched.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Gunicorn 27 opens a control socket under ~/.gunicorn by default; this server needs none.
control_socket_disable = True


def post_fork(server, worker):
    """Give each worker cores / workers torch threads (read by create_app as FLASK_THREADS)."""
    os.environ.setdefault("FLASK_THREADS", str(max(1, _cores // max(1, server.cfg.workers))))
    # The app logs (models loaded, skipped checkpoints, errors) go to stderr beside gunicorn's own lines.
    logging.basicConfig(level=loglevel.upper(), format=f"[%(asctime)s] [{worker.pid}] [%(levelname)s] %(name)s: %(message)s")


def metrics_dir() -> tuple[str, bool]:
    """The Prometheus multiprocess folder, emptied, and whether this master made it (and so removes it at exit).

    Outside TMPDIR on purpose: these sample files are the only thing the server writes while it serves.
    """
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        os.makedirs(given, exist_ok=True)
        for stale in glob.glob(os.path.join(given, "*.db")):
            os.remove(stale)
        return given, False
    parent = "/dev/shm" if os.path.isdir("/dev/shm") else os.path.expanduser("~/.cache")
    os.makedirs(parent, exist_ok=True)
    return tempfile.mkdtemp(prefix="deepfake-detector-metrics-", dir=parent), True


def on_starting(server):
    """Set PROMETHEUS_MULTIPROC_DIR before any worker imports prometheus_client (it reads it once, at import)."""
    if os.environ.get("FLASK_METRICS", "true").strip().lower() in ("0", "false", "off", "no"):
        return
    folder, made = metrics_dir()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    server.metrics_dir_made = folder if made else None


def child_exit(server, worker):
    """A dead worker's live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder this master made."""
    if getattr(server, "metrics_dir_made", None):
        shutil.rmtree(server.metrics_dir_made, ignore_errors=True)
