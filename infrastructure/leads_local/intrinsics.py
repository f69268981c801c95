"""Resolve the CloudFormation intrinsics of ``template.yaml`` values for the local stack.

The local stack creates resources from the template's own properties; those properties may use parameters,
conditions and a few functions (``!Ref StaffMfa``, ``!If [StaffMfaRequired, "ON", "OPTIONAL"]``,
``!Sub ${AWS::StackName}-staff``). ``Resolver`` evaluates them with the local parameter values, the way
CloudFormation would at deploy time. What it cannot know (``!GetAtt`` of a resource it was not told about, an
unknown function) raises ``UnresolvedError`` rather than guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

NO_VALUE = object()  # ``AWS::NoValue``: the property is left out
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class UnresolvedError(ValueError):
    """A value the local stack cannot resolve (names the intrinsic or reference)."""


class Resolver:
    """Evaluates intrinsics against parameter values, pseudo parameters and known resource names."""

    def __init__(  # noqa: PLR0913 - the template, its parameters and what the stack knows, named
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str] | None = None,
        *,
        stack_name: str,
        region: str,
        account_id: str,
        resources: Mapping[str, str] | None = None,
        attributes: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        declared = template.get("Parameters", {}) or {}
        self.parameters: dict[str, Any] = {
            name: spec.get("Default") for name, spec in declared.items() if "Default" in spec
        }
        self.parameters.update(parameters or {})
        self.pseudo = {
            "AWS::StackName": stack_name,
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.resources = dict(resources or {})  # logical id -> what !Ref gives
        self.attributes = dict(attributes or {})  # (logical id, attribute) -> what !GetAtt gives
        self._conditions = template.get("Conditions", {}) or {}
        self._condition_values: dict[str, bool] = {}
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::If": self._if,
            "Fn::Equals": self._equals,
            "Fn::Not": lambda args: not self._truth(args[0]),
            "Fn::And": lambda args: all(self._truth(a) for a in args),
            "Fn::Or": lambda args: any(self._truth(a) for a in args),
            "Condition": self.condition,
            "Fn::Sub": self._sub,
            "Fn::Join": lambda args: str(args[0]).join(str(v) for v in self._list(args[1])),
            "Fn::Select": lambda args: self._list(args[1])[int(self.resolve(args[0]))],
            "Fn::Split": lambda args: str(self.resolve(args[1])).split(str(args[0])),
            "Fn::GetAtt": self._get_att,
        }

    # -- public ---------------------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic evaluated; properties resolving to ``AWS::NoValue`` are dropped."""
        if isinstance(value, dict):
            if len(value) == 1:
                ((name, args),) = value.items()
                if name in self._functions:
                    return self._functions[name](args)
                if name.startswith("Fn::"):
                    raise UnresolvedError(f"{name} is not supported by the local stack")
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        return value

    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            if name not in self._conditions:
                raise UnresolvedError(f"condition {name} is not in the template")
            self._condition_values[name] = self._truth(self._conditions[name])
        return self._condition_values[name]

    # -- functions ------------------------------------------------------------------------------------------
    def _truth(self, value: Any) -> bool:
        result = self.resolve(value)
        if isinstance(result, str):
            return result.lower() == "true"
        return bool(result)

    def _list(self, value: Any) -> list[Any]:
        result = self.resolve(value)
        if isinstance(result, str):
            return result.split(",")
        return list(result)

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            value = self.parameters[name]
            return ",".join(value) if isinstance(value, list) else value
        if name in self.resources:
            return self.resources[name]
        raise UnresolvedError(f"!Ref {name} is not known to the local stack")

    def _get_att(self, args: Any) -> str:
        logical_id, attribute = args if isinstance(args, list) else str(args).split(".", 1)
        try:
            return self.attributes[(str(logical_id), str(attribute))]
        except KeyError:
            raise UnresolvedError(f"!GetAtt {logical_id}.{attribute} is unknown to the local stack") from None

    def _if(self, args: list[Any]) -> Any:
        name, when_true, when_false = args
        return self.resolve(when_true if self.condition(str(name)) else when_false)

    def _equals(self, args: list[Any]) -> bool:
        left, right = (self.resolve(a) for a in args)
        return str(left) == str(right)

    def _sub(self, args: Any) -> str:
        text, variables = (args, {}) if isinstance(args, str) else (args[0], args[1])
        values = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name and name.split(".", 1)[0] not in self.pseudo:
                return str(self._get_att(name.split(".", 1)))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, str(text)).replace("${!", "${")
