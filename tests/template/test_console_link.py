"""The console link in template.yaml: every function that renders alerts gets ``CONSOLE_URL``, by default the
API's own ``/staff/`` URL at the API's stage, the ``ConsoleUrl`` parameter has the settings' bounds, and
naming the API from those functions creates no dependency cycle."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from leads_core.alerts import console_link_problem
from leads_core.errors import ConfigurationError
from leads_core.settings import Settings, settings_from
from leads_local.template import load_template

from tests.template.sam import effective, transformed

# Every function that renders alerts: new-lead alerts (stream) and replays plus storm digests (schedule).
ALERT_FUNCTIONS = ("SendAlertsFunction", "ReplayAlertsFunction")


def _environment(template: dict[str, Any], function_id: str) -> dict[str, Any]:
    return dict(template["Resources"][function_id]["Properties"]["Environment"]["Variables"])


def _api_stage() -> str:
    return str(load_template()["Resources"]["ConsultationsApi"]["Properties"]["StageName"])


def test_the_alert_functions_get_the_apis_own_console_url_by_default() -> None:
    template = effective()
    stage = _api_stage()
    expected = {
        "Fn::Sub": f"https://${{ConsultationsApi}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{stage}/staff/"
    }
    for function_id in ALERT_FUNCTIONS:
        assert _environment(template, function_id)["CONSOLE_URL"] == expected, function_id
    assert template["Outputs"]["StaffConsoleUrl"]["Value"] == expected
    # The stage the URL names is the one SAM deploys the API to.
    stages = [r for r in transformed()["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert [s["Properties"]["StageName"] for s in stages] == [stage]


def test_a_console_url_parameter_replaces_the_default_everywhere() -> None:
    template = effective(ConsoleUrl="https://care.example.org/staff/")
    for function_id in ALERT_FUNCTIONS:
        assert _environment(template, function_id)["CONSOLE_URL"] == "https://care.example.org/staff/"
    assert template["Outputs"]["StaffConsoleUrl"]["Value"] == "https://care.example.org/staff/"


def test_the_default_console_url_passes_the_functions_check_in_the_longest_region() -> None:
    value = effective()["Outputs"]["StaffConsoleUrl"]["Value"]["Fn::Sub"]
    display_name = _environment(effective(), "SendAlertsFunction")["TOPIC_DISPLAY_NAME"]
    longest = (
        value.replace("${ConsultationsApi}", "a1b2c3d4e5")
        .replace("${AWS::Region}", "cn-northwest-1")
        .replace("${AWS::URLSuffix}", "amazonaws.com.cn")
    )
    assert "${" not in longest
    environment = {"TABLE_NAME": "leads", "TOPIC_ARN": "arn:aws:sns:x", "TOPIC_DISPLAY_NAME": display_name}
    settings = settings_from({**environment, "CONSOLE_URL": longest})
    assert settings.require_alerts().console_url == longest


def test_console_url_parameter_bounds_match_the_functions_check() -> None:
    parameter = effective()["Parameters"]["ConsoleUrl"]
    assert parameter["Default"] == ""
    display_name = _environment(effective(), "SendAlertsFunction")["TOPIC_DISPLAY_NAME"]

    def url(length: int) -> str:
        return "https://" + "a" * (length - len("https://") - len(".org/staff")) + ".org/staff"

    # MaxLength leaves room for the "/" the function adds to a path without one.
    assert not console_link_problem(url(parameter["MaxLength"]) + "/", display_name)
    assert console_link_problem(url(parameter["MaxLength"] + 1) + "/", display_name)
    pattern = re.compile(parameter["AllowedPattern"])
    for accepted in ("", "https://care.example.org/staff/", "https://care.example.org:8443/v1/staff"):
        assert pattern.fullmatch(accepted), accepted
        if accepted:
            settings_from({"TABLE_NAME": "leads", "CONSOLE_URL": accepted})
    for refused in (
        "http://care.example.org/staff/",
        "https://care.example.org/staff/?x=1",
        "https://care.example.org/staff/#x",
        "https://care.example.org/~staff/",
        "https://care.example.org/st aff/",
    ):
        assert not pattern.fullmatch(refused), refused
        with pytest.raises(ConfigurationError, match="CONSOLE_URL"):
            settings_from({"TABLE_NAME": "leads", "CONSOLE_URL": refused})


def test_alert_detail_defaults_to_minimal_in_the_template_and_the_functions() -> None:
    parameter = effective()["Parameters"]["AlertDetail"]
    assert parameter["Default"] == "minimal" == Settings.model_fields["alert_detail"].default
    assert parameter["AllowedValues"] == ["minimal", "contact", "full"]
    for function_id in ALERT_FUNCTIONS:
        assert _environment(effective(), function_id)["ALERT_DETAIL"] == "minimal"
        assert _environment(effective(AlertDetail="contact"), function_id)["ALERT_DETAIL"] == "contact"


# ------------------------------------------------------------------------------------ no dependency cycle


def _references(value: Any) -> Iterator[str]:
    """Logical ids a property value depends on (Ref, Fn::GetAtt, Fn::Sub variables)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::GetAtt":
                yield (inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                yield from (name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text))
                if isinstance(inner, list):
                    yield from _references(inner[1])
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


def _dependencies(template: dict[str, Any]) -> dict[str, set[str]]:
    resources = template["Resources"]
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends = resource.get("DependsOn", [])
        targets = set(_references(resource.get("Properties", {}))) | set(
            [depends] if isinstance(depends, str) else depends
        )
        graph[logical_id] = {target for target in targets if target in resources}
    return graph


def test_naming_the_api_from_the_alert_functions_creates_no_dependency_cycle() -> None:
    template = transformed()
    graph = _dependencies(template)
    api_functions = {
        function_id
        for function_id, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
        and any(e.get("Type") == "Api" for e in resource["Properties"].get("Events", {}).values())
    }
    assert "SubmitConsultationFunction" in api_functions
    assert not api_functions & set(ALERT_FUNCTIONS)  # only functions the API does not integrate name it
    for function_id in ALERT_FUNCTIONS:
        assert "ConsultationsApi" in graph[function_id]

    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", " -> ".join([*path, node])
        state[node] = "open"
        for target in sorted(graph[node]):
            visit(target, [*path, node])
        state[node] = "done"

    for node in sorted(graph):
        visit(node, [])
