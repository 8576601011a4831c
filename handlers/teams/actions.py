"""`Action.Execute` buttons (Teams' universal actions): acknowledge a record or a review,
confirm or decline a proposed goal, snooze, skip or finish from a nudge. Each is answered
with the card the message becomes, which Teams puts in place of the clicked one; every other
copy the outbox knows is updated in place too (PUT). A refusal is answered with a line of
text and changes nothing. What a card shows is drawn from the database, never from the
payload: the payload only names the record, and the domain checks the clicker may act."""

from __future__ import annotations

import logging
from typing import Any, Literal

from bot.engine import choices
from bot.engine.dispatch import NoLongerNeeded
from bot.engine.notice_content import notice_content
from bot.engine.nudge_content import nudge_content
from bot.errors import Invalid, NotAllowed, SaveFailed
from bot.logs import failure
from bot.org.people import zone_of
from bot.records import goals, milestones, talks
from bot.review import answers, interview_days
from bot.teams.app import Answer, Incoming
from handlers.payload import record_id
from handlers.teams import commands, digest, ids, parse
from handlers.teams.cards.forms import milestone_card
from handlers.teams.cards.notices import notice_card
from handlers.teams.cards.nudges import nudge_card, settled_card
from prompts import t
from storage.models import Nudge, Platform

log = logging.getLogger(__name__)

CARD = "application/vnd.microsoft.card.adaptive"
MESSAGE = "application/vnd.microsoft.activity.message"


def card_answer(card: dict[str, Any]) -> Answer:
    """The clicked message becomes this card."""
    return Answer(200, {"statusCode": 200, "type": CARD, "value": card})


def text_answer(text: str) -> Answer:
    """The clicked message stays; Teams shows this line."""
    return Answer(200, {"statusCode": 200, "type": MESSAGE, "value": text})


async def execute(incoming: Incoming) -> Answer:
    """Answer one `Action.Execute`."""
    value = incoming.activity.value if isinstance(incoming.activity.value, dict) else {}
    action = value.get("action")
    verb = str(action.get("verb") or "")[:40] if isinstance(action, dict) else ""
    data = parse.data_of(value)
    locale = incoming.locale
    if incoming.person is None:
        return text_answer(t("refusal.not_in_org", locale))
    deps, actor = incoming.deps, incoming.actor
    try:
        if verb == ids.ACK:
            done = await talks.acknowledge(
                deps.engine, talk_id=record_id(data.get(ids.TALK)), actor_id=actor, now=deps.clock()
            )
            return await _notices_now(incoming, done.posted, first=done.first)
        if verb in (ids.GOAL_CONFIRM, ids.GOAL_DECLINE):
            decided = await goals.decide_goal(
                deps.engine,
                goal_id=record_id(data.get(ids.GOAL)),
                actor_id=actor,
                confirm=verb == ids.GOAL_CONFIRM,
                now=deps.clock(),
            )
            return await _notices_now(incoming, decided.posted, first=decided.first)
        if verb == ids.REVIEW_ACK:
            response = await answers.respond_to_review(
                deps.engine,
                review_id=record_id(data.get(ids.REVIEW)),
                actor_id=actor,
                agree=True,
                comment=None,
                now=deps.clock(),
            )
            return await _notices_now(incoming, response.posted, first=response.first)
        if verb == ids.INTERVIEW_DATE:
            day = parse.read_day(parse.text_of(data, ids.INTERVIEW_ON), ids.INTERVIEW_ON)
            if day is None:
                return text_answer(t("teams.interview_required", locale))
            scheduled = await interview_days.set_interview(
                deps.engine,
                actor_id=actor,
                employee_id=parse.person_of(data),
                day=day,
                now=deps.clock(),
                policy=deps.policy,
                cycle_id=record_id(data.get(ids.CYCLE)) or None,
            )
            return text_answer(interview_set_text(scheduled, locale))
        if verb == ids.MILESTONE_DONE:
            info = await milestones.mark_done(
                deps.engine,
                milestone_id=record_id(data.get(ids.MILESTONE)),
                actor_id=actor,
                now=deps.clock(),
            )
            done_at = info.milestone.done_at or deps.clock()
            on = done_at.astimezone(zone_of(info.actor, deps.policy)).date()
            ended = milestone_card(info, locale=locale, done_on=on)
            return card_answer(ended.cards[-1])
        if verb == ids.DIGEST_TABLE:
            return text_answer(await digest.offer_table(incoming))
        if verb == ids.HOME_PAGE:
            page = await commands.home(incoming, record_id(data.get(ids.PAGE)) or 1)
            return card_answer(page.parts()[-1].cards[-1])
        if verb == ids.SNOOZE:
            until: Literal["tomorrow", "week"] = (
                "week" if data.get(ids.UNTIL) == "week" else "tomorrow"
            )
            snoozed = await choices.snooze(
                deps.engine,
                nudge_id=record_id(data.get(ids.NUDGE)),
                actor_id=actor,
                until=until,
                policy=deps.policy,
                now=deps.clock(),
            )
            when = snoozed.until.strftime("%Y-%m-%d %H:%M")
            return await _settled(incoming, snoozed.nudge, t("nudge.snoozed", locale, when=when))
        if verb == ids.SKIP:
            reason = parse.skip_reason(data)
            nudge = await choices.skip(
                deps.engine,
                nudge_id=record_id(data.get(ids.NUDGE)),
                actor_id=actor,
                reason=reason,
                now=deps.clock(),
            )
            label = t(f"nudge.skip_{reason}", locale)
            return await _settled(incoming, nudge, t("nudge.skipped", locale, reason=label))
        if verb == ids.DONE:
            completed = await choices.complete_action(
                deps.engine,
                action_id=record_id(data.get(ids.ACTION)),
                actor_id=actor,
                now=deps.clock(),
                nudge_id=record_id(data.get(ids.NUDGE)),
            )
            if completed.nudge is None:
                return text_answer(t("nudge.done", locale))
            return await _settled(incoming, completed.nudge, t("nudge.done", locale))
    except NotAllowed as refused:
        return text_answer(t(refused.key, locale, **refused.params))
    except Invalid as invalid:
        problem = next(iter(invalid.problems.values()))
        return text_answer(t(problem.key, locale, **problem.params))
    except SaveFailed:
        failure(log, "saving from a Teams button failed")
        return text_answer(t("error.save_failed", locale))
    return text_answer(t("teams.action_unknown", locale))


def interview_set_text(done: interview_days.InterviewSet, locale: str) -> str:
    """The confirmation of an interview day (the prep pack's moment in the actor's time)."""
    name, day = done.employee.name, done.interview.scheduled_on.isoformat()
    if done.prep_due is not None:
        due = done.prep_due.astimezone(done.zone).strftime("%Y-%m-%d %H:%M")
        return t("self.interview.set", locale, name=name, date=day, due=due)
    return t("self.interview.set_no_prep", locale, name=name, date=day)


async def _notices_now(incoming: Incoming, posted: list[Nudge], *, first: bool) -> Answer:
    """After an answer to a notice (acknowledged, decided): the notices it owes go out, every
    copy of the clicked notice sent on Teams is drawn again as it is now (PUT), and the click
    is answered with that card."""
    deps = incoming.deps
    if first:
        deps.kick()  # what the answer owes others was written with it
    on_teams = [row for row in posted if row.platform == Platform.TEAMS]
    if deps.notifier is not None:
        await deps.notifier.redraw(on_teams)
    for row in on_teams or posted:
        try:
            content = await notice_content(deps.engine, row, policy=deps.policy)
        except NoLongerNeeded:
            continue
        message = notice_card(content, policy=deps.policy, locale=incoming.locale)
        return card_answer(message.parts()[-1].cards[-1])
    return text_answer(t("teams.answer_saved", incoming.locale))


async def _settled(incoming: Incoming, nudge: Nudge, note: str) -> Answer:
    """The nudge's card without its choices, with what was chosen."""
    deps = incoming.deps
    try:
        content = await nudge_content(deps.engine, nudge, policy=deps.policy, now=deps.clock())
        drawn = nudge_card(content, policy=deps.policy, locale=incoming.locale)
    except (NoLongerNeeded, NotAllowed, KeyError, ValueError):
        drawn = None
    return card_answer(settled_card(drawn, note, locale=incoming.locale))
