"""Every nudge and notice as a Teams card that Teams accepts, in both languages, with people's
words shown only as text (never read as Markdown or links), nothing they wrote cut, and the
buttons carrying exactly what the listeners read back."""

from __future__ import annotations

import json

import pytest

from bot.dev.teams_standin import MESSAGE_LIMIT, card_problem
from bot.engine import kinds
from handlers.teams import ids
from handlers.teams.cards import notices, nudges
from handlers.teams.cards.answers import help_card, picker_card, refusal
from handlers.teams.cards.kit import TeamsMessage, adaptive_card, literals
from tests.chat_drivers import elements
from tests.hostile import long, samples, short

HOSTILE = ("**", "[click](", "<at>", "_x_")


def rendered(policy, text, locale: str) -> list[tuple[str, TeamsMessage]]:
    """Every nudge and notice of the sweep's samples, drawn for Teams."""
    found = []
    for sample in samples(policy, text):
        if sample.builder == "nudge_message":
            found.append(
                (sample.label, nudges.nudge_card(sample.content, policy=policy, locale=locale))
            )
        elif sample.builder == "notice_message":
            found.append(
                (sample.label, notices.notice_card(sample.content, policy=policy, locale=locale))
            )
    return found


def teams_text(field: str, limit: int = 3000) -> str:
    """Hostile in Teams' own markup: Markdown, a link, a mention."""
    return f"**bold** [click](https://evil.example) <at>Boss</at> _it_ # h {short(field, limit)}"[
        :limit
    ]


def test_every_nudge_kind_and_every_notice_kind_has_a_teams_card(policy):
    drawn = rendered(policy, teams_text, "en")
    nudge_kinds = {
        s.content.nudge.kind for s in samples(policy, teams_text) if s.builder == "nudge_message"
    }
    assert set(nudges.BUILDERS) == nudge_kinds  # the sweep covers every nudge kind
    assert set(notices.BUILDERS) == set(kinds.NOTICE_KINDS)
    assert len(drawn) >= len(nudges.BUILDERS) + len(notices.BUILDERS)


@pytest.mark.parametrize("locale", ["en", "zh"])
@pytest.mark.parametrize("text", [teams_text, long], ids=["hostile", "long"])
def test_every_card_is_one_teams_accepts_and_shows_peoples_text_only_as_text(policy, locale, text):
    for label, message in rendered(policy, text, locale):
        for part in message.parts():
            activity = part.activity()
            assert card_problem(activity) is None, label
            assert len(json.dumps(activity).encode()) < MESSAGE_LIMIT, label
            for element in elements(part.cards):
                if element.get("type") == "TextBlock":  # Teams reads a TextBlock as Markdown
                    assert not any(h in str(element.get("text")) for h in HOSTILE), label
                if str(element.get("type", "")).startswith("Input."):
                    assert element.get("label"), label


def test_a_long_record_is_sent_in_parts_all_its_text_kept_and_its_buttons_last(policy):
    facts = "\n".join(
        f"Line {n}: the migration went well, the review was late." for n in range(1200)
    )
    body = literals(facts)
    button = {"type": "Action.Execute", "title": "Acknowledge", "verb": "ack", "data": {}}
    message = TeamsMessage("A long record", [adaptive_card(body, actions=[button])])

    parts = message.parts()

    assert len(parts) > 1
    runs = [
        run["text"]
        for part in parts
        for e in elements(part.cards)
        if e.get("type") == "TextRun"
        for run in [e]
    ]
    assert "".join(runs) == facts
    assert [bool(p.cards[0].get("actions")) for p in parts] == [False] * (len(parts) - 1) + [True]
    assert all(len(json.dumps(p.activity()).encode()) < MESSAGE_LIMIT for p in parts)
    assert parts[1].summary == f"A long record (2/{len(parts)})"


def test_buttons_carry_exactly_what_the_listeners_read(policy):
    by_label = dict(rendered(policy, teams_text, "en"))
    record = by_label[kinds.TALK_RECORD].cards[-1]
    [ack] = [a for a in record["actions"] if a.get("verb") == ids.ACK]
    assert ack["type"] == "Action.Execute" and ack["data"] == {"cadence": "ack", "t": 11}
    checkin = by_label["checkin"].cards[-1]
    [log] = [a for a in checkin["actions"] if a["type"] == "Action.Submit"]
    assert log["data"] == {
        "msteams": {"type": "task/fetch"},
        "cadence": "form",
        "form": "talk",
        "e": "U0EMP",
        "k": "checkin",
    }
    snoozes = [a for a in checkin["actions"] if a.get("verb") == ids.SNOOZE]
    assert [a["data"]["u"] for a in snoozes] == ["tomorrow", "week"]
    [skip] = [a for a in checkin["actions"] if a["type"] == "Action.ShowCard"]
    [reason] = [e for e in elements(skip["card"]) if e.get("id") == ids.REASON]
    assert {c["value"] for c in reason["choices"]} == {"talked_offline", "on_leave", "not_relevant"}


def _shown(message: TeamsMessage) -> str:
    return "".join(str(e.get("text", "")) for part in message.parts() for e in elements(part.cards))


def test_catalog_emphasis_is_styled_and_parameters_stay_literal():
    name = "**Eve** [x](http://e)"
    refused = refusal("refusal.not_in_org", "en")
    named = refusal("refusal.not_your_report", "en", name=name)

    code = [e for e in elements(refused.cards) if e.get("fontType") == "monospace"]
    assert [run["text"] for run in code] == ["import-org"]  # the catalog's `code`, styled
    assert f"Only {name}'s manager" in _shown(named)  # the name, exactly as typed
    assert not any(e.get("type") == "TextBlock" for e in elements([refused.cards, named.cards]))


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_help_and_the_picker_speak_the_persons_language(locale):
    shown = _shown(help_card(locale, welcome=True))
    assert ("checkin" in shown) and ("Cadence" in shown)
    assert ("记录" in shown) == (locale == "zh")
    picker = picker_card([], locale=locale)
    [choice] = [e for e in elements(picker) if e.get("type") == "Input.ChoiceSet"]
    assert choice["label"] and choice["choices.data"]["dataset"] == ids.PEOPLE_DATASET
