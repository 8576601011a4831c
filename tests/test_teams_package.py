"""The Teams app package: a manifest Microsoft's own schema accepts (validated offline
against the schema `@microsoft/app-manifest` bundles), the bot and domain from configuration,
the icons Teams asks for, and `teams-package` writing it."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from bot.process.cli import main
from bot.process.config import TEAMS_CLIENT_ID
from bot.teams.app_package import (
    PUBLIC_URL,
    SCHEMA_URL,
    PackageError,
    PackageSettings,
    build,
    manifest,
)
from handlers.teams import parse

SCHEMA = Path(__file__).parent / "teams_schema" / "MicrosoftTeams.schema.json"
APP = "1b2c3d4e-5f60-4718-9a0b-1c2d3e4f5a6b"
SETTINGS = PackageSettings(APP, "https://cadence.example.com")


def problems(document: dict) -> list[str]:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return [e.message for e in Draft4Validator(schema).iter_errors(document)]


def pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the RGBA rows of one of our PNGs (8-bit RGBA, no filter)."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    data, at = b"", 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, body = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        if kind == b"IDAT":
            data += body
        at += 12 + length
    raw = zlib.decompress(data)
    stride = 1 + 4 * width
    return width, height, [raw[y * stride + 1 : (y + 1) * stride] for y in range(height)]


def test_the_manifest_is_valid_against_microsofts_schema():
    document = manifest(SETTINGS)

    assert problems(document) == []
    assert document["$schema"] == SCHEMA_URL and document["manifestVersion"] == "1.22"
    [bot] = document["bots"]
    assert bot["botId"] == APP and bot["scopes"] == ["personal"]
    titles = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert titles == [
        "checkin",
        "checkin goal",
        "checkin milestone",
        "self",
        "review",
        "home",
        "my data",
        "help",
    ]
    assert all(parse.command(title).action != "unknown" for title in titles)  # each one works
    assert document["validDomains"] == ["cadence.example.com"]
    assert document["webApplicationInfo"]["resource"] == f"api://cadence.example.com/{APP}"


def test_the_schema_check_is_not_vacuous():
    document = manifest(SETTINGS)
    del document["bots"][0]["botId"]
    document["accentColor"] = "green"

    assert len(problems(document)) == 2


def test_the_package_holds_the_manifest_and_the_icons_teams_asks_for():
    with zipfile.ZipFile(io.BytesIO(build(SETTINGS))) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        document = json.loads(package.read("manifest.json"))
        color, outline = package.read("color.png"), package.read("outline.png")

    assert document["icons"] == {"color": "color.png", "outline": "outline.png"}
    width, height, rows = pixels(color)
    assert (width, height) == (192, 192)
    assert all(row[3::4] == b"\xff" * 192 for row in rows)  # full colour: opaque
    width, height, rows = pixels(outline)
    assert (width, height) == (32, 32)
    seen = {bytes(row[i : i + 4]) for row in rows for i in range(0, len(row), 4)}
    assert seen == {b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"}  # white on transparent


@pytest.mark.parametrize(
    ("env", "why"),
    [
        ({}, TEAMS_CLIENT_ID),
        ({TEAMS_CLIENT_ID: APP}, PUBLIC_URL),
        ({TEAMS_CLIENT_ID: "not-a-guid", PUBLIC_URL: "https://x.example"}, "GUID"),
        ({TEAMS_CLIENT_ID: APP, PUBLIC_URL: "http://x.example"}, "https://"),
    ],
)
def test_what_is_missing_is_named(env, why):
    with pytest.raises(PackageError, match=why):
        PackageSettings.from_env(env)


def test_teams_package_writes_the_zip_and_prints_its_path(
    tmp_path, monkeypatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(TEAMS_CLIENT_ID, APP.upper())
    monkeypatch.setenv(PUBLIC_URL, "https://bot.example.org/cadence/")

    assert main(["teams-package", "--output", str(tmp_path)]) == 0

    written = Path(capsys.readouterr().out.strip())
    assert written == tmp_path / "cadence-teams.zip"
    with zipfile.ZipFile(written) as package:
        document = json.loads(package.read("manifest.json"))
    assert (document["id"], document["validDomains"]) == (APP, ["bot.example.org"])
    assert document["developer"]["privacyUrl"] == "https://bot.example.org/cadence/privacy"
    assert problems(document) == []


def test_teams_package_without_configuration_says_what_to_set(
    tmp_path, monkeypatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(TEAMS_CLIENT_ID, raising=False)
    monkeypatch.delenv(PUBLIC_URL, raising=False)

    assert main(["teams-package"]) == 2

    assert TEAMS_CLIENT_ID in capsys.readouterr().err
    assert not (tmp_path / "cadence-teams.zip").exists()
