"""The staff console's resources in template.yaml: the user pool (admin-created accounts, password and MFA
rules, token lifetimes of the 30 minutes idle / 12 hours rule, deletion protection in prod), the authorizer on
every data route and on none of the console's files, the staff function's least-privilege role, its packaging
and the outputs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template.sam import effective
from tests.template.test_template import Template, actions, as_list, function_policy, props, statements_with

FUNCTION = "StaffApiFunction"
DATA_ROUTES = {
    ("/staff/leads", "get"),
    ("/staff/leads/{id}", "get"),
    ("/staff/leads/{id}/status", "post"),
    ("/staff/leads/{id}/assign", "post"),
    ("/staff/leads/{id}", "delete"),
    ("/staff/export", "get"),
    ("/staff/report", "get"),
    ("/staff/session", "post"),
}
STATIC_ROUTES = {
    ("/staff", "get"),
    ("/staff/console.js", "get"),
    ("/staff/console.css", "get"),
    ("/staff/config.json", "get"),
}


def api_paths(template: Template) -> dict[str, dict[str, Any]]:
    return dict(props(template, "ConsultationsApi")["Body"]["paths"])


def test_only_ops_create_accounts_and_the_email_is_the_user_name(dev: Template) -> None:
    pool = props(dev, "StaffUserPool")
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["UsernameAttributes"] == ["email"]
    recovery = pool["AccountRecoverySetting"]["RecoveryMechanisms"]
    assert recovery == [{"Name": "verified_email", "Priority": 1}]
    message = pool["AdminCreateUserConfig"]["InviteMessageTemplate"]["EmailMessage"]
    assert "{username}" in message
    assert "{####}" in message


def test_passwords_are_strong_and_temporary_ones_short_lived(dev: Template) -> None:
    policy = props(dev, "StaffUserPool")["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    for rule in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"):
        assert policy[rule] is True, rule
    assert 1 <= policy["TemporaryPasswordValidityDays"] <= 3


@pytest.mark.parametrize(("choice", "expected"), [("required", "ON"), ("optional", "OPTIONAL")])
def test_totp_mfa_follows_the_staff_mfa_parameter(choice: str, expected: str) -> None:
    pool = props(effective(StaffMfa=choice), "StaffUserPool")
    assert pool["MfaConfiguration"] == expected
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]


def test_mfa_is_required_by_default(dev: Template) -> None:
    assert props(dev, "StaffUserPool")["MfaConfiguration"] == "ON"


def test_prod_protects_the_pool_from_deletion(dev: Template, prod: Template) -> None:
    assert props(prod, "StaffUserPool")["DeletionProtection"] == "ACTIVE"
    assert props(dev, "StaffUserPool")["DeletionProtection"] == "INACTIVE"


def test_groups_are_staff_and_admin(dev: Template) -> None:
    groups = {
        p["Properties"]["GroupName"]: p["Properties"]["UserPoolId"]
        for p in dev["Resources"].values()
        if p["Type"] == "AWS::Cognito::UserPoolGroup"
    }
    assert groups == {"staff": {"Ref": "StaffUserPool"}, "admin": {"Ref": "StaffUserPool"}}


def test_the_console_client_has_no_secret_and_tokens_of_the_30_minute_12_hour_rule(dev: Template) -> None:
    client = props(dev, "StaffUserPoolClient")
    assert client["GenerateSecret"] is False
    assert sorted(client["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["EnableTokenRevocation"] is True
    units = client["TokenValidityUnits"]
    minutes = {"minutes": 1, "hours": 60, "days": 1440}
    assert client["IdTokenValidity"] * minutes[units["IdToken"]] == 30
    assert client["AccessTokenValidity"] * minutes[units["AccessToken"]] == 30
    assert client["RefreshTokenValidity"] * minutes[units["RefreshToken"]] == 12 * 60
    assert "OAuthFlows" not in client  # no hosted UI


def test_every_staff_data_route_needs_the_cognito_authorizer_and_no_static_one_does(dev: Template) -> None:
    paths = api_paths(dev)
    staff_paths = {path: methods for path, methods in paths.items() if path.startswith("/staff")}
    routes = {(path, method) for path, methods in staff_paths.items() for method in methods}
    assert routes == DATA_ROUTES | STATIC_ROUTES
    for path, method in DATA_ROUTES:
        assert paths[path][method]["security"] == [{"StaffAuthorizer": []}], (path, method)
    for path, method in STATIC_ROUTES:
        assert "security" not in paths[path][method], (path, method)
    for method in paths["/consultations"].values():
        assert "security" not in method
    authorizer = props(dev, "ConsultationsApi")["Body"]["securityDefinitions"]["StaffAuthorizer"]
    assert authorizer["name"] == "Authorization"
    assert authorizer["x-amazon-apigateway-authorizer"] == {
        "type": "cognito_user_pools",
        "providerARNs": [{"Fn::GetAtt": ["StaffUserPool", "Arn"]}],
    }


def test_staff_function_role_reaches_only_the_table_its_indexes_and_the_data_key(dev: Template) -> None:
    statements = function_policy(dev, FUNCTION)
    assert props(dev, FUNCTION)["Role"] == {"Fn::GetAtt": ["StaffApiRole", "Arn"]}
    assert {a.split(":")[0] for a in actions(statements)} == {"dynamodb", "kms", "logs", "xray", "events"}
    (events,) = statements_with(statements, "events:PutEvents")  # LeadStatusChanged (docs/speed-to-lead.md)
    assert events["Resource"] == {"Fn::GetAtt": ["LeadEventsBus", "Arn"]}
    assert not [a for a in actions(statements) if a.startswith(("cognito-idp", "sns", "secretsmanager"))]
    assert "dynamodb:Scan" not in actions(statements)
    table = [s for s in statements if {"Fn::GetAtt": ["LeadsTable", "Arn"]} in as_list(s["Resource"])]
    (item_statement,) = table
    assert set(as_list(item_statement["Action"])) == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
    }
    leading = item_statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert sorted(leading) == ["AUDIT#*", "IDEM#*", "IDEMC#*", "LEAD#*"]
    (index_statement,) = [s for s in statements if s["Action"] == "dynamodb:Query"]
    assert index_statement["Resource"] == [
        {"Fn::Sub": "${LeadsTable.Arn}/index/Inbox"},
        {"Fn::Sub": "${LeadsTable.Arn}/index/ByStatus"},
    ]
    (key_statement,) = [s for s in statements if "kms:Decrypt" in as_list(s["Action"])]
    assert key_statement["Condition"]["StringEquals"]["kms:ViaService"] == {
        "Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"
    }


def test_staff_function_has_its_settings_and_its_own_log_group(dev: Template) -> None:
    function = props(dev, FUNCTION)
    variables = function["Environment"]["Variables"]
    assert variables["USER_POOL_ID"] == {"Ref": "StaffUserPool"}
    assert variables["USER_POOL_CLIENT_ID"] == {"Ref": "StaffUserPoolClient"}
    assert variables["STAFF_IDLE_MINUTES"] == "30"
    assert {"TABLE_NAME", "CONSOLE_URL", "COGNITO_ENDPOINT"} <= set(variables)
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": "StaffApiLogGroup"}
    assert function["Handler"] == "staff_api.app.lambda_handler"


def test_inbox_index_lists_leads_newest_first(dev: Template) -> None:
    indexes = {i["IndexName"]: i for i in props(dev, "LeadsTable")["GlobalSecondaryIndexes"]}
    assert indexes["Inbox"]["KeySchema"] == [
        {"AttributeName": "inbox", "KeyType": "HASH"},
        {"AttributeName": "created_at", "KeyType": "RANGE"},
    ]
    assert indexes["Inbox"]["Projection"] == {"ProjectionType": "ALL"}


def test_the_console_files_are_packaged_with_the_staff_function() -> None:
    from leads_local.template import resource

    from tests.template.sam import REPO_ROOT

    metadata = resource(FUNCTION)["Metadata"]
    assert metadata["BuildMethod"] == "makefile"
    assert metadata["WorkingDirectory"] == "web/staff"
    makefile = (REPO_ROOT / "functions" / "Makefile").read_text(encoding="utf-8")
    assert "build-StaffApiFunction: STAFF_WEB := $(CURDIR)" in makefile
    assert "STAFF_WEB_FILES := index.html console.js console.css" in makefile
    for name in ("index.html", "console.js", "console.css"):
        assert (REPO_ROOT / "web" / "staff" / name).is_file(), name


def test_outputs_name_the_console_pool_and_client(dev: Template) -> None:
    outputs = dev["Outputs"]
    assert outputs["StaffUserPoolId"]["Value"] == {"Ref": "StaffUserPool"}
    assert outputs["StaffUserPoolClientId"]["Value"] == {"Ref": "StaffUserPoolClient"}
    assert outputs["StaffConsoleUrl"]["Value"] == {
        "Fn::Sub": "https://${ConsultationsApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/v1/staff/"
    }
    custom = effective(ConsoleUrl="https://staff.example-clinic.com/")
    assert custom["Outputs"]["StaffConsoleUrl"]["Value"] == "https://staff.example-clinic.com/"
