"""The staff API route by route, against the moto stack built from template.yaml, with leads stored by the
real submit handler and claims as the Cognito authorizer passes them on."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from leads_core import aws
from leads_local import moto_patches

from tests.cli.conftest import Submitter
from tests.conftest import read_table_items
from tests.staff.conftest import (
    ADMIN_USER,
    DATA_ROUTES,
    STAFF_USER,
    StaffCaller,
    audit_entries,
    invoke_raw,
    staff_event,
)

UNKNOWN_ID = "7K3M9Q2XAB"
MALFORMED_IDS = ("zzz<script>", "7K3M9Q2XAI", "7K3M9Q2XABC", "x" * 300)
STATUS_CHANGES = ("status", "assign")


def partition_items(stack: Any, lead_id: str) -> list[dict[str, Any]]:
    items = read_table_items(aws.client("dynamodb"), stack.table_name)
    return [item for item in items if item["pk"] == f"LEAD#{lead_id}"]


# --- list -------------------------------------------------------------------------------------------------


def test_list_is_newest_first_without_spam_and_each_entry_holds_no_contact_detail(
    staff: StaffCaller, submit: Submitter
) -> None:
    first = submit(first_name="Ada", last_name="Lovelace")
    spam = submit(website="https://spam.example")
    second = submit(first_name="Grace", last_name="Hopper", location="oak-brook")

    reply = staff("list", query={})

    assert reply.status == 200
    document = reply.json()
    assert [lead["id"] for lead in document["leads"]] == [second, first]
    assert spam not in {lead["id"] for lead in document["leads"]}
    assert document["next"] is None
    entry = document["leads"][0]
    assert set(entry) == {
        "id", "status", "created_at", "service", "location", "urgent",
        "referral_type", "assigned_to", "first_name", "last_initial",
        "sla_due_at",  # speed to lead (tests/staff/test_report_route.py)
    }  # fmt: skip
    assert (entry["first_name"], entry["last_initial"], entry["location"]) == ("Grace", "H", "oak-brook")
    assert entry["status"] == "new"
    assert entry["assigned_to"] is None


def test_list_filters_by_status_location_and_urgency(staff: StaffCaller, submit: Submitter) -> None:
    calm = submit()
    urgent = submit(in_crisis=True)
    elsewhere = submit(location="oak-brook")
    spam = submit(first_name="Bot", website="https://spam.example")
    assert staff("status", lead_id=calm, body={"status": "contacted"}).status == 200

    def ids(query: dict[str, str]) -> list[str]:
        reply = staff("list", query=query)
        assert reply.status == 200, reply.body
        return [lead["id"] for lead in reply.json()["leads"]]

    assert ids({"status": "contacted"}) == [calm]
    assert ids({"status": "new"}) == [elsewhere, urgent]
    assert ids({"status": "spam"}) == [spam]
    assert ids({"urgent": "true"}) == [urgent]
    assert ids({"location": "oak-brook"}) == [elsewhere]
    assert ids({"location": "naperville", "urgent": "false"}) == [calm]


def test_each_list_page_is_audited_with_its_count_and_filters_and_no_lead(
    staff: StaffCaller, submit: Submitter, staff_env: Any
) -> None:
    shown = submit(first_name="Listedperson")
    submit(location="oak-brook")

    assert staff("list", query={}).status == 200
    assert staff("list", query={"status": "new", "location": "naperville", "urgent": "false"}).status == 200
    assert staff("list", query={"location": "atlantis"}).status == 400  # refused: nothing read or audited

    listings = [e for e in audit_entries(staff_env.table_name) if e["action"] == "list"]
    assert len(listings) == 2
    (everything,) = [e for e in listings if e["details"]["status_filter"] == "all"]
    (filtered,) = [e for e in listings if e["details"]["status_filter"] == "new"]
    assert (everything["actor"], everything["target"], everything["count"]) == (STAFF_USER, "leads", 2)
    assert everything["details"] == {"status_filter": "all"}
    assert filtered["count"] == 1
    assert filtered["details"] == {
        "status_filter": "new",
        "location_filter": "naperville",
        "urgent_filter": False,
    }
    assert shown not in str(everything)
    assert "Listedperson" not in str(everything)


def test_paging_over_more_than_a_hundred_leads_never_scans(staff: StaffCaller, submit: Submitter) -> None:
    # The local stack's moto patch: a transaction costs O(its items) instead of three copies of the whole
    # table, the same answers (tests/local/test_moto_patches.py); 105 submissions took 20 s in stock moto.
    with moto_patches.installed():
        submitted = [submit(submission_id=f"page-lead-{n:04d}") for n in range(105)]
    scans: list[str] = []
    aws.client("dynamodb").meta.events.register(
        "before-call.dynamodb.Scan", lambda **kwargs: scans.append(kwargs["event_name"])
    )

    first = staff("list", query={})
    assert first.status == 200
    assert len(first.json()["leads"]) == 25  # the default page

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "100"} | ({"cursor": cursor} if cursor else {})
        reply = staff("list", query=query)
        assert reply.status == 200, reply.body
        page = reply.json()
        assert len(page["leads"]) <= 100
        seen.extend(lead["id"] for lead in page["leads"])
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
        assert "LEAD#" not in cursor
        assert "{" not in cursor
    assert seen == list(reversed(submitted))
    assert pages in (2, 3)
    assert scans == []


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJwayI6IHsiUyI6ICJJREVNI3gifX0"},  # {"pk": {"S": "IDEM#x"}}
        {"cursor": "%%%"},
        {"limit": "-7"},
        {"limit": "1017"},
        {"limit": "ten"},
        {"urgent": "maybe"},
        {"status": "lost"},
        {"location": "<b>nowhere</b>"},
    ],
)
def test_bad_list_input_is_refused_without_echo(staff: StaffCaller, query: dict[str, str]) -> None:
    reply = staff("list", query=query)

    assert reply.status in (400, 422)
    for value in query.values():
        assert value not in reply.body


def test_a_cursor_of_one_status_cannot_page_another(staff: StaffCaller, submit: Submitter) -> None:
    for n in range(3):
        submit(submission_id=f"cursor-lead-{n:04d}")
    cursor = staff("list", query={"status": "new", "limit": "1"}).json()["next"]
    assert cursor

    assert staff("list", query={"status": "new", "limit": "1", "cursor": cursor}).status == 200
    assert staff("list", query={"status": "closed", "cursor": cursor}).status == 400
    assert staff("list", query={"cursor": cursor}).status == 400


# --- one lead ---------------------------------------------------------------------------------------------


def test_show_returns_the_lead_with_its_history_and_audits_the_view(
    staff: StaffCaller, submit: Submitter, staff_env: Any
) -> None:
    lead_id = submit(message="Please call after 5.", utm_source="newsletter")
    staff("status", lead_id=lead_id, body={"status": "contacted", "note": "Left a voicemail."})

    reply = staff("show", lead_id=lead_id.lower())

    assert reply.status == 200
    lead = reply.json()
    assert lead["id"] == lead_id
    assert lead["message"] == "Please call after 5."
    assert lead["utm_source"] == "newsletter"
    assert lead["email"] == "jordan.sample@example.com"
    assert [(h["action"], h["status"], h["note"], h["actor"]) for h in lead["history"]] == [
        ("status", "contacted", "Left a voicemail.", STAFF_USER)
    ]
    views = [e for e in audit_entries(staff_env.table_name) if e["action"] == "view"]
    assert [(v["actor"], v["target"]) for v in views] == [(STAFF_USER, f"lead:{lead_id}")]


@pytest.mark.parametrize("route", ["show", "status", "assign", "erase"])
def test_unknown_lead_is_404_and_malformed_ids_are_400_without_echo(staff: StaffCaller, route: str) -> None:
    body = {"status": "contacted"} if route == "status" else None
    groups = "admin" if route == "erase" else "staff"

    assert staff(route, lead_id=UNKNOWN_ID, body=body, groups=groups).status == 404
    for bad in MALFORMED_IDS:
        reply = staff(route, lead_id=bad, body=body, groups=groups)
        assert reply.status == 400, bad
        assert bad not in reply.body
        assert bad.upper() not in reply.body


# --- status and assignment --------------------------------------------------------------------------------


def test_set_status_writes_history_and_answers_the_lead_once(
    staff: StaffCaller, submit: Submitter, staff_env: Any
) -> None:
    lead_id = submit()

    first = staff("status", lead_id=lead_id, body={"status": "contacted", "note": "Spoke briefly."})
    second = staff("status", lead_id=lead_id, body={"status": "scheduled"}, user=ADMIN_USER, groups="admin")

    assert first.status == 200
    assert second.status == 200
    lead = second.json()
    assert lead["status"] == "scheduled"
    assert lead["first_answered_by"] == STAFF_USER
    assert lead["first_answered_at"] == first.json()["first_answered_at"]
    assert [(h["status"], h["actor"], h["note"]) for h in lead["history"]] == [
        ("contacted", STAFF_USER, "Spoke briefly."),
        ("scheduled", ADMIN_USER, None),
    ]
    changes = [e for e in audit_entries(staff_env.table_name) if e["action"] == "status"]
    assert {(e["actor"], e["details"]["to_status"]) for e in changes} == {
        (STAFF_USER, "contacted"),
        (ADMIN_USER, "scheduled"),
    }
    assert [e["details"]["has_note"] for e in sorted(changes, key=lambda e: e["at"])] == [True, False]
    assert "Spoke briefly" not in str(changes)  # the note's text stays out of the audit trail


@pytest.mark.parametrize("body", [{"status": "lost<script>"}, {"status": "spam"}, {}, {"status": 3}])
def test_a_status_outside_the_staff_list_is_422_and_changes_nothing(
    staff: StaffCaller, submit: Submitter, body: dict[str, Any]
) -> None:
    lead_id = submit()

    reply = staff("status", lead_id=lead_id, body=body)

    assert reply.status == 422
    assert "contacted" in reply.json()["message"]
    assert "lost" not in reply.body
    assert staff("show", lead_id=lead_id).json()["status"] == "new"
    assert staff("show", lead_id=lead_id).json()["history"] == []


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '{"status": "contacted", "note": 5}'])
def test_a_malformed_body_is_400(staff: StaffCaller, submit: Submitter, body: str) -> None:
    lead_id = submit()

    assert staff("status", lead_id=lead_id, body=body).status == 400


def test_assign_sets_the_caller_and_answers_the_lead(
    staff: StaffCaller, submit: Submitter, staff_env: Any
) -> None:
    lead_id = submit()

    reply = staff("assign", lead_id=lead_id, body={})

    assert reply.status == 200
    lead = reply.json()
    assert lead["assigned_to"] == STAFF_USER
    assert lead["status"] == "new"
    assert lead["first_answered_by"] == STAFF_USER
    assert [(h["action"], h["actor"]) for h in lead["history"]] == [("assign", STAFF_USER)]
    later = staff("assign", lead_id=lead_id, user=ADMIN_USER, groups="admin").json()
    assert later["assigned_to"] == ADMIN_USER
    assert later["first_answered_by"] == STAFF_USER  # set once
    assert [e["actor"] for e in audit_entries(staff_env.table_name) if e["action"] == "assign"] == [
        ADMIN_USER,
        STAFF_USER,
    ]


def test_concurrent_status_changes_keep_both_history_entries(
    staff: StaffCaller, submit: Submitter, staff_env: Any
) -> None:
    """Two staff members change one lead at the same moment (two Lambda containers: here two threads, each
    with the use case the handler runs; one resolver instance serves one request at a time, as in Lambda).

    DynamoDB applies each request atomically; a lost update comes from two read-then-write sequences
    interleaving between requests. moto's in-process backend is not thread-safe within one request, so each
    thread gets its own client whose calls take one lock: requests interleave as in DynamoDB, never inside."""
    import boto3
    from leads_core.manage import LeadAdmin

    lead_id = submit()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    one_request_at_a_time = threading.Lock()

    def locked_client() -> Any:
        client: Any = boto3.client("dynamodb", region_name="us-east-1")
        make_api_call = client._make_api_call

        def call(operation: str, params: Any) -> Any:
            with one_request_at_a_time:
                return make_api_call(operation, params)

        client._make_api_call = call
        return client

    def change(user: str, status: str) -> None:
        admin = LeadAdmin(staff_env.table_name, dynamodb=locked_client())
        barrier.wait()
        try:
            admin.set_status(lead_id, status, user[:4], user)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=change, args=(STAFF_USER, "contacted")),
        threading.Thread(target=change, args=(ADMIN_USER, "scheduled")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    reply = staff("show", lead_id=lead_id)
    history = reply.json()["history"]
    assert sorted((h["actor"], h["status"], h["note"]) for h in history) == sorted(
        [(STAFF_USER, "contacted", STAFF_USER[:4]), (ADMIN_USER, "scheduled", ADMIN_USER[:4])]
    )
    assert reply.json()["status"] in {"contacted", "scheduled"}


def test_markup_in_fields_is_stored_and_returned_as_data(staff: StaffCaller, submit: Submitter) -> None:
    hostile = {
        "first_name": "<img src=x onerror=alert(1)>",
        "last_name": "evil</script>",
        "message": "</script><script>alert(1)</script> & <b>bold</b> \u202egnp.exe",
    }
    lead_id = submit(**hostile)

    reply = staff("show", lead_id=lead_id)
    listed = staff("list", query={}).json()["leads"][0]

    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    lead = reply.json()
    for name, value in hostile.items():
        assert lead[name] == value
    assert listed["first_name"] == hostile["first_name"]
    assert listed["last_initial"] == "e"


# --- admin routes -----------------------------------------------------------------------------------------


def test_staff_cannot_erase_or_export(staff: StaffCaller, submit: Submitter, staff_env: Any) -> None:
    lead_id = submit()

    assert staff("erase", lead_id=lead_id).status == 403
    assert staff("export", query={}).status == 403
    assert staff("erase", lead_id=lead_id, groups="staff,admin").status == 204  # admin in any claim form

    assert {e["action"] for e in audit_entries(staff_env.table_name)} == {"erase"}


def test_admin_erase_removes_the_whole_partition_and_is_audited(
    staff: StaffCaller, submit: Submitter, staff_env: Any
) -> None:
    lead_id = submit(submission_id="staff-erase-0001")
    staff("status", lead_id=lead_id, body={"status": "contacted", "note": "Called."})
    staff("assign", lead_id=lead_id)
    assert len(partition_items(staff_env, lead_id)) == 3

    reply = staff("erase", lead_id=lead_id, user=ADMIN_USER, groups='["admin"]')

    assert reply.status == 204
    assert reply.body == ""
    assert partition_items(staff_env, lead_id) == []
    items = read_table_items(aws.client("dynamodb"), staff_env.table_name)
    assert not [i for i in items if i.get("lead_id") == lead_id]  # its idempotency record too
    assert staff("show", lead_id=lead_id).status == 404
    erasures = [e for e in audit_entries(staff_env.table_name) if e["action"] == "erase"]
    assert [(e["actor"], e["target"]) for e in erasures] == [(ADMIN_USER, f"lead:{lead_id}")]


def test_admin_export_is_csv_and_audited(staff: StaffCaller, submit: Submitter, staff_env: Any) -> None:
    lead_id = submit(first_name="=HYPERLINK(1)")

    reply = staff("export", user=ADMIN_USER, groups="admin", query={"since": "1d"})

    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert reply.headers["Cache-Control"] == "no-store"
    header, row = reply.body.splitlines()[:2]
    assert header.startswith("id,status,created_at,first_name")
    assert row.startswith(f"{lead_id},new,")
    assert ",'=HYPERLINK(1)," in row
    (entry,) = [e for e in audit_entries(staff_env.table_name) if e["action"] == "export"]
    assert entry["actor"] == ADMIN_USER
    assert entry["count"] == 1
    assert staff("export", user=ADMIN_USER, groups="admin", query={"since": "yesterday"}).status == 400


# --- who may call -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", sorted(DATA_ROUTES))
def test_every_data_route_refuses_a_request_without_claims(
    staff: StaffCaller, submit: Submitter, staff_env: Any, route: str
) -> None:
    lead_id = submit()
    before = read_table_items(aws.client("dynamodb"), staff_env.table_name)

    body = {"status": "closed"} if route == "status" else None
    reply = staff(route, lead_id=lead_id, claims=False, body=body)

    assert reply.status == 401
    assert lead_id not in reply.body
    assert read_table_items(aws.client("dynamodb"), staff_env.table_name) == before


@pytest.mark.parametrize(
    "claims",
    [{"token_use": "access"}, {"aud": "another-client"}, {"cognito:username": ""}],
)
def test_claims_of_another_token_use_or_client_are_refused(staff_env: Any, claims: dict[str, str]) -> None:
    event = staff_event("list")
    event["requestContext"]["authorizer"]["claims"].update(claims)

    assert invoke_raw(event).status == 401


@pytest.mark.parametrize("groups", [None, "", "visitors", "[]"])
def test_a_person_in_neither_group_is_refused(staff: StaffCaller, groups: Any) -> None:
    assert staff("list", groups=groups).status == 403


def test_session_records_the_sign_in(staff: StaffCaller, staff_env: Any) -> None:
    reply = staff("session", body={})

    assert reply.status == 204
    (entry,) = audit_entries(staff_env.table_name)
    assert (entry["actor"], entry["action"]) == (STAFF_USER, "sign_in")
