"""CloudFormation intrinsics resolved with the local stack's parameter values."""

from __future__ import annotations

from typing import Any

import pytest
from leads_local import template as cfn
from leads_local.intrinsics import Resolver, UnresolvedError

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Mode": {"Type": "String", "Default": "required"},
        "Env": {"Type": "String", "Default": "dev"},
        "Names": {"Type": "CommaDelimitedList", "Default": "a,b"},
    },
    "Conditions": {
        "ModeRequired": {"Fn::Equals": [{"Ref": "Mode"}, "required"]},
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "Either": {"Fn::Or": [{"Condition": "ModeRequired"}, {"Condition": "IsProd"}]},
        "Neither": {"Fn::Not": [{"Condition": "Either"}]},
    },
}


def resolver(**parameters: str) -> Resolver:
    return Resolver(
        TEMPLATE,
        parameters,
        stack_name="clinic-leads-local",
        region="us-east-1",
        account_id="123456789012",
        resources={"Pool": "us-east-1_abc"},
        attributes={("Pool", "Arn"): "arn:pool"},
    )


def test_parameters_default_and_override() -> None:
    assert resolver().resolve({"Fn::If": ["ModeRequired", "ON", "OPTIONAL"]}) == "ON"
    assert resolver(Mode="optional").resolve({"Fn::If": ["ModeRequired", "ON", "OPTIONAL"]}) == "OPTIONAL"


def test_conditions_combine() -> None:
    assert resolver(Mode="optional").condition("Neither") is True
    assert resolver(Mode="optional", Env="prod").condition("Either") is True


def test_sub_join_select_split_ref_getatt() -> None:
    r = resolver()
    assert r.resolve({"Fn::Sub": "${AWS::StackName}-staff"}) == "clinic-leads-local-staff"
    assert r.resolve({"Fn::Sub": ["${X}/${Pool.Arn}", {"X": {"Ref": "Pool"}}]}) == "us-east-1_abc/arn:pool"
    assert r.resolve({"Fn::Join": ["-", {"Ref": "Names"}]}) == "a-b"
    assert r.resolve({"Fn::Select": [1, {"Fn::Split": [",", "x,y"]}]}) == "y"
    assert r.resolve({"Fn::GetAtt": ["Pool", "Arn"]}) == "arn:pool"
    assert r.resolve({"Fn::Sub": "literal ${!NotAVariable}"}) == "literal ${NotAVariable}"


def test_no_value_drops_the_property() -> None:
    value = {"A": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]}, "B": [1, {"Ref": "AWS::NoValue"}]}
    assert resolver().resolve(value) == {"B": [1]}


@pytest.mark.parametrize(
    "value",
    [{"Ref": "Unknown"}, {"Fn::GetAtt": ["Other", "Arn"]}, {"Fn::ImportValue": "x"}, {"Condition": "Nope"}],
)
def test_what_it_cannot_know_is_an_error_not_a_guess(value: Any) -> None:
    with pytest.raises(UnresolvedError):
        resolver().resolve(value)


def test_the_staff_pool_resolves_with_the_local_parameters() -> None:
    real = Resolver(
        cfn.load_template(),
        {"StaffMfa": "optional"},
        stack_name="clinic-leads-local",
        region="us-east-1",
        account_id="123456789012",
    )
    properties = real.resolve(cfn.resource("StaffUserPool")["Properties"])
    assert properties["UserPoolName"] == "clinic-leads-local-staff"
    assert properties["MfaConfiguration"] == "OPTIONAL"
    assert properties["DeletionProtection"] == "INACTIVE"
