"""Optional API keys: with FLASK_API_KEYS (comma-separated keys) or FLASK_API_KEYS_FILE (SHA-256 hex digests, one a
line), /predict and /models need `Authorization: Bearer KEY` or `X-API-Key: KEY` and answer 401 without one.

Keys are kept and compared only as SHA-256 digests, in constant time, and never logged: logs and rate limits name
a caller by the first 12 hex digits of its key's digest (`key_id`).
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any, Iterable, Mapping

from flask import Flask, current_app, g, request

from .problems import ApiProblem

PROTECTED_ENDPOINTS = {"predict", "models"}
KEY_ID_LENGTH = 12


def digest(key: str) -> str:
    """SHA-256 hex digest of a key: how keys are stored and compared."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_key_file(path: Path) -> list[str]:
    """The digests of a key file: one SHA-256 hex digest a line; blank lines and '#' comments ignored."""
    digests = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = line.split("#", 1)[0].strip().lower()
        if not line:
            continue
        if len(line) != 64 or any(c not in "0123456789abcdef" for c in line):
            raise RuntimeError(f"FLASK_API_KEYS_FILE {path} line {number}: expected a SHA-256 hex digest")
        digests.append(line)
    return digests


def configured_digests(config: Mapping[str, Any]) -> list[str]:
    """Digests of every accepted key: FLASK_API_KEYS (plain, comma-separated or a list) and FLASK_API_KEYS_FILE."""
    keys = config.get("API_KEYS") or []
    if not isinstance(keys, (list, tuple)):  # FLASK_API_KEYS=123 arrives as a number from from_prefixed_env
        keys = str(keys).split(",")
    digests = [digest(str(key).strip()) for key in keys if str(key).strip()]
    if config.get("API_KEYS_FILE"):
        digests += parse_key_file(Path(config["API_KEYS_FILE"]))
    return digests


def presented_key() -> str | None:
    """The key a request carries in `Authorization: Bearer KEY` or `X-API-Key: KEY`, if any."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("X-API-Key", "").strip() or None


def matching_digest(key: str | None, digests: Iterable[str]) -> str | None:
    """The stored digest a key matches, comparing with every digest in constant time; None if none."""
    found = None
    candidate = digest(key or "")
    for stored in digests:
        if hmac.compare_digest(candidate, stored) and key:
            found = stored
    return found


def caller_key_id() -> str | None:
    """`key_id` of the request's valid API key (cached on g), or None without keys configured or a valid key."""
    if "api_key_id" not in g:
        digests = current_app.extensions.get("deepfake_detector_keys") or []
        match = matching_digest(presented_key(), digests) if digests else None
        g.api_key_id = match[:KEY_ID_LENGTH] if match else None
    return g.api_key_id


def require_key() -> None:
    """Before /predict and /models: 401 problem+json unless the request carries a valid key."""
    if not current_app.extensions.get("deepfake_detector_keys"):
        return
    if (request.endpoint or "").rsplit(".", 1)[-1] not in PROTECTED_ENDPOINTS or request.method == "OPTIONS":
        return
    if caller_key_id() is None:
        detail = ("This server needs an API key: send it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'."
                  if presented_key() is None else "The API key is not valid.")
        raise ApiProblem(401, "unauthorized", "API key required", detail,
                         headers={"WWW-Authenticate": 'Bearer realm="deepfake-detector"'})


def install_auth(app: Flask) -> None:
    """Read the configured keys once and check them before every protected request."""
    app.extensions["deepfake_detector_keys"] = configured_digests(app.config)
    app.before_request(require_key)
