"""Who may call `/api/messages`, and the bot's own token for calling Teams back.

Inbound: every request carries a Bot Framework JWT that the Agents SDK's `JwtTokenValidator`
checks (signature against Microsoft's published keys, `aud` = the bot's client id, expiry,
the tenant binding). Tests give the validator their own keys: with
`CADENCE_TEAMS_TEST_JWKS_URL` and `CADENCE_TEAMS_TEST_ISSUER` set, a token from that issuer is
checked against that key set, by the SDK's same code path (the SDK chooses its key set by the
token's issuer; the hook adds one issuer to its table). Never set them in production: the
process warns at start.

Outbound: a token from Entra for the Bot Connector (MSAL, the SDK's `MsalAuth`, which caches
and renews it), or none in anonymous mode (the Agents Playground).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jwt import PyJWTError
from microsoft_agents.hosting.core.authorization import (
    AgentAuthConfiguration,
    ClaimsIdentity,
    JwtTokenValidator,
    _entra_issuers,
)
from microsoft_agents.hosting.core.authorization.jwt import jwt_token_validator

from bot.process.config import ConfigError, TeamsSettings

log = logging.getLogger(__name__)

BOT_CONNECTOR = "https://api.botframework.com"
BOT_CONNECTOR_SCOPE = "https://api.botframework.com/.default"
SERVICE_URL_CLAIM = "serviceurl"

# What the bot presents to the Bot Connector: a bearer token, or None (anonymous).
BotToken = Callable[[], Awaitable[str | None]]


def auth_configuration(teams: TeamsSettings) -> AgentAuthConfiguration:
    """The SDK's configuration from the environment's `CONNECTIONS__SERVICE_CONNECTION__
    SETTINGS__*` values, read by the SDK's own names."""
    settings: dict[str, Any] = dict(teams.settings)  # the SDK reads each by its own name
    try:
        return AgentAuthConfiguration(**settings)
    except ValueError as exc:  # the SDK names the setting it misses
        raise ConfigError(f"Teams connection settings: {exc}") from exc


def use_test_keys(jwks_url: str, issuer: str) -> None:
    """Have the SDK's validator check tokens from `issuer` against the key set at
    `jwks_url` (tests only)."""
    table = _entra_issuers.BOTFRAMEWORK_JWKS_URIS
    if getattr(jwt_token_validator, "BOTFRAMEWORK_JWKS_URIS", None) is not table:
        raise ConfigError(
            "this version of the Agents SDK chooses its signing keys differently:"
            " CADENCE_TEAMS_TEST_JWKS_URL cannot be honoured"
        )
    table[issuer] = jwks_url


@dataclass(frozen=True)
class Caller:
    """Who called: the token's claims, or anonymous (no token, anonymous mode)."""

    claims: ClaimsIdentity | None

    def allows_service_url(self, service_url: str | None) -> bool:
        """Whether the activity's `serviceUrl` is the one the token was issued for (Bot
        Framework tokens name it): the bot sends its own token there, so a forged one must
        not be stored."""
        if self.claims is None or not service_url:
            return True
        claimed = self.claims.get_claim_value(SERVICE_URL_CLAIM)
        if not claimed:
            return True
        return _host(claimed) == _host(service_url)


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0].casefold()


class InboundAuth:
    """Checks the `Authorization` header of a request to `/api/messages`."""

    def __init__(self, teams: TeamsSettings) -> None:
        self.configuration = auth_configuration(teams)
        self.anonymous = teams.anonymous
        if teams.test_jwks_url and teams.test_issuer:
            use_test_keys(teams.test_jwks_url, teams.test_issuer)
            log.warning(
                "Teams tokens from the test issuer are checked against the test key set"
                " (CADENCE_TEAMS_TEST_JWKS_URL): never set it in production"
            )
        if self.anonymous:
            log.warning(
                "ANONYMOUS_ALLOWED is on: /api/messages accepts requests WITHOUT a token."
                " Local development with the Agents Playground only, never in production"
            )
        self._validator = JwtTokenValidator(self.configuration)

    async def caller(self, authorization: str | None) -> Caller | None:
        """The caller, or None when the request must be refused (401)."""
        if not authorization:
            return Caller(None) if self.anonymous else None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token or " " in token:
            return None
        try:
            claims = await self._validator.validate_token(token)
        except (PyJWTError, ValueError, KeyError, OSError) as exc:
            log.warning("a Teams request's token was refused (%s)", type(exc).__name__)
            return None
        return Caller(claims)


def bot_token(teams: TeamsSettings) -> BotToken:
    """The bot's outbound token: from Entra through MSAL, or none when anonymous."""
    if teams.anonymous and not teams.client_id:
        return fixed_token(None)
    from microsoft_agents.authentication.msal import MsalAuth

    msal = MsalAuth(auth_configuration(teams))

    async def from_entra() -> str | None:
        return await msal.get_access_token(BOT_CONNECTOR, [BOT_CONNECTOR_SCOPE])

    return from_entra


def fixed_token(token: str | None) -> BotToken:
    """A token that never changes (the stand-in's, in tests and the demo)."""

    async def fixed() -> str | None:
        return token

    return fixed
