"""The ``staff`` part of the benchmark harness (``staff_list_p99_ms``): what it seeds and what it times.

No timing is asserted: only that the figure is a positive number, that the timed requests were answered 200
with a page of the seeded leads, and that the seeded items have the shape the real write paths give them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from benchmarks import staff
from benchmarks.events import rest_proxy_event
from benchmarks.inprocess import FakeLambdaContext, moto_backend
from benchmarks.local_stack import LocalStackProcess

SMALL = 50


@pytest.fixture(scope="module")
def seeded_stack() -> Iterator[tuple[LocalStackProcess, staff.Seeded]]:
    env = {"LOCATIONS": ",".join(staff.LOCATIONS), "LOCAL_SCHEDULE_SECONDS": "0", "LOCAL_SWEEP_SECONDS": "0"}
    with LocalStackProcess(extra_env=env) as stack:
        seeded = staff.seed(stack, SMALL, progress=lambda _message: None)
        staff.wait_for_stream(stack, seeded, timeout=60)
        yield stack, seeded


@pytest.mark.stack
@pytest.mark.timeout(300)
def test_the_staff_part_reports_a_positive_figure_from_full_pages() -> None:
    result = staff.measure(leads=SMALL, requests=10, filtered=8, progress=lambda _message: None)

    assert isinstance(result["staff_list_p99_ms"], float)
    assert result["staff_list_p99_ms"] > 0
    assert 0 < result["staff_list_p50_ms"] <= result["staff_list_p99_ms"]
    assert result["staff_list_ms"]["n"] == 10
    assert result["staff_list_filtered_ms"]["n"] == 8
    run = result["staff_list_run"]
    assert run["leads"] == SMALL
    assert sum(run["leads_by_status"].values()) == SMALL
    assert run["items_written"] >= SMALL
    assert run["statuses"] == {"200": 10}
    assert run["page_sizes"] == [25], "every timed first page held the console's 25 leads"


@pytest.mark.stack
@pytest.mark.timeout(300)
def test_the_timed_request_is_a_signed_in_first_page_of_the_seeded_leads(
    seeded_stack: tuple[LocalStackProcess, staff.Seeded],
) -> None:
    stack, seeded = seeded_stack
    stored = [item for item in stack.lead_items() if item.get("entity") == "lead"]
    assert len(stored) == seeded.leads == SMALL
    inbox = sorted(
        (item for item in stored if item["status"] != "spam"),
        key=lambda item: item["created_at"],
        reverse=True,
    )

    token = staff.sign_in(stack)
    page = staff.list_page(stack, token)

    assert page.status == 200
    document = page.json()
    assert [lead["id"] for lead in document["leads"]] == [item["id"] for item in inbox[:25]]
    assert document["next"]
    refused = staff.http_request(stack.port, "GET", staff.STAFF_LIST_PATH)
    assert refused.status == 401, "the stack's authorizer is in the timed path"


@pytest.mark.stack
@pytest.mark.timeout(300)
def test_seeded_leads_mix_statuses_locations_and_urgency(
    seeded_stack: tuple[LocalStackProcess, staff.Seeded],
) -> None:
    stack, _seeded = seeded_stack
    items = stack.scan_items()
    leads = [item for item in items if item.get("entity") == "lead"]
    assert {lead["location"] for lead in leads} == set(staff.LOCATIONS)
    assert len({lead["status"] for lead in leads}) >= 4
    for lead in leads:
        assert ("inbox" in lead) == (lead["status"] != "spam")
        assert {"email_hash", "phone_hash", "source_hash", "created_at", "expires_at"} <= set(lead)
    worked = [lead for lead in leads if lead["status"] not in {"new", "spam"}]
    history = [item for item in items if item.get("entity") == "history"]
    assert sorted(item["pk"] for item in history) == sorted(f"LEAD#{lead['id']}" for lead in worked)


def test_a_seeded_lead_is_the_item_the_submit_path_writes() -> None:
    """Same fields through the real submit handler and through the seeding builder: same attributes."""
    with moto_backend({"LOCATIONS": ",".join(staff.LOCATIONS)}) as resources:
        from submit_consultation import app

        builder = staff.LeadItems(resources.table_name, os.environ["HASH_KEY_SECRET_ID"])
        fields = builder.fields(7)
        fields["in_crisis"] = True  # the urgent attributes too
        fields.pop("website", None)
        key = fields.pop("submission_id")
        event = rest_proxy_event(fields, headers={"Idempotency-Key": key}, source_ip="198.51.100.8")
        response = app.lambda_handler(event, FakeLambdaContext())
        assert response["statusCode"] == 201, response["body"]
        written = _only_lead(resources.table_name)

        lead = builder.new_lead({**fields, "submission_id": key}, 7)
        seeded = builder.repository.lead_item(lead, written["id"]["S"], 1.0)

    assert set(seeded) == set(written)
    same = set(written) - {"created_at", "expires_at", "consent_privacy_at", "consent_sms_at"}
    assert {name: seeded[name] for name in same} == {name: written[name] for name in same}


def test_a_worked_lead_has_what_a_staff_status_change_writes() -> None:
    """The seeding's status change and history item against ``LeadsTable.change_status`` on the same lead."""
    from leads_core.store.leads_admin import LeadsTable, StatusUpdate

    with moto_backend({"LOCATIONS": ",".join(staff.LOCATIONS)}) as resources:
        builder = staff.LeadItems(resources.table_name, os.environ["HASH_KEY_SECRET_ID"])
        lead = builder.new_lead({**builder.fields(3), "website": ""}, 3)
        item = builder.repository.lead_item(lead, "7K3M9Q2XAB", 1_700_000_000.0)
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.put_item(TableName=resources.table_name, Item=item)
        at = "2026-12-01T10:00:00.000Z"
        LeadsTable(resources.table_name, dynamodb=client).change_status(
            StatusUpdate("7K3M9Q2XAB", "contacted", None, at, "frontdesk@clinic.local", answers=True)
        )
        items = client.scan(TableName=resources.table_name)["Items"]
        changed = next(i for i in items if i.get("entity") == {"S": "lead"})
        history = next(i for i in items if i.get("entity") == {"S": "history"})

    seeded_lead, seeded_history = builder.worked(item, "contacted", 1_764_583_200.0)
    assert set(seeded_lead) == set(changed)
    assert seeded_lead["status"] == changed["status"]
    assert seeded_lead["inbox"] == changed["inbox"]
    assert set(seeded_history) == set(history)
    assert seeded_history["pk"] == history["pk"]
    assert seeded_history["sk"]["S"].startswith("HIST#")


def _only_lead(table: str) -> dict[str, Any]:
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Items"]
    leads = [item for item in items if item.get("entity") == {"S": "lead"}]
    assert len(leads) == 1
    return dict(leads[0])
