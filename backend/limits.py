"""Rate limits on /predict and /models with Flask-Limiter: FLASK_RATE_LIMIT (e.g. "60/minute;1000/hour", off when
empty) per API key, or per client address without one; memory storage for one instance, Redis for replicas
(FLASK_RATE_LIMIT_STORAGE=redis://HOST:6379). Over the limit: 429 problem+json with Retry-After.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from .auth import PROTECTED_ENDPOINTS, caller_key_id


def rate_limit_key() -> str:
    """Who a request counts against: its valid API key's id, else its client address."""
    key_id = caller_key_id()
    return f"key:{key_id}" if key_id else f"ip:{get_remote_address()}"


def unlimited() -> bool:
    """Requests that no limit applies to: everything but /predict and /models, and CORS preflights."""
    return (request.endpoint or "").rsplit(".", 1)[-1] not in PROTECTED_ENDPOINTS or request.method == "OPTIONS"


def install_limits(app: Flask) -> Limiter | None:
    """Apply FLASK_RATE_LIMIT to the protected endpoints, shared by / and /api (None when it is not set)."""
    rate = str(app.config.get("RATE_LIMIT") or "").strip()
    if not rate:
        return None
    limiter = Limiter(
        rate_limit_key,
        application_limits=[rate],
        storage_uri=str(app.config["RATE_LIMIT_STORAGE"]),
        headers_enabled=True,
        # A Redis outage must not turn uploads into 500s: count in memory until it is back.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        key_prefix="deepfake-detector",
    )
    limiter.request_filter(unlimited)
    limiter.init_app(app)
    return limiter


def trust_proxy_headers(app: Flask) -> None:
    """Behind FLASK_PROXY_HOPS proxies (nginx: 1), take the client address and scheme from X-Forwarded-*."""
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
