"""Errors that a command reports as one sentence and exit code 2, and the line between bytes that a third-party
decoder refuses (the user's problem: a 4xx) and a bug of ours (a logged 500)."""

from __future__ import annotations

import contextlib
import logging
import struct
from typing import Any, Callable, Iterator

logger = logging.getLogger(__name__)

# What third-party decoders and parsers raise on bytes they cannot read: Pillow and its plugins (OSError, ValueError,
# SyntaxError, EOFError, struct.error; RuntimeError from the AVIF plugin and pillow-heif), PyAV/FFmpeg (its errors
# subclass OSError or ValueError; video.py adds their base class). Caught only around calls into those libraries:
# the same types raised by our own code are bugs, and stay a logged 500.
DECODER_ERRORS: tuple[type[Exception], ...] = (OSError, ValueError, SyntaxError, EOFError, RuntimeError, struct.error)


class UserError(Exception):
    """Bad arguments or bad data: shown to the user without a traceback."""


class DataError(UserError):
    """A data folder is missing, empty or not in the expected layout."""


class CheckpointError(UserError):
    """A checkpoint cannot be read or does not match what was asked for."""


class MediaProblem(UserError):
    """An upload that cannot be used, with the API problem it becomes (status, slug, title, detail, extras)."""

    def __init__(self, status: int, slug: str, title: str, detail: str, **extras: Any):
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail, self.extras = status, slug, title, detail, extras


@contextlib.contextmanager
def decoder_call(problem: Callable[[Exception], MediaProblem],
                 errors: tuple[type[Exception], ...] = DECODER_ERRORS) -> Iterator[None]:
    """Wrap a call into a third-party decoder: its failure on bad bytes becomes `problem(error)`; wrap nothing else."""
    try:
        yield
    except errors as error:
        logger.info("Decoder refused the upload: %s: %s", error.__class__.__name__, error)
        raise problem(error) from None
