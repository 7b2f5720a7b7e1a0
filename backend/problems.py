"""RFC 9457 problem details: one exception type and one handler for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from pipeline.errors import MediaProblem

logger = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:deepfake-detector:problem:"


class ApiProblem(Exception):
    """An error a client caused (or must be told about), rendered as problem+json."""

    def __init__(self, status: int, slug: str, title: str, detail: str, headers: dict[str, str] | None = None,
                 **extras: Any):
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail, self.extras = status, slug, title, detail, extras
        self.headers = headers or {}

    def to_dict(self) -> dict[str, Any]:
        """The problem document."""
        return {"type": PROBLEM_TYPE_PREFIX + self.slug, "title": self.title, "status": self.status,
                "detail": self.detail, **self.extras}


def problem_response(problem: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    """A problem document as an application/problem+json response."""
    response = jsonify(problem)
    response.status_code = problem["status"]
    response.mimetype = PROBLEM_MIMETYPE
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def from_http_exception(error: HTTPException) -> dict[str, Any]:
    """Werkzeug's routing/limit errors (404, 405, 413, ...) as problem documents."""
    status = error.code or 500
    return {"type": "about:blank", "title": error.name, "status": status, "detail": error.description or error.name}


def handle_error(error: Exception) -> Response:
    """The single error handler: known problems verbatim, anything unexpected as a generic 500."""
    if isinstance(error, ApiProblem):
        return problem_response(error.to_dict(), error.headers)
    if isinstance(error, MediaProblem):  # an upload a decoder refused, raised where no caller turned it into ApiProblem
        return problem_response(ApiProblem(error.status, error.slug, error.title, error.detail,
                                           **error.extras).to_dict())
    if isinstance(error, HTTPException):
        headers = {}
        if error.code == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)
        return problem_response(from_http_exception(error), headers)
    # Never leak exception text or a traceback to the client; keep it in the server log.
    logger.exception("Unhandled error while serving a request")
    return problem_response({"type": "about:blank", "title": "Internal Server Error", "status": 500,
                             "detail": "The server failed to process the request. The error has been logged."})


def register_error_handler(app: Flask) -> None:
    """Install the one handler for every exception."""
    app.register_error_handler(Exception, handle_error)
