"""The REST API's routes, read from template.yaml and matched as API Gateway matches them."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from leads_local import template as cfn
from leads_local.routes import Route, Router, api_routes, cognito_authorizers


def _template_api_events() -> list[tuple[str, dict[str, Any]]]:
    """Every (function, Api event properties) on ConsultationsApi, read straight from the template."""
    found = []
    for logical_id, function in cfn.resources_of_type("AWS::Serverless::Function").items():
        for event in (function["Properties"].get("Events") or {}).values():
            if event["Type"] == "Api" and event["Properties"]["RestApiId"] == {"Ref": "ConsultationsApi"}:
                found.append((logical_id, event["Properties"]))
    return found


def test_every_api_event_of_the_template_is_a_route_with_its_authorizer() -> None:
    routes = {(r.method, r.resource): r for r in api_routes()}
    events = _template_api_events()
    assert len(routes) == len(events)
    for logical_id, spec in events:
        route = routes[(spec["Method"].upper(), spec["Path"])]
        assert route.function == logical_id
        assert route.authorizer == (spec.get("Auth") or {}).get("Authorizer")


def test_the_staff_data_routes_are_behind_the_staff_authorizer_and_the_console_files_are_not() -> None:
    protected = {(r.method, r.resource) for r in api_routes() if r.authorizer == "StaffAuthorizer"}
    assert ("GET", "/staff/leads") in protected
    assert ("DELETE", "/staff/leads/{id}") in protected
    assert ("POST", "/staff/session") in protected
    public = {(r.method, r.resource) for r in api_routes() if r.authorizer is None}
    assert ("POST", "/consultations") in public
    assert ("GET", "/staff/config.json") in public
    assert all(r.function == "StaffApiFunction" for r in api_routes() if r.resource.startswith("/staff"))


def test_the_staff_authorizer_names_the_template_pool_and_header() -> None:
    spec = cognito_authorizers()["StaffAuthorizer"]
    assert spec.user_pool == "StaffUserPool"
    assert spec.header == "Authorization"


def test_default_authorizer_and_none_are_honoured() -> None:
    template = copy.deepcopy(cfn.load_template())
    template["Resources"]["ConsultationsApi"]["Properties"]["Auth"]["DefaultAuthorizer"] = "StaffAuthorizer"
    events = template["Resources"]["SubmitConsultationFunction"]["Properties"]["Events"]
    events["Submit"]["Properties"]["Auth"] = {"Authorizer": "NONE"}
    routes = {(r.method, r.resource): r for r in api_routes(template=template)}
    assert routes[("POST", "/consultations")].authorizer is None
    assert routes[("OPTIONS", "/consultations")].authorizer == "StaffAuthorizer"


ROUTER = Router(
    [
        Route("GET", "/staff", "F", "m", None),
        Route("GET", "/staff/leads/{id}", "F", "m", "A"),
        Route("GET", "/staff/leads/export", "F", "m", "A"),
        Route("ANY", "/files/{path+}", "G", "m", None),
    ]
)


@pytest.mark.parametrize(
    ("method", "path", "resource", "parameters"),
    [
        ("GET", "/staff/", "/staff", {}),
        ("GET", "/staff", "/staff", {}),
        ("GET", "/staff/leads/ABC123", "/staff/leads/{id}", {"id": "ABC123"}),
        ("GET", "/staff/leads/export", "/staff/leads/export", {}),  # a literal segment wins
        ("GET", "/staff/leads/a%20b", "/staff/leads/{id}", {"id": "a b"}),
        ("DELETE", "/files/a/b.txt", "/files/{path+}", {"path": "a/b.txt"}),
    ],
)
def test_matching(method: str, path: str, resource: str, parameters: dict[str, str]) -> None:
    found = ROUTER.match(method, path)
    assert found is not None
    assert found.route.resource == resource
    assert found.path_parameters == parameters


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/staff/"), ("GET", "/staff/leads"), ("GET", "/staff/leads/a/b"), ("GET", "/files")],
)
def test_no_route(method: str, path: str) -> None:
    assert ROUTER.match(method, path) is None


def test_serves_only_the_apis_top_level_resources() -> None:
    assert ROUTER.serves("/staff/anything")
    assert ROUTER.serves("/files")
    assert not ROUTER.serves("/")
    assert not ROUTER.serves("/static/app.js")
    assert not ROUTER.serves("/staffroom")
