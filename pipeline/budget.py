"""A wall-clock budget for one piece of work (a request), checked cooperatively at safe points: between demuxed
packets and decoded frames, before a batch goes through the model. Work past its budget stops with an error the
caller can answer, instead of running until something outside (gunicorn, nginx) kills it."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

from .errors import UserError

T = TypeVar("T")


class BudgetExhausted(UserError):
    """The work ran past its time budget; `stage` says what it was doing when that was noticed."""

    def __init__(self, budget_s: float, stage: str):
        super().__init__(f"Ran past its time budget of {budget_s:g} s while {stage}.")
        self.budget_s, self.stage = budget_s, stage


class Deadline:
    """`budget_s` seconds from now by `clock` (None or 0: no budget)."""

    def __init__(self, budget_s: float | None, clock: Callable[[], float] = time.monotonic):
        self.budget_s = float(budget_s) if budget_s else None
        self.clock = clock
        self.started = clock()

    def check(self, stage: str) -> None:
        """BudgetExhausted if the budget is spent; `stage` names the work about to continue (for the message)."""
        if self.budget_s is not None and self.clock() - self.started >= self.budget_s:
            raise BudgetExhausted(self.budget_s, stage)

    def before(self, function: Callable[..., T], stage: str) -> Callable[..., T]:
        """`function`, checking the budget before each call."""

        def checked(*args, **kwargs) -> T:
            self.check(stage)
            return function(*args, **kwargs)

        return checked


# For callers without a budget (the predict command, the scan, training).
UNLIMITED = Deadline(None)
