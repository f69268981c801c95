"""Token lifetimes in the Cognito emulation as the app client sets them.

moto gives every ID and access token one hour, whatever the app client's ``IdTokenValidity`` /
``AccessTokenValidity`` and ``TokenValidityUnits`` say. The staff console's session rule (tokens of 30
minutes, contract section 7) depends on them, so ``install()`` makes the emulated pool write ``exp`` (and the
``ExpiresIn`` of the sign-in answer) from the client's settings, as Cognito does; a client without them keeps
Cognito's default of one hour. ``leads_local.moto_patches.install()`` calls it wherever moto runs.
"""

from __future__ import annotations

from typing import Any

_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
_SETTINGS = {"id": ("IdTokenValidity", "IdToken"), "access": ("AccessTokenValidity", "AccessToken")}
_original: Any = None


def lifetime_seconds(client_config: dict[str, Any], token_use: str, default: int = 3600) -> int:
    """The lifetime of a ``token_use`` token for a client with ``client_config`` (its API settings)."""
    if token_use not in _SETTINGS:
        return default
    value_name, unit_name = _SETTINGS[token_use]
    value = client_config.get(value_name)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return default
    unit = str((client_config.get("TokenValidityUnits") or {}).get(unit_name) or "hours")
    return value * _UNIT_SECONDS.get(unit, 3600)


def install() -> None:
    global _original  # noqa: PLW0603
    if _original is not None:
        return
    from moto.cognitoidp.models import CognitoIdpUserPool  # noqa: PLC0415 - moto loads only where it runs

    original = CognitoIdpUserPool.create_jwt

    def create_jwt(  # noqa: PLR0913, PLR0917 - moto's signature
        self: Any,
        client_id: str,
        username: str,
        token_use: str,
        expires_in: int = 60 * 60,
        extra_data: dict[str, Any] | None = None,
    ) -> tuple[str, int]:
        client = self.clients.get(client_id)
        if client is not None:
            expires_in = lifetime_seconds(client.extended_config, token_use, expires_in)
        return original(self, client_id, username, token_use, expires_in, extra_data)

    _original = original
    CognitoIdpUserPool.create_jwt = create_jwt  # type: ignore[method-assign]


def uninstall() -> None:
    global _original  # noqa: PLW0603
    if _original is None:
        return
    from moto.cognitoidp.models import CognitoIdpUserPool  # noqa: PLC0415

    CognitoIdpUserPool.create_jwt = _original  # type: ignore[method-assign]
    _original = None
