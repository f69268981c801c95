"""``GET /staff/report`` (admin): the speed-to-lead report's figures for the console, as ``leads report``."""

from __future__ import annotations

from typing import Any

from tests.cli.conftest import SUBMIT_DEFAULTS, Submitter
from tests.staff.conftest import ADMIN_USER, StaffCaller


def test_admin_gets_the_report_and_staff_are_refused(
    staff: StaffCaller, submit: Submitter, staff_env: Any
) -> None:
    waiting = submit()
    assigned = submit(service="ptsd")
    booked = submit(location="oak-brook")
    assert staff("assign", lead_id=assigned).status == 200
    assert staff("status", lead_id=booked, body={"status": "scheduled"}).status == 200

    reply = staff("report", user=ADMIN_USER, groups="admin", query={"since": "1d"})

    assert reply.status == 200
    assert reply.headers["Cache-Control"] == "no-store"
    figures = reply.json()
    assert figures["total"] == 3
    assert figures["by_status"]["new"] == 2  # assigned is answered but still new
    assert figures["by_status"]["scheduled"] == 1
    assert figures["by_service"] == {"anxiety": 2, "ptsd": 1}
    assert figures["by_location"] == {"naperville": 2, "oak-brook": 1}
    assert figures["by_source"] == {"direct": 3}
    assert figures["first_answer"]["answered"] == 2
    assert figures["unanswered"]["count"] == 1
    assert figures["conversions"]["scheduled"] == 1
    for value in (SUBMIT_DEFAULTS["first_name"], SUBMIT_DEFAULTS["email"], "555-0199", waiting):
        assert value not in reply.body  # counts only: no visitor value, no lead id

    assert staff("report", query={"since": "1d"}).status == 403
    refused = staff("report", user=ADMIN_USER, groups="admin", query={"since": "<script>"})
    assert refused.status == 400
    assert "<script>" not in refused.body


def test_the_list_gives_each_unanswered_lead_its_sla_due_time(staff: StaffCaller, submit: Submitter) -> None:
    from leads_core.hours import parse_iso
    from leads_core.settings import load_settings

    waiting = submit()
    assigned = submit(service="ocd")
    assert staff("assign", lead_id=assigned).status == 200

    entries = {entry["id"]: entry for entry in staff("list").json()["leads"]}

    assert entries[assigned]["sla_due_at"] is None
    created = parse_iso(entries[waiting]["created_at"])
    assert created is not None
    expected = load_settings().sla_policy().due_at(created, "naperville", urgent=False)
    assert entries[waiting]["sla_due_at"] == expected.isoformat(timespec="seconds").replace("+00:00", "Z")
