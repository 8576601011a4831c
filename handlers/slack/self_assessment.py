"""The self-assessment in Slack (`/checkin self`, the nudge's button, Save draft, Submit) and
the review interview's date pickers (prep pack nudge and App Home)."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.engine import kinds
from bot.engine.kinds import SELF_SUBMITTED
from bot.errors import Invalid, NotAllowed, SaveFailed
from bot.logs import failure
from bot.review import interview_days
from bot.review import self_assessment as sa
from bot.slack.deps import Deps
from handlers.slack import ids, parse
from handlers.slack.blocks import self_views as sv
from handlers.slack.blocks.messages import refusal
from handlers.slack.budget import Budget, late, locale_within, not_saved_yet, write
from handlers.slack.notify import redraw_posted
from handlers.slack.opening import open_form
from handlers.slack.tell import answer
from prompts import t

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the self-assessment and interview-date listeners."""
    app.action(ids.SELF_OPEN)(partial(open_from_nudge, deps=deps))
    app.action(ids.SELF_SAVE_DRAFT)(partial(save_draft, deps=deps))
    app.view(ids.SELF_MODAL)(partial(submit, deps=deps))
    app.action(ids.INTERVIEW_ACTION)(partial(set_interview_date, deps=deps))


async def _form_view(
    deps: Deps, user_id: str, locale: str, cycle_id: int | None = None
) -> dict[str, Any]:
    form = await sa.load_form(
        deps.engine,
        employee_id=await deps.person_key(user_id),
        policy=deps.policy,
        now=deps.clock(),
        cycle_id=cycle_id,
    )
    return sv.self_modal(form, policy=deps.policy, locale=locale)


async def self_command(
    command: dict[str, Any], respond: Any, client: Any, deps: Deps, args: str
) -> None:
    """`/checkin self`: open the self-assessment modal for the cycle under review."""
    user_id = command["user_id"]

    async def form(locale: str) -> dict[str, Any]:
        return await _form_view(deps, user_id, locale)

    await open_form(
        client, deps, trigger_id=command["trigger_id"], user_id=user_id, build=form, respond=respond
    )


async def open_from_nudge(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any, respond: Any, deps: Deps
) -> None:
    """The nudge's "Open my self-assessment" button: the modal for the nudge's cycle (if it
    is one this person may write for)."""
    await ack()
    user_id, cycle_id = body["user"]["id"], parse.self_open_cycle(action)

    async def form(locale: str) -> dict[str, Any]:
        return await _form_view(deps, user_id, locale, cycle_id)

    await open_form(
        client, deps, trigger_id=body["trigger_id"], user_id=user_id, build=form, respond=respond
    )


def _problems(invalid: Invalid, locale: str) -> dict[str, str]:
    return {
        ids.self_block(name): t(p.key, locale, **p.params) for name, p in invalid.problems.items()
    }


def _one_at_a_time(user_id: str) -> str:
    """The key that puts a person's self-assessment saves (draft or submit) in order."""
    return f"{ids.SELF_MODAL}:{user_id}"


async def save_draft(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any, deps: Deps
) -> None:
    """Save draft: store the answers without sharing them and redraw the modal in place
    ("Draft saved at …", or each problem under its field; typing is kept either way)."""
    await ack()
    view, user_id = body["view"], body["user"]["id"]
    typed = parse.self_answers(view)
    now = deps.clock()

    async def save() -> sa.Saved:
        return await sa.save(
            deps.engine,
            employee_id=await deps.person_key(user_id),
            cycle_id=typed.cycle_id,
            rating=typed.rating,
            submit=False,
            policy=deps.policy,
            now=now,
            **typed.texts,
        )

    work = write(_one_at_a_time(user_id), save)
    locale = await deps.locale_for(user_id)
    try:
        saved = await work
    except Invalid as invalid:
        await _redraw(
            client,
            deps,
            view,
            user_id,
            locale,
            t("self.modal.not_saved", locale),
            _problems(invalid, locale),
            typed.typed(),
        )
        return
    except (NotAllowed, SaveFailed) as failed:
        key = failed.key if isinstance(failed, NotAllowed) else "self.error.save_failed"
        params = failed.params if isinstance(failed, NotAllowed) else {}
        await _redraw(
            client, deps, view, user_id, locale, t(key, locale, **params), {}, typed.typed()
        )
        return
    when = saved.assessment.updated_at.astimezone(saved.zone).strftime("%Y-%m-%d %H:%M")
    await _redraw(
        client, deps, view, user_id, locale, t("self.modal.draft_saved", locale, when=when)
    )


async def _redraw(
    client: Any,
    deps: Deps,
    view: dict[str, Any],
    user_id: str,
    locale: str,
    note: str,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
) -> None:
    """Update the open modal in place with a status note (and problems under their fields);
    when it can no longer be edited, with the reason alone. The view's hash makes Slack
    refuse the update if the modal changed meanwhile (submitted, closed, redrawn)."""
    try:
        form = await sa.load_form(
            deps.engine,
            employee_id=await deps.person_key(user_id),
            policy=deps.policy,
            now=deps.clock(),
            cycle_id=parse.self_answers(view).cycle_id or None,
        )
    except NotAllowed as refused:
        text = t(refused.key, locale, **refused.params)
        new = sv.notice_view(text, locale=locale)
    else:
        new = sv.self_modal(
            form, policy=deps.policy, locale=locale, note=note, errors=errors, typed=typed
        )
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=new)
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        log.warning("views.update of %s for %s: %s", view.get("id"), user_id, error)


async def submit(ack: Any, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    """Submit: validate and save before the ack (problems on the exact field, nothing
    written), then show the confirmation and tell the manager on the first submission."""
    budget = Budget()
    user_id = body["user"]["id"]
    typed, now = parse.self_answers(view), deps.clock()

    async def save() -> sa.Saved:
        return await sa.save(
            deps.engine,
            employee_id=await deps.person_key(user_id),
            cycle_id=typed.cycle_id,
            rating=typed.rating,
            submit=True,
            policy=deps.policy,
            now=now,
            **typed.texts,
        )

    work = write(_one_at_a_time(user_id), save)
    known = await locale_within(deps, user_id, budget)
    if not await budget.finished(work):
        text = not_saved_yet(known, "self.modal.submit")
        await ack(response_action="errors", errors={ids.SELF_RATING: text})
        saved = await late(work, "a self-assessment")
        if saved is not None:
            await _announce(deps, saved)
        return
    locale = known or deps.policy.locale
    try:
        saved = work.result()
    except Invalid as invalid:
        await ack(response_action="errors", errors=_problems(invalid, locale))
        return
    except NotAllowed as refused:
        text = t(refused.key, locale, **refused.params)
        await ack(response_action="errors", errors={ids.SELF_RATING: text})
        return
    except SaveFailed:
        failure(log, "saving a self-assessment failed; the form stays open")
        text = t("self.error.save_failed", locale)
        await ack(response_action="errors", errors={ids.SELF_RATING: text})
        return
    await ack(response_action="update", view=sv.submitted_view(saved, locale=locale))
    await _announce(deps, saved)


async def _announce(deps: Deps, saved: sa.Saved) -> None:
    """Tell the manager of the first submission; a later one (pressed again, or an edit)
    redraws the manager's copy where it was sent, so it never shows an older text."""
    if saved.first_submission:
        deps.kick()  # the manager's notice was written with the submission
    else:
        subject = kinds.assessment_subject(saved.assessment.id)
        await redraw_posted(deps, subject=subject, kinds=(SELF_SUBMITTED,))


async def set_interview_date(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any, deps: Deps
) -> None:
    """A date picked for a report's review interview (prep pack nudge or App Home); the
    answer goes where it was picked (an ephemeral in the nudge's DM, else a DM)."""
    await ack()
    user_id, channel = body["user"]["id"], parse.clicked(body).channel
    locale = await deps.locale_for(user_id)
    try:
        picked = parse.interview_choice(action)
    except parse.Unreadable as unreadable:
        message = refusal(unreadable.key, locale, **unreadable.params)
        await answer(deps, user_id, message, client=client, channel=channel)
        return
    if picked is None:
        return  # a cleared picker or a malformed id: nothing to do
    try:
        done = await interview_days.set_interview(
            deps.engine,
            actor_id=await deps.person_key(user_id),
            employee_id=await deps.person_ref(picked.employee_id),
            day=picked.day,
            now=deps.clock(),
            policy=deps.policy,
            cycle_id=picked.cycle_id,
        )
    except NotAllowed as refused:
        message = refusal(refused.key, locale, **refused.params)
    except SaveFailed:
        failure(log, "saving an interview date failed")
        message = refusal("self.error.save_failed", locale)
    else:
        message = sv.interview_set_message(done, locale=locale)
    await answer(deps, user_id, message, client=client, channel=channel)
