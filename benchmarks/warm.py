"""Warm path (in-process, moto): the submit handler against a bare reference handler, and AWS call counts.

Reference handler (documented in README.md): parse the JSON body, the submit handler's own single
``TransactWriteItems`` (same three items, same conditions, recorded from its first accepted submission) under
fresh keys, return 201. Both run in the same process, against the same moto backend, through the same
``leads_core.aws`` DynamoDB client, interleaved in blocks so drift hits both alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import time
from collections.abc import Iterator
from typing import Any

from benchmarks.aws_calls import CallCounter, install_counter
from benchmarks.events import rest_proxy_event, source_ip
from benchmarks.inprocess import ALLOWED_ORIGIN, FakeLambdaContext, moto_backend
from benchmarks.payloads import run_token, submission_key, valid_lead
from benchmarks.stats import summary

BLOCK = 10
TRANSACTION = "dynamodb:TransactWriteItems"


@contextlib.contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """Send fd 1 (where Powertools logs go) to /dev/null: logs are still formatted and written, not shown."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def submission_event(run: str, index: int) -> dict[str, Any]:
    headers = {"Idempotency-Key": submission_key(run, index), "Origin": ALLOWED_ORIGIN}
    return rest_proxy_event(valid_lead(run, index), headers=headers, source_ip=source_ip(index))


def _check_created(response: dict[str, Any]) -> str:
    if response.get("statusCode") != 201:
        raise RuntimeError(f"submit handler answered {response.get('statusCode')} to a valid lead")
    return str(json.loads(response["body"])["id"])


class ReferenceHandler:
    """Parse the JSON, make the submit handler's own ``TransactWriteItems`` under fresh keys, return 201.

    ``transact_items`` is the ``TransactItems`` list the submit handler sent for its first accepted submission
    (what ``LeadRepository.transact_items`` built: idempotency record, lead, rate counter, with their
    conditions). Per request only the keys change: the lead id (lead key, its ``id`` and the idempotency
    record's ``lead_id``), the idempotency key (the request's ``Idempotency-Key``, as the real handler uses
    it) and the rate counter's source (a fresh value of the same length: every benchmark lead comes from its
    own address). Conditions, values and sizes stay those of the real submission.
    """

    def __init__(self, transact_items: list[dict[str, Any]]) -> None:
        self.templates = [_rekey_template(item) for item in transact_items]
        roles = sorted(role for _action, _part, role, _body in self.templates)
        if roles != ["idempotency", "lead", "rate"]:
            raise ValueError(f"unexpected TransactWriteItems layout: {roles}")

    def describe(self) -> list[dict[str, Any]]:
        """What the reference writes, for the report (operation, item kind, condition; no values)."""
        return [
            {"action": action, "item": role, "condition": body.get("ConditionExpression")}
            for action, _part, role, body in self.templates
        ]

    def transact_items(self, lead_id: str, idempotency_key: str) -> list[dict[str, Any]]:
        from leads_core import keys

        items: list[dict[str, Any]] = []
        for action, part, role, body in self.templates:
            values = dict(body[part])
            if role == "lead":
                values.update(keys.lead_key(lead_id))
                values["id"] = {"S": lead_id}
            elif role == "idempotency":
                values.update(keys.idempotency_key(idempotency_key))
                values["lead_id"] = {"S": lead_id}
            else:
                source = values[keys.PK]["S"]
                fresh = secrets.token_hex(len(source))[: len(source) - len(_RATE_PREFIX)]
                values[keys.PK] = {"S": _RATE_PREFIX + fresh}
            items.append({action: {**body, part: values}})
        return items

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        from leads_core import aws, keys

        json.loads(event["body"])
        lead_id = keys.new_lead_id()
        items = self.transact_items(lead_id, event["headers"]["Idempotency-Key"])
        aws.client("dynamodb").transact_write_items(TransactItems=items)
        return {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"id": lead_id, "status": "received"}),
        }


_RATE_PREFIX = "RATE#"
_ROLE_OF_PREFIX = {"LEAD#": "lead", "IDEM#": "idempotency", _RATE_PREFIX: "rate"}


def _rekey_template(item: dict[str, Any]) -> tuple[str, str, str, dict[str, Any]]:
    """``(action, "Item"|"Key", role, body)`` of one transaction item; the role comes from its key prefix."""
    from leads_core import keys

    (action, body), *rest = item.items()
    part = "Item" if action == "Put" else "Key"
    if rest or part not in body:
        raise ValueError(f"unexpected transaction item {sorted(item)}")
    pk = str(body[part][keys.PK]["S"])
    role = next((role for prefix, role in _ROLE_OF_PREFIX.items() if pk.startswith(prefix)), None)
    if role is None:
        raise ValueError(f"unexpected key prefix in the submit transaction: {pk.split('#', maxsplit=1)[0]}")
    return action, part, role, body


def _outside(times: list[float], inside: list[float]) -> dict[str, float | int]:
    """Milliseconds per request outside AWS calls, the first two blocks (warm-up) left out."""
    return summary([(t - a) * 1000 for t, a in zip(times, inside, strict=True)][2 * BLOCK :])


def measure(requests: int, progress: Any = print) -> dict[str, Any]:
    """Warm overhead ratio and synchronous AWS calls per accepted lead (cold first call reported apart)."""
    with moto_backend(), stdout_to_devnull():
        counter: CallCounter = install_counter()
        from submit_consultation import app as submit_app

        context = FakeLambdaContext()
        run = run_token()
        index = 0

        def real(event: dict[str, Any]) -> dict[str, Any]:
            return dict(submit_app.lambda_handler(event, context))

        # Cold container: the first accepted submission (creates the clients, fetches the hash key).
        _check_created(real(submission_event(run, index)))
        cold_calls = counter.snapshot()
        index += 1
        # Warm container: count per accepted submission.
        warm_counts: list[int] = []
        warm_ops: dict[str, int] = {}
        for _ in range(5):
            counter.reset()
            _check_created(real(submission_event(run, index)))
            index += 1
            warm_ops = counter.snapshot()
            warm_counts.append(sum(warm_ops.values()))

        # The first accepted submission's transaction, as the submit handler sent it.
        reference = ReferenceHandler(counter.first_params[TRANSACTION]["TransactItems"])

        def reference_call(event: dict[str, Any]) -> dict[str, Any]:
            return reference(event, context)

        # Each side gets its own valid, distinct leads (own idempotency key and source address).
        total = requests + 2 * BLOCK
        real_events = [submission_event(run, i) for i in range(index, index + total)]
        reference_events = [submission_event(run, i) for i in range(index + total, index + 2 * total)]
        real_times: list[float] = []
        reference_times: list[float] = []
        real_aws: list[float] = []
        reference_aws: list[float] = []
        real_sending: list[float] = []
        reference_sending: list[float] = []
        sides = (
            (real, real_events, real_times, real_aws, real_sending),
            (reference_call, reference_events, reference_times, reference_aws, reference_sending),
        )
        for block_start in range(0, total, BLOCK):
            for handler, events, times, aws_times, sending_times in sides:
                for event in events[block_start : block_start + BLOCK]:
                    counter.reset()
                    started = time.perf_counter()
                    response = handler(event)
                    elapsed = time.perf_counter() - started
                    _check_created(response)
                    times.append(elapsed)
                    aws_times.append(counter.seconds_in_calls)
                    sending_times.append(counter.seconds_sending)
            if block_start and block_start % (BLOCK * 10) == 0:
                progress(f"  warm path {block_start}/{total} requests per side")
        # The first two blocks of each side are warm-up.
        real_ms = summary([t * 1000 for t in real_times[2 * BLOCK :]])
        reference_ms = summary([t * 1000 for t in reference_times[2 * BLOCK :]])
        real_own = _outside(real_times, real_aws)
        reference_own = _outside(reference_times, reference_aws)
        real_backend = summary([a * 1000 for a in real_aws[2 * BLOCK :]])
        reference_backend = summary([a * 1000 for a in reference_aws[2 * BLOCK :]])
        # The split used before 2026-12-02: botocore's request building counted as the handler's own code.
        real_own_and_building = _outside(real_times, real_sending)
        reference_own_and_building = _outside(reference_times, reference_sending)
    return {
        "warm_overhead_ratio": round(float(real_ms["median"]) / float(reference_ms["median"]), 3),
        "submit_handler_ms": real_ms,
        "reference_handler_ms": reference_ms,
        # Where the time goes: inside AWS calls (botocore + moto, from the client method call to its answer)
        # versus the handler's own code.
        "submit_handler_in_aws_calls_ms": real_backend,
        "submit_handler_own_code_ms": real_own,
        "own_code_ms": real_own["median"],
        "reference_handler_in_aws_calls_ms": reference_backend,
        "reference_handler_own_code_ms": reference_own,
        "submit_handler_own_code_and_request_building_ms": real_own_and_building,
        "reference_handler_own_code_and_request_building_ms": reference_own_and_building,
        "reference_transaction": reference.describe(),
        "sync_aws_calls_per_lead": int(summary(warm_counts)["median"]),
        "sync_aws_calls": {
            "warm_per_lead": warm_counts,
            "warm_operations": warm_ops,
            "cold_first_call": sum(cold_calls.values()),
            "cold_operations": cold_calls,
        },
    }
