"""Local stack configuration: settings precedence, handler loading, port errors (no servers started)."""

from __future__ import annotations

import socket

import pytest
from leads_local.container import LazyHandler
from leads_local.poller import HandlerUnavailable
from leads_local.stack import LocalStack, LocalStackError, function_settings, template_settings
from leads_local.template import local_outputs


def test_template_settings_resolve_parameter_defaults_and_skip_resource_refs() -> None:
    values = template_settings()
    assert values["POWERTOOLS_SERVICE_NAME"] == "clinic-leads"
    assert values["LOCATIONS"] == "naperville"
    assert values["RETENTION_DAYS"] == "730"
    assert "TABLE_NAME" not in values  # !Ref LeadsTable: the stack sets it from what it created
    assert "ALLOWED_ORIGINS" not in values  # the parameter has no default


def test_settings_precedence() -> None:
    settings = function_settings(3000, {})
    assert settings["ALLOWED_ORIGINS"] == "http://127.0.0.1:3000,http://localhost:3000"
    assert settings["THANK_YOU_URL"] == "http://127.0.0.1:3000/thank-you"
    assert settings["FORM_URL"] == "http://127.0.0.1:3000/"
    assert settings["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert settings["CONSOLE_URL"] == "http://127.0.0.1:3000/staff/"  # alerts link to this stack's console
    assert settings["ALERT_DETAIL"] == "minimal"  # the template's default
    assert function_settings(3001, {})["CONSOLE_URL"] == "http://127.0.0.1:3001/staff/"
    environ = {
        "ALERT_DETAIL": "contact",
        "CLINIC_NAME": "Oak Clinic",
        "TABLE_NAME": "prod-table",
        "LOCATIONS": "",
    }
    settings = function_settings(3000, environ, {"CLINIC_NAME": "Override"})
    assert settings["ALERT_DETAIL"] == "contact"  # environment honoured
    assert settings["CLINIC_NAME"] == "Override"  # explicit overrides win
    assert settings["LOCATIONS"] == "naperville"  # empty means unset
    assert "TABLE_NAME" not in settings  # resource names never come from the environment


def test_local_outputs_match_the_names_the_stack_creates() -> None:
    outputs = local_outputs(port=3001, aws_port=4567)
    assert outputs["LeadsTableName"] == "clinic-leads-local-LeadsTable"
    assert (
        outputs["StaffAlertsTopicArn"]
        == "arn:aws:sns:us-east-1:123456789012:clinic-leads-local-StaffAlertsTopic"
    )
    assert outputs["AlertFailuresQueueUrl"] == (
        "http://127.0.0.1:4567/123456789012/clinic-leads-local-AlertFailuresQueue"
    )
    assert outputs["ApiUrl"] == "http://127.0.0.1:3001/consultations"
    assert outputs["StaffConsoleUrl"] == "http://127.0.0.1:3001/staff/"


def test_missing_handler_module_is_unavailable_not_fatal() -> None:
    loader = LazyHandler("no_such_function.app")
    with pytest.raises(HandlerUnavailable, match="does not exist yet"):
        loader()
    assert not loader.loaded


def test_given_handler_is_used_as_is() -> None:
    def handler(event: object, context: object) -> None:
        return None

    assert LazyHandler("no_such_function.app", handler)() is handler


@pytest.mark.parametrize("variable", ["PORT", "AWS_PORT"])
def test_port_in_use_is_a_clear_error(variable: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {"port": port, "aws_port": 0} if variable == "PORT" else {"port": 0, "aws_port": port}
        with pytest.raises(LocalStackError, match=rf"^{variable}: "):
            LocalStack(**ports).start()
