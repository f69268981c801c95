"""The speed-to-lead sweep on moto, at fixed instants (a frozen clock): which leads are escalated, when,
to whom, and that each level goes out exactly once whatever DynamoDB and SNS do."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from leads_core import aws, keys
from leads_core.errors import ConfigurationError, StorageUnavailable
from leads_core.gsm7 import is_single_gsm7_segment
from leads_core.settings import load_settings
from leads_core.store.layout import escalation_key
from leads_core.sweep import LOOKBACK_DAYS, iso, prepare_ledger, sweep
from leads_local.template import load_template, resource
from sweep_leads import app

from tests.alerts.conftest import AlertWorld
from tests.alerts.test_exactly_once import local_faults
from tests.template.test_template import as_list

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)  # Wednesday 10:00 in Chicago
ALL_DAY = "naperville=America/Chicago;mon-sun 00:00-24:00"


@pytest.fixture
def configure(alert_world: AlertWorld, monkeypatch: pytest.MonkeyPatch) -> Any:
    def apply(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        load_settings.cache_clear()

    apply(FIRST_CONTACT_SLA_MINUTES="15", URGENT_SLA_MINUTES="5")
    return apply


def put(world: AlertWorld, created: datetime, **overrides: Any) -> dict[str, Any]:
    return world.put_lead(created_at=iso(created), **overrides)


def run(now: datetime) -> dict[str, Any]:
    return sweep(load_settings().require_alerts(), now=now).as_dict()


def escalations(world: AlertWorld, queue_url: str | None = None) -> Counter[tuple[str, str]]:
    """(lead id, level) of every escalation the subscriber received."""
    found: Counter[tuple[str, str]] = Counter()
    for envelope in world.inbox(queue_url):
        attributes = envelope["MessageAttributes"]
        assert attributes["alert_type"]["Value"] == "escalation"
        found[(attributes["lead_id"]["Value"], attributes["escalation_level"]["Value"])] += 1
    return found


def test_level_one_at_the_sla_level_two_at_twice_each_once(alert_world: AlertWorld, configure: Any) -> None:
    configure(BUSINESS_HOURS=ALL_DAY)
    lead = put(alert_world, NOW - timedelta(minutes=16))

    assert run(NOW - timedelta(minutes=2))["published"] == []  # 14 minutes old: not due yet
    first = run(NOW)
    assert first["published"] == [f"{lead['id']}-esc1"]
    assert run(NOW + timedelta(minutes=1))["published"] == []  # sent: the ledger says so
    assert escalations(alert_world) == {(lead["id"], "1"): 1}

    second = run(NOW + timedelta(minutes=15))  # 31 minutes: twice the SLA
    assert second["published"] == [f"{lead['id']}-esc2"]
    assert second["past_twice_sla"] == 1
    assert run(NOW + timedelta(minutes=20))["published"] == []
    assert escalations(alert_world) == {(lead["id"], "2"): 1}
    ledger = alert_world.get_item(lead["id"])
    assert "alerted_at" not in ledger  # the new-lead alert's bookkeeping is untouched
    for level in (1, 2):
        key = escalation_key(lead["id"], level)
        table = alert_world.resources.table_name
        item = aws.client("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
        assert item["entity"]["S"] == "escalation"
        assert "alerted_at" in item
        assert item["expires_at"] == {"N": str(lead["expires_at"])}
        assert set(item) <= {
            "pk",
            "sk",
            "entity",
            "lead_id",
            "level",
            "due_seen_at",
            "expires_at",
            "alerted_at",
            "alert_message_id",
            "alert_attempts",
        }


def test_a_sweep_that_was_down_sends_both_levels_in_one_run(alert_world: AlertWorld, configure: Any) -> None:
    configure(BUSINESS_HOURS=ALL_DAY)
    lead = put(alert_world, NOW - timedelta(hours=3))
    assert sorted(run(NOW)["published"]) == [f"{lead['id']}-esc1", f"{lead['id']}-esc2"]
    assert escalations(alert_world) == {(lead["id"], "1"): 1, (lead["id"], "2"): 1}


def test_no_escalation_for_answered_assigned_spam_erased_or_too_old_leads(
    alert_world: AlertWorld, configure: Any
) -> None:
    configure(BUSINESS_HOURS=ALL_DAY)
    created = NOW - timedelta(hours=1)
    put(alert_world, created, status="contacted")
    put(alert_world, created, status="scheduled")
    put(alert_world, created, assigned_to="morgan")
    answered_at = iso(created + timedelta(minutes=3))
    put(alert_world, created, first_answered_at=answered_at, first_answered_by="morgan")
    put(alert_world, created, status="spam")
    put(alert_world, NOW - timedelta(days=LOOKBACK_DAYS, minutes=1))  # beyond the lookback
    erased = put(alert_world, created)
    table = alert_world.resources.table_name
    aws.client("dynamodb").delete_item(TableName=table, Key=keys.lead_key(erased["id"]))
    waiting = put(alert_world, created)

    report = run(NOW)

    assert escalations(alert_world) == {(waiting["id"], "1"): 1, (waiting["id"], "2"): 1}
    assert report["candidates"] == 1


def test_a_lead_answered_after_the_query_gets_no_ledger_item_and_no_alert(
    alert_world: AlertWorld, configure: Any
) -> None:
    configure(BUSINESS_HOURS=ALL_DAY)
    lead = put(alert_world, NOW - timedelta(hours=1))
    table = alert_world.resources.table_name
    aws.client("dynamodb").update_item(
        TableName=table,
        Key=keys.lead_key(lead["id"]),
        UpdateExpression="SET assigned_to = :who",
        ExpressionAttributeValues={":who": {"S": "morgan"}},
    )
    assert prepare_ledger(table, lead, 1, NOW) is False  # the sweep's copy still says unassigned
    item = aws.client("dynamodb").get_item(TableName=table, Key=escalation_key(lead["id"], 1))
    assert "Item" not in item


def test_an_erased_ledger_item_is_skipped_not_recreated(alert_world: AlertWorld, configure: Any) -> None:
    """The claim needs the ledger item: erasing the lead's partition between the check and the claim wins."""
    configure(BUSINESS_HOURS=ALL_DAY)
    lead = put(alert_world, NOW - timedelta(minutes=20))
    table = alert_world.resources.table_name
    assert prepare_ledger(table, lead, 1, NOW) is True
    assert prepare_ledger(table, lead, 1, NOW) is True  # an existing ledger item is kept
    aws.client("dynamodb").delete_item(TableName=table, Key=escalation_key(lead["id"], 1))
    aws.client("dynamodb").delete_item(TableName=table, Key=keys.lead_key(lead["id"]))
    assert run(NOW)["published"] == []
    assert escalations(alert_world) == {}


def test_business_hours_friday_1759_escalates_monday_0814(alert_world: AlertWorld, configure: Any) -> None:
    configure(BUSINESS_HOURS="naperville=America/Chicago;mon-fri 08:00-18:00")
    friday = datetime(2026, 11, 27, 17, 59, tzinfo=CHICAGO)
    lead = put(alert_world, friday, location="naperville")

    for moment in (friday + timedelta(minutes=30), datetime(2026, 11, 29, 23, 0, tzinfo=CHICAGO)):
        assert run(moment)["published"] == []  # Friday evening, Sunday night: the clock is stopped
    assert run(datetime(2026, 11, 30, 8, 13, 59, tzinfo=CHICAGO))["published"] == []
    assert run(datetime(2026, 11, 30, 8, 14, tzinfo=CHICAGO))["published"] == [f"{lead['id']}-esc1"]
    assert run(datetime(2026, 11, 30, 8, 29, tzinfo=CHICAGO))["published"] == [f"{lead['id']}-esc2"]


def test_an_urgent_lead_is_escalated_at_night_after_five_minutes(
    alert_world: AlertWorld, configure: Any
) -> None:
    configure(BUSINESS_HOURS="naperville=America/Chicago;mon-fri 08:00-18:00")
    sunday_night = datetime(2026, 11, 29, 3, 0, tzinfo=CHICAGO)
    urgent = put(alert_world, sunday_night, urgent=True, in_crisis=True)
    normal = put(alert_world, sunday_night)

    assert run(sunday_night + timedelta(minutes=6))["published"] == [f"{urgent['id']}-esc1"]
    assert run(sunday_night + timedelta(minutes=11))["published"] == [f"{urgent['id']}-esc2"]
    assert escalations(alert_world) == {(urgent["id"], "1"): 1, (urgent["id"], "2"): 1}  # not the normal one
    assert run(sunday_night + timedelta(hours=4))["published"] == []
    assert normal["location"] == "naperville"


def test_escalation_subscribers_receive_only_level_two(alert_world: AlertWorld, configure: Any) -> None:
    configure(BUSINESS_HOURS=ALL_DAY)
    policy = resource("EscalationEmailSubscription1")["Properties"]["FilterPolicy"]
    phones = resource("EscalationPhoneSubscription1")["Properties"]["FilterPolicy"]
    assert phones == {**policy, "sms": ["send"]}
    managers = alert_world.subscribe_queue("test-escalation-emails", filter_policy=policy)
    lead = put(alert_world, NOW - timedelta(minutes=20))
    run(NOW)
    run(NOW + timedelta(minutes=15))
    assert escalations(alert_world) == {(lead["id"], "1"): 1, (lead["id"], "2"): 1}  # all staff: both
    assert escalations(alert_world, managers) == {(lead["id"], "2"): 1}


def test_the_alert_names_no_person_fits_one_sms_and_links_to_the_console(
    alert_world: AlertWorld, configure: Any
) -> None:
    configure(
        BUSINESS_HOURS=ALL_DAY, CONSOLE_URL="https://abcdefghij.execute-api.us-east-1.amazonaws.com/v1/staff/"
    )
    lead = put(alert_world, NOW - timedelta(hours=1), urgent=True, in_crisis=True, service="ptsd")
    run(NOW)
    published = alert_world.published_messages()
    assert len(published) == 2
    for entry in published:
        text = json.dumps(entry)
        for value in (lead["first_name"], lead["last_name"], lead["email"], lead["phone"], lead["message"]):
            assert value not in text
        subject = entry["subject"]
        assert 1 <= len(subject) <= 99
        assert subject.isascii()
        assert lead["id"] in subject
        sms = entry["message"]["sms"]
        assert is_single_gsm7_segment(sms, "Clinic leads")
        attributes = {name: value["Value"] for name, value in entry["attributes"].items()}
        assert attributes["alert_type"] == "escalation"
        assert attributes["priority"] == "urgent"
        assert attributes["lead_id"] == lead["id"]
        link = f"https://abcdefghij.execute-api.us-east-1.amazonaws.com/v1/staff/#{lead['id']}"
        assert link in entry["message"]["email"]
        assert link in sms
    assert sorted(e["attributes"]["escalation_level"]["Value"] for e in published) == ["1", "2"]


def test_the_handler_runs_the_sweep_and_a_bad_business_hours_stops_it(
    alert_world: AlertWorld, configure: Any, lambda_context: Any
) -> None:
    configure(BUSINESS_HOURS=ALL_DAY)
    put(alert_world, datetime.now(UTC) - timedelta(minutes=40))
    result = app.lambda_handler({}, lambda_context)
    assert len(result["published"]) == 2
    configure(BUSINESS_HOURS="naperville=America/Chicago;mon 18:00-08:00")
    with pytest.raises(ConfigurationError, match="BUSINESS_HOURS: 'mon 18:00-08:00': the range 18:00-08:00"):
        app.lambda_handler({}, lambda_context)


def test_every_dynamodb_and_sns_call_throttled_each_level_goes_out_exactly_once(
    alert_world: AlertWorld, configure: Any
) -> None:
    configure(BUSINESS_HOURS=ALL_DAY)
    leads = [put(alert_world, NOW - timedelta(minutes=20 + i)) for i in range(25)]
    answered = put(alert_world, NOW - timedelta(minutes=20), status="contacted")
    with local_faults("dynamodb:*=0.3,sns:*=0.3", seed=20261202) as injector:
        for minute in range(12):  # a run a minute; level 2 falls due at 30-45 minutes
            try:
                run(NOW + timedelta(minutes=minute * 2))
            except StorageUnavailable:
                continue  # the query itself failed after its retries: the next run does it
    with local_faults("", seed=1):
        run(NOW + timedelta(minutes=40))  # whatever the faults left over
    throttled = ("dynamodb:Query", "dynamodb:TransactWriteItems", "dynamodb:UpdateItem", "sns:PublishBatch")
    for operation in throttled:
        assert injector.injected[operation] > 0, operation
    expected = {(lead["id"], level): 1 for lead in leads for level in ("1", "2")}
    assert escalations(alert_world) == expected
    assert answered["id"] not in {lead_id for lead_id, _ in expected}


def test_every_call_the_sweep_makes_is_one_its_role_allows(alert_world: AlertWorld, configure: Any) -> None:
    configure(BUSINESS_HOURS=ALL_DAY)
    put(alert_world, NOW - timedelta(hours=1))
    put(alert_world, NOW - timedelta(hours=1), status="contacted")
    called: set[str] = set()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        if model.name == "TransactWriteItems":
            for item in params["TransactItems"]:
                kind = next(iter(item))
                called.add(
                    "dynamodb:"
                    + {"ConditionCheck": "ConditionCheckItem", "Put": "PutItem", "Update": "UpdateItem"}[kind]
                )
        else:
            called.add(f"{service}:{'Publish' if model.name == 'PublishBatch' else model.name}")

    for service in ("dynamodb", "sns"):
        aws.client(service).meta.events.register(f"before-parameter-build.{service}.*", record)
    run(NOW)
    policy = load_template()["Resources"]["SweepLeadsPolicy"]["Properties"]["PolicyDocument"]
    statements = policy["Statement"]
    allowed = {action for s in statements if isinstance(s, dict) for action in as_list(s.get("Action"))}
    assert called <= allowed
    assert "dynamodb:Query" in called
    assert "dynamodb:Scan" not in allowed
