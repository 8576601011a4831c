"""Typed settings read from the environment, once, when the app is assembled."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from storage import sealing
from storage.db import to_async_url
from storage.sealing import DataKeyError, Keyring

DEFAULT_DATABASE_URL = "sqlite:///cadence.db"
# The Microsoft 365 Agents SDK reads its connection from these variables (its own names,
# which Microsoft's docs and tools use): CLIENTID, CLIENTSECRET, TENANTID, AUTHORITY, AUTHTYPE,
# ANONYMOUS_ALLOWED, ...
TEAMS_PREFIX = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
TEAMS_CLIENT_ID = TEAMS_PREFIX + "CLIENTID"
# Test hooks: the JWT validator's signing keys and issuer (honoured only when set; the bot
# warns at start).
TEAMS_TEST_JWKS_URL = "CADENCE_TEAMS_TEST_JWKS_URL"
TEAMS_TEST_ISSUER = "CADENCE_TEAMS_TEST_ISSUER"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"

MANIFEST_HELP = (
    "Create the Slack app from manifest.yaml (https://api.slack.com/apps → Create New App →"
    " From an app manifest), install it to your workspace, then copy the Bot User OAuth Token"
    " (SLACK_BOT_TOKEN), the Signing Secret (SLACK_SIGNING_SECRET) and, for Socket Mode, an"
    " app-level token with connections:write (SLACK_APP_TOKEN) into .env; see .env.example."
)
TEAMS_HELP = (
    f"For Microsoft Teams, set {TEAMS_CLIENT_ID} (and CLIENTSECRET, TENANTID with the same"
    " prefix) from the bot's Entra app registration; see README, Connecting Microsoft Teams."
)
TRUE = frozenset({"true", "1", "yes", "on"})


@dataclass(frozen=True)
class TeamsSettings:
    """Microsoft Teams' side: the SDK's connection settings (`settings`, by the names after
    the prefix: CLIENTID, CLIENTSECRET, TENANTID, AUTHORITY, AUTHTYPE, ANONYMOUS_ALLOWED, ...)
    and the test hooks for the JWT validator's keys."""

    settings: Mapping[str, str]
    test_jwks_url: str | None = None
    test_issuer: str | None = None

    @property
    def client_id(self) -> str:
        return self.settings.get("CLIENTID", "")

    @property
    def test_origin(self) -> str | None:
        """The origin of the test hooks' key set (the Teams stand-in), or None."""
        if not self.test_jwks_url:
            return None
        parts = urlsplit(self.test_jwks_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def anonymous(self) -> bool:
        """Requests without a token are accepted and replies carry none (the Microsoft 365
        Agents Playground): local development only."""
        return self.settings.get("ANONYMOUS_ALLOWED", "").strip().lower() in TRUE

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TeamsSettings | None:
        """The Teams settings, or None when Teams is not configured (no client id and not
        anonymous)."""
        found = {
            name.removeprefix(TEAMS_PREFIX): value
            for name, value in env.items()
            if name.startswith(TEAMS_PREFIX) and value
        }
        teams = cls(
            found,
            test_jwks_url=env.get(TEAMS_TEST_JWKS_URL) or None,
            test_issuer=env.get(TEAMS_TEST_ISSUER) or None,
        )
        if not teams.client_id and not teams.anonymous:
            return None
        if (teams.test_jwks_url is None) != (teams.test_issuer is None):
            raise ConfigError(f"set both {TEAMS_TEST_JWKS_URL} and {TEAMS_TEST_ISSUER}, or neither")
        return teams


@dataclass(frozen=True)
class Settings:
    """Everything the process needs from its environment."""

    slack_bot_token: str | None
    slack_signing_secret: str | None
    slack_app_token: str | None
    slack_api_url: str
    database_url: str
    port: int
    config_path: Path
    teams: TeamsSettings | None = None
    data_keys: Keyring | None = None  # CADENCE_DATA_KEY (storage.sealing)
    metrics_token: str | None = None  # METRICS_TOKEN: /metrics asks for it as a bearer token

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from `env` (default: the process environment)."""
        env = os.environ if env is None else env
        api_url = env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        if not api_url.endswith("/"):
            api_url += "/"
        port_text = env.get("PORT") or "3000"
        try:
            port = int(port_text)
        except ValueError as exc:
            raise ConfigError(f"PORT must be a number, got {port_text!r}") from exc
        try:
            database_url = to_async_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
        except ValueError as exc:
            raise ConfigError(
                "DATABASE_URL must be a URL such as sqlite:///cadence.db"
                " or postgresql://user:password@host/db"
            ) from exc
        try:
            data_key = env.get(sealing.ENV) or ""
            data_keys = Keyring.parse(data_key) if data_key.strip() else None
        except DataKeyError as exc:
            raise ConfigError(str(exc)) from exc
        return cls(
            slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            slack_app_token=env.get("SLACK_APP_TOKEN") or None,
            slack_api_url=api_url,
            database_url=database_url,
            port=port,
            config_path=Path(env.get("CADENCE_CONFIG") or "app.yaml"),
            teams=TeamsSettings.from_env(env),
            data_keys=data_keys,
            metrics_token=(env.get("METRICS_TOKEN") or "").strip() or None,
        )

    @property
    def socket_mode(self) -> bool:
        """Socket Mode when an app-level token is configured, HTTP otherwise."""
        return self.slack_app_token is not None

    @property
    def slack(self) -> bool:
        """Whether Slack is configured (a bot token)."""
        return self.slack_bot_token is not None

    def missing_for_serve(self) -> list[str]:
        """Name each secret that `serve` needs and does not have: Slack's when Slack is
        configured or neither platform is; none when only Teams is."""
        if not self.slack and self.teams is not None:
            return []
        needed = {"SLACK_BOT_TOKEN": self.slack_bot_token}
        if self.socket_mode:
            needed["SLACK_APP_TOKEN"] = self.slack_app_token
        else:
            needed["SLACK_SIGNING_SECRET"] = self.slack_signing_secret
        return [name for name, value in needed.items() if not value]


class ConfigError(Exception):
    """The environment holds a value the app cannot use."""
