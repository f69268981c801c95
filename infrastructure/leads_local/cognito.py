"""The staff user pool in the local AWS emulation, from ``template.yaml``'s own definitions.

``create_user_pools`` creates every ``AWS::Cognito::UserPool`` of the template with its groups and app
clients, properties resolved with the local parameter values (``StaffMfa=optional``: no MFA set-up locally).
``create_demo_admin`` makes the demo ``admin`` account ``make run`` prints. ``find_staff_pool`` lets
``leads --local`` find the pool again (moto gives pools random ids; the pool's name is deterministic).
``forward_cognito_call`` is the console's same-origin sign-in endpoint (``/_local/cognito/``): it passes the
calls a browser may make to Cognito without AWS credentials on to the emulation, and nothing else.
"""

from __future__ import annotations

import json
import secrets
import string
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from leads_local import template as cfn
from leads_local.apigw import HttpResponse
from leads_local.authorizer import CognitoAuthorizer, Unauthorized
from leads_local.intrinsics import Resolver
from leads_local.routes import cognito_authorizers

# Parameter values the local stack deploys the template with (the rest keep their defaults).
LOCAL_PARAMETERS = {"StaffMfa": "optional"}
DEMO_ADMIN_EMAIL = "admin@clinic.local"
DEMO_ADMIN_GROUP = "admin"
STAFF_POOL = "StaffUserPool"
STAFF_CLIENT = "StaffUserPoolClient"
COGNITO_PROXY_PATH = "/_local/cognito/"

# CloudFormation property -> CreateUserPool argument, where the names differ.
_POOL_RENAMES = {"UserPoolName": "PoolName"}
# CloudFormation-only properties (applied by other calls, or not emulated).
_POOL_SKIPPED = {"EnabledMfas", "UserPoolTags", "UserPoolAddOns", "UserPoolTier"}
# Symbols Cognito counts for RequireSymbols, no quotes, backslashes or brackets (the password is printed).
_PASSWORD_SYMBOLS = "!#%*+-.:=?@^_~"  # noqa: S105 # nosec B105: an alphabet, not a password
# What a browser may ask Cognito without AWS credentials (public and token-authorized operations); the
# Admin* operations need IAM credentials on AWS and are never forwarded.
BROWSER_OPERATIONS = frozenset(
    {
        "InitiateAuth",
        "RespondToAuthChallenge",
        "AssociateSoftwareToken",
        "VerifySoftwareToken",
        "SetUserMFAPreference",
        "GetUser",
        "ChangePassword",
        "GlobalSignOut",
        "RevokeToken",
        "ForgotPassword",
        "ConfirmForgotPassword",
    }
)
_TARGET_PREFIX = "AWSCognitoIdentityProviderService."


@dataclass(frozen=True)
class LocalUserPool:
    """One user pool the local stack created: its ids and where its tokens' keys are published."""

    logical_id: str
    pool_id: str
    pool_arn: str
    name: str
    issuer: str
    jwks_url: str  # on the local AWS endpoint
    clients: dict[str, str] = field(default_factory=dict)  # logical id -> app client id
    groups: tuple[str, ...] = ()
    password_policy: dict[str, Any] = field(default_factory=dict)

    def client_id(self, logical_id: str = STAFF_CLIENT) -> str:
        return self.clients[logical_id]


def resolver(prefix: str, parameters: Mapping[str, str] | None = None, **known: Any) -> Resolver:
    """The template's intrinsics as the local stack deploys it (stack name = ``prefix``)."""
    return Resolver(
        cfn.load_template(),
        {**LOCAL_PARAMETERS, **(parameters or {})},
        stack_name=prefix,
        region=cfn.LOCAL_REGION,
        account_id=cfn.LOCAL_ACCOUNT_ID,
        **known,
    )


def _refers_to(value: Any, logical_id: str) -> bool:
    return value == {"Ref": logical_id}


def pool_create_kwargs(properties: Mapping[str, Any]) -> dict[str, Any]:
    """``CreateUserPool`` arguments from the pool's resolved CloudFormation properties."""
    kept = {name: value for name, value in properties.items() if name not in _POOL_SKIPPED}
    return {_POOL_RENAMES.get(name, name): value for name, value in kept.items()}


def issuer_of(pool_id: str, region: str = cfn.LOCAL_REGION) -> str:
    """The ``iss`` of the pool's tokens (what Cognito, and moto, write)."""
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


def create_user_pools(
    client: Any, aws_endpoint: str, prefix: str, parameters: Mapping[str, str] | None = None
) -> dict[str, LocalUserPool]:
    """Create each user pool of the template with its groups and app clients (by logical id)."""
    pools: dict[str, LocalUserPool] = {}
    template = cfn.load_template()
    base = resolver(prefix, parameters)
    for logical_id, definition in cfn.resources_of_type("AWS::Cognito::UserPool").items():
        properties = base.resolve(definition.get("Properties", {}))
        pool = client.create_user_pool(**pool_create_kwargs(properties))["UserPool"]
        pool_id = str(pool["Id"])
        if "SOFTWARE_TOKEN_MFA" in properties.get("EnabledMfas", []):
            client.set_user_pool_mfa_config(
                UserPoolId=pool_id,
                SoftwareTokenMfaConfiguration={"Enabled": True},
                MfaConfiguration=properties.get("MfaConfiguration", "OFF"),
            )
        scoped = resolver(prefix, parameters, resources={logical_id: pool_id})
        groups = []
        for group in cfn.resources_of_type("AWS::Cognito::UserPoolGroup", template).values():
            if _refers_to(group.get("Properties", {}).get("UserPoolId"), logical_id):
                kwargs = scoped.resolve(group["Properties"])
                client.create_group(**kwargs)
                groups.append(str(kwargs["GroupName"]))
        clients = {}
        for client_id, app in cfn.resources_of_type("AWS::Cognito::UserPoolClient", template).items():
            if _refers_to(app.get("Properties", {}).get("UserPoolId"), logical_id):
                created = client.create_user_pool_client(**scoped.resolve(app["Properties"]))
                clients[client_id] = str(created["UserPoolClient"]["ClientId"])
        pools[logical_id] = LocalUserPool(
            logical_id=logical_id,
            pool_id=pool_id,
            pool_arn=str(pool["Arn"]),
            name=str(properties["UserPoolName"]),
            issuer=issuer_of(pool_id),
            jwks_url=f"{aws_endpoint}/{pool_id}/.well-known/jwks.json",
            clients=clients,
            groups=tuple(groups),
            password_policy=dict(properties.get("Policies", {}).get("PasswordPolicy", {})),
        )
    return pools


def generate_password(policy: Mapping[str, Any], length: int = 20) -> str:
    """A random password that meets ``policy`` (a pool's ``PasswordPolicy``): every class, at least
    ``MinimumLength`` characters."""
    size = max(length, int(policy.get("MinimumLength", 8)))
    classes = [string.ascii_lowercase, string.ascii_uppercase, string.digits, _PASSWORD_SYMBOLS]
    alphabet = "".join(classes)
    chars = [secrets.choice(group) for group in classes]
    chars += [secrets.choice(alphabet) for _ in range(size - len(chars))]
    # Shuffle with the system random source so no class sits at a predictable place.
    for index in range(len(chars) - 1, 0, -1):
        other = secrets.randbelow(index + 1)
        chars[index], chars[other] = chars[other], chars[index]
    # Start with a letter or digit, so the password is never read as a command-line option.
    first = next(i for i, char in enumerate(chars) if char.isalnum())
    chars[0], chars[first] = chars[first], chars[0]
    return "".join(chars)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    groups: tuple[str, ...]


def create_demo_admin(client: Any, pool: LocalUserPool, email: str = DEMO_ADMIN_EMAIL) -> DemoAccount:
    """The demo ``admin`` account: a permanent random password (no new-password step), no MFA."""
    password = generate_password(pool.password_policy)
    client.admin_create_user(
        UserPoolId=pool.pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    client.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=email, GroupName=DEMO_ADMIN_GROUP)
    client.admin_set_user_password(UserPoolId=pool.pool_id, Username=email, Password=password, Permanent=True)
    return DemoAccount(email=email, password=password, groups=(DEMO_ADMIN_GROUP,))


def staff_pool_name(prefix: str = cfn.LOCAL_PREFIX) -> str:
    """The staff pool's name as the local stack creates it (the template's ``UserPoolName``)."""
    properties = cfn.resource(STAFF_POOL).get("Properties", {})
    return str(resolver(prefix).resolve(properties.get("UserPoolName")))


def find_staff_pool(client: Any, prefix: str = cfn.LOCAL_PREFIX) -> dict[str, str]:
    """``StaffUserPoolId`` and ``StaffUserPoolClientId`` of a running local stack (empty when none runs)."""
    name = staff_pool_name(prefix)
    client_name = str(cfn.resource(STAFF_CLIENT).get("Properties", {}).get("ClientName", ""))
    pages = client.get_paginator("list_user_pools").paginate(MaxResults=60)
    pools = (pool for page in pages for pool in page.get("UserPools", []))
    pool_id = next((pool["Id"] for pool in pools if pool.get("Name") == name), None)
    if pool_id is None:
        return {}
    outputs = {"StaffUserPoolId": str(pool_id)}
    clients = client.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60)
    for page in clients:
        for app in page.get("UserPoolClients", []):
            if app.get("ClientName") == client_name:
                outputs["StaffUserPoolClientId"] = str(app["ClientId"])
    return outputs


def _error(status: int, kind: str, message: str) -> HttpResponse:
    body = json.dumps({"__type": kind, "message": message}).encode()
    return HttpResponse(status, [("Content-Type", "application/x-amz-json-1.1")], body)


def _header(headers: Iterable[tuple[str, str]], name: str) -> str:
    return next((value for key, value in headers if key.lower() == name.lower()), "")


def forward_cognito_call(aws_endpoint: str, headers: Iterable[tuple[str, str]], body: bytes) -> HttpResponse:
    """Pass one browser call (``X-Amz-Target: AWSCognitoIdentityProviderService.<operation>``) to the
    emulation; operations outside ``BROWSER_OPERATIONS`` and anything that is not a Cognito JSON call are
    refused without reaching it."""
    pairs = list(headers)
    target = _header(pairs, "X-Amz-Target")
    operation = target.removeprefix(_TARGET_PREFIX) if target.startswith(_TARGET_PREFIX) else ""
    if operation not in BROWSER_OPERATIONS:
        return _error(400, "UnknownOperationException", "This endpoint takes Cognito sign-in calls only.")
    content_type = _header(pairs, "Content-Type") or "application/x-amz-json-1.1"
    request = urllib.request.Request(  # noqa: S310 - the local AWS endpoint (http://127.0.0.1:AWS_PORT)
        f"{aws_endpoint}/",
        data=body,
        method="POST",
        headers={"X-Amz-Target": target, "Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 # nosec B310: local endpoint
            return _reply(response.status, response.headers.get("Content-Type"), response.read())
    except urllib.error.HTTPError as error:
        return _reply(error.code, error.headers.get("Content-Type"), error.read())
    except OSError:
        return _error(503, "ServiceUnavailableException", "The local AWS endpoint did not answer.")


def _reply(status: int, content_type: str | None, body: bytes) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", content_type or "application/x-amz-json-1.1")], body)


class LocalCognito:
    """The template's user pools in the emulation, the demo admin, and the API's Cognito authorizers."""

    def __init__(self, aws_endpoint: str, prefix: str, admin_email: str = DEMO_ADMIN_EMAIL) -> None:
        self.aws_endpoint = aws_endpoint
        self.prefix = prefix
        self.admin_email = admin_email
        self.pools: dict[str, LocalUserPool] = {}
        self.demo: DemoAccount | None = None
        self.authorizers: dict[str, CognitoAuthorizer] = {}

    def start(self, session: Any) -> None:
        """Create the pools, their groups and clients, the demo admin, and one authorizer per Cognito
        authorizer of the API."""
        client = session.client("cognito-idp")
        self.pools = create_user_pools(client, self.aws_endpoint, self.prefix)
        if STAFF_POOL in self.pools:
            self.demo = create_demo_admin(client, self.pools[STAFF_POOL], self.admin_email)
        for name, spec in cognito_authorizers().items():
            pool = self.pools[spec.user_pool]
            self.authorizers[name] = CognitoAuthorizer(
                issuer=pool.issuer,
                client_ids=pool.clients.values(),
                jwks_url=pool.jwks_url,
                header=spec.header,
            )

    @classmethod
    def started(cls, session: Any, aws_endpoint: str, prefix: str) -> LocalCognito:
        cognito = cls(aws_endpoint, prefix)
        cognito.start(session)
        return cognito

    @property
    def staff_pool(self) -> LocalUserPool | None:
        return self.pools.get(STAFF_POOL)

    def function_environment(self) -> dict[str, str]:
        """``USER_POOL_ID`` and ``USER_POOL_CLIENT_ID`` as the template wires them to the staff function."""
        pool = self.staff_pool
        if pool is None or STAFF_CLIENT not in pool.clients:
            return {}
        return {"USER_POOL_ID": pool.pool_id, "USER_POOL_CLIENT_ID": pool.client_id()}

    def authorize(self, authorizer: str, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        """The claims of a request through ``authorizer``; ``Unauthorized`` where API Gateway refuses it."""
        if authorizer not in self.authorizers:
            raise Unauthorized(f"authorizer {authorizer} is not a Cognito authorizer of the API")
        return self.authorizers[authorizer].authorize(headers)

    def outputs(self) -> dict[str, str]:
        """The staff pool's stack outputs (``StaffUserPoolId``, ``StaffUserPoolClientId``)."""
        environment = self.function_environment()
        if not environment:
            return {}
        return {
            "StaffUserPoolId": environment["USER_POOL_ID"],
            "StaffUserPoolClientId": environment["USER_POOL_CLIENT_ID"],
        }
