"""The Cognito authorizer emulation alone: token checks, claims as API Gateway REST renders them, JWKS cache.

Tokens here are signed with keys made by the test (joserfc); the same checks through the running stack, with
tokens from the emulated pool, are in test_staff_auth_stack.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from leads_local.apigw import HttpRequest, build_event
from leads_local.authorizer import (
    CognitoAuthorizer,
    Unauthorized,
    gateway_claims,
    gateway_date,
    token_from,
)

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool1"
CLIENT = "client-one"
NOW = 1_796_200_000
POOL_KEY = RSAKey.generate_key(2048, parameters={"kid": "pool-key"}, private=True)


class Jwks:
    """The pool's published keys, counting how often they are fetched."""

    def __init__(self, *keys: RSAKey) -> None:
        self.keys = list(keys)
        self.fetches = 0

    def __call__(self, url: str) -> Any:
        assert url == "http://127.0.0.1:4566/us-east-1_pool1/.well-known/jwks.json"
        self.fetches += 1
        return {"keys": [key.as_dict(private=False) for key in self.keys]}


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def claims(**overrides: Any) -> dict[str, Any]:
    base = {
        "sub": "0b6d2a3e-0000-4000-8000-000000000001",
        "iss": ISSUER,
        "aud": CLIENT,
        "token_use": "id",
        "auth_time": NOW - 60,
        "iat": NOW - 60,
        "exp": NOW + 1800,
        "cognito:username": "0b6d2a3e-0000-4000-8000-000000000001",
        "email": "pat@clinic.example",
        "email_verified": True,
        "cognito:groups": ["staff"],
    }
    base.update(overrides)
    return base


def sign(payload: dict[str, Any], key: RSAKey = POOL_KEY, kid: str = "pool-key") -> str:
    return jwt.encode({"alg": "RS256", "kid": kid}, payload, key)


def authorizer(jwks: Jwks | None = None, clock: Clock | None = None) -> CognitoAuthorizer:
    return CognitoAuthorizer(
        issuer=ISSUER,
        client_ids=[CLIENT],
        jwks_url="http://127.0.0.1:4566/us-east-1_pool1/.well-known/jwks.json",
        fetch=jwks or Jwks(POOL_KEY),
        clock=clock or Clock(),
    )


def header(token: str) -> list[tuple[str, str]]:
    return [("Authorization", token)]


def test_a_valid_id_token_gives_the_claims_as_strings() -> None:
    result = authorizer().authorize(header(sign(claims(**{"cognito:groups": ["admin", "staff"]}))))
    assert result["email"] == "pat@clinic.example"
    assert result["cognito:groups"] == "admin,staff"
    assert result["email_verified"] == "true"
    assert result["auth_time"] == str(NOW - 60)
    assert result["exp"] == gateway_date(NOW + 1800)
    assert result["token_use"] == "id"
    assert all(isinstance(value, str) for value in result.values())


def test_claims_render_like_api_gateway_rest() -> None:
    assert gateway_date(1680629979) == "Tue Apr 04 17:39:39 UTC 2023"
    rendered = gateway_claims({"cognito:groups": ["admin"], "iat": 1680629979, "n": 3, "flag": False})
    assert rendered == {
        "cognito:groups": "admin",
        "iat": "Tue Apr 04 17:39:39 UTC 2023",
        "n": "3",
        "flag": "false",
    }


def test_bearer_prefix_is_accepted_and_the_last_header_counts() -> None:
    token = sign(claims())
    assert authorizer().authorize([("authorization", "junk"), ("Authorization", f"Bearer {token}")])


@pytest.mark.parametrize("headers", [[], [("Authorization", "")], [("Authorization", "Bearer ")]])
def test_no_token_is_refused(headers: list[tuple[str, str]]) -> None:
    with pytest.raises(Unauthorized):
        authorizer().authorize(headers)


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30", "x" * 5000])
def test_a_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(Unauthorized):
        authorizer().authorize(header(token))


def test_an_expired_token_is_refused_at_its_exp() -> None:
    clock = Clock()
    token = sign(claims(exp=NOW + 10))
    auth = authorizer(clock=clock)
    assert auth.authorize(header(token))
    clock.now = NOW + 10
    with pytest.raises(Unauthorized):
        auth.authorize(header(token))


def test_a_token_signed_by_another_key_is_refused_even_with_the_pools_kid() -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "pool-key"}, private=True)
    with pytest.raises(Unauthorized):
        authorizer().authorize(header(sign(claims(), key=other)))


def test_alg_none_and_hs256_keyed_with_the_public_key_are_refused() -> None:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none', 'kid': 'pool-key'})}.{b64(claims())}."
    signing_input = f"{b64({'alg': 'HS256', 'kid': 'pool-key'})}.{b64(claims())}"
    mac = hmac.new(POOL_KEY.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    confused = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    for token in (unsigned, confused):
        with pytest.raises(Unauthorized):
            authorizer().authorize(header(token))


@pytest.mark.parametrize(
    "change",
    [
        {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"},
        {"aud": "client-two"},
        {"token_use": "access"},
        {"exp": "tomorrow"},
        {"iss": None},
        {"aud": None},
        {"exp": None},
        {"token_use": None},
    ],
)
def test_a_token_for_another_pool_client_or_use_is_refused(change: dict[str, Any]) -> None:
    payload = {k: v for k, v in claims(**change).items() if v is not None}
    with pytest.raises(Unauthorized):
        authorizer().authorize(header(sign(payload)))


def test_the_keys_are_fetched_once_and_again_only_for_a_new_kid_at_most_once_a_minute() -> None:
    jwks, clock = Jwks(POOL_KEY), Clock()
    auth = authorizer(jwks, clock)
    for _ in range(3):
        auth.authorize(header(sign(claims())))
    assert jwks.fetches == 1

    rotated = RSAKey.generate_key(2048, parameters={"kid": "next-key"}, private=True)
    token = sign(claims(), key=rotated, kid="next-key")
    with pytest.raises(Unauthorized):
        auth.authorize(header(token))  # not published yet; the set was fetched under a minute ago
    assert jwks.fetches == 1
    jwks.keys.append(rotated)
    clock.now += 60
    assert auth.authorize(header(token))["email"] == "pat@clinic.example"
    assert jwks.fetches == 2


def test_keys_that_cannot_be_fetched_refuse_the_request() -> None:
    def unreachable(url: str) -> Any:
        raise OSError("connection refused")

    auth = CognitoAuthorizer(
        issuer=ISSUER, client_ids=[CLIENT], jwks_url="http://127.0.0.1:1/x", fetch=unreachable
    )
    with pytest.raises(Unauthorized):
        auth.authorize(header(sign(claims())))


def test_token_from_reads_the_configured_header_only() -> None:
    assert token_from([("X-Token", "abc")], "X-Token") == "abc"
    with pytest.raises(Unauthorized):
        token_from([("X-Token", "abc")])


def test_the_claims_reach_the_event_where_api_gateway_puts_them() -> None:
    request = HttpRequest("GET", "/staff/leads/ABC", "", [("Authorization", "t")], b"", "127.0.0.1")
    result = authorizer().authorize(header(sign(claims())))
    event = build_event(request, "/staff/leads/{id}", path_parameters={"id": "ABC"}, claims=result)
    assert event["requestContext"]["authorizer"] == {"claims": result}
    assert event["pathParameters"] == {"id": "ABC"}
    assert event["resource"] == event["requestContext"]["resourcePath"] == "/staff/leads/{id}"
    public = build_event(request, "/staff")
    assert "authorizer" not in public["requestContext"]
    assert public["pathParameters"] is None
