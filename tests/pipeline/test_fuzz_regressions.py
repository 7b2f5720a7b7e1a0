"""Inputs the fuzzers once crashed on (tests/fuzz/regressions/<target>/: saved by `make fuzz-deep`, or by hand from
`make fuzz` failures), replayed in-process through the same entry points: each now ends in a 4xx problem at worst."""

from __future__ import annotations

import pytest

from fuzz.targets import REGRESSIONS, regression_cases, run_target

CASES = regression_cases()


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_saved_fuzz_finding_is_a_user_problem_not_a_crash(path):
    run_target(path.parent.name, path.read_bytes())


def test_there_are_regression_cases():
    assert CASES, f"no saved cases under {REGRESSIONS}"
