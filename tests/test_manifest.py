"""The Slack manifest declares everything this slice uses."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_manifest_declares_the_command_scopes_events_and_home_the_app_uses():
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text(encoding="utf-8"))

    assert manifest["_metadata"]["major_version"] == 1
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/checkin" and command["should_escape"] is True
    assert command["url"].endswith("/slack/events")
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "users:read", "users:read.email"} <= scopes
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == [
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
    ]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["event_subscriptions"]["request_url"] == command["url"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_env_example_documents_every_setting():
    names = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    assert names == {
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "DATABASE_URL",
        "PORT",
        "CADENCE_CONFIG",
        "CADENCE_DATA_KEY",
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID",
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET",
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID",
        "CADENCE_PUBLIC_URL",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "METRICS_TOKEN",
    }
