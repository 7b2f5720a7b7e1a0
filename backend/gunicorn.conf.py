"""Gunicorn settings: `gunicorn -c backend/gunicorn.conf.py 'backend:create_app()'` (override the bind with -b).

Environment: GUNICORN_BIND (or PORT), WEB_CONCURRENCY (workers), GUNICORN_THREADS, GUNICORN_TIMEOUT,
GUNICORN_LOG_LEVEL, and the app's FLASK_* variables (FLASK_MODEL_DIR, FLASK_THREADS, ...).
"""

import logging
import os

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
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Gunicorn 27 opens a control socket under ~/.gunicorn by default; this server needs none.
control_socket_disable = True


def post_fork(server, worker):
    """Give each worker cores / workers torch threads (read by create_app as FLASK_THREADS)."""
    os.environ.setdefault("FLASK_THREADS", str(max(1, _cores // max(1, server.cfg.workers))))
    # The app logs (models loaded, skipped checkpoints, errors) go to stderr beside gunicorn's own lines.
    logging.basicConfig(level=loglevel.upper(), format=f"[%(asctime)s] [{worker.pid}] [%(levelname)s] %(name)s: %(message)s")
