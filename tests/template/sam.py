"""The deployed shape of template.yaml: the SAM transform applied, then Conditions and Fn::If resolved.

``transformed()`` is what CloudFormation receives (SAM resources expanded into Lambda, API Gateway, event
source mapping and permission resources). ``effective(params)`` resolves Conditions, ``Fn::If``, ``Ref`` to
parameters and ``AWS::NoValue`` for one set of parameter values, so a test can assert what a given deployment
(dev, prod, WAF on) really contains. ``python -m tests.template.sam OUT.json`` writes the transformed template
(checkov scans it next to the source template).
"""

from __future__ import annotations

import copy
import json
import os
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
_PLACEHOLDER_CODE = "s3://placeholder-bucket/functions.zip"
_NO_VALUE = object()


class _NoManagedPolicies:
    """The template names no AWS managed policies, so the translator never needs IAM to look them up."""

    def load(self) -> dict[str, str]:
        return {}


@lru_cache(maxsize=1)
def _transformed_json() -> str:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    source = yaml_parse(TEMPLATE_PATH.read_text(encoding="utf-8"))
    # sam build/package replace local CodeUri paths with S3 locations before the transform runs.
    source.setdefault("Globals", {}).setdefault("Function", {})["CodeUri"] = _PLACEHOLDER_CODE
    for res in source["Resources"].values():
        if res.get("Type") == "AWS::Serverless::Function" and "CodeUri" in res.get("Properties", {}):
            res["Properties"]["CodeUri"] = _PLACEHOLDER_CODE
    return json.dumps(transform(source, {}, _NoManagedPolicies()))


def transformed() -> dict[str, Any]:
    """The template after the SAM transform (a fresh copy each call)."""
    return json.loads(_transformed_json())


def parameter_defaults(template: dict[str, Any]) -> dict[str, Any]:
    return {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}


def _typed(spec: dict[str, Any], value: Any) -> Any:
    """A parameter value as intrinsics see it: a CommaDelimitedList is a list ("" is [""])."""
    if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
        return value.split(",")
    return value


def _plain(value: Any) -> bool:
    return not isinstance(value, dict)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class _Resolver:
    def __init__(self, template: dict[str, Any], overrides: dict[str, Any]) -> None:
        specs = template.get("Parameters", {})
        values = parameter_defaults(template) | overrides
        self.params = {name: _typed(specs.get(name, {}), value) for name, value in values.items()}
        self.conditions_src = template.get("Conditions", {})
        self.conditions: dict[str, bool] = {}
        # The intrinsic functions and condition references resolved here, by key.
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::If": self._if,
            "Fn::Equals": self._equals,
            "Fn::Not": lambda arg: not self.value(arg[0]),
            "Fn::And": lambda arg: all(self.value(v) for v in arg),
            "Fn::Or": lambda arg: any(self.value(v) for v in arg),
            "Condition": self.condition,
        }

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.value(self.conditions_src[name]))
        return self.conditions[name]

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            function = self._functions.get(key)
            if function is not None:
                return function(arg)
            if key in {"Fn::Join", "Fn::Split", "Fn::Select"}:
                return self._list_function(key, arg)
        return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.params:
            return self.params[name]
        return {"Ref": name}  # a resource or pseudo parameter: left as it is

    def _if(self, arg: list[Any]) -> Any:
        name, when_true, when_false = arg
        return self.value(when_true if self.condition(name) else when_false)

    def _equals(self, arg: list[Any]) -> bool:
        left, right = (self.value(v) for v in arg)
        return str(left) == str(right)

    def _list_function(self, key: str, arg: list[Any]) -> Any:
        """``Fn::Join``/``Split``/``Select`` of plain values; left in place when a value is unresolved."""
        first, second = self.value(arg[0]), self.value(arg[1])
        if _plain(first) and _plain(second) and all(_plain(v) for v in as_list(second)):
            if key == "Fn::Join":
                return str(first).join(str(v) for v in second)
            if key == "Fn::Split":
                return str(second).split(str(first))
            return second[int(first)]
        return {key: [first, second]}


def effective(**parameters: Any) -> dict[str, Any]:
    """The transformed template as deployed with these parameter values (others at their defaults)."""
    template = transformed()
    resolver = _Resolver(template, parameters)
    resources = {}
    for logical_id, res in template["Resources"].items():
        if "Condition" in res and not resolver.condition(res["Condition"]):
            continue
        resolved = copy.deepcopy(res)
        resolved.pop("Condition", None)
        resources[logical_id] = resolver.value(resolved)
    outputs = {
        name: resolver.value(out)
        for name, out in template.get("Outputs", {}).items()
        if "Condition" not in out or resolver.condition(out["Condition"])
    }
    return {**template, "Resources": resources, "Outputs": outputs}


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(transformed(), indent=1), encoding="utf-8")
