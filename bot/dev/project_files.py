"""Where the dev tools find the repository's root files: the policy the demo runs under
(`app.yaml`) and the Slack app manifest whose bot scopes the stand-in grants (`manifest.yaml`).

A wheel has no repository root, so the build copies both into this package
(`bot.dev.wheel_files`) and an installed copy reads them with importlib.resources; a checkout or
an editable install reads the root's files themselves. Either way there is one source to edit.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def project_file(name: str) -> Path:
    """The root file `name` as the installed package carries it, else at the checkout's root."""
    for candidate in (resources.files("bot.dev") / name, CHECKOUT / name):
        if isinstance(candidate, Path) and candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{name} is neither in the installed bot.dev nor in {CHECKOUT}")


def shipped_policy() -> Path:
    """`app.yaml` as released: the policy the demo runs under."""
    return project_file("app.yaml")


def slack_manifest() -> Path:
    """`manifest.yaml`: the Slack app, with the bot scopes an installation grants."""
    return project_file("manifest.yaml")
