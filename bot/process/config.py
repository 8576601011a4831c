"""Typed settings read from the environment, once, when the app is assembled."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from storage.db import to_async_url

DEFAULT_DATABASE_URL = "sqlite:///cadence.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"

MANIFEST_HELP = (
    "Create the Slack app from manifest.yaml (https://api.slack.com/apps → Create New App →"
    " From an app manifest), install it to your workspace, then copy the Bot User OAuth Token"
    " (SLACK_BOT_TOKEN), the Signing Secret (SLACK_SIGNING_SECRET) and, for Socket Mode, an"
    " app-level token with connections:write (SLACK_APP_TOKEN) into .env; see .env.example."
)


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
        return cls(
            slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            slack_app_token=env.get("SLACK_APP_TOKEN") or None,
            slack_api_url=api_url,
            database_url=database_url,
            port=port,
            config_path=Path(env.get("CADENCE_CONFIG") or "app.yaml"),
        )

    @property
    def socket_mode(self) -> bool:
        """Socket Mode when an app-level token is configured, HTTP otherwise."""
        return self.slack_app_token is not None

    def missing_for_serve(self) -> list[str]:
        """Name each secret that `serve` needs and does not have."""
        needed = {"SLACK_BOT_TOKEN": self.slack_bot_token}
        if self.socket_mode:
            needed["SLACK_APP_TOKEN"] = self.slack_app_token
        else:
            needed["SLACK_SIGNING_SECRET"] = self.slack_signing_secret
        return [name for name, value in needed.items() if not value]


class ConfigError(Exception):
    """The environment holds a value the app cannot use."""
