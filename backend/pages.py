"""The web page at `/`: the built frontend (frontend/dist) when present, else a short note that the API is up."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, send_from_directory

FALLBACK_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>deepfake-detector API</title></head>
<body>
<h1>deepfake-detector API is running</h1>
<p>The web page has not been built. Build it with <code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>
and restart the server, or run <code>npm run dev</code> in <code>frontend/</code> for development.</p>
<p>API: <code>POST /api/predict</code>, <code>GET /api/models</code>, <code>GET /api/health</code>,
<a href="/api/openapi.json">/api/openapi.json</a>.</p>
</body></html>
"""


def page_blueprint(static_dir: Path) -> Blueprint:
    """Routes for `/`, `/assets/...` and the built page's other top-level files (no catch-all route, so API
    paths keep their 404/405 answers)."""
    bp = Blueprint("page", __name__)
    static_dir = Path(static_dir)
    index = static_dir / "index.html"

    if not index.is_file():
        @bp.get("/")
        def fallback():
            return FALLBACK_PAGE, 200, {"Content-Type": "text/html; charset=utf-8"}

        return bp

    @bp.get("/")
    def index_page():
        return send_from_directory(static_dir, "index.html", max_age=0)

    @bp.get("/assets/<path:filename>")
    def assets(filename: str):
        # Vite fingerprints asset names, so they can be cached for long.
        return send_from_directory(static_dir / "assets", filename, max_age=31536000)

    for file in sorted(static_dir.iterdir()):
        if file.is_file() and file.name != "index.html":
            bp.add_url_rule(f"/{file.name}", f"file_{len(bp.deferred_functions)}",
                            lambda name=file.name: send_from_directory(static_dir, name), methods=["GET"])
    return bp


def register_page(app: Flask) -> None:
    """Serve the page from FLASK_STATIC_DIR (default frontend/dist)."""
    app.register_blueprint(page_blueprint(Path(app.config["STATIC_DIR"])))
