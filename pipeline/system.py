"""Facts about the machine the pipeline runs on."""

from __future__ import annotations

import os


def available_cpus() -> int:
    """CPU cores this process may use (its affinity mask on Linux)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
