"""The Teams app package an admin uploads (Teams admin center, or the Developer Portal):
`manifest.json` (schema 1.22) with the bot, its commands and the domains it serves, and the
two icons Teams asks for, drawn here so the package needs no binary files in the repository.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.process.config import TEAMS_CLIENT_ID

MANIFEST_VERSION = "1.22"
SCHEMA_URL = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}"
    "/MicrosoftTeams.schema.json"
)
PUBLIC_URL = "CADENCE_PUBLIC_URL"  # where Teams reaches the bot: https://host[/path]
ACCENT = (0x2E, 0x6B, 0x5E)  # Cadence's green
GUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")

# What a user types in the bot's chat: Teams lists these as they type.
COMMANDS = (
    ("checkin", "Log a talk with one of your reports: facts, consensus, actions."),
    ("checkin goal", "Set a goal for a report, or propose one of your own."),
    ("checkin milestone", "Register a project milestone; its end starts the retrospectives."),
    ("self", "Write your self-assessment for the review."),
    ("review", "Record a formal review interview: review and the report's name."),
    ("home", "Your reports' last talks and open actions, and your own."),
    ("my data", "A file of everything Cadence keeps about you, and who read it."),
    ("help", "What Cadence does, and how to start."),
)


class PackageError(Exception):
    """The configuration cannot make a package; the message says what to set."""


@dataclass(frozen=True)
class PackageSettings:
    """What the manifest needs from the deployment."""

    client_id: str  # the Entra app registration's client id: the bot's id
    public_url: str  # https://host[/path]: the messaging endpoint is <public_url>/api/messages
    version: str = "1.0.0"

    @classmethod
    def from_env(cls, env: dict[str, str], *, public_url: str | None = None) -> PackageSettings:
        client_id = (env.get(TEAMS_CLIENT_ID) or "").strip()
        url = (public_url or env.get(PUBLIC_URL) or "").strip().rstrip("/")
        missing = [
            name for name, value in ((TEAMS_CLIENT_ID, client_id), (PUBLIC_URL, url)) if not value
        ]
        if missing:
            raise PackageError(f"set {' and '.join(missing)} (see README, Connecting Teams)")
        if not GUID.match(client_id):
            raise PackageError(
                f"{TEAMS_CLIENT_ID} must be the app registration's client id (a GUID)"
            )
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise PackageError(f"{PUBLIC_URL} must be an https:// address Teams can reach")
        return cls(client_id.lower(), url)

    @property
    def domain(self) -> str:
        return urlsplit(self.public_url).hostname or ""


def manifest(settings: PackageSettings) -> dict[str, Any]:
    """The app manifest: a personal bot with Cadence's commands."""
    base = settings.public_url
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": settings.version,
        "id": settings.client_id,
        "developer": {
            "name": "Cadence",
            "websiteUrl": f"{base}/",
            "privacyUrl": f"{base}/privacy",
            "termsOfUseUrl": f"{base}/terms",
        },
        "name": {"short": "Cadence", "full": "Cadence: performance conversations all year"},
        "description": {
            "short": "Keeps 1:1s, goals and reviews alive between review cycles.",
            "full": (
                "Cadence nudges managers to talk with their people in their working hours,"
                " collects each talk's facts, consensus and actions right after it, follows"
                " every commitment into the next talk, and prepares the formal review from"
                " the year's records."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": settings.client_id,
                "scopes": ["personal"],
                "isNotificationOnly": False,
                "supportsFiles": True,  # the `my data` file (file consent card)
                "commandLists": [
                    {
                        "scopes": ["personal"],
                        "commands": [
                            {"title": title, "description": text} for title, text in COMMANDS
                        ],
                    }
                ],
            }
        ],
        "permissions": ["identity"],
        "validDomains": [settings.domain],
        # for the optional proactive installation through Microsoft Graph (README)
        "webApplicationInfo": {
            "id": settings.client_id,
            "resource": f"api://{settings.domain}/{settings.client_id}",
        },
    }


def _png(width: int, height: int, pixel: Any) -> bytes:
    """An RGBA PNG whose pixel (x, y) is `pixel(x, y)`: four bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _ring(x: int, y: int, size: int, width: float) -> bool:
    """Whether (x, y) lies on a ring, Cadence's mark (a cycle), in a `size` square."""
    centre, radius = (size - 1) / 2, size * 0.34
    distance = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
    return abs(distance - radius) <= width / 2


def color_icon() -> bytes:
    """192×192, full colour: a white ring on Cadence's green."""
    white, green = (255, 255, 255, 255), (*ACCENT, 255)
    return _png(192, 192, lambda x, y: white if _ring(x, y, 192, 22) else green)


def outline_icon() -> bytes:
    """32×32, white on transparent (Teams' rule for outline icons)."""
    white, clear = (255, 255, 255, 255), (0, 0, 0, 0)
    return _png(32, 32, lambda x, y: white if _ring(x, y, 32, 3.5) else clear)


def build(settings: PackageSettings) -> bytes:
    """The package as zip bytes: manifest.json and the icons at its root."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest(settings), indent=2) + "\n")
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())
    return out.getvalue()


def write(settings: PackageSettings, output: Path) -> Path:
    """Write the package to `output` (a folder gets `cadence-teams.zip`); the path written."""
    path = output / "cadence-teams.zip" if output.is_dir() else output
    path.write_bytes(build(settings))
    return path
