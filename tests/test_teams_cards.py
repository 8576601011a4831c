"""Every nudge and notice as a Teams card that Teams accepts, in both languages, with people's
words shown only as text (never read as Markdown or links), nothing they wrote cut, and the
buttons carrying exactly what the listeners read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.dev.teams_standin import MESSAGE_LIMIT, card_problem
from bot.engine import kinds
from handlers.teams import ids
from handlers.teams.cards import notices, nudges
from handlers.teams.cards.answers import help_card, picker_card, refusal
from handlers.teams.cards.kit import PART_BYTES, TeamsMessage, adaptive_card, literals
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


def _sample(policy, label: str, text=None):
    [found] = [s for s in samples(policy, text or teams_text) if s.label == label and s.content]
    return found.content


def _draw(content, policy, locale: str) -> TeamsMessage:
    if content.nudge.kind in notices.BUILDERS:
        return notices.notice_card(content, policy=policy, locale=locale)
    return nudges.nudge_card(content, policy=policy, locale=locale)


def _runs(message: TeamsMessage) -> str:
    """What the cards show literally: every TextRun, in order."""
    return "".join(
        str(e["text"])
        for part in message.parts()
        for e in elements(part.cards)
        if e.get("type") == "TextRun"
    )


def _sent_size(activity) -> int:
    """An activity's bytes as the Agents SDK posts it (aiohttp's `json=`: ASCII-escaped)."""
    return len(json.dumps(activity).encode())


# How long `tests.hostile.samples` makes each field (3000 unless named here).
LIMITS = {
    "manager name": 200,
    "employee name": 200,
    "report 0 name": 200,
    "goal title": 200,
    "milestone": 200,
    "next goal 0": 200,
    "cycle": 40,
    "action 0": 500,
    "action 1": 500,
}


def test_the_notice_sweep_draws_every_notice_builder(policy):
    drawn = {s.label for s in samples(policy, teams_text) if s.builder == "notice_message"}
    assert drawn == set(notices.BUILDERS)


@pytest.mark.parametrize("locale", ["en", "zh"])
@pytest.mark.parametrize(
    ("label", "fields"),
    [
        (kinds.TALK_RECORD, ("facts", "consensus", "action 0", "action 1", "manager name")),
        (kinds.TALK_SAVED, ("employee name", "action 0")),
        (kinds.GOAL_PROPOSED, ("goal title", "goal measure", "employee name")),
        (kinds.GOAL_SET, ("goal title", "goal measure", "manager name")),
        (kinds.SELF_SUBMITTED, ("proudest", "redo", "blockers", "support", "other")),
        (kinds.REVIEW_SUMMARY, ("evidence", "gaps", "employee view", "next goal 0")),
        (kinds.REVIEW_DISAGREED, ("disagreement", "employee name")),
        ("checkin", ("employee name", "action 0")),
        ("goal manager", ("goal title",)),
        ("action overdue", ("action 0",)),
        ("milestone", ("milestone", "report 0 name")),
        ("prep pack", ("employee name", "cycle")),
    ],
)
def test_peoples_words_are_shown_verbatim_in_text_runs(policy, locale, label, fields):
    message = _draw(_sample(policy, label), policy, locale)

    shown = _runs(message)

    for field in fields:
        assert teams_text(field, LIMITS.get(field, 3000)) in shown, (label, field)


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_the_notification_line_is_sent_as_plain_text_since_it_carries_names(policy, locale):
    for label, message in rendered(policy, teams_text, locale):
        for part in message.parts():
            activity = part.activity()
            assert activity["textFormat"] == "plain", label


@pytest.mark.parametrize(
    ("locale", "line"),
    [
        ("en", "Line {n}: the migration went well & the review was late. "),
        ("zh", "第{n}行：迁移顺利，评审晚了。"),
        ("zh", "第{n}行 🎉🚀 迁移顺利"),
        ("zh", "🎉"),
    ],
    ids=["english", "chinese", "emoji", "only-emoji"],
)
def test_a_record_with_60000_characters_of_facts_reaches_teams_whole_in_parts(policy, locale, line):
    facts = "".join(line.format(n=n) for n in range(4000))[:60_000]
    content = _sample(policy, kinds.TALK_RECORD)  # names at their longest
    content.recorded.talk.facts = facts

    parts = notices.notice_card(content, policy=policy, locale=locale).parts()

    assert len(parts) > 1
    for part in parts:
        activity = part.activity()
        assert card_problem(activity) is None
        assert _sent_size(activity) <= PART_BYTES < MESSAGE_LIMIT  # room for the envelope
    shown = "".join(
        str(e["text"]) for p in parts for e in elements(p.cards) if e.get("type") == "TextRun"
    )
    assert facts in shown
    has_buttons = [any(c.get("actions") for c in p.cards) for p in parts]
    assert has_buttons == [False] * (len(parts) - 1) + [True]
    [ack] = parts[-1].cards[-1]["actions"]
    assert ack["verb"] == ids.ACK and ack["data"] == {"cadence": "ack", "t": 11}


def test_every_button_carries_the_listeners_convention(policy):
    by_label = dict(rendered(policy, teams_text, "en"))

    def actions(label: str) -> list[dict]:
        return [
            a
            for part in by_label[label].parts()
            for a in elements(part.cards)
            if str(a.get("type", "")).startswith("Action.")
        ]

    proposal = {a["verb"]: a for a in actions(kinds.GOAL_PROPOSED)}
    assert proposal["goal_confirm"]["data"] == {"cadence": "goal_confirm", "g": 5}
    assert proposal["goal_decline"]["data"] == {"cadence": "goal_decline", "g": 5}
    assert all(a["type"] == "Action.Execute" for a in proposal.values())

    review = actions(kinds.REVIEW_SUMMARY)
    [ack] = [a for a in review if a["type"] == "Action.Execute"]
    assert ack["verb"] == "review_ack" and ack["data"] == {"cadence": "review_ack", "r": 9}
    [disagree] = [a for a in review if a["type"] == "Action.Submit"]
    assert disagree["data"] == {
        "msteams": {"type": "task/fetch"},
        "cadence": "form",
        "form": "disagree",
        "r": 9,
    }

    [done] = [a for a in actions("action due") if a.get("verb") == ids.DONE]
    assert done["type"] == "Action.Execute"
    assert done["data"] == {"cadence": "done", "n": 40, "a": 100}

    [write] = [a for a in actions("self") if a["type"] == "Action.Submit"]
    assert (
        write["data"]
        == ids.open_form("self", c=7)
        == {
            "msteams": {"type": "task/fetch"},
            "cadence": "form",
            "form": "self",
            "c": 7,
        }
    )

    [skip] = [a for a in actions("heads-up") if a.get("verb") == ids.SKIP]
    assert skip["type"] == "Action.Execute" and skip["data"] == {"cadence": "skip", "n": 40}
    for label in ("checkin", "heads-up", "goal manager", "action due", "self", "prep pack"):
        verbs = [a.get("verb") for a in actions(label)]
        assert verbs.count(ids.SNOOZE) == 2 and ids.SKIP in verbs, label


def test_a_settled_nudge_keeps_its_text_shows_the_note_and_offers_no_choice(policy):
    drawn = nudges.nudge_card(_sample(policy, "checkin"), policy=policy, locale="en")
    note = "Snoozed until **tomorrow** [x](http://evil)"

    card = nudges.settled_card(drawn, note, locale="en")

    assert "actions" not in card
    assert not [e for e in elements(card) if str(e.get("type", "")).startswith(("Action", "Input"))]
    shown = [e["text"] for e in elements(card) if e.get("type") == "TextRun"]
    assert shown[-1] == note
    assert teams_text("employee name", 200) in "".join(shown)
    assert card_problem(TeamsMessage("settled", [card]).activity()) is None


def test_an_acknowledged_record_shows_the_acknowledgement_and_no_button(policy):
    content = _sample(policy, kinds.TALK_RECORD)
    content.recorded.talk.acknowledged_at = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    [part] = notices.notice_card(content, policy=policy, locale="en").parts()

    assert not any(c.get("actions") for c in part.cards)
    assert "2026-11-27" in _runs(part)
