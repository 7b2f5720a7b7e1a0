"""Inference commands, thin over pipeline: `predict` (files, one process) and `scan` (archives, on Ray Data).

They import no training code: `python -m commands.predict` and `python -m commands.scan` (also reachable as
`python -m training.predict` and `python -m training.scan`).
"""
