"""Names of things shown to users, chosen by locale, with HR's own labels first."""

from __future__ import annotations

from bot.org.policy import LOCALES, Policy
from prompts import has, t


def kind_label(policy: Policy, kind_id: str, locale: str) -> str:
    """How a kind of talk is called in `locale`."""
    custom = policy.kind_label(kind_id, locale)
    if custom:
        return custom
    key = f"kind.{kind_id}"
    return t(key, locale) if has(key, locale) or has(key) else kind_id.replace("_", " ")


def kind_definition(policy: Policy, kind_id: str, locale: str) -> str:
    """HR's definition of a kind, in `locale` where the file gives one."""
    definition = policy.kind(kind_id).definition
    if isinstance(definition, str):
        return definition
    own = definition.get(locale) if locale in LOCALES else None
    return own or next(iter(definition.values()), "")
