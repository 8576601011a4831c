"""What the demo prints of its review cycle after the timeline: one prep pack in full (the
Markdown file the manager got in the Slack stand-in), a self-assessment, a review record with
the employee's acknowledgement, and a disagreement with whom it reached."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dev.slack_standin import SlackStandIn
from bot.engine import kinds, outbox
from bot.org.people import zone_of
from bot.org.policy import Policy
from bot.review.interview_record import decisions_of, rating_text
from bot.review.self_assessment import TEXT_FIELDS
from prompts import t
from storage import queries
from storage.db import session_scope
from storage.models import Cycle, Nudge, NudgeState, Person, Review, SelfAssessment, Talk

# The notices the review cycle owes, shown in the timeline beside the nudges.
SHOWN_NOTICES = frozenset(
    {
        kinds.SELF_SUBMITTED,
        kinds.REVIEW_SUMMARY,
        kinds.REVIEW_SAVED,
        kinds.REVIEW_ACKNOWLEDGED,
        kinds.REVIEW_DISAGREED,
    }
)
RULE = "─" * 78


def uploaded_files(slack: SlackStandIn) -> dict[str, str]:
    """The text files the bot uploaded to the Slack stand-in, by file name."""
    names = {
        call.response["file_id"]: call.params["filename"]
        for call in slack.calls_to("files.getUploadURLExternal")
        if call.response and call.response.get("ok")
    }
    return {
        names[call.params["file_id"]]: call.params["content"]
        for call in slack.calls_to("file_upload")
        if call.params["file_id"] in names and isinstance(call.params["content"], str)
    }


def _indented(text: str, width: int = 4) -> str:
    return "\n".join(" " * width + line for line in text.strip().splitlines())


class _Reader:
    """People, their zones and the outbox, read once for the section."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.people: dict[str, Person] = {}
        self.zones: dict[str, ZoneInfo] = {}
        self.sent: list[Nudge] = []

    def local(self, person_id: str, moment: datetime | None) -> str:
        """`moment` in the person's local time, as the timeline prints it."""
        if moment is None:
            return "–"
        local = moment.astimezone(self.zones[person_id])
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"

    def notices(self, kind: str, subject: str) -> list[Nudge]:
        return [n for n in self.sent if n.kind == kind and n.subject == subject]


async def print_review_cycle(
    engine: AsyncEngine, slack: SlackStandIn, cycle: Cycle, policy: Policy
) -> None:
    """Print the cycle's records as people got them; parts the quarter did not reach are
    left out."""
    reader = _Reader(policy)
    async with session_scope(engine) as session:
        reader.people = {p.id: p for p in await queries.all_people(session)}
        for pid, person in reader.people.items():
            zone = await queries.reported_timezone(session, pid)
            reader.zones[pid] = zone_of(person, policy, zone)
        reader.sent = [n for n in await outbox.every_row(session) if n.state == NudgeState.SENT]
        everyone = sorted(reader.people)
        found = await queries.self_assessments_of(session, cycle.id, everyone)
        selves = [s for s in found.values() if s.submitted_at is not None]
        reviews = [
            r for pid in everyone if (r := await queries.review_for(session, cycle.id or 0, pid))
        ]
        talks = {r.talk_id: await session.get(Talk, r.talk_id) for r in reviews}
    print(f"\nReview cycle {cycle.name}: what people got and wrote")
    in_pack = _print_prep_pack(reader, slack, cycle, {s.employee_id for s in selves})
    others = [s for s in selves if s.employee_id != in_pack]
    if others:
        _print_self_assessment(reader, others[0])
    for review in (r for r in reviews if r.acknowledged_at is not None):
        _print_review(reader, review, talks[review.talk_id])
        break
    for review in (r for r in reviews if r.disagreed_at is not None):
        _print_disagreement(reader, review)
        break


def _print_prep_pack(
    reader: _Reader, slack: SlackStandIn, cycle: Cycle, assessed: set[str]
) -> str | None:
    """The first prep pack of the cycle that went out as a file, preferring one with a
    self-assessment in it; the employee it is about."""
    packs = [
        n
        for n in reader.sent
        if n.kind == kinds.PREP_PACK and json.loads(n.payload).get("cycle_id") == cycle.id
    ]
    files = uploaded_files(slack)
    named = {n.about_id: f"prep-pack-{cycle.name}-{n.about_id}.md" for n in packs}
    sent = [n for n in packs if named[n.about_id] in files]
    sent.sort(key=lambda n: n.about_id not in assessed)  # stable: one with a self-assessment
    if not sent:
        return None
    nudge = sent[0]
    manager, employee = reader.people[nudge.recipient_id], reader.people[nudge.about_id or ""]
    print(
        f"\nPrep pack: {manager.name}'s for {employee.name}'s interview, the Markdown file in"
        f" {manager.name}'s Slack DM ({reader.local(manager.id, nudge.sent_at)})\n{RULE}"
    )
    print(files[named[nudge.about_id]].rstrip())
    print(RULE)
    return employee.id


def _print_self_assessment(reader: _Reader, own: SelfAssessment) -> None:
    employee = reader.people[own.employee_id]
    manager = reader.people.get(employee.manager_id or "")
    locale = employee.locale or reader.policy.locale
    told = f" ({manager.name} was told at once)" if manager else ""
    print(
        f"\nSelf-assessment: {employee.name}, submitted"
        f" {reader.local(employee.id, own.submitted_at)}{told}"
    )
    if own.rating is not None:
        rating = rating_text(reader.policy, own.rating, locale)
        print(f"  {t('prep.self_rating', locale, rating=rating)}")
    for name in TEXT_FIELDS:
        text = getattr(own, name)
        if text.strip():
            print(f"  {t(f'prep.self_{name}', locale)}: {text}")


def _print_review(reader: _Reader, review: Review, talk: Talk | None) -> None:
    manager, employee = reader.people[review.manager_id], reader.people[review.employee_id]
    held = f", held {talk.held_on}, {talk.duration_minutes} min" if talk else ""
    print(f"\nReview interview: {manager.name} with {employee.name}{held}")
    decisions = ", ".join(t(f"review.decision.{d}", "en") for d in decisions_of(review))
    rows = [
        ("Rating", rating_text(reader.policy, review.rating, "en")),
        ("Evidence", review.evidence),
        ("Gaps", review.gaps),
        ("Next cycle's goals", "; ".join(review.next_goals.splitlines())),
        ("Development", "; ".join(review.development.splitlines())),
        ("Decisions", decisions),
        ("Their own view", review.employee_view),
    ]
    for label, text in rows:
        if text.strip():
            print(f"  {label + ':':<20}{text}")
    when = reader.local(employee.id, review.acknowledged_at)
    told = reader.notices(kinds.REVIEW_ACKNOWLEDGED, kinds.review_subject(review.id))
    to = ", ".join(reader.people[n.recipient_id].name for n in told)
    print(f"  ✅ Acknowledged by {employee.name} on {when}" + (f"; {to} was told." if to else "."))


def _print_disagreement(reader: _Reader, review: Review) -> None:
    manager, employee = reader.people[review.manager_id], reader.people[review.employee_id]
    rating = rating_text(reader.policy, review.rating, "en")
    when = reader.local(employee.id, review.disagreed_at)
    print(
        f"\nDisagreement: {employee.name} on the review {manager.name} recorded"
        f" (rating {rating}), {when}"
    )
    print(_indented(review.disagreement or "", 2))
    told = reader.notices(kinds.REVIEW_DISAGREED, kinds.review_subject(review.id))
    names = [
        f"{reader.people[n.recipient_id].name}"
        f" ({'HR' if reader.people[n.recipient_id].is_hr else 'manager'},"
        f" {(n.platform or 'slack').capitalize()})"
        for n in told
    ]
    if names:
        print(f"  Sent at once to {', '.join(names)}, so that they follow it up.")
