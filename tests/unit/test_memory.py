"""``leads_core.memory.BoundedMemory``: the container memory behind captcha verdicts and unmarked alerts."""

from __future__ import annotations

from leads_core.memory import BoundedMemory


def test_the_least_recently_put_value_goes_first_when_full() -> None:
    memory: BoundedMemory[str, int] = BoundedMemory(max_entries=2)
    memory.put("a", 1)
    memory.put("b", 2)
    memory.put("a", 3)  # put again: now the most recent
    memory.put("c", 4)
    assert (memory.get("a"), memory.get("b"), memory.get("c")) == (3, None, 4)
    assert len(memory) == 2


def test_values_expire_after_their_time_and_forget_removes_one() -> None:
    now = [100.0]
    memory: BoundedMemory[str, str] = BoundedMemory(max_entries=5, ttl_seconds=10, clock=lambda: now[0])
    memory.put("verdict", "passed")
    memory.put("other", "failed")
    now[0] = 109.9
    assert memory.get("verdict") == "passed"
    now[0] = 110.0
    assert memory.get("verdict") is None
    memory.forget("other")
    assert memory.get("other") is None
    assert len(memory) == 0


def test_without_a_time_to_live_values_stay_until_pushed_out() -> None:
    now = [0.0]
    memory: BoundedMemory[str, str] = BoundedMemory(max_entries=1, clock=lambda: now[0])
    memory.put("lead", "published")
    now[0] = 1e9
    assert memory.get("lead") == "published"
    memory.clear()
    assert memory.get("lead") is None
