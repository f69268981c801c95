"""``leads set-status``, ``leads erase`` and the audit trail, on leads stored by the real submit handler."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from leads_core.settings import load_settings
from leads_core.store.submit import submission_hash
from leads_core.submission.model import parse_submission

from .conftest import SUBMIT_DEFAULTS, Cli, Submitter, audit_items, lead_ids

MOTO_CALLER_ARN = "arn:aws:sts::123456789012:user/moto"


def test_set_status_with_a_note_then_without(leads: Cli, submit: Submitter) -> None:
    lead_id = submit(submission_id="status-lead-0001")

    change = leads.json("set-status", lead_id, "contacted", "--note", "Left a voicemail, will call at 5")
    shown = leads.json("show", lead_id)

    assert change["id"] == lead_id
    assert change["previous_status"] == "new"
    assert change["status"] == "contacted"
    assert change["status_note"] == "Left a voicemail, will call at 5"
    assert shown["status"] == "contacted"
    assert shown["status_note"] == "Left a voicemail, will call at 5"
    assert shown["status_changed_by"] == MOTO_CALLER_ARN
    assert shown["status_changed_at"] == change["status_changed_at"]
    assert [lead["id"] for lead in leads.json("list", "--status", "contacted")["leads"]] == [lead_id]
    assert leads.json("list", "--status", "new")["leads"] == []

    again = leads.json("set-status", lead_id, "scheduled")
    shown = leads.json("show", lead_id)

    assert again["previous_status"] == "contacted"
    assert again["status_note"] is None
    assert shown["status"] == "scheduled"
    assert "status_note" not in shown  # a note belongs to the change it was written for


def test_set_status_writes_history_and_answers_the_lead_once_and_erase_removes_the_history(
    leads: Cli, submit: Submitter, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    from leads_core.manage import LeadAdmin

    lead_id = submit(submission_id="status-lead-0002")
    table = load_settings().table_name

    first = leads.json("set-status", lead_id, "contacted", "--note", "Voicemail")
    leads.json("set-status", lead_id, "closed")

    lead = LeadAdmin(table).lead_with_history(lead_id)
    assert lead["first_answered_at"] == first["status_changed_at"]
    assert lead["first_answered_by"] == MOTO_CALLER_ARN
    assert [(h["action"], h["status"], h["note"], h["actor"]) for h in lead["history"]] == [
        ("status", "contacted", "Voicemail", MOTO_CALLER_ARN),
        ("status", "closed", None, MOTO_CALLER_ARN),
    ]
    assert leads("erase", lead_id, "--yes").exit_code == 0
    assert [i for i in table_items() if i["pk"] == f"LEAD#{lead_id}"] == []


def test_set_status_human_output(leads: Cli, submit: Submitter) -> None:
    lead_id = submit(submission_id="status-lead-0002")

    result = leads("set-status", lead_id, "not_a_fit", "--note", "Needs inpatient care; referred")

    assert result.exit_code == 0
    assert f"{lead_id}: new -> not_a_fit (note saved)" in result.stdout


def test_set_status_rejects_invalid_status_and_unknown_id(
    leads: Cli, submit: Submitter, aws_calls: Any
) -> None:
    lead_id = submit(submission_id="status-lead-0003")
    aws_calls.calls.clear()

    for status in ("done", "spam", "NEW"):
        invalid = leads("set-status", lead_id, status, "--json")
        assert invalid.exit_code == 6
        assert invalid.stdout == ""
        assert json.loads(invalid.stderr)["exit_code"] == 6
    assert aws_calls.calls == []

    unknown = leads("set-status", "7K3M9Q2XAB", "closed")
    assert unknown.exit_code == 3
    assert leads.json("show", lead_id)["status"] == "new"


def test_erase_by_id_asks_first_and_removes_only_that_lead(
    leads: Cli, submit: Submitter, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    kept = submit(first_name="Kept", email="kept@example.com", submission_id="erase-id-0001")
    erased = submit(first_name="Gone", email="gone@example.com", submission_id="erase-id-0002")

    declined = leads("erase", erased, input="n\n")
    assert declined.exit_code == 8
    assert lead_ids(table_items()) == {kept, erased}

    confirmed = leads("erase", erased, input="y\n")
    assert confirmed.exit_code == 0
    assert "Erased 1 lead." in confirmed.stdout

    items = table_items()
    assert lead_ids(items) == {kept}
    assert not [i for i in items if i["pk"] == "IDEM#erase-id-0002"]  # the digest of the submission went too
    assert [i for i in items if i["pk"] == "IDEM#erase-id-0001"]
    assert leads("show", erased).exit_code == 3
    assert leads("erase", erased, "--yes").exit_code == 3


def test_erase_by_email_removes_every_lead_of_that_person_spam_included(
    leads: Cli, submit: Submitter, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    person = [
        submit(email="Pat.Doe@Example.com", phone="630-555-0111", submission_id="erase-mail-0001"),
        submit(
            email="pat.doe@example.com",
            phone=None,
            preferred_contact="email",
            submission_id="erase-mail-0002",
        ),
        submit(email="pat.doe@example.com", website="http://spam.example", submission_id="erase-mail-0003"),
    ]
    other = submit(email="pat.doe@example.org", phone="630-555-0112", submission_id="erase-mail-0004")
    assert leads.json("list", "--status", "spam")["count"] == 1

    result = leads.json("erase", "--email", "  PAT.DOE@example.COM ", "--yes")

    assert result["erased"] == 3
    assert sorted(result["lead_ids"]) == sorted(person)
    assert result["target"] == "contact:email"
    assert lead_ids(table_items()) == {other}


def test_erase_by_phone_finds_the_number_however_it_was_typed(
    leads: Cli, submit: Submitter, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    typed_with_parentheses = submit(email=None, phone="(630) 555-0142", submission_id="erase-phone-0001")
    typed_international = submit(
        email="x@example.com", phone="+1 630 555 0142", submission_id="erase-phone-0002"
    )
    neighbour = submit(email=None, phone="(630) 555-0143", submission_id="erase-phone-0003")

    result = leads("erase", "--phone", "630-555-0142", input="y\n")

    assert result.exit_code == 0
    assert "Erase 2 leads of this phone?" in result.stderr
    assert "Erased 2 leads." in result.stdout
    assert lead_ids(table_items()) == {neighbour}
    assert typed_with_parentheses not in result.stdout
    assert typed_international not in result.stdout


def _stored_values(items: list[dict[str, Any]]) -> set[str]:
    """Every key and attribute value of the table as text (nested values flattened)."""
    return {str(value) for item in items for value in item.values()}


def test_erase_by_email_removes_the_keyless_dedupe_record_and_a_resubmission_is_a_new_lead(
    leads: Cli, submit: Submitter, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    form = {"email": "robin.keyless@example.com", "phone": "630-555-0177", "message": "Same words twice."}
    first = submit(**form)
    assert submit(**form) == first  # key-less: an identical submission within 10 minutes is the same lead

    items = table_items()
    settings = load_settings()
    digest = parse_submission({**SUBMIT_DEFAULTS, **form}, locations=settings.locations).normalised_digest()
    keyed = submission_hash(settings.hash_key_secret_id, digest)
    (record,) = [i for i in items if str(i["pk"]).startswith("IDEMC#")]
    assert record["pk"] == f"IDEMC#{keyed}"
    assert record["request_digest"] == keyed
    assert not [v for v in _stored_values(items) if digest in v]  # no unkeyed hash of the person's details
    assert "dedupe_hash" not in leads.json("show", first)  # bookkeeping, not shown to staff

    assert leads.json("erase", "--email", "Robin.Keyless@example.com", "--yes")["erased"] == 1
    remaining = table_items()
    assert lead_ids(remaining) == set()
    assert not [i for i in remaining if str(i["pk"]).startswith(("IDEM#", "IDEMC#"))]
    assert not [v for v in _stored_values(remaining) if keyed in v]

    again = submit(**form)
    assert again != first
    (lead,) = [i for i in table_items() if i.get("entity") == "lead"]
    assert lead["id"] == again
    assert lead["status"] == "new"  # alertable: the stream filter passes new leads


def test_erase_by_id_removes_the_keyless_dedupe_record_but_not_another_leads(
    leads: Cli, submit: Submitter, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    erased = submit(email="erase-id-keyless@example.com")
    kept = submit(email="kept-keyless@example.com")

    assert leads.json("erase", erased, "--yes")["erased"] == 1

    records = [i for i in table_items() if str(i["pk"]).startswith("IDEMC#")]
    assert [r["lead_id"] for r in records] == [kept]
    assert submit(email="erase-id-keyless@example.com") != erased
    assert submit(email="kept-keyless@example.com") == kept


def test_erase_by_contact_with_no_match_reports_zero(leads: Cli, submit: Submitter) -> None:
    submit(email="someone@example.com", submission_id="erase-none-0001")

    assert leads.json("erase", "--email", "nobody@example.com")["erased"] == 0


def test_erase_needs_exactly_one_selector_and_a_valid_contact(leads: Cli) -> None:
    assert leads("erase").exit_code == 2
    assert leads("erase", "7K3M9Q2XAB", "--email", "a@example.com").exit_code == 2
    assert leads("erase", "--email", "not an email", "--yes").exit_code == 2
    assert leads("erase", "--phone", "12", "--yes").exit_code == 2
    assert leads("erase", "not-an-id", "--yes").exit_code == 2


MARKERS = ("quentavious", "marblestone", "q.marble", "5550187", "markernote", "markermessage")


def test_audit_trail_records_who_what_when_and_no_visitor_data(
    leads: Cli, submit: Submitter, table_items: Callable[[], list[dict[str, Any]]]
) -> None:
    marked = {
        "first_name": "Quentavious",
        "last_name": "Marblestone",
        "email": "Q.Marble+audit@example.org",
        "phone": "(312) 555-0187",
        "message": "MARKERMESSAGE: I cannot sleep.",
    }
    first = submit(**marked, submission_id="audit-lead-0001")
    second = submit(**marked, submission_id="audit-lead-0002", best_time="morning")

    leads.json("set-status", first, "contacted", "--note", "MARKERNOTE called Quentavious back")
    assert leads.json("show", first)["first_name"] == "Quentavious"
    assert leads.json("list", "--since", "7d")["count"] == 2
    exported = leads("export", "--since", "7d", "--json")
    assert exported.exit_code == 0
    leads.json("erase", "--phone", "312 555 0187", "--yes")
    test_alert = leads.json("alert-test")

    entries = leads.json("audit")["entries"]
    stored = audit_items(table_items())

    actions = {entry["action"] for entry in entries}
    assert actions == {"status", "view", "list", "export", "erase", "alert_test"}
    assert len(stored) == len(entries) == 6
    by_action = {entry["action"]: entry for entry in entries}
    assert all(entry["actor"] == MOTO_CALLER_ARN for entry in entries)
    assert all(entry["at"].endswith("Z") for entry in entries)
    assert by_action["status"]["target"] == f"lead:{first}"
    assert by_action["status"]["details"] == {
        "from_status": "new",
        "to_status": "contacted",
        "has_note": True,
    }
    # Reading a lead or a listing is recorded as the staff console's reads are: who, which, how many.
    assert (by_action["view"]["target"], by_action["view"]["count"]) == (f"lead:{first}", 1)
    assert (by_action["list"]["target"], by_action["list"]["count"]) == ("leads", 2)
    assert by_action["list"]["details"]["status_filter"] == "all"
    assert by_action["list"]["details"]["since"].endswith("Z")
    assert by_action["export"]["count"] == 2
    assert by_action["export"]["details"]["complete"] is True
    assert by_action["erase"]["count"] == 2
    assert by_action["erase"]["target"] == "contact:phone"
    assert sorted(by_action["erase"]["details"]["lead_ids"]) == sorted([first, second])
    assert by_action["alert_test"]["target"] == test_alert["lead_id"]
    # The entries outlive the erasure they record, and hold no visitor value in any attribute.
    assert lead_ids(table_items()) == set()
    dumped = json.dumps(stored, default=str).lower()
    for marker in MARKERS:
        assert marker not in dumped
    assert all(str(item["pk"]).startswith("AUDIT#") and "expires_at" not in item for item in stored)


def test_audit_human_output(leads: Cli, submit: Submitter) -> None:
    lead_id = submit(submission_id="audit-lead-0003")
    leads.json("set-status", lead_id, "closed")

    result = leads("audit")

    assert result.exit_code == 0
    assert "status" in result.stdout
    assert f"lead:{lead_id}" in result.stdout
