"""The storm guard decides a chunk of alerts with one window write: the same answers as one ``decide`` per
lead in turn (threshold, urgent leads, retries, held leads, a closed window), in fewer ``UpdateItem``
calls."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from leads_core import aws, storm
from leads_core.alerts import Alert
from leads_core.observability import logger, metrics
from leads_core.settings import load_settings

from tests.alerts.conftest import AlertWorld, _shared_session
from tests.alerts.test_storm import INSIDE, NEXT_WINDOW, WINDOW, _window_item


def _count_updates() -> Counter[str]:
    calls: Counter[str] = Counter()

    def count(**_: Any) -> None:
        calls["UpdateItem"] += 1

    aws.client("dynamodb").meta.events.register("before-call.dynamodb.UpdateItem", count)
    return calls


def _other_window(now: float) -> float:
    return now + 3 * storm.WINDOW_SECONDS


def test_a_chunk_below_the_threshold_is_one_update(alert_world: AlertWorld) -> None:
    table = alert_world.resources.table_name
    calls = _count_updates()
    leads = [(f"L{n:02d}", n == 3) for n in range(10)]
    decisions = storm.decide_many(leads, table_name=table, threshold=20, now=INSIDE)
    assert decisions == {lead_id: "send" for lead_id, _ in leads}
    assert calls["UpdateItem"] == 1
    assert len(_window_item(alert_world)["sent_ids"]["SS"]) == 10


def test_a_chunk_that_fills_the_window_is_two_updates_and_holds_exactly_the_rest(
    alert_world: AlertWorld,
) -> None:
    table = alert_world.resources.table_name
    calls = _count_updates()
    first = storm.decide_many(
        [(f"A{n}", False) for n in range(10)], table_name=table, threshold=13, now=INSIDE
    )
    assert set(first.values()) == {"send"}
    second = storm.decide_many(
        [(f"B{n}", n == 5) for n in range(10)], table_name=table, threshold=13, now=INSIDE
    )
    # 10 texted before: B0..B2 fill the window to 13, B5 is urgent (always texted), the others are held.
    assert [second[f"B{n}"] for n in range(10)] == ["send"] * 3 + ["hold"] * 2 + ["send"] + ["hold"] * 4
    assert calls["UpdateItem"] == 1 + 2
    item = _window_item(alert_world)
    assert len(item["sent_ids"]["SS"]) == 14
    assert sorted(item["held_ids"]["SS"]) == sorted(f"B{n}" for n in (3, 4, 6, 7, 8, 9))
    again = storm.decide_many(
        [(f"B{n}", n == 5) for n in range(10)], table_name=table, threshold=13, now=INSIDE
    )
    assert again == second  # a retried chunk decides the same and counts nobody twice
    assert _window_item(alert_world) == item


@pytest.mark.parametrize("seed", range(12))
def test_chunks_decide_as_one_decision_per_lead_would(alert_world: AlertWorld, seed: int) -> None:
    """Random chunks (urgent leads, repeats of earlier leads, a window closed midway) against the per-lead
    ``decide`` on another window of the same table."""
    table = alert_world.resources.table_name
    rng = random.Random(seed)
    threshold = rng.randint(1, 12)
    seen: list[tuple[str, bool]] = []
    for round_number in range(6):
        chunk: list[tuple[str, bool]] = []
        for n in range(rng.randint(1, 10)):
            if seen and rng.random() < 0.25:
                chunk.append(rng.choice(seen))
            else:
                chunk.append((f"R{round_number}N{n}", rng.random() < 0.2))
        chunk = list(dict(chunk).items())
        seen += chunk
        if round_number == 4 and rng.random() < 0.5:
            storm._close(table, WINDOW, NEXT_WINDOW)
            storm._close(table, storm.window_start(_other_window(INSIDE)), NEXT_WINDOW)
        together = storm.decide_many(chunk, table_name=table, threshold=threshold, now=INSIDE)
        one_by_one = {
            lead_id: storm.decide(
                lead_id, urgent=urgent, table_name=table, threshold=threshold, now=_other_window(INSIDE)
            )
            for lead_id, urgent in chunk
        }
        assert together == one_by_one, (seed, round_number)


def _interfere(times: int, write: Any) -> list[int]:
    """Before each of the first ``times`` conditional chunk writes made from a window as read (``seen``),
    another writer changes the window (``write()``, through another client): that chunk write's condition
    fails. Returns the list of interferences done (its length)."""
    done: list[int] = []

    def before(params: dict[str, Any], **_: Any) -> None:
        if len(done) < times and "size(sent_ids) = " in params.get("ConditionExpression", ""):
            done.append(1)
            write()

    aws.client("dynamodb").meta.events.register("provide-client-params.dynamodb.UpdateItem", before)
    return done


def _full_window_and_urgent_writer(alert_world: AlertWorld) -> tuple[str, Callable[[], None]]:
    """A window that already texted 3 leads (the threshold) and another writer's urgent leads U0, U1, ..."""
    table = alert_world.resources.table_name
    other = _shared_session().client("dynamodb")
    storm.decide_many([(f"A{n}", False) for n in range(3)], table_name=table, threshold=3, now=INSIDE)
    urgent = iter(f"U{n}" for n in range(10))

    def urgent_lead() -> None:
        storm.decide(next(urgent), urgent=True, table_name=table, threshold=3, now=INSIDE, dynamodb=other)

    return table, urgent_lead


def test_another_writer_between_read_and_write_is_seen_and_the_chunk_decided_again(
    alert_world: AlertWorld,
) -> None:
    table, urgent_lead = _full_window_and_urgent_writer(alert_world)
    done = _interfere(1, urgent_lead)
    calls = _count_updates()
    chunk = [("B0", False), ("B1", False), ("B2", True)]
    assert storm.decide_many(chunk, table_name=table, threshold=3, now=INSIDE) == {
        "B0": "hold",
        "B1": "hold",
        "B2": "send",
    }
    assert len(done) == 1
    assert calls["UpdateItem"] == 1 + 2  # room for all? no; from the window as read: changed; again: written
    item = _window_item(alert_world)
    assert sorted(item["sent_ids"]["SS"]) == ["A0", "A1", "A2", "B2", "U0"]
    assert sorted(item["held_ids"]["SS"]) == ["B0", "B1"]


def test_a_window_closed_between_read_and_write_texts_the_rest(alert_world: AlertWorld) -> None:
    table = alert_world.resources.table_name
    storm.decide_many([(f"A{n}", False) for n in range(4)], table_name=table, threshold=3, now=INSIDE)
    assert _window_item(alert_world)["held_ids"]["SS"] == ["A3"]
    other = _shared_session().client("dynamodb")
    _interfere(1, lambda: storm._close(table, WINDOW, NEXT_WINDOW, other))
    decisions = storm.decide_many([("B0", False), ("A3", False)], table_name=table, threshold=3, now=INSIDE)
    assert decisions == {"B0": "send", "A3": "hold"}  # too late to hold B0; A3 was held before
    assert "B0" not in _window_item(alert_world).get("held_ids", {}).get("SS", [])


def test_a_window_changing_every_round_falls_back_to_one_decision_per_lead(alert_world: AlertWorld) -> None:
    table, urgent_lead = _full_window_and_urgent_writer(alert_world)
    done = _interfere(storm.CHUNK_DECISION_ROUNDS, urgent_lead)
    calls = _count_updates()
    chunk = [("B0", False), ("B1", True)]
    assert storm.decide_many(chunk, table_name=table, threshold=3, now=INSIDE) == {"B0": "hold", "B1": "send"}
    assert len(done) == storm.CHUNK_DECISION_ROUNDS
    # the first write, CHUNK_DECISION_ROUNDS refused ones, then decide: B0 two writes (full, held), B1 one.
    assert calls["UpdateItem"] == 1 + storm.CHUNK_DECISION_ROUNDS + 2 + 1
    item = _window_item(alert_world)
    assert sorted(item["held_ids"]["SS"]) == ["B0"]
    assert "B1" in item["sent_ids"]["SS"]


def _metric(name: str) -> list[float]:
    return list(metrics.provider.metric_set.get(name, {}).get("Value", []))


def _new_lead_alert(lead_id: str, *, urgent: bool = False) -> Alert:
    return Alert(
        lead_id, "s", "e", "t", "e", {"alert_type": "new_lead"}, priority="urgent" if urgent else "normal"
    )


def test_hold_sms_decides_a_chunk_logs_each_held_lead_and_counts_them(
    alert_world: AlertWorld, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ALERT_STORM_THRESHOLD", "2")
    load_settings.cache_clear()
    alerts = [_new_lead_alert(f"L{n}", urgent=n == 3) for n in range(5)]
    alerts.insert(2, Alert("TEST-1", "s", "e", "t", "e", {"alert_type": "test"}))
    calls = _count_updates()
    metrics.clear_metrics()
    with caplog.at_level("INFO", logger=logger.name):
        decided = storm.hold_sms(alerts, settings=load_settings(), now=INSIDE)
    assert [a.lead_id for a in decided] == [a.lead_id for a in alerts]
    assert [a.attributes.get("sms") for a in decided] == ["send", "send", None, "hold", "send", "hold"]
    assert calls["UpdateItem"] == 1  # more leads than the threshold: no optimistic write, straight to one
    held_logs = [r for r in caplog.records if r.getMessage() == "alert SMS held for the storm digest"]
    assert sorted(str(getattr(r, "lead_id", "")) for r in held_logs) == ["L2", "L4"]
    assert _metric("AlertSmsHeld") == [2.0]
    assert _metric("StormDecisionFailed") == []


def test_hold_sms_texts_the_whole_chunk_when_the_decision_fails(
    alert_world: AlertWorld, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ALERT_STORM_THRESHOLD", "1")
    load_settings.cache_clear()
    monkeypatch.setattr(storm, "_sleep", lambda seconds: None)

    def refuse(**_: Any) -> Any:
        error = {
            "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, {}, None), error  # type: ignore[arg-type]

    refusing = _shared_session().client("dynamodb")
    refusing.meta.events.register("before-call.dynamodb.UpdateItem", refuse)
    alerts = [_new_lead_alert(f"L{n}") for n in range(3)]
    metrics.clear_metrics()
    with caplog.at_level("INFO", logger=logger.name):
        decided = storm.hold_sms(alerts, settings=load_settings(), now=INSIDE, dynamodb=refusing)
    assert [a.attributes["sms"] for a in decided] == ["send"] * 3
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "storm decision failed, SMS sent"
    ]
    assert _metric("StormDecisionFailed") == [3.0]
    assert _metric("AlertSmsHeld") == []
    assert _window_item(alert_world) == {}  # nothing was written through the refusing client
