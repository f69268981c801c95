"""The staff routes through the running local stack: the Cognito authorizer enforced as API Gateway does.

A refused request is answered ``401 {"message": "Unauthorized"}`` by the API emulation and the staff
function (the real ``StaffApiFunction``) is never invoked: ``LocalStack.invocations`` counts the emulation's
invocations of it. Tokens come from the emulated pool itself (sign-in through the console's
``/_local/cognito/`` endpoint), from another pool or app client made in the same emulation, or are re-signed
by the test.
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from leads_cli.target import Target, TargetOptions
from leads_local.__main__ import banner
from leads_local.cognito import DemoAccount, LocalUserPool
from leads_local.stack import LocalStack

pytestmark = pytest.mark.stack

TARGET = "AWSCognitoIdentityProviderService."


STAFF_FUNCTION = "StaffApiFunction"


@pytest.fixture(scope="module")
def local() -> Iterator[LocalStack]:
    stack = LocalStack(port=0, aws_port=0, log=lambda line: None)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


class StaffFunction:
    """Counts the invocations of the staff function from the moment a test starts."""

    def __init__(self, local: LocalStack) -> None:
        self.local = local
        self.start = local.invocations(STAFF_FUNCTION)

    @property
    def invoked(self) -> int:
        return self.local.invocations(STAFF_FUNCTION) - self.start


@pytest.fixture
def staff_function(local: LocalStack) -> StaffFunction:
    return StaffFunction(local)


class Reply:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> Reply:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.headers, error.read())


def cognito_call(local: LocalStack, operation: str, payload: dict[str, Any]) -> Reply:
    """A Cognito call as the console makes it: same origin, through the stack's sign-in endpoint."""
    return call(
        f"{local.base_url}/_local/cognito/",
        "POST",
        json.dumps(payload).encode(),
        {"X-Amz-Target": TARGET + operation, "Content-Type": "application/x-amz-json-1.1"},
    )


def sign_in(local: LocalStack, client_id: str, username: str, password: str) -> dict[str, str]:
    reply = cognito_call(
        local,
        "InitiateAuth",
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": client_id,
            "AuthParameters": {"USERNAME": username, "PASSWORD": password},
        },
    )
    assert reply.status == 200, reply.body
    return dict(reply.json()["AuthenticationResult"])


def staff_pool(local: LocalStack) -> LocalUserPool:
    assert local.cognito is not None
    assert local.cognito.staff_pool is not None
    return local.cognito.staff_pool


def demo_admin(local: LocalStack) -> DemoAccount:
    assert local.cognito is not None
    assert local.cognito.demo is not None
    return local.cognito.demo


@pytest.fixture(scope="module")
def admin_tokens(local: LocalStack) -> dict[str, str]:
    demo = demo_admin(local)
    return sign_in(local, staff_pool(local).client_id(), demo.email, demo.password)


def idp(local: LocalStack) -> Any:
    return boto3.client(
        "cognito-idp",
        endpoint_url=local.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a token the emulation issued (signature checked against the pool's published key)."""
    return dict(jwt.decode(token, emulation_key(), algorithms=["RS256"]).claims)


def emulation_key() -> RSAKey:
    """The key the emulation signs every pool's tokens with (moto ships it; its public half is the JWKS)."""
    resource = importlib.resources.files("moto.cognitoidp") / "resources" / "jwks-private.json.gz"
    keys = json.loads(gzip.decompress(resource.read_bytes()))
    return RSAKey.import_key(keys["keys"][0] if "keys" in keys else keys)


def list_leads(local: LocalStack, token: str | None, path: str = "/staff/leads") -> Reply:
    headers = {"Authorization": token} if token is not None else {}
    return call(f"{local.base_url}{path}", headers=headers)


def assert_refused(local: LocalStack, staff_function: StaffFunction, token: str | None) -> None:
    reply = list_leads(local, token)
    assert reply.status == 401
    assert reply.json() == {"message": "Unauthorized"}
    assert staff_function.invoked == 0  # the function never ran


# -- refused ------------------------------------------------------------------------------------------------
def test_no_token_is_401_and_the_function_does_not_run(
    local: LocalStack, staff_function: StaffFunction
) -> None:
    assert_refused(local, staff_function, None)
    assert_refused(local, staff_function, "")


def test_a_malformed_token_is_401(local: LocalStack, staff_function: StaffFunction) -> None:
    assert_refused(local, staff_function, "not-a-token")
    assert_refused(local, staff_function, "Bearer a.b.c")


def test_a_tampered_token_is_401(
    local: LocalStack, staff_function: StaffFunction, admin_tokens: dict[str, str]
) -> None:
    header, _payload, signature = admin_tokens["IdToken"].split(".")
    claims = claims_of(admin_tokens["IdToken"])
    claims["cognito:groups"] = ["admin", "superuser"]
    forged = jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, emulation_key()).split(".")[1]
    assert_refused(local, staff_function, f"{header}.{forged}.{signature}")


def test_an_expired_token_is_401(
    local: LocalStack, staff_function: StaffFunction, admin_tokens: dict[str, str]
) -> None:
    claims = claims_of(admin_tokens["IdToken"])
    claims.update(iat=int(time.time()) - 7200, exp=int(time.time()) - 1)
    expired = jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, emulation_key())  # the pool's own key
    assert_refused(local, staff_function, expired)


def test_a_token_signed_by_another_key_is_401(
    local: LocalStack, staff_function: StaffFunction, admin_tokens: dict[str, str]
) -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "dummy"}, private=True)
    resigned = jwt.encode({"alg": "RS256", "kid": "dummy"}, claims_of(admin_tokens["IdToken"]), other)
    assert_refused(local, staff_function, resigned)


def test_a_token_from_another_pool_is_401(local: LocalStack, staff_function: StaffFunction) -> None:
    client = idp(local)
    pool_id = client.create_user_pool(PoolName="another-pool")["UserPool"]["Id"]
    app = client.create_user_pool_client(UserPoolId=pool_id, ClientName="other")["UserPoolClient"]
    client.admin_create_user(UserPoolId=pool_id, Username="intruder", MessageAction="SUPPRESS")
    password = "Other-Pool-1x!"
    client.admin_set_user_password(UserPoolId=pool_id, Username="intruder", Password=password, Permanent=True)
    tokens = sign_in(local, app["ClientId"], "intruder", password)
    assert claims_of(tokens["IdToken"])["token_use"] == "id"  # a real ID token, only from the wrong pool
    assert_refused(local, staff_function, tokens["IdToken"])


def test_a_token_for_another_app_client_of_the_pool_is_401(
    local: LocalStack, staff_function: StaffFunction
) -> None:
    pool, demo = staff_pool(local), demo_admin(local)
    other = idp(local).create_user_pool_client(
        UserPoolId=pool.pool_id, ClientName="not-the-console", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    tokens = sign_in(local, other, demo.email, demo.password)
    assert claims_of(tokens["IdToken"])["iss"] == pool.issuer  # the right pool, the wrong client
    assert_refused(local, staff_function, tokens["IdToken"])


def test_an_access_token_instead_of_an_id_token_is_401(
    local: LocalStack, staff_function: StaffFunction, admin_tokens: dict[str, str]
) -> None:
    assert_refused(local, staff_function, admin_tokens["AccessToken"])


def test_every_protected_route_is_refused_without_a_token(
    local: LocalStack, staff_function: StaffFunction
) -> None:
    protected = [route for route in local.router.routes if route.authorizer == "StaffAuthorizer"]
    assert len(protected) >= 7
    for route in protected:
        path = route.resource.replace("{id}", "0123456789")
        reply = call(f"{local.base_url}{path}", route.method, b"{}" if route.method == "POST" else None)
        assert (route.method, path, reply.status) == (route.method, path, 401)
    assert staff_function.invoked == 0


# -- accepted -----------------------------------------------------------------------------------------------
def test_a_valid_id_token_reaches_the_function_with_its_claims(
    local: LocalStack, staff_function: StaffFunction, admin_tokens: dict[str, str]
) -> None:
    reply = list_leads(local, admin_tokens["IdToken"])
    assert (reply.status, reply.json()) == (200, {"leads": [], "next": None})
    # The function read the caller's groups from the claims: an admin-only route answers.
    export = call(f"{local.base_url}/staff/export", headers={"Authorization": admin_tokens["IdToken"]})
    assert export.status == 200
    assert export.headers["Content-Type"].startswith("text/csv")
    # ... and the id in the path reached it as a path parameter (the function's own 404 for an unknown lead).
    unknown = list_leads(local, admin_tokens["IdToken"], "/staff/leads/0123456789")
    assert unknown.status == 404
    assert staff_function.invoked == 3


def test_a_bearer_prefix_is_accepted(
    local: LocalStack, staff_function: StaffFunction, admin_tokens: dict[str, str]
) -> None:
    assert list_leads(local, f"Bearer {admin_tokens['IdToken']}").status == 200
    assert staff_function.invoked == 1


def test_the_console_files_need_no_token(local: LocalStack, staff_function: StaffFunction) -> None:
    for path in ("/staff/", "/staff/console.js", "/staff/console.css", "/staff/config.json"):
        assert call(f"{local.base_url}{path}").status == 200
    assert staff_function.invoked == 4


def test_a_route_the_api_does_not_define_is_answered_by_api_gateway(
    local: LocalStack, staff_function: StaffFunction, admin_tokens: dict[str, str]
) -> None:
    for method, path in (("GET", "/staff/nothing"), ("PUT", "/staff/leads"), ("HEAD", "/staff/")):
        reply = call(f"{local.base_url}{path}", method, headers={"Authorization": admin_tokens["IdToken"]})
        assert reply.status == 403
    assert staff_function.invoked == 0


# -- the demo account, the console's settings, leads --local -----------------------------------------------
def test_make_run_prints_one_staff_console_line_whose_account_signs_in(local: LocalStack) -> None:
    lines = [line for line in banner(local) if line.startswith("staff console:")]
    assert len(lines) == 1
    found = re.fullmatch(r"staff console: (\S+)  user: (\S+)  password: (\S+)", lines[0])
    assert found is not None
    url, user, password = found.groups()
    assert url == f"http://127.0.0.1:{local.port}/staff/"
    assert user == "admin@clinic.local"
    tokens = sign_in(local, staff_pool(local).client_id(), user, password)
    claims = claims_of(tokens["IdToken"])
    assert claims["cognito:groups"] == ["admin"]
    assert claims["exp"] - claims["iat"] == 30 * 60  # the app client's IdTokenValidity in the template
    wrong = cognito_call(
        local,
        "InitiateAuth",
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": staff_pool(local).client_id(),
            "AuthParameters": {"USERNAME": user, "PASSWORD": password + "1"},
        },
    )
    assert wrong.status == 400
    assert wrong.json()["__type"].endswith("NotAuthorizedException")


def test_the_sign_in_endpoint_refuses_admin_operations(local: LocalStack) -> None:
    pool = staff_pool(local)
    reply = cognito_call(local, "AdminCreateUser", {"UserPoolId": pool.pool_id, "Username": "x@y.z"})
    assert reply.status == 400
    users = idp(local).list_users(UserPoolId=pool.pool_id)["Users"]
    values = [u["Username"] for u in users] + [a["Value"] for u in users for a in u.get("Attributes", [])]
    assert "x@y.z" not in values
    assert call(f"{local.base_url}/_local/cognito/").status == 405


def test_config_json_names_the_local_pool_and_the_same_origin_sign_in_endpoint(local: LocalStack) -> None:
    pool = staff_pool(local)
    reply = call(f"{local.base_url}/staff/config.json")
    assert reply.status == 200
    config = reply.json()
    assert config["userPoolId"] == pool.pool_id
    assert config["clientId"] == pool.client_id()
    assert config["authEndpoint"] == f"{local.base_url}/_local/cognito/"
    assert "connect-src 'self'" in reply.headers["Content-Security-Policy"]


def test_sign_in_is_recorded_through_the_authorizer(
    local: LocalStack, staff_function: StaffFunction, admin_tokens: dict[str, str]
) -> None:
    headers = {"Authorization": admin_tokens["IdToken"]}
    reply = call(f"{local.base_url}/staff/session", "POST", headers=headers)
    assert reply.status == 204
    assert staff_function.invoked == 1


def test_the_staff_function_settings_point_at_the_pool_and_the_console(local: LocalStack) -> None:
    pool = staff_pool(local)
    assert local.settings["USER_POOL_ID"] == pool.pool_id
    assert local.settings["USER_POOL_CLIENT_ID"] == pool.client_id()
    assert local.settings["CONSOLE_URL"] == f"{local.base_url}/staff/"
    assert local.settings["COGNITO_ENDPOINT"] == f"{local.base_url}/_local/cognito/"


def test_leads_local_finds_the_running_pool(local: LocalStack) -> None:
    pool = staff_pool(local)
    target = Target(
        TargetOptions(local=True), environ={"AWS_PORT": str(local.aws_port), "PORT": str(local.port)}
    )
    assert target.resource("user_pool") == pool.pool_id
    assert target.resource("user_pool_client") == pool.client_id()
    assert target.resource("console") == f"{local.base_url}/staff/"
    health = call(f"{local.base_url}/_local/health").json()
    assert health["staff"]["StaffUserPoolId"] == pool.pool_id


def test_a_new_staff_member_sets_a_password_at_first_sign_in_and_cannot_use_admin_routes(
    local: LocalStack, staff_function: StaffFunction
) -> None:
    pool = staff_pool(local)
    client = idp(local)
    email, temporary, chosen = "casey@clinic.local", "Temporary-Pass-1!", "Chosen-Pass-2#x"
    client.admin_create_user(
        UserPoolId=pool.pool_id,
        Username=email,
        TemporaryPassword=temporary,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    client.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=email, GroupName="staff")
    first = cognito_call(
        local,
        "InitiateAuth",
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": pool.client_id(),
            "AuthParameters": {"USERNAME": email, "PASSWORD": temporary},
        },
    )
    assert first.status == 200
    assert first.json()["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    answered = cognito_call(
        local,
        "RespondToAuthChallenge",
        {
            "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "ClientId": pool.client_id(),
            "Session": first.json()["Session"],
            "ChallengeResponses": {"USERNAME": email, "NEW_PASSWORD": chosen},
        },
    )
    assert answered.status == 200
    token = answered.json()["AuthenticationResult"]["IdToken"]
    assert list_leads(local, token).status == 200
    export = call(f"{local.base_url}/staff/export", headers={"Authorization": token})
    assert export.status == 403  # the staff function's own check: staff is not admin
    assert staff_function.invoked == 2
    assert sign_in(local, pool.client_id(), email, chosen)["IdToken"]
