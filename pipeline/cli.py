"""What every command shares: logging, device choice and turning user errors into exit code 2."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Callable

import torch

from pipeline import constants as C
from pipeline.errors import UserError


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises UserError instead of exiting, so main(argv) can return 2 in-process."""

    def error(self, message: str):  # noqa: D102 (argparse API)
        self.print_usage(sys.stderr)
        raise UserError(f"{self.prog}: {message}")


def setup_logging(verbose: bool = False) -> None:
    """Log to stderr at INFO (DEBUG with --verbose)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        force=True,
    )


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA, then Apple MPS, then CPU; anything else must be available."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"Unknown device {name!r}: use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"Device {name} was asked for but CUDA is not available on this machine")
    return device


def key_value_pairs(pairs: list[str], option: str, form: str, convert: Callable[[str], object] = str) -> dict:
    """KEY=VALUE arguments of an option into a dict, each value through convert; UserError naming the expected form."""
    values = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        try:
            if not (key and sep and text):
                raise ValueError(pair)
            values[key] = convert(text)
        except ValueError:
            raise UserError(f"{option} {pair!r}: write {form}") from None
    return values


def run_command(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], int], argv: list[str] | None) -> int:
    """Parse argv and run; a UserError becomes one line on stderr and exit code 2."""
    try:
        args = parser.parse_args(argv)
        setup_logging(getattr(args, "verbose", False))
        return run(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return C.EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        sys.stdout = open(os.devnull, "w")
        return C.EXIT_OK
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
