"""The staff user pool made in moto from template.yaml, the demo admin, how ``leads --local`` finds it."""

from __future__ import annotations

import gzip
import importlib.resources
import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from joserfc import jwt
from joserfc.jwk import KeySet
from leads_local import cognito, cognito_tokens, moto_patches
from leads_local import template as cfn
from moto import mock_aws


@pytest.fixture
def idp() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cognito-idp", region_name="us-east-1")


def test_the_pool_groups_and_client_come_from_the_template(idp: Any) -> None:
    pools = cognito.create_user_pools(idp, "http://127.0.0.1:4566", "clinic-leads-local")
    pool = pools["StaffUserPool"]
    described = idp.describe_user_pool(UserPoolId=pool.pool_id)["UserPool"]
    template_props = cfn.resource("StaffUserPool")["Properties"]

    assert described["Name"] == pool.name == "clinic-leads-local-staff"
    assert described["MfaConfiguration"] == "OPTIONAL"  # StaffMfa=optional locally
    expected_policy = template_props["Policies"]["PasswordPolicy"]
    assert {k: described["Policies"]["PasswordPolicy"][k] for k in expected_policy} == expected_policy
    assert described["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert described["UsernameAttributes"] == template_props["UsernameAttributes"]

    groups = {g["GroupName"]: g for g in idp.list_groups(UserPoolId=pool.pool_id)["Groups"]}
    assert set(groups) == {"staff", "admin"}
    assert groups["admin"]["Precedence"] == cfn.resource("AdminGroup")["Properties"]["Precedence"]

    described_client = idp.describe_user_pool_client(UserPoolId=pool.pool_id, ClientId=pool.client_id())
    client = described_client["UserPoolClient"]
    template_client = cfn.resource("StaffUserPoolClient")["Properties"]
    assert client["ClientName"] == template_client["ClientName"]
    assert sorted(client["ExplicitAuthFlows"]) == sorted(template_client["ExplicitAuthFlows"])
    assert client["IdTokenValidity"] == template_client["IdTokenValidity"]
    assert "ClientSecret" not in client
    assert pool.issuer == f"https://cognito-idp.us-east-1.amazonaws.com/{pool.pool_id}"
    assert pool.jwks_url == f"http://127.0.0.1:4566/{pool.pool_id}/.well-known/jwks.json"


def test_staff_mfa_required_turns_mfa_on(idp: Any) -> None:
    pools = cognito.create_user_pools(idp, "http://x", "p", parameters={"StaffMfa": "required"})
    described = idp.describe_user_pool(UserPoolId=pools["StaffUserPool"].pool_id)["UserPool"]
    assert described["MfaConfiguration"] == "ON"


def test_the_demo_admin_signs_in_with_its_password_only(idp: Any) -> None:
    pool = cognito.create_user_pools(idp, "http://x", "clinic-leads-local")["StaffUserPool"]
    demo = cognito.create_demo_admin(idp, pool)
    assert demo.email == "admin@clinic.local"
    user = idp.admin_get_user(UserPoolId=pool.pool_id, Username=demo.email)
    assert user["UserStatus"] == "CONFIRMED"  # permanent: no new-password step
    groups = idp.admin_list_groups_for_user(UserPoolId=pool.pool_id, Username=demo.email)["Groups"]
    assert [g["GroupName"] for g in groups] == ["admin"]

    signed_in = idp.initiate_auth(
        ClientId=pool.client_id(),
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": demo.email, "PASSWORD": demo.password},
    )
    assert "ChallengeName" not in signed_in  # no MFA locally
    assert signed_in["AuthenticationResult"]["IdToken"]
    with pytest.raises(ClientError) as refused:
        idp.initiate_auth(
            ClientId=pool.client_id(),
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": demo.email, "PASSWORD": demo.password + "x"},
        )
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_generated_passwords_meet_the_pool_policy_and_differ() -> None:
    policy = cfn.resource("StaffUserPool")["Properties"]["Policies"]["PasswordPolicy"]
    passwords = {cognito.generate_password(policy) for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert len(password) >= max(20, policy["MinimumLength"])
        for character_class in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]"):
            assert re.search(character_class, password)
        assert not re.search(r"[\s'\"\\<>]", password)
        assert password[0].isalnum()


def test_leads_local_finds_the_pool_by_its_name(idp: Any) -> None:
    assert cognito.find_staff_pool(idp) == {}
    idp.create_user_pool(PoolName="someone-else")
    pool = cognito.create_user_pools(idp, "http://x", "clinic-leads-local")["StaffUserPool"]
    idp.create_user_pool_client(UserPoolId=pool.pool_id, ClientName="another-client")
    assert cognito.find_staff_pool(idp) == {
        "StaffUserPoolId": pool.pool_id,
        "StaffUserPoolClientId": pool.client_id(),
    }


def test_only_browser_operations_are_forwarded() -> None:
    for target in (
        "AWSCognitoIdentityProviderService.AdminCreateUser",
        "AWSCognitoIdentityProviderService.ListUsers",
        "DynamoDB_20120810.Scan",
        "",
    ):
        reply = cognito.forward_cognito_call("http://127.0.0.1:1", [("X-Amz-Target", target)], b"{}")
        assert reply.status == 400  # refused before any connection (port 1 would fail otherwise)
    unreachable = cognito.forward_cognito_call(
        "http://127.0.0.1:1", [("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth")], b"{}"
    )
    assert unreachable.status == 503


def test_token_lifetimes_follow_the_client_settings() -> None:
    config = {"IdTokenValidity": 30, "AccessTokenValidity": 2, "TokenValidityUnits": {"AccessToken": "hours"}}
    assert cognito_tokens.lifetime_seconds(config, "id") == 30 * 3600  # no unit given: hours, as Cognito
    in_minutes = {**config, "TokenValidityUnits": {"IdToken": "minutes"}}
    assert cognito_tokens.lifetime_seconds(in_minutes, "id") == 1800
    assert cognito_tokens.lifetime_seconds(config, "access") == 7200
    assert cognito_tokens.lifetime_seconds({}, "id") == 3600
    assert cognito_tokens.lifetime_seconds(config, "refresh") == 3600


def test_the_emulated_pool_issues_tokens_for_the_templates_lifetime(idp: Any) -> None:
    pool = cognito.create_user_pools(idp, "http://x", "clinic-leads-local")["StaffUserPool"]
    demo = cognito.create_demo_admin(idp, pool)
    template_client = cfn.resource("StaffUserPoolClient")["Properties"]
    expected = cognito_tokens.lifetime_seconds(template_client, "id")
    assert expected == 30 * 60

    def sign_in() -> dict[str, Any]:
        return dict(
            idp.initiate_auth(
                ClientId=pool.client_id(),
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": demo.email, "PASSWORD": demo.password},
            )["AuthenticationResult"]
        )

    with moto_patches.installed():
        result = sign_in()
    claims = jwt.decode(result["IdToken"], cognito_key()).claims
    assert claims["exp"] - claims["iat"] == expected
    assert result["ExpiresIn"] == cognito_tokens.lifetime_seconds(template_client, "access")
    stock = jwt.decode(sign_in()["IdToken"], cognito_key()).claims  # patch removed: moto's own hour
    assert stock["exp"] - stock["iat"] == 3600


def cognito_key() -> Any:
    resource = importlib.resources.files("moto.cognitoidp") / "resources" / "jwks-public.json.gz"
    return KeySet.import_key_set(json.loads(gzip.decompress(resource.read_bytes())))
