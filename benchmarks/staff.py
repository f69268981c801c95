"""``staff_list_p99_ms``: ``GET /staff/leads`` (first page) through the local stack, 10,000 leads stored.

The local stack runs as ``make run`` starts it (``benchmarks.local_stack.LocalStackProcess``), with three
locations and its timers off (``LOCAL_SCHEDULE_SECONDS=0``, ``LOCAL_SWEEP_SECONDS=0``): the figure is the
staff list's own latency, not that of a sweep escalating thousands of old ``new`` leads in the same two CPUs.

Seeding goes straight into the table (``BatchWriteItem`` at the stack's AWS endpoint), not through the API:
each lead is a realistic submission (``benchmarks.payloads.valid_lead`` plus a location) that goes through
the submit path's own steps (``parse_submission``, the spam and crisis rules, ``NewLead``) and the submit
path's own item builder (``LeadRepository.lead_item``: keyed hashes with the stack's hash key, ``inbox`` and
the GSI keys). A share is spam (honeypot filled) and a share urgent (``in_crisis``). Leads a staff member
has worked get the attributes a status change writes (``LeadsTable.change_status``: ``status``,
``status_changed_at``/``_by``, the first answer) and one history item each. Creation times spread over the
last year, newest first is what the list shows. The stream still sees every insert: the bench waits until
the alert path has gone through the seeded ``new`` leads before it measures.

Then one sign-in (``InitiateAuth`` ``USER_PASSWORD_AUTH`` at the stack's ``/_local/cognito/`` with the demo
admin the stack prints), and sequential ``GET /staff/leads`` (no filter, the first page: what the console
loads) with the ID token, each on a fresh connection. A few requests with ``status=`` and ``location=`` are
reported apart.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from benchmarks.local_stack import HttpResult, LocalStackProcess, http_request
from benchmarks.payloads import run_token, submission_key, valid_lead
from benchmarks.stats import summary

STAFF_LIST_PATH = "/staff/leads"
COGNITO_PATH = "/_local/cognito/"
LOCATIONS = ("naperville", "oak-brook", "wheaton")
# Staff statuses of the non-spam leads (weights): a year of leads is mostly worked.
STATUS_WEIGHTS = {"new": 6, "contacted": 24, "scheduled": 28, "not_a_fit": 10, "closed": 32}
SPAM_SHARE = 0.08
URGENT_SHARE = 0.04
STAFF_MEMBERS = ("frontdesk@clinic.local", "intake@clinic.local", "admin@clinic.local")
SEED_DAYS = 365
WARM_UP = 5
BATCH_WRITE_LIMIT = 25
_CONSOLE_LINE = re.compile(r"staff console: \S+\s+user: (\S+)\s+password: (\S+)")


@dataclass(frozen=True)
class Seeded:
    leads: int
    items: int
    new_leads: int
    seconds: float
    by_status: dict[str, int]


# --------------------------------------------------------------------------------------------- the items


@contextlib.contextmanager
def leads_core_at(stack: LocalStackProcess) -> Iterator[None]:
    """``leads_core.aws`` (and the keyed-hash key) at the stack's AWS endpoint, restored afterwards."""
    import boto3
    from leads_core import aws, hashing

    saved_session = aws.session()
    saved_env = {name: os.environ.get(name) for name in ("AWS_ENDPOINT_URL", "AWS_ACCOUNT_ID_ENDPOINT_MODE")}
    os.environ["AWS_ENDPOINT_URL"] = stack.aws_endpoint
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
    aws.use_session(
        boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
    )
    hashing.forget_key()
    try:
        yield
    finally:
        hashing.forget_key()
        aws.use_session(saved_session)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class LeadItems:
    """Lead items (and history items) as the submit path and the staff status change write them."""

    def __init__(self, table_name: str, hash_key_secret_id: str, seed: str = "staff-bench") -> None:
        from leads_core.settings import settings_from
        from leads_core.store.submit import LeadRepository

        self.settings = settings_from(
            {
                "TABLE_NAME": table_name,
                "HASH_KEY_SECRET_ID": hash_key_secret_id,
                "LOCATIONS": ",".join(LOCATIONS),
            }
        )
        self.repository = LeadRepository(self.settings)
        self.rng = random.Random(seed)
        self.run = run_token(self.rng)

    def fields(self, index: int) -> dict[str, Any]:
        rng = self.rng
        fields = valid_lead(self.run, index, random.Random(f"{self.run}:{index}"))
        fields["location"] = rng.choice(LOCATIONS)
        fields["submission_id"] = submission_key(self.run, index)
        if rng.random() < URGENT_SHARE:
            fields["in_crisis"] = True
        if rng.random() < SPAM_SHARE:
            fields["website"] = "http://cheap-backlinks.example.net"  # the honeypot: a bot filled it
        return fields

    def new_lead(self, fields: dict[str, Any], index: int) -> Any:
        """The submit path's steps for ``fields``: parse, spam and crisis rules, ``NewLead``."""
        from leads_core import crisis, spam
        from leads_core.store.submit import NewLead
        from leads_core.submission.model import digest_of, parse_submission

        submission = parse_submission(fields, locations=self.settings.locations)
        stored = submission.model_dump(mode="json")
        return NewLead(
            fields=stored,
            digest=digest_of(stored),
            channel="json" if index % 3 else "form",
            source_ip=f"198.51.100.{index % 250 + 1}",
            submission_id=submission.submission_id,
            urgent_reasons=crisis.crisis_reasons(submission),
            spam_reasons=spam.spam_reasons(submission),
        )

    def lead(self, index: int, now: float) -> list[dict[str, Any]]:
        """The lead's item(s): what the submit transaction puts, then for a worked lead its status change."""
        from leads_core.keys import new_lead_id

        lead = self.new_lead(self.fields(index), index)
        item: dict[str, Any] = self.repository.lead_item(lead, new_lead_id(), now)
        if lead.status == "spam":
            return [item]
        status = self.rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
        if status == "new":
            return [item]
        return self.worked(item, status, now + self.rng.uniform(300, 2 * 86400))

    def worked(self, item: dict[str, Any], status: str, at_epoch: float) -> list[dict[str, Any]]:
        """``item`` after a staff status change at ``at_epoch`` (``LeadsTable.change_status``), and its
        history item."""
        from leads_core import keys
        from leads_core.store.submit import iso_timestamp

        at = iso_timestamp(at_epoch)
        actor = self.rng.choice(STAFF_MEMBERS)
        lead_id = item["id"]["S"]
        item = {
            **item,
            "status": {"S": status},
            "status_changed_at": {"S": at},
            "status_changed_by": {"S": actor},
            "inbox": {"S": keys.INBOX_VALUE},
            "first_answered_at": {"S": at},
            "first_answered_by": {"S": actor},
        }
        history = {
            keys.PK: {"S": keys.lead_partition(lead_id)},
            keys.SK: {"S": keys.history_sort_key(at, str(uuid.uuid4()))},
            "entity": {"S": keys.ENTITY_HISTORY},
            "at": {"S": at},
            "actor": {"S": actor},
            "action": {"S": "status"},
            "status": {"S": status},
        }
        return [item, history]


def seed(stack: LocalStackProcess, leads: int, progress: Callable[[str], None] = print) -> Seeded:
    """Write ``leads`` leads (created over the last ``SEED_DAYS`` days) into the stack's table."""
    from leads_local.template import local_outputs

    started = time.perf_counter()
    outputs = local_outputs(port=stack.port, aws_port=stack.aws_port)
    table = outputs["LeadsTableName"]
    dynamodb = stack.aws_client("dynamodb")
    now = time.time()
    by_status: dict[str, int] = {}
    written = 0
    pending: list[dict[str, Any]] = []
    with leads_core_at(stack):
        builder = LeadItems(table, outputs["HashKeySecretArn"])
        for index in range(leads):
            created = now - builder.rng.uniform(60, SEED_DAYS * 86400)
            items = builder.lead(index, created)
            status = items[0]["status"]["S"]
            by_status[status] = by_status.get(status, 0) + 1
            pending.extend(items)
            while len(pending) >= BATCH_WRITE_LIMIT:
                written += _batch_write(dynamodb, table, pending[:BATCH_WRITE_LIMIT])
                del pending[:BATCH_WRITE_LIMIT]
            if index and index % 2000 == 0:
                progress(f"  staff list: {index}/{leads} leads written")
        while pending:
            written += _batch_write(dynamodb, table, pending[:BATCH_WRITE_LIMIT])
            del pending[:BATCH_WRITE_LIMIT]
    return Seeded(
        leads=leads,
        items=written,
        new_leads=by_status.get("new", 0),
        seconds=round(time.perf_counter() - started, 1),
        by_status=dict(sorted(by_status.items())),
    )


def _batch_write(dynamodb: Any, table: str, items: list[dict[str, Any]]) -> int:
    requests: list[dict[str, Any]] = [{"PutRequest": {"Item": item}} for item in items]
    for attempt in range(10):
        answer = dynamodb.batch_write_item(RequestItems={table: requests})
        requests = answer.get("UnprocessedItems", {}).get(table, [])
        if not requests:
            return len(items)
        time.sleep(0.05 * (attempt + 1))
    raise RuntimeError(f"BatchWriteItem left {len(requests)} items unprocessed")


def wait_for_stream(stack: LocalStackProcess, seeded: Seeded, timeout: float = 300.0) -> dict[str, Any]:
    """Until the stream poller has read every seeded insert, the alert function has taken every seeded ``new``
    lead, and nothing has moved for a second (the alert path's own updates are stream records too)."""
    deadline = time.monotonic() + timeout
    previous: dict[str, Any] = {}
    while True:
        health = http_request(stack.port, "GET", "/_local/health").json()
        stream = dict(health.get("stream", {}))
        read = int(stream.get("records_delivered", 0)) + int(stream.get("records_filtered_out", 0))
        busy = sum(int(pool.get("busy", 0)) for pool in health.get("functions", {}).values())
        settled = read >= seeded.items and int(stream.get("records_delivered", 0)) >= seeded.new_leads
        if settled and busy == 0 and stream == previous:
            return stream
        if time.monotonic() > deadline:
            raise TimeoutError(f"the stream poller read {read} of {seeded.items} seeded records in time")
        previous = stream
        time.sleep(1.0)


# ------------------------------------------------------------------------------------------- the requests


def demo_admin(stack: LocalStackProcess) -> tuple[str, str]:
    """The demo admin's email and password from the stack's ``staff console:`` line."""
    for line in stack.output:
        found = _CONSOLE_LINE.search(line)
        if found:
            return found.group(1), found.group(2)
    raise RuntimeError("the local stack printed no 'staff console:' line (no demo admin)")


def sign_in(stack: LocalStackProcess) -> str:
    """The demo admin's ID token, signed in as the console does (same-origin Cognito endpoint)."""
    config = http_request(stack.port, "GET", "/staff/config.json")
    if config.status != 200:
        raise RuntimeError(f"GET /staff/config.json answered {config.status}")
    email, password = demo_admin(stack)
    body = {
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": config.json()["clientId"],
        "AuthParameters": {"USERNAME": email, "PASSWORD": password},
    }
    headers = {
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        "Content-Type": "application/x-amz-json-1.1",
    }
    answer = http_request(stack.port, "POST", COGNITO_PATH, json.dumps(body).encode(), headers)
    if answer.status != 200:
        raise RuntimeError(f"InitiateAuth answered {answer.status}")
    return str(answer.json()["AuthenticationResult"]["IdToken"])


def list_page(stack: LocalStackProcess, token: str, query: str = "") -> HttpResult:
    path = STAFF_LIST_PATH + (f"?{query}" if query else "")
    return http_request(stack.port, "GET", path, headers={"Authorization": token})


@dataclass
class Pages:
    """Latency (ms) and page length of each answered (200) request, and the statuses seen (per filter)."""

    latencies: list[float]
    lengths: list[int]
    statuses: dict[str, int]


def timed_pages(stack: LocalStackProcess, token: str, queries: list[str]) -> Pages:
    pages = Pages([], [], {})
    for query in queries:
        result = list_page(stack, token, query)
        label = f"{query} {result.status}" if query else str(result.status)
        pages.statuses[label] = pages.statuses.get(label, 0) + 1
        if result.status == 200:
            pages.latencies.append(result.elapsed * 1000)
            pages.lengths.append(len(result.json()["leads"]))
    if queries and not pages.latencies:
        raise RuntimeError(f"no GET {STAFF_LIST_PATH} was answered 200: {pages.statuses}")
    return pages


def filtered_queries(count: int) -> list[str]:
    chosen = [f"status={status}" for status in STATUS_WEIGHTS] + [f"location={slug}" for slug in LOCATIONS]
    return [chosen[index % len(chosen)] for index in range(count)]


def measure(
    leads: int = 10_000, requests: int = 200, filtered: int = 40, progress: Callable[[str], None] = print
) -> dict[str, Any]:
    env = {"LOCATIONS": ",".join(LOCATIONS), "LOCAL_SCHEDULE_SECONDS": "0", "LOCAL_SWEEP_SECONDS": "0"}
    with LocalStackProcess(extra_env=env) as stack:
        seeded = seed(stack, leads, progress)
        progress(f"  staff list: {seeded.leads} leads ({seeded.items} items) in {seeded.seconds}s")
        stream = wait_for_stream(stack, seeded)
        token = sign_in(stack)
        timed_pages(stack, token, [""] * WARM_UP)
        first = timed_pages(stack, token, [""] * requests)
        queries = filtered_queries(filtered)
        by_filter = timed_pages(stack, token, queries)
    latency = summary(first.latencies, 2)
    return {
        "staff_list_p50_ms": latency["median"],
        "staff_list_p99_ms": latency["p99"],
        "staff_list_ms": latency,
        "staff_list_filtered_ms": summary(by_filter.latencies, 2) if by_filter.latencies else None,
        "staff_list_run": {
            "leads": seeded.leads,
            "items_written": seeded.items,
            "seed_seconds": seeded.seconds,
            "leads_by_status": seeded.by_status,
            "stream_records_delivered": stream.get("records_delivered"),
            "statuses": first.statuses,
            "page_sizes": sorted(set(first.lengths)),
            "filters": sorted(set(queries)),
            "filtered_statuses": by_filter.statuses,
            "filtered_page_sizes": sorted(set(by_filter.lengths)),
            "requests": requests,
        },
    }
