"""The benchmark harness measures what contract section 6 defines (no timing is asserted anywhere here).

- ``cold_start_ratio`` counts the clients the first accepted submission asks ``leads_core.aws`` for, found by
  running it (not a fixed list), and both timed sides create exactly those clients.
- ``warm_overhead_ratio``'s reference handler makes the submit handler's own single ``TransactWriteItems``
  (same three items, same conditions), only the keys changed.
- ``staff_list_p99_ms`` is not applicable while ``GET /staff/leads`` is a missing route (the staff part:
  ``test_bench_staff.py``).
"""

from __future__ import annotations

import ast
import contextlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from leads_local.template import load_template

from benchmarks import cold_start, local, warm
from benchmarks.aws_calls import install_counter
from benchmarks.inprocess import FakeLambdaContext, moto_backend
from benchmarks.local_stack import REPO_ROOT
from benchmarks.payloads import run_token

# ---------------------------------------------------------------------------------------------- cold start


def test_first_request_clients_in_the_default_configuration() -> None:
    assert sorted(cold_start.first_request_clients()) == ["dynamodb", "secretsmanager"]


def test_first_request_clients_follow_the_code_when_a_captcha_is_configured() -> None:
    # The SSM parameter does not exist: the lead is still accepted (captcha unverified), after asking for SSM.
    captcha = {
        "CAPTCHA_PROVIDER": "turnstile",
        "CAPTCHA_SECRET_PARAM": "/bench/captcha-secret-missing",
        "CAPTCHA_VERIFY_URL": "http://127.0.0.1:9/siteverify",
    }
    assert sorted(cold_start.first_request_clients(captcha)) == ["dynamodb", "secretsmanager", "ssm"]


# Records every botocore client the snippet creates, whoever creates it (boto3 or leads_core.aws).
_RECORD_CLIENTS = """
import botocore.session
_made = []
_create = botocore.session.Session.create_client
def _record(self, service_name, *args, **kwargs):
    _made.append(service_name)
    return _create(self, service_name, *args, **kwargs)
botocore.session.Session.create_client = _record
{body}
print(repr(_made))
"""


def _clients_created_by(body: str) -> list[str]:
    completed = subprocess.run(
        [sys.executable, "-c", _RECORD_CLIENTS.format(body=body)],
        cwd=REPO_ROOT,
        env=cold_start.lambda_like_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    made: list[str] = ast.literal_eval(completed.stdout.strip().splitlines()[-1])
    return made


def test_both_timed_sides_create_exactly_the_first_request_clients() -> None:
    services = ["dynamodb", "secretsmanager", "ssm"]
    bodies = cold_start.snippets(services)
    assert _clients_created_by(bodies["boto3_clients"]) == services
    assert _clients_created_by(bodies["handler_import_and_clients"]) == services


def test_the_timed_environment_holds_the_submit_functions_own_settings() -> None:
    """Every literal variable the template gives the submit function (Globals included), e.g. tracing off and
    no pydantic plugin scan, has the same value where the cold start is timed: the deployed configuration."""
    from leads_local.template import function_environment

    literal = {
        name: value
        for name, value in function_environment("SubmitConsultationFunction").items()
        if isinstance(value, str)
    }
    assert {"POWERTOOLS_TRACE_DISABLED", "PYDANTIC_DISABLE_PLUGINS"} <= set(literal)
    timed = cold_start.lambda_like_environment()
    assert {name: timed.get(name) for name in literal} == literal


# ----------------------------------------------------------------------------------------------- warm path


@contextlib.contextmanager
def first_submission() -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    """moto with the template's resources, the real handler's first accepted submission sent and recorded."""
    with moto_backend() as resources, warm.stdout_to_devnull():
        counter = install_counter()
        from submit_consultation import app

        event = warm.submission_event(run_token(), 0)
        response = app.lambda_handler(event, FakeLambdaContext())
        assert response["statusCode"] == 201
        yield resources, counter, event


def _item(resources: Any, pk: str, sk: str) -> dict[str, Any]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    key = {"pk": {"S": pk}, "sk": {"S": sk}}
    item: dict[str, Any] = client.get_item(TableName=resources.table_name, Key=key, ConsistentRead=True)[
        "Item"
    ]
    return item


def test_reference_handler_makes_the_submit_transaction_under_fresh_keys() -> None:
    with first_submission() as (resources, counter, first_event):
        sent = counter.first_params[warm.TRANSACTION]["TransactItems"]
        first_pk = next(
            i["Put"]["Item"]["pk"]["S"]
            for i in sent
            if i.get("Put", {}).get("Item", {}).get("entity") == {"S": "lead"}
        )
        first_lead = _item(resources, first_pk, "LEAD")
        reference = warm.ReferenceHandler(sent)
        event = warm.submission_event(run_token(), 1)

        counter.reset()
        response = reference(event, FakeLambdaContext())

        assert response["statusCode"] == 201
        assert counter.snapshot() == {"dynamodb:TransactWriteItems": 1}
        lead_id = json.loads(response["body"])["id"]
        lead = _item(resources, f"LEAD#{lead_id}", "LEAD")
        changed = {"pk", "id"}
        assert {k: v for k, v in lead.items() if k not in changed} == {
            k: v for k, v in first_lead.items() if k not in changed
        }
        idempotency = _item(resources, f"IDEM#{event['headers']['Idempotency-Key']}", "IDEM")
        assert idempotency["lead_id"] == {"S": lead_id}
        written = reference.transact_items(lead_id, "unused-key")
        rate_key = next(i["Update"]["Key"] for i in written if "Update" in i)
        assert rate_key["pk"]["S"].startswith("RATE#")
        assert [
            {k: v for k, v in next(iter(i.values())).items() if k not in {"Item", "Key"}} for i in written
        ] == [{k: v for k, v in next(iter(i.values())).items() if k not in {"Item", "Key"}} for i in sent]
        assert reference.describe() == [
            {
                "action": "Put",
                "item": "idempotency",
                "condition": "attribute_not_exists(pk) OR expires_at < :now",
            },
            {"action": "Put", "item": "lead", "condition": "attribute_not_exists(pk)"},
            {"action": "Update", "item": "rate", "condition": "attribute_not_exists(hits) OR hits < :limit"},
        ]
        assert first_event["headers"]["Idempotency-Key"] != event["headers"]["Idempotency-Key"]


def test_reference_handler_is_held_to_the_same_conditions() -> None:
    with first_submission() as (_resources, counter, _event):
        reference = warm.ReferenceHandler(counter.first_params[warm.TRANSACTION]["TransactItems"])
        event = warm.submission_event(run_token(), 1)
        assert reference(event, FakeLambdaContext())["statusCode"] == 201

        # Same Idempotency-Key again: the idempotency record's condition cancels the whole transaction.
        with pytest.raises(ClientError) as raised:
            reference(event, FakeLambdaContext())
        assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
        codes = [reason.get("Code") for reason in raised.value.response["CancellationReasons"]]
        assert codes[0] == "ConditionalCheckFailed"


def test_reference_handler_refuses_an_unknown_transaction_layout() -> None:
    put = {"Put": {"TableName": "t", "Item": {"pk": {"S": "AUDIT#2026-12"}, "sk": {"S": "x"}}}}
    with pytest.raises(ValueError, match="AUDIT"):
        warm.ReferenceHandler([put])


# ------------------------------------------------------------------------------------------- staff figure


@contextlib.contextmanager
def answering(status: int, body: bytes) -> Iterator[Any]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(port=server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("status", "body"),
    [(404, b'{"message": "Not Found"}'), (403, b'{"message": "Missing Authentication Token"}')],
)
def test_staff_list_is_not_applicable_while_the_route_is_missing(status: int, body: bytes) -> None:
    with answering(status, body) as stack:
        reason = local.staff_api_absent(stack.port)
    assert reason is not None
    assert "/staff/leads" in reason


def test_staff_list_is_due_once_the_staff_api_answers() -> None:
    with answering(401, b'{"message": "Unauthorized"}') as stack:
        assert local.staff_api_absent(stack.port) is None


def test_time_in_an_aws_call_starts_when_the_client_method_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    """Request building (validation, serialisation) is inside the call, not the handler's own code."""
    from benchmarks import aws_calls

    ticks = iter(range(1, 100))
    monkeypatch.setattr(aws_calls, "time", SimpleNamespace(perf_counter=lambda: float(next(ticks))))
    with moto_backend() as resources:
        counter = install_counter()
        from leads_core import aws

        counter.reset()
        aws.client("dynamodb").describe_table(TableName=resources.table_name)
    # One clock reading each: call start (1), request built (2), answer (3).
    assert counter.seconds_in_calls == 2.0
    assert counter.seconds_sending == 1.0


def test_the_cold_start_environment_has_no_console_url_like_the_templates_submit_function() -> None:
    resources = load_template()["Resources"]
    submit_env = resources["SubmitConsultationFunction"]["Properties"]["Environment"]["Variables"]
    alerts_env = resources["SendAlertsFunction"]["Properties"]["Environment"]["Variables"]
    assert "CONSOLE_URL" in alerts_env
    assert "CONSOLE_URL" not in submit_env
    assert "CONSOLE_URL" not in cold_start.lambda_like_environment()
