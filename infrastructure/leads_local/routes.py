"""The REST API's routes as ``template.yaml`` declares them, matched the way API Gateway matches them.

Every ``Type: Api`` event of a function on ``ConsultationsApi`` is a route: method, resource path (with
``{name}`` and ``{name+}`` parameters), the function it invokes, and the authorizer that guards it (the
event's ``Auth.Authorizer``, else the API's ``Auth.DefaultAuthorizer``; ``NONE`` or none: public). The API's
``Auth.Authorizers`` say which user pool and header each Cognito authorizer uses.

Matching follows API Gateway REST: a trailing slash is ignored, a literal segment wins over ``{param}``, which
wins over a greedy ``{proxy+}``; a path or method the API does not define is answered by API Gateway itself
(403 ``Missing Authentication Token``), before any authorizer or function runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from leads_local import template as cfn

API_ID = "ConsultationsApi"
ANY = "ANY"


@dataclass(frozen=True)
class CognitoAuthorizerSpec:
    """A Cognito user pool authorizer of the API: its name, pool (logical id) and token header."""

    name: str
    user_pool: str
    header: str = "Authorization"


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    resource: str  # e.g. "/staff/leads/{id}"
    function: str  # logical id of the function
    handler_module: str  # e.g. "staff_api.app"
    authorizer: str | None  # name in the API's Auth.Authorizers, None: public

    @property
    def segments(self) -> tuple[str, ...]:
        return _segments(self.resource)


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


def _segments(path: str) -> tuple[str, ...]:
    return tuple(segment for segment in path.strip("/").split("/") if segment)


def _logical_id(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return str(value["Ref"])
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else str(target).split(".", 1)[0])
    return None


def api_auth(api_id: str = API_ID, template: dict[str, Any] | None = None) -> dict[str, Any]:
    return dict(cfn.resource(api_id, template).get("Properties", {}).get("Auth") or {})


def cognito_authorizers(
    api_id: str = API_ID, template: dict[str, Any] | None = None
) -> dict[str, CognitoAuthorizerSpec]:
    """The API's Cognito authorizers by name (those with a ``UserPoolArn``)."""
    found: dict[str, CognitoAuthorizerSpec] = {}
    for name, spec in (api_auth(api_id, template).get("Authorizers") or {}).items():
        pool = _logical_id(spec.get("UserPoolArn"))
        if pool is None:
            continue
        header = str((spec.get("Identity") or {}).get("Header") or "Authorization")
        found[str(name)] = CognitoAuthorizerSpec(name=str(name), user_pool=pool, header=header)
    return found


def api_routes(api_id: str = API_ID, template: dict[str, Any] | None = None) -> list[Route]:
    """Every route of the API, in template order."""
    default = api_auth(api_id, template).get("DefaultAuthorizer")
    routes: list[Route] = []
    for logical_id, definition in cfn.resources_of_type("AWS::Serverless::Function", template).items():
        props = definition.get("Properties", {})
        module = str(props.get("Handler", "")).rsplit(".", 1)[0]
        for event in (props.get("Events") or {}).values():
            spec = event.get("Properties", {})
            if event.get("Type") != "Api" or _logical_id(spec.get("RestApiId")) != api_id:
                continue
            authorizer = (spec.get("Auth") or {}).get("Authorizer", default)
            routes.append(
                Route(
                    method=str(spec["Method"]).upper(),
                    resource=str(spec["Path"]),
                    function=logical_id,
                    handler_module=module,
                    authorizer=None if authorizer in (None, "NONE") else str(authorizer),
                )
            )
    return routes


def _match_segments(pattern: tuple[str, ...], path: tuple[str, ...]) -> tuple[int, dict[str, str]] | None:
    """Path parameters and a rank (lower is more specific) when ``path`` fits ``pattern``."""
    parameters: dict[str, str] = {}
    rank = 0
    for index, part in enumerate(pattern):
        greedy = re.fullmatch(r"\{(\w+)\+\}", part)
        if greedy:
            if index >= len(path):
                return None
            parameters[greedy.group(1)] = "/".join(unquote(p) for p in path[index:])
            return rank + 1000, parameters
        if index >= len(path):
            return None
        variable = re.fullmatch(r"\{(\w+)\}", part)
        if variable:
            parameters[variable.group(1)] = unquote(path[index])
            rank += 1
        elif part != path[index]:
            return None
    if len(pattern) != len(path):
        return None
    return rank, parameters


class Router:
    """Finds the route for a method and path."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = list(routes)
        self.prefixes = {route.segments[0] for route in self.routes if route.segments}

    def serves(self, path: str) -> bool:
        """Whether ``path`` is under one of the API's top-level resources (so API Gateway answers for it)."""
        segments = _segments(path)
        return bool(segments) and segments[0] in self.prefixes

    def match(self, method: str, path: str) -> RouteMatch | None:
        segments = _segments(path)
        best: tuple[int, RouteMatch] | None = None
        for route in self.routes:
            if route.method not in {method.upper(), ANY}:
                continue
            found = _match_segments(route.segments, segments)
            if found is None:
                continue
            rank = found[0] + (1 if route.method == ANY else 0)
            if best is None or rank < best[0]:
                best = (rank, RouteMatch(route, found[1]))
        return best[1] if best else None
