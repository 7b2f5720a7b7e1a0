"""REAL_PHOTOS and require_dir from tests/conftest.py (a plain `import conftest` would find this folder's)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("_repository_conftest", Path(__file__).resolve().parents[1] / "conftest.py")
_shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shared)

REAL_PHOTOS: Path = _shared.REAL_PHOTOS
require_dir = _shared.require_dir
