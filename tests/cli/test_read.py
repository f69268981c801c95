"""``leads list``, ``leads show`` and ``leads export`` against leads stored by the real submit handler."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError
from click.testing import CliRunner
from leads_core import aws
from leads_core.manage import EXPORT_COLUMNS, SHOW_FIELDS, iso_now

from .conftest import Cli, Submitter, audit_items


def test_list_is_newest_first_and_hides_spam(leads: Cli, submit: Submitter) -> None:
    first = submit(first_name="Ada", submission_id="list-order-0001")
    second = submit(first_name="Bea", submission_id="list-order-0002")
    spam = submit(first_name="Cal", website="https://cheap-seo.example", submission_id="list-order-0003")
    third = submit(first_name="Dee", submission_id="list-order-0004")

    listed = leads.json("list")

    assert [lead["id"] for lead in listed["leads"]] == [third, second, first]
    assert listed["count"] == 3
    assert listed["truncated"] is False
    assert [lead["id"] for lead in leads.json("list", "--status", "spam")["leads"]] == [spam]
    before_the_command = leads("--json", "list", "--status", "all")
    assert [lead["id"] for lead in json.loads(before_the_command.stdout)["leads"]] == [third, second, first]


def test_list_pages_through_the_index_with_a_small_page_size(
    leads: Cli, submit: Submitter, aws_calls: Any
) -> None:
    submitted = [submit(first_name=f"Page{n}", submission_id=f"paging-lead-{n:04d}") for n in range(7)]

    listed = leads.json("list", "--page-size", "2")

    assert [lead["id"] for lead in listed["leads"]] == list(reversed(submitted))
    # 7 non-spam leads in pages of 2: 4 queries of the Inbox index, one page in memory at a time.
    assert aws_calls.count("dynamodb.Query") == 4
    assert aws_calls.count("dynamodb.Scan") == 0


def test_list_limit_reports_truncation(leads: Cli, submit: Submitter) -> None:
    submitted = [submit(first_name=f"Lim{n}", submission_id=f"limit-lead-{n:04d}") for n in range(3)]

    listed = leads.json("list", "--limit", "2", "--page-size", "1")

    assert [lead["id"] for lead in listed["leads"]] == [submitted[2], submitted[1]]
    assert listed["truncated"] is True


def test_list_filters_by_status_and_since(leads: Cli, submit: Submitter) -> None:
    old = submit(first_name="Old", submission_id="since-lead-0001")
    contacted_old = submit(first_name="Older", submission_id="since-lead-0002")
    cutoff = iso_now(datetime.now(UTC))
    new = submit(first_name="New", submission_id="since-lead-0003")
    contacted_new = submit(first_name="Newer", submission_id="since-lead-0004")
    for lead_id in (contacted_old, contacted_new):
        assert leads("set-status", lead_id, "contacted").exit_code == 0

    since = [lead["id"] for lead in leads.json("list", "--since", cutoff)["leads"]]
    contacted = [lead["id"] for lead in leads.json("list", "--status", "contacted")["leads"]]
    both = [lead["id"] for lead in leads.json("list", "--status", "contacted", "--since", cutoff)["leads"]]
    new_only = [lead["id"] for lead in leads.json("list", "--status", "new")["leads"]]

    assert since == [contacted_new, new]
    assert contacted == [contacted_new, contacted_old]
    assert both == [contacted_new]
    assert new_only == [new, old]


def test_list_rejects_unknown_status_and_bad_since(leads: Cli, stack: Any, aws_calls: Any) -> None:
    bad_status = leads("list", "--status", "pending")
    bad_since = leads("list", "--since", "last tuesday")

    assert bad_status.exit_code == 6
    assert "pending" in bad_status.stderr
    assert bad_status.stdout == ""
    assert bad_since.exit_code == 2
    assert aws_calls.calls == []


def test_list_human_output_names_the_leads(leads: Cli, submit: Submitter) -> None:
    lead_id = submit(first_name="Rosalind", last_name="Quill", submission_id="human-list-0001")

    result = leads("list")

    assert result.exit_code == 0
    assert lead_id in result.stdout
    assert "Rosalind Quill" in result.stdout


def test_show_prints_every_submitted_field_and_no_internal_ones(leads: Cli, submit: Submitter) -> None:
    lead_id = submit(
        first_name="Jordan",
        last_name="Sample",
        email="Jordan.Sample@Example.COM",
        phone="(630) 555-0142",
        heard_about="Search engine",
        utm_source="google",
        utm_campaign="tms-fall",
        submission_id="show-lead-0001",
    )

    lead = leads.json("show", lead_id)

    assert list(lead)[: len(SHOW_FIELDS)] == list(SHOW_FIELDS)
    assert lead["id"] == lead_id
    assert lead["status"] == "new"
    assert lead["first_name"] == "Jordan"
    assert lead["last_name"] == "Sample"
    assert lead["email"] == "Jordan.Sample@example.com"
    assert lead["phone"] == "+16305550142"
    assert lead["preferred_contact"] == "phone"
    assert lead["best_time"] == "evening"
    assert lead["service"] == "anxiety"
    assert lead["location"] == "naperville"
    assert lead["referral_type"] == "self"
    assert lead["message"] == "I would like to talk to someone about panic attacks."
    assert lead["urgent"] is False
    assert lead["heard_about"] == "Search engine"
    assert lead["utm_source"] == "google"
    assert lead["utm_campaign"] == "tms-fall"
    assert lead["consent_privacy"] is True
    assert lead["submission_id"] == "show-lead-0001"
    assert lead["created_at"].endswith("Z")
    for internal in ("pk", "sk", "entity", "email_hash", "phone_hash", "source_hash", "attribution"):
        assert internal not in lead


def test_show_accepts_a_lower_case_id_and_prints_a_table(leads: Cli, submit: Submitter) -> None:
    lead_id = submit(first_name="Morgan", submission_id="show-lead-0002")

    result = leads("show", lead_id.lower())

    assert result.exit_code == 0
    assert "(deleted automatically)" in result.stdout
    assert lead_id in result.stdout
    assert "Morgan" in result.stdout


def test_show_unknown_id_exits_3_and_malformed_id_exits_2_without_calling_aws(
    leads: Cli, stack: Any, aws_calls: Any
) -> None:
    unknown = leads("show", "7K3M9Q2XAB", "--json")
    assert unknown.exit_code == 3
    assert unknown.stdout == ""
    assert json.loads(unknown.stderr)["exit_code"] == 3

    aws_calls.calls.clear()
    malformed = leads("show", "not-an-id")
    assert malformed.exit_code == 2
    assert aws_calls.calls == []


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_export_csv_has_a_header_and_stable_columns(leads: Cli, submit: Submitter) -> None:
    plain = submit(first_name="Plain", email=None, phone="630-555-0101", submission_id="export-lead-0001")
    rich = submit(
        first_name="Rich",
        email="rich@example.com",
        message='=HYPERLINK("http://evil.example")',
        utm_source="newsletter",
        submission_id="export-lead-0002",
    )

    result = leads("export")

    assert result.exit_code == 0
    rows = _csv(result.stdout)
    assert rows[0] == list(EXPORT_COLUMNS)
    assert all(len(row) == len(EXPORT_COLUMNS) for row in rows)
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [r["id"] for r in records] == [rich, plain]
    assert records[0]["utm_source"] == "newsletter"
    assert records[0]["message"].startswith("'=")  # a spreadsheet must not run it as a formula
    assert records[0]["urgent"] == "false"
    assert records[1]["email"] == ""
    assert records[1]["phone"] == "+16305550101"
    assert "Exported 2 leads" in result.stderr


def test_export_json_lines_and_since(leads: Cli, submit: Submitter) -> None:
    submit(first_name="Before", submission_id="export-lead-0003")
    cutoff = iso_now(datetime.now(UTC))
    after = submit(first_name="After", submission_id="export-lead-0004")

    result = leads("export", "--since", cutoff, "--json")

    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == [after]
    assert list(lines[0]) == list(EXPORT_COLUMNS)

    explicit = leads("export", "--format", "json")
    assert [json.loads(line)["first_name"] for line in explicit.stdout.splitlines()] == ["After", "Before"]


def test_export_to_a_private_file(leads: Cli, submit: Submitter, tmp_path: Path) -> None:
    lead_id = submit(first_name="Filed", submission_id="export-lead-0005")
    target = tmp_path / "week.csv"

    summary = leads.json("export", "-o", str(target))

    assert summary == {"rows": 1, "format": "csv", "file": str(target)}
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    rows = _csv(target.read_text(encoding="utf-8"))
    assert rows[0] == list(EXPORT_COLUMNS)
    assert rows[1][0] == lead_id


def test_export_over_an_existing_readable_file_leaves_a_private_file(
    leads: Cli, submit: Submitter, tmp_path: Path
) -> None:
    lead_id = submit(first_name="Refiled", submission_id="export-lead-0006")
    target = tmp_path / "shared.csv"
    target.write_text("last week's export\n", encoding="utf-8")
    target.chmod(0o644)

    summary = leads.json("export", "-o", str(target))

    assert summary == {"rows": 1, "format": "csv", "file": str(target)}
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    rows = _csv(target.read_text(encoding="utf-8"))
    assert rows[0] == list(EXPORT_COLUMNS)
    assert [row[0] for row in rows[1:]] == [lead_id]
    assert [p.name for p in tmp_path.iterdir()] == ["shared.csv"]  # no temporary file left


def test_a_failed_export_keeps_the_existing_file_and_leaves_no_partial_file(
    leads: Cli, submit: Submitter, tmp_path: Path, cli_env: dict[str, str | None]
) -> None:
    for n in range(3):
        submit(first_name=f"Paged{n}", submission_id=f"export-lead-001{n}")
    target = tmp_path / "keep.csv"
    target.write_text("last week's export\n", encoding="utf-8")
    dynamodb = aws.client("dynamodb")
    pages: list[str] = []

    def fail_second_page(event_name: str, **_: Any) -> Any:
        pages.append(event_name)
        if len(pages) < 2:
            return None
        error = {"Error": {"Code": "InternalServerError", "Message": "injected"}}
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 500, HTTPHeaders(), None), {
            **error,
            "ResponseMetadata": {"HTTPStatusCode": 500},
        }

    dynamodb.meta.events.register("before-call.dynamodb.Query", fail_second_page)
    dynamodb.meta.events.register("before-call.dynamodb.Scan", fail_second_page)
    try:
        result = Cli(CliRunner(env={**cli_env, "LEADS_PAGE_SIZE": "1"}))("export", "-o", str(target))
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb.Query", fail_second_page)
        dynamodb.meta.events.unregister("before-call.dynamodb.Scan", fail_second_page)

    assert result.exit_code != 0
    assert len(pages) >= 2
    assert target.read_text(encoding="utf-8") == "last week's export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]


def test_export_json_to_stdout_refuses_csv(leads: Cli) -> None:
    result = leads("export", "--json", "--format", "csv")

    assert result.exit_code == 2
    assert result.stdout == ""


def test_show_of_an_unknown_lead_records_no_view(leads: Cli, table_items: Any) -> None:
    assert leads("show", "7K3M9Q2XAB", "--json").exit_code == 3
    assert audit_items(table_items()) == []


def test_show_prints_nothing_when_its_view_cannot_be_recorded(leads: Cli, submit: Submitter) -> None:
    lead_id = submit(first_name="Unrecorded", submission_id="show-lead-0003")

    def audit_write_refused(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "PutItem"
        )

    events = aws.client("dynamodb").meta.events
    events.register("before-call.dynamodb.PutItem", audit_write_refused)
    try:
        refused = leads("show", lead_id)
    finally:
        events.unregister("before-call.dynamodb.PutItem", audit_write_refused)

    assert refused.exit_code == 1
    assert "ProvisionedThroughputExceededException on PutItem" in refused.stderr
    assert "Unrecorded" not in refused.stdout + refused.stderr
    assert leads.json("show", lead_id)["first_name"] == "Unrecorded"  # once the audit can be written
