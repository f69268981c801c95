"""``leads_core.manage`` and the CLI's error mapping: the pure parts without AWS, the lazy paging and the
export audit against moto."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, NoCredentialsError
from click.testing import CliRunner
from leads_cli.app import (
    EXIT_ACCESS_DENIED,
    EXIT_AWS_UNREACHABLE,
    EXIT_NOT_FOUND,
    EXIT_TARGET,
    State,
    translate_error,
)
from leads_cli.main import cli
from leads_cli.output import csv_cell
from leads_core import manage
from leads_core.errors import LeadNotFound

from .conftest import Cli, Submitter

NOW = datetime(2026, 11, 29, 13, 45, 12, 345678, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-23", "2026-11-23T00:00:00.000Z"),
        ("2026-11-23T08:00", "2026-11-23T08:00:00.000Z"),
        ("2026-11-23T08:00:00-06:00", "2026-11-23T14:00:00.000Z"),
        ("2026-11-23T08:00:00.5Z", "2026-11-23T08:00:00.500Z"),
        ("7d", "2026-11-22T13:45:12.345Z"),
        ("24h", "2026-11-28T13:45:12.345Z"),
    ],
)
def test_parse_since(value: str, expected: str) -> None:
    assert manage.parse_since(value, now=NOW) == expected


@pytest.mark.parametrize("value", ["yesterday", "7w", "", "2026-13-01"])
def test_parse_since_rejects(value: str) -> None:
    with pytest.raises(manage.InvalidSince):
        manage.parse_since(value, now=NOW)


def test_lead_ids_are_checked_and_upper_cased() -> None:
    assert manage.check_lead_id(" 7k3m9q2xab ") == "7K3M9Q2XAB"
    for bad in ("7K3M9Q2XA", "7K3M9Q2XABC", "7K3M9Q2XAI", "LEAD#7K3M9Q2XAB", ""):
        with pytest.raises(manage.InvalidLeadId):
            manage.check_lead_id(bad)


def test_contacts_normalise_like_the_intake() -> None:
    assert manage.normalise_contact("phone", "(630) 555-0142") == "+16305550142"
    assert manage.normalise_contact("phone", " 630-555-0142 ") == "+16305550142"
    assert manage.normalise_contact("email", "Pat.Doe@EXAMPLE.com") == "Pat.Doe@example.com"
    with pytest.raises(manage.InvalidContact):
        manage.normalise_contact("phone", "555")
    with pytest.raises(manage.InvalidContact):
        manage.normalise_contact("email", "pat.doe@")


def test_public_lead_hides_keys_and_hashes_and_flattens_attribution() -> None:
    item = {
        "pk": {"S": "LEAD#7K3M9Q2XAB"},
        "sk": {"S": "LEAD"},
        "entity": {"S": "lead"},
        "id": {"S": "7K3M9Q2XAB"},
        "status": {"S": "new"},
        "created_at": {"S": "2026-11-29T13:45:12.345Z"},
        "email_hash": {"S": "a" * 64},
        "phone_hash": {"S": "b" * 64},
        "source_hash": {"S": "c" * 64},
        "alert_lease_until": {"N": "1795960000"},
        "attribution": {"M": {"utm_source": {"S": "google"}}},
        "expires_at": {"N": "1859031912"},
        "urgent": {"BOOL": True},
    }

    lead = manage.public_lead(item)

    assert list(lead)[: len(manage.SHOW_FIELDS)] == list(manage.SHOW_FIELDS)
    assert lead["utm_source"] == "google"
    assert lead["expires_at"] == 1859031912
    assert lead["first_name"] is None
    assert not {"pk", "sk", "entity", "email_hash", "phone_hash", "source_hash", "alert_lease_until"} & set(
        lead
    )


def test_csv_cells() -> None:
    assert csv_cell(None) == ""
    assert csv_cell(True) == "true"
    assert csv_cell(["message", "self_reported"]) == "message;self_reported"
    assert csv_cell("+16305550142") == "+16305550142"
    assert csv_cell("=1+1") == "'=1+1"
    assert csv_cell("+1 (call me)") == "'+1 (call me)"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("-2") == "'-2"


def test_audit_details_refuse_unknown_keys_and_free_text(stack: Any) -> None:
    lead_admin = manage.LeadAdmin(stack.table_name)
    with pytest.raises(ValueError, match="not an allowed key"):
        lead_admin.record_audit("arn:aws:iam::1:user/a", "erase", "lead:7K3M9Q2XAB", 1, {"email": "x"})
    for visitor_value in ("Pat Doe", "pat@example.com", "+16305550142", "6305550142"):
        with pytest.raises(ValueError, match="codes, counts"):
            lead_admin.record_audit(
                "arn:aws:iam::1:user/a", "erase", "contact:phone", 1, {"kind": visitor_value}
            )


def test_listing_is_lazy(leads: Cli, submit: Submitter, aws_calls: Any) -> None:
    for n in range(6):
        submit(first_name=f"Lazy{n}", submission_id=f"lazy-lead-{n:04d}")
    aws_calls.calls.clear()

    listed = leads.json("list", "--limit", "1", "--page-size", "1")

    assert listed["count"] == 1
    # The Inbox index: its first page and one more to know the list is truncated; not every page.
    assert aws_calls.count("dynamodb.Query") <= len(manage.STAFF_STATUSES) + 2


def test_an_interrupted_export_is_audited_as_incomplete(stack: Any, submit: Submitter) -> None:
    for n in range(3):
        submit(first_name=f"Export{n}", submission_id=f"partial-export-{n:04d}")
    lead_admin = manage.LeadAdmin(stack.table_name, page_size=1)

    rows = lead_admin.export_rows(actor="arn:aws:iam::123456789012:user/frontdesk", since="2026-01-01")
    first = next(rows)
    rows.close()

    (entry,) = list(lead_admin.iter_audit())
    assert first["first_name"] == "Export2"
    assert entry["action"] == "export"
    assert entry["count"] == 1
    assert entry["details"]["complete"] is False
    assert entry["actor"] == "arn:aws:iam::123456789012:user/frontdesk"


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}}, "Query")


@pytest.mark.parametrize(
    ("exception", "exit_code"),
    [
        (LeadNotFound("7K3M9Q2XAB"), EXIT_NOT_FOUND),
        (NoCredentialsError(), EXIT_AWS_UNREACHABLE),
        (_client_error("ExpiredTokenException"), EXIT_AWS_UNREACHABLE),
        (_client_error("AccessDeniedException"), EXIT_ACCESS_DENIED),
        (_client_error("ResourceNotFoundException"), EXIT_TARGET),
        (_client_error("InternalServerError"), 1),
        (RuntimeError("boom"), 1),
    ],
)
def test_errors_map_to_documented_exit_codes(exception: Exception, exit_code: int) -> None:
    assert translate_error(exception, State()).exit_code == exit_code


def test_help_documents_the_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["--help"])

    assert result.exit_code == 0
    for line in ("3  not found", "4  no target", "5  no AWS credentials", "6  invalid status"):
        assert line in result.stdout


def test_erase_without_a_terminal_and_without_yes_changes_nothing(leads: Cli, submit: Submitter) -> None:
    lead_id = submit(submission_id="erase-batch-0001")

    result = leads("erase", lead_id)

    assert result.exit_code == 8
    assert leads.json("show", lead_id)["id"] == lead_id
