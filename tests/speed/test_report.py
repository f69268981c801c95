"""The speed-to-lead report against a hand-counted fixture (tests/speed/fixtures/report_leads.json; the
expected figures below were counted by hand from it), and ``leads report`` on moto reading the same leads
with ByStatus queries only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from click.testing import CliRunner
from leads_cli.main import cli
from leads_core import aws, keys
from leads_core.hours import SlaPolicy, parse_business_hours
from leads_core.report import build_report, percentile, source_of

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "report_leads.json").read_text(encoding="utf-8"))
NOW = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
POLICY = SlaPolicy(
    parse_business_hours("naperville=America/Chicago;mon-fri 08:00-18:00", ("naperville", "oak-brook")),
    first_contact_minutes=15,
    urgent_minutes=5,
)

# Counted by hand (each line says which fixture leads make the number).
EXPECTED: dict[str, Any] = {
    "total": 9,  # L9 is spam
    "by_status": {"new": 3, "contacted": 2, "scheduled": 2, "not_a_fit": 1, "closed": 1, "spam": 1},
    "by_service": {"anxiety": 4, "depression": 2, "ocd": 1, "other": 1, "ptsd": 1},  # L1 L3 L8 L10 / L2 L5
    "by_location": {"naperville": 7, "oak-brook": 2},  # L4 L7 at oak-brook
    # google: L1 (utm wins over referrer), L7, L10 ("Google "); direct: L3 L6 L8; hosts without www.
    "by_source": {"direct": 3, "google": 3, "bing.com": 1, "facebook": 1, "psychologytoday.com": 1},
    # Mondays (UTC): L7 11-10; L8 11-18; L6 11-24, L4 11-27, L5 11-28; L3 11-30, L10 12-01, L1 L2 12-02
    "weekly": {"2026-11-09": 1, "2026-11-16": 1, "2026-11-23": 3, "2026-11-30": 4},
    "first_answer": {
        # minutes: L3 10, L4 31 (1 Friday + 30 Monday), L5 4 (urgent: every minute), L6 60, L7 5, L10 20
        "answered": 6,
        "median_minutes": 15.0,  # (10 + 20) / 2
        "p90_minutes": 60.0,  # nearest rank: ceil(0.9 * 6) = 6th of 4 5 10 20 31 60
        "within_sla": 3,  # L3 (10 <= 15), L5 (4 <= 5), L7 (5 <= 15)
        "within_sla_share": 0.5,
        "answered_without_time": 1,  # L8: contacted before first_answered_at was recorded
    },
    "unanswered": {"count": 2, "past_sla": 1},  # L1 (due 09:45 CST), L2 (due 10:10 CST, not yet)
    "conversions": {"scheduled": 2, "share": 0.222},  # L4 L5 of 9
}


def test_the_report_matches_the_hand_count() -> None:
    figures = build_report(FIXTURE["leads"], POLICY, now=NOW)
    assert {name: figures[name] for name in EXPECTED} == EXPECTED
    assert figures["sla_minutes"] == {"first_contact": 15, "urgent": 5}


def test_source_and_percentile_rules() -> None:
    assert source_of({"utm_source": " Newsletter "}) == "newsletter"
    assert source_of({"attribution": {"referrer": "https://www.google.com/search?q=x"}}) == "google.com"
    assert source_of({"referrer": "not a url at all"}) == "direct"  # no host in it
    assert source_of({"referrer": "http://[::1"}) == "direct"
    assert source_of({}) == "direct"
    assert percentile([], 0.9) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0


def test_an_empty_window_has_no_figures_to_divide() -> None:
    figures = build_report([], POLICY, now=NOW)
    assert figures["total"] == 0
    assert figures["first_answer"]["median_minutes"] is None
    assert figures["first_answer"]["within_sla_share"] is None
    assert figures["conversions"]["share"] is None


def _item(lead: dict[str, Any]) -> dict[str, Any]:
    """The fixture lead as the table holds it (keys, entity, inbox; attribution as a map)."""
    lead = dict(lead)
    lead_id = "7K3M9Q2X" + lead["id"][-2:]  # a real id shape
    attribution = dict(lead.pop("attribution", {}))
    for name in ("utm_source", "referrer"):
        if name in lead:
            attribution[name] = lead.pop(name)
    item = {**lead, **keys.lead_key(lead_id), "id": lead_id, "entity": "lead"}
    item = {k: v for k, v in item.items() if k not in {"pk", "sk"}}
    serializer = TypeSerializer()
    wire = {k: serializer.serialize(v) for k, v in item.items()}
    if attribution:
        wire["attribution"] = serializer.serialize(attribution)
    return {**keys.lead_key(lead_id), **wire}


@pytest.fixture
def stored(stack: Any) -> Any:
    for lead in FIXTURE["leads"]:
        aws.client("dynamodb").put_item(TableName=stack.table_name, Item=_item(lead))
    return stack


def test_leads_report_reads_by_status_queries_and_prints_the_same_figures(
    stored: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUSINESS_HOURS", "naperville=America/Chicago;mon-fri 08:00-18:00")
    monkeypatch.setenv("LOCATIONS", "naperville,oak-brook")
    operations: list[str] = []
    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", lambda event_name, **_: operations.append(event_name))
    runner = CliRunner(env={"LEADS_STACK": None, "LEADS_TABLE": stored.table_name})
    result = runner.invoke(cli, ["report", "--since", "2026-11-01", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)
    for name in ("total", "by_status", "by_service", "by_location", "by_source", "weekly"):
        assert figures[name] == EXPECTED[name], name
    first = figures["first_answer"]
    assert first == {**EXPECTED["first_answer"]}
    assert figures["since"] == "2026-11-01T00:00:00Z"
    assert {name.removeprefix("before-call.dynamodb.") for name in operations} == {"Query"}

    later = runner.invoke(cli, ["report", "--since", "2026-11-25"], catch_exceptions=False)
    assert later.exit_code == 0, later.stderr
    assert "Leads since" in later.stdout
    assert "By source" in later.stdout
    window = json.loads(runner.invoke(cli, ["report", "--since", "2026-11-25", "--json"]).stdout)
    assert window["total"] == 6  # L1 L2 L3 L4 L5 L10
