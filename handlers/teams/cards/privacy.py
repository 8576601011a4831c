"""What a person is told about their own data in Teams: the summary, and the file consent
card through which Teams lets a bot put a file in the person's OneDrive."""

from __future__ import annotations

from bot.org.labels import kind_label
from bot.org.policy import Policy
from bot.privacy.my_data import MyData
from handlers.teams.cards.kit import (
    Element,
    TeamsMessage,
    adaptive_card,
    catalog_plain,
    catalog_text,
)
from prompts import t

FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
MY_DATA_FILE = "my_data"  # the consent card's context: which file, never its content


def my_data_summary(data: MyData, *, policy: Policy, locale: str) -> TeamsMessage:
    """The counts, what HR reads, and what becomes of private notes, in `locale`."""
    body = [
        catalog_text("privacy.my_data.title", locale, size="medium"),
        catalog_text("privacy.my_data.summary", locale, **data.summary_counts()),
    ]
    notes = data.notes_key()
    if notes is not None:
        body.append(catalog_text(notes, locale, notes=data.counts["private_notes"]))
    if data.hr_reads:
        kinds = ", ".join(kind_label(policy, k, locale) for k in data.hr_reads)
        body.append(catalog_text("privacy.my_data.hr_reads", locale, kinds=kinds))
    else:
        body.append(catalog_text("privacy.my_data.hr_reads_none", locale))
    return TeamsMessage(catalog_plain("privacy.my_data.title", locale), [adaptive_card(body)])


def consent_activity(data: MyData, *, locale: str) -> Element:
    """The file consent card offering the person's file (its size; no content)."""
    size = len(data.to_json().encode())
    return file_consent_activity(
        MY_DATA_FILE, data.file_name(), size, t("privacy.my_data.title", locale)
    )


def file_consent_activity(file: str, name: str, size: int, description: str) -> Element:
    """A file consent card: which of our files (`file`, the context Teams hands back on
    accept or decline), its name and size; never its content."""
    context = {"file": file}
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": FILE_CONSENT,
                "name": name,
                "content": {
                    "description": description,
                    "sizeInBytes": size,
                    "acceptContext": context,
                    "declineContext": context,
                },
            }
        ],
    }


def file_info_activity(name: str, content_url: str, unique_id: str, file_type: str) -> Element:
    """The card of a file now in the person's OneDrive, which they open from the chat."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": FILE_INFO,
                "contentUrl": content_url,
                "name": name,
                "content": {"uniqueId": unique_id, "fileType": file_type},
            }
        ],
    }
