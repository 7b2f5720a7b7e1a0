"""Fuzzing of every upload decoder and parser: seeds built in code (seeds.py), plain and structure-aware mutations
(mutators.py), deterministic cases (cases.py), a runner that sends them to a real gunicorn and counts the answers per
status and per format (runner.py, `python -m fuzz`, `make fuzz`), and coverage-guided fuzzing of the in-process entry
points with atheris (targets.py, deep.py, `make fuzz-deep`) whose crashes are kept in regressions/.

Import as `fuzz` with tests/ on sys.path (pytest puts it there; the Makefile sets PYTHONPATH).
"""
