"""The CI share of the fuzz suite (tests/fuzz): a fixed number of mutated uploads of every format against real
gunicorn; no 5xx, no dropped connection, no worker restart, no traceback in the log, nothing written to disk.
`make fuzz FUZZ_CASES=50000` runs the same cases, and more, against the bundled models."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from fuzz.runner import ServerWatch, first_lines, run_cases
from fuzz.seeds import all_seeds
from testdata import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # the tiny checkpoint and the server start come first

CI_SEED = 1
CI_CASES = 15000  # about 40 s against the tiny model on 2 busy cores (plus the server start)
DEADLINE_S = 150  # no new case after this: the share stops by itself on an overloaded machine (fewer cases)


def test_fuzzed_uploads_get_no_5xx_and_leave_the_server_as_it_was(server, tmp_path):
    all_seeds()  # built before the clock starts (C2PA signing, clip encoding)
    watch = ServerWatch(server, [Path(tempfile.gettempdir()), REPO_ROOT]).start()
    report = run_cases(server.base, CI_SEED, CI_CASES, deadline_s=DEADLINE_S)
    print(f"\n{report.summary()}\n{report.table()}")
    assert report.failures == [], first_lines(report.failures)
    assert watch.problems(report, skip=[tmp_path, server.log_path.parent]) == []
    assert report.sent >= 1000, "the machine is far too slow for the fuzz share"
    assert {name for name, _ in report.statuses} == {seed.name for seed in all_seeds()}
