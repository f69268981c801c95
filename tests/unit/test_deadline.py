"""``leads_core.deadline``: the budget an invocation opens, as other handlers (the alert function) use it."""

from __future__ import annotations

import math

from leads_core import deadline


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_outside_a_budget_nothing_is_limited() -> None:
    assert deadline.remaining_seconds() == math.inf
    assert deadline.time_for(3.0, keep=100.0) == 3.0


def test_a_budget_is_the_remaining_time_minus_the_reserve_and_ends_with_the_block() -> None:
    with deadline.budget(Context(10_000)):
        assert 4.0 < deadline.remaining_seconds() <= 10.0 - deadline.RESERVE_SECONDS
        with deadline.budget(Context(4_000), reserve=0.0):  # an inner budget wins until it ends
            assert deadline.remaining_seconds() <= 4.0
        assert deadline.remaining_seconds() > 4.0
    assert deadline.remaining_seconds() == math.inf


def test_time_for_shortens_or_refuses_an_outside_call() -> None:
    with deadline.budget(Context(7_000), reserve=1.0):
        shortened = deadline.time_for(3.0, keep=3.5)  # 6 s budget - 3.5 s kept: up to 2.5 s
        assert shortened is not None
        assert 0.5 <= shortened <= 2.5
    with deadline.budget(Context(4_000), reserve=1.0):
        assert deadline.time_for(3.0, keep=3.0) is None


def test_a_context_without_remaining_time_opens_no_budget() -> None:
    with deadline.budget(None):
        assert deadline.remaining_seconds() == math.inf
    with deadline.budget(object()):  # type: ignore[arg-type]
        assert deadline.remaining_seconds() == math.inf
