"""Helpers of the reliability tests: raw-socket requests, worker memory, a face image."""

from __future__ import annotations

import contextlib
import io
import socket
import time
from pathlib import Path

from training.data.synthetic import synthetic_face

PROBLEM_MIMETYPE = "application/problem+json"


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB (0 if it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def raw_request(port: int, head: bytes, body_chunks: list[bytes] = (), delay: float = 0.0,
                timeout: float = 20) -> tuple[int, dict[str, str], bytes]:
    """Send a hand-written HTTP/1.1 request (body in chunks, `delay` s apart); parse status, headers, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        for chunk in body_chunks:
            if delay:
                time.sleep(delay)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(chunk)
        received = b""
        with contextlib.suppress(ConnectionResetError):
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                received += data
                if b"\r\n\r\n" in received:
                    header_text, _, rest = received.partition(b"\r\n\r\n")
                    length = next((int(line.split(b":")[1]) for line in header_text.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), None)
                    if length is not None and len(rest) >= length:
                        break
    header_text, _, body = received.partition(b"\r\n\r\n")
    lines = header_text.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def face_jpeg(seed: int = 1, size: int = 96) -> bytes:
    """A small face-like drawing as JPEG."""
    buffer = io.BytesIO()
    synthetic_face(0, seed, size).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()
