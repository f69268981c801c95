"""Load through the local stack's HTTP side: every submission sent twice with its key, from 8 clients.

Exactly one lead (read back from the table) and one alert (read from ``/_local/alerts``) per distinct
submission; zero 5xx; nothing lost; and no visitor value in anything the stack printed.
``RELIABILITY_LOAD_COUNT`` (default 1000) sets the number of distinct submissions.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from benchmarks.local_stack import LocalStackProcess
from benchmarks.payloads import run_token
from tests.reliability.traffic import Traffic, ids_by_submission, leads_by_key, privacy_hits, status_counts

pytestmark = [pytest.mark.slow, pytest.mark.stack, pytest.mark.timeout(900)]

DISTINCT = int(os.environ.get("RELIABILITY_LOAD_COUNT", "1000"))
CLIENTS = 8


def test_every_submission_twice_from_eight_clients_gives_one_lead_and_one_alert() -> None:
    traffic = Traffic(visitor_token=run_token(), key_token=run_token(), count=DISTINCT)
    # Every request comes from 127.0.0.1: the per-address limit must not be what this run measures.
    with LocalStackProcess(extra_env={"RATE_LIMIT_PER_HOUR": "10000"}) as stack:
        outcomes = traffic.run(stack, sends_per_submission=2, clients=CLIENTS)
        ids = ids_by_submission(outcomes)
        accepted_ids = {lead_id for group in ids.values() for lead_id in group if lead_id}
        alerts = stack.wait_for_alerts(accepted_ids, timeout=180)
        items = stack.lead_items()
    log_text = stack.log_text

    statuses = status_counts(outcomes)
    assert len(outcomes) == 2 * DISTINCT
    assert not [code for code in statuses if code >= 500], f"5xx answers: {statuses}"
    assert set(statuses) == {201}, f"statuses: {statuses}"
    # The same key always answers with the same lead id.
    assert all(len(group) == 1 for group in ids.values()), "a key answered with two different ids"
    assert len(accepted_ids) == DISTINCT

    keys = {traffic.key(i) for i in range(DISTINCT)}
    by_key = leads_by_key(items, keys)
    assert set(by_key) == keys, f"{len(keys - set(by_key))} submissions have no lead"
    assert all(len(group) == 1 for group in by_key.values()), "a submission was stored twice"
    assert {group[0]["id"] for group in by_key.values()} == accepted_ids
    assert len(items) == DISTINCT, "leads that no client was told about"

    # Per-lead alerts only: a storm digest (alert_type=digest) appears when a 10-minute window ends mid-run.
    alert_counts = Counter(a["lead_id"] for a in alerts if a["attributes"].get("alert_type") == "new_lead")
    assert set(alert_counts) == accepted_ids, f"{len(accepted_ids - set(alert_counts))} leads without alert"
    assert max(alert_counts.values()) == 1, "a lead was alerted twice"

    assert privacy_hits(log_text, traffic) == []
