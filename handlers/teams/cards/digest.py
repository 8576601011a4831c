"""HR's weekly digest as an Adaptive Card: this period's numbers, what moved most, the chart
(a compact image inside the card: Teams takes no file from a bot unasked), and the button
that offers the full table as a file."""

from __future__ import annotations

import base64

from bot.records.coverage_digest import CoverageDigest
from handlers.teams import ids
from handlers.teams.cards.kit import (
    Element,
    TeamsMessage,
    adaptive_card,
    bullets,
    catalog_plain,
    catalog_text,
)
from handlers.teams.cards.privacy import file_consent_activity
from prompts import t

COVERAGE_FILE = "coverage"  # the consent card's context: the full table, built on accept


def digest_card(digest: CoverageDigest, *, chart: bytes | None, locale: str) -> TeamsMessage:
    """The digest; `chart` (a PNG small enough for a card) is shown inline when given."""
    body: list[Element] = [catalog_text("hr_digest.title", locale, size="medium")]
    key, counts = digest.summary()
    body.append(catalog_text(key, locale, **counts))
    if digest.changes:
        body.append(catalog_text("hr_digest.changes", locale))
        body += bullets(
            [catalog_plain("hr_digest.change", locale, **shown) for shown in digest.moved(locale)]
        )
    else:
        body.append(catalog_text("hr_digest.no_changes", locale))
    if chart is not None:
        body.append(
            {
                "type": "Image",
                "url": "data:image/png;base64," + base64.b64encode(chart).decode("ascii"),
                "altText": t("hr_digest.chart_alt", locale),
                "size": "stretch",
            }
        )
    table = ids.execute(ids.DIGEST_TABLE, t("hr_digest.full_table", locale))
    title = catalog_plain("hr_digest.title", locale)
    return TeamsMessage(title, [adaptive_card(body, actions=[table])])


def table_consent_activity(name: str, html: str, *, locale: str, day: str) -> Element:
    """The consent card offering the full table (its size; no content)."""
    title = t("hr_digest.file_title", locale, date=day)
    return file_consent_activity(COVERAGE_FILE, name, len(html.encode()), title)
