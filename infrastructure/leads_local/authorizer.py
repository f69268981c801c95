"""API Gateway's Cognito user pool authorizer, emulated for the local stack.

For a route the template puts behind a Cognito authorizer, API Gateway reads the token from the
authorizer's header and lets the request through only when it is an ID token of that pool that has not
expired; otherwise it answers ``401 {"message": "Unauthorized"}`` itself and the function never runs.
``CognitoAuthorizer`` does the same checks locally, with ``joserfc``:

- the header holds a JWT (the raw token; ``Bearer <token>`` is accepted too), signed with RS256 by a key of
  the pool's JWKS (fetched once from the emulation's ``/<pool id>/.well-known/jwks.json`` and cached;
  fetched again when a token names a key id it does not hold, at most once a minute);
- ``iss`` is the pool's issuer, ``aud`` one of the pool's app clients in the template, ``token_use`` is
  ``id``, ``exp`` has not passed.

The claims reach the function at ``requestContext.authorizer.claims`` as API Gateway REST renders them, all
strings: numbers as their decimal text, except ``exp`` and ``iat`` which API Gateway writes as dates
(``Tue Apr 04 18:39:39 UTC 2023``); ``true``/``false`` for booleans; a list (``cognito:groups``) as its items
joined by commas (``admin,staff``; one group: ``admin``).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

UNAUTHORIZED = {"message": "Unauthorized"}
ALGORITHMS = ["RS256"]
REFETCH_SECONDS = 60.0
_DATE_CLAIMS = {"exp", "iat"}


class Unauthorized(Exception):
    """The request does not pass the authorizer; ``reason`` is for the local log (never the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def fetch_json(url: str, timeout: float = 10.0) -> Any:
    """GET ``url`` (the local AWS endpoint) and parse its JSON body."""
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 # nosec B310: local endpoint
        return json.loads(response.read())


def gateway_date(value: Any) -> str:
    """A NumericDate as API Gateway REST writes ``exp``/``iat`` in the claims."""
    return datetime.fromtimestamp(int(value), UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


def _claim_text(name: str, value: Any) -> str:
    if name in _DATE_CLAIMS and isinstance(value, int | float) and not isinstance(value, bool):
        return gateway_date(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_claim_text("", item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """``claims`` as API Gateway REST hands them to the function (every value a string)."""
    return {str(name): _claim_text(str(name), value) for name, value in claims.items()}


def token_from(headers: Iterable[tuple[str, str]], header: str = "Authorization") -> str:
    """The token in ``header`` (the last one, as API Gateway reads single-value headers), no ``Bearer``."""
    values = [value for name, value in headers if name.lower() == header.lower()]
    if not values:
        raise Unauthorized(f"no {header} header")
    token = values[-1].strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise Unauthorized(f"empty {header} header")
    return token


class CognitoAuthorizer:
    """Checks ID tokens of one user pool for the app clients ``client_ids``."""

    def __init__(  # noqa: PLR0913 - the pool's identity and two seams for tests, all named
        self,
        *,
        issuer: str,
        client_ids: Iterable[str],
        jwks_url: str,
        header: str = "Authorization",
        fetch: Callable[[str], Any] = fetch_json,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer
        self.client_ids = frozenset(client_ids)
        self.jwks_url = jwks_url
        self.header = header
        self._fetch = fetch
        self._clock = clock
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def _key_set(self, refresh: bool = False) -> KeySet:
        with self._lock:
            stale = refresh and self._clock() - self._fetched_at >= REFETCH_SECONDS
            if self._keys is None or stale:
                try:
                    self._keys = KeySet.import_key_set(self._fetch(self.jwks_url))
                except (OSError, ValueError, JoseError) as exc:
                    raise Unauthorized(f"the pool's keys could not be read ({type(exc).__name__})") from None
                self._fetched_at = self._clock()
            return self._keys

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            try:
                decoded = jwt.decode(token, self._key_set(), algorithms=ALGORITHMS)
            except InvalidKeyIdError:  # a key the cached set lacks: the pool may have published a new one
                decoded = jwt.decode(token, self._key_set(refresh=True), algorithms=ALGORITHMS)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise Unauthorized(f"token not accepted ({type(exc).__name__})") from None
        return dict(decoded.claims)

    def authorize(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        """The claims API Gateway would pass on; ``Unauthorized`` for anything it would refuse."""
        claims = self._decode(token_from(headers, self.header))
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock()),
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "values": sorted(self.client_ids)},
            token_use={"essential": True, "value": "id"},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise Unauthorized(f"claims not accepted ({type(exc).__name__})") from None
        return gateway_claims(claims)
