"""Structured access logs: one JSON line per request on stdout, with a request id echoed in X-Request-ID.

A client's own X-Request-ID (letters, digits, '.', '_', '-'; at most 128) is kept, so a line can be followed
through nginx and the replicas; else one is made. No header, query string or body is logged, so API keys never are.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request

from .auth import caller_key_id

REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
access_logger = logging.getLogger("deepfake_detector.access")


def json_lines_logger() -> logging.Logger:
    """The access logger: bare JSON lines on stdout, not repeated by the root logger's text format."""
    if not access_logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_logger.addHandler(handler)
        access_logger.setLevel(logging.INFO)
        access_logger.propagate = False
    return access_logger


def assign_request_id() -> None:
    """Take the client's request id when it is sane, else make one; note the start time."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.access_started = time.perf_counter()


def access_entry(response: Response) -> dict:
    """The fields of one access-log line."""
    started = g.get("access_started", time.perf_counter())
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "request_id": g.get("request_id"),
            "method": request.method, "path": request.path, "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "bytes_in": request.content_length or 0, "bytes_out": response.calculate_content_length(),
            "client": request.remote_addr, "key_id": caller_key_id(), "user_agent": request.user_agent.string[:200]}


def log_request(response: Response) -> Response:
    """Echo the request id and write the access-log line."""
    access_logger.info(json.dumps(access_entry(response), separators=(",", ":")))
    return echo_request_id(response)


def install_logs(app: Flask) -> None:
    """Request ids on every response; JSON access lines unless FLASK_ACCESS_LOG is false."""
    app.before_request(assign_request_id)
    if app.config["ACCESS_LOG"]:
        json_lines_logger()
        app.after_request(log_request)
    else:
        app.after_request(echo_request_id)


def echo_request_id(response: Response) -> Response:
    """Echo the request id without logging."""
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or uuid.uuid4().hex
    return response
