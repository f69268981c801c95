"""The functions' table access is limited to the key prefixes they write; parameters have the functions'
bounds; no visitor address or user agent reaches X-Ray or the access log.

The key-prefix tests check the policy against the keys the real submit handler writes (moto, every table
request recorded), so a new item kind on the submit path without a policy change fails here.
"""

from __future__ import annotations

import copy
from fnmatch import fnmatchcase
from typing import Any

import pytest
from leads_core import aws, keys
from leads_core.settings import Settings

from tests.conftest import load_event
from tests.template.sam import transformed
from tests.template.test_template import Template, as_list, function_policy, stage

TABLE_ARN = {"Fn::GetAtt": ["LeadsTable", "Arn"]}
AUDIT_KEY = keys.audit_partition("2026-12")


def table_statements(template: Template, function_id: str) -> list[dict[str, Any]]:
    """Allow statements of the function's role on the table itself (not its stream)."""
    return [
        s
        for s in function_policy(template, function_id)
        if s["Effect"] == "Allow" and TABLE_ARN in as_list(s["Resource"])
    ]


def leading_key_patterns(template: Template, function_id: str) -> list[str]:
    """The ``dynamodb:LeadingKeys`` patterns every table statement of the function is limited to."""
    patterns: list[list[str]] = []
    for statement in table_statements(template, function_id):
        condition = statement.get("Condition", {})
        assert set(condition) == {"ForAllValues:StringLike"}, statement
        assert set(condition["ForAllValues:StringLike"]) == {"dynamodb:LeadingKeys"}, statement
        patterns.append(as_list(condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]))
    assert patterns, f"{function_id} has no statement on the table"
    assert all(p == patterns[0] for p in patterns)
    return patterns[0]


def allowed(patterns: list[str], partition_key: str) -> bool:
    """IAM StringLike: ``*`` any characters, ``?`` one (no other pattern characters are used here)."""
    assert all("[" not in p for p in patterns)
    return any(fnmatchcase(partition_key, pattern) for pattern in patterns)


# --- dynamodb:LeadingKeys ---------------------------------------------------------------------------------


def test_submit_role_may_write_only_lead_idempotency_dedupe_and_rate_items(dev: Template) -> None:
    patterns = leading_key_patterns(dev, "SubmitConsultationFunction")
    assert sorted(patterns) == ["IDEM#*", "IDEMC#*", "LEAD#*", "RATE#*"]
    assert not allowed(patterns, AUDIT_KEY)
    assert not allowed(patterns, "IDEX#x")


def test_alert_roles_may_touch_only_lead_items_and_storm_windows(dev: Template) -> None:
    from leads_core import storm

    for function_id in ("SendAlertsFunction", "ReplayAlertsFunction"):
        statements = table_statements(dev, function_id)
        patterns = sorted({p for s in statements for p in as_list(_leading_keys(s))})
        assert patterns == ["LEAD#*", "STORM#*"], function_id
        assert allowed(patterns, keys.lead_key("7K3M9Q2XAB")["pk"]["S"])
        assert allowed(patterns, storm.window_key(1_764_655_800)["pk"]["S"])
        idempotency, rate = keys.idempotency_key("k")["pk"]["S"], keys.rate_key("h", "2026120100")["pk"]["S"]
        assert not [key for key in (AUDIT_KEY, idempotency, rate) if allowed(patterns, key)], function_id


def _leading_keys(statement: dict[str, Any]) -> Any:
    condition = statement.get("Condition", {})
    assert set(condition) == {"ForAllValues:StringLike"}, statement
    return condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]


class TableRequests:
    """Partition keys of every item a DynamoDB call of ``leads_core.aws`` names (parameters as given)."""

    def __init__(self) -> None:
        self.partition_keys: list[tuple[str, str]] = []

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.service_model.service_name != "dynamodb":
            return
        items = [params] if "Key" in params or "Item" in params else []
        for entry in params.get("TransactItems", []):
            items += list(entry.values())
        for item in items:
            key = item.get("Key") or item.get("Item") or {}
            self.partition_keys.append((model.name, key["pk"]["S"]))


@pytest.fixture
def table_requests(stack: Any) -> Any:
    aws.reset()
    recorder = TableRequests()
    aws.session().events.register("before-parameter-build.dynamodb", recorder)
    yield recorder
    aws.reset()


def test_every_key_the_submit_handler_writes_is_allowed(
    dev: Template, stack: Any, table_requests: TableRequests, lambda_context: Any
) -> None:
    from submit_consultation import app

    keyed = load_event("submit_duplicate")  # Idempotency-Key header
    keyless = load_event("submit_valid_json")
    assert "Idempotency-Key" not in keyless["headers"]
    for event in (keyed, keyed, keyless, keyless, load_event("submit_valid_form")):
        assert app.lambda_handler(copy.deepcopy(event), lambda_context)["statusCode"] in {201, 303}

    patterns = leading_key_patterns(dev, "SubmitConsultationFunction")
    prefixes = {pk.split("#", 1)[0] for _, pk in table_requests.partition_keys}
    assert prefixes == {"LEAD", "RATE", "IDEM", "IDEMC"}
    assert [(op, pk) for op, pk in table_requests.partition_keys if not allowed(patterns, pk)] == []


# --- parameters have the functions' bounds ------------------------------------------------------------------

# Template parameter -> the Settings field it becomes (through the environment variable the template sets).
BOUNDED_PARAMETERS = ("ClinicName", "RetentionDays", "SpamRetentionDays", "RateLimitPerHour")


def settings_field_of(parameter: str) -> str:
    """The Settings field a parameter feeds: the function environment variable that is ``!Ref`` to it."""
    resources = transformed()["Resources"]
    names = {
        name
        for function_id in ("SubmitConsultationFunction", "SendAlertsFunction")
        for name, value in resources[function_id]["Properties"]["Environment"]["Variables"].items()
        if value == {"Ref": parameter}
    }
    assert len(names) == 1, (parameter, names)
    field = names.pop().lower()
    assert field in Settings.model_fields
    return field


def field_bounds(field: str) -> dict[str, int]:
    """min/max length or value of a Settings field, read from its pydantic constraints."""
    bounds: dict[str, int] = {}
    for constraint in Settings.model_fields[field].metadata:
        for attribute in ("min_length", "max_length", "ge", "le"):
            value = getattr(constraint, attribute, None)
            if value is not None:
                bounds[attribute] = value
    return bounds


@pytest.mark.parametrize("parameter", BOUNDED_PARAMETERS)
def test_parameter_bounds_are_the_settings_bounds(parameter: str) -> None:
    spec = transformed()["Parameters"][parameter]
    bounds = field_bounds(settings_field_of(parameter))
    if spec["Type"] == "String":
        assert {"min_length", "max_length"} <= set(bounds)
        assert (spec["MinLength"], spec["MaxLength"]) == (bounds["min_length"], bounds["max_length"])
    else:
        assert spec["Type"] == "Number"
        assert {"ge", "le"} <= set(bounds)
        assert (spec["MinValue"], spec["MaxValue"]) == (bounds["ge"], bounds["le"])
    default = spec["Default"]
    assert Settings.model_validate({"table_name": "leads", settings_field_of(parameter): default})


# --- tracing keeps no visitor data --------------------------------------------------------------------------


def test_stage_tracing_is_off_and_the_access_log_names_no_trace(dev: Template) -> None:
    api_stage = stage(dev)
    assert api_stage["TracingEnabled"] is False
    access_format = api_stage["AccessLogSetting"]["Format"]
    for absent in ("xrayTraceId", "identity.sourceIp", "identity.userAgent", "identity.caller"):
        assert absent not in access_format
