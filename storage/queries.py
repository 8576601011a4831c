"""Queries on the records, by name: reads, and the few updates a service makes in one
conditional statement (the first click wins); nothing is committed here, services commit.

Where SQL lives: a statement (select, update, delete, insert, text) is built in storage/ (this
module: people and their chat identities, talks and actions, goals, milestones, cycles and
interviews, self-assessments, reviews) or in the query module of the service whose own table
it is: bot/engine/outbox.py for the outbox's rows, bot/engine/snapshot.py and
bot/engine/known_keys.py for the planner's fixed reads, bot/engine/delivery_pause.py for its
row. Every other module calls these functions by name and builds no statement of its own, so
each query is written once, its cost is seen in one place, and the services' fixed query
counts stay countable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import case, col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import (
    ActionItem,
    ActionStatus,
    ChatIdentity,
    Cycle,
    Family,
    Goal,
    GoalStatus,
    Interview,
    Leave,
    Milestone,
    MilestoneParticipant,
    Person,
    Platform,
    ProcessedEvent,
    Review,
    SelfAssessment,
    Talk,
)

# -- people ----------------------------------------------------------------------------------------


async def get_person(session: AsyncSession, key: str) -> Person | None:
    """The person with this key, active or not."""
    return await session.get(Person, key) if key else None


async def people_by_ids(session: AsyncSession, ids: Iterable[str]) -> dict[str, Person]:
    """People by key."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.exec(select(Person).where(col(Person.id).in_(wanted)))
    return {p.id: p for p in rows}


async def leave_of(
    session: AsyncSession, person_ids: Iterable[str]
) -> dict[str, list[tuple[date, date]]]:
    """Every leave of these people (whatever it pauses), as (first, last day) by person."""
    wanted = set(person_ids)
    if not wanted:
        return {}
    rows = await session.exec(
        select(col(Leave.person_id), col(Leave.starts_on), col(Leave.ends_on)).where(
            col(Leave.person_id).in_(wanted)
        )
    )
    spans: dict[str, list[tuple[date, date]]] = {}
    for person_id, starts, ends in rows:
        spans.setdefault(person_id, []).append((starts, ends))
    return spans


async def leaves_ending_on_or_after(
    session: AsyncSession, day: date | None, *, person_id: str | None = None
) -> list[Leave]:
    """Leave whose last day is `day` or later (every leave when `day` is None), of one person
    or everyone, in the order it starts."""
    query = select(Leave).order_by(col(Leave.starts_on), col(Leave.id))
    if day is not None:
        query = query.where(col(Leave.ends_on) >= day)
    if person_id is not None:
        query = query.where(col(Leave.person_id) == person_id)
    return list(await session.exec(query))


async def dialogue_days_between(
    session: AsyncSession, employee_ids: Sequence[str], *, start: date, end: date
) -> list[tuple[str, date]]:
    """(employee, day held) of these employees' dialogues held from `start` to `end`: columns
    only, no talk's text."""
    query = select(col(Talk.employee_id), col(Talk.held_on)).where(
        col(Talk.employee_id).in_(employee_ids),
        col(Talk.family) == Family.DIALOGUE,
        col(Talk.held_on) >= start,
        col(Talk.held_on) <= end,
    )
    return [(employee, held) for employee, held in (await session.exec(query)).all()]


async def actions_open_or_done_since(
    session: AsyncSession, employee_ids: Sequence[str], *, since: datetime
) -> list[ActionItem]:
    """These employees' actions that are open now or were completed after `since`: every
    action that can have been open and late at a moment from `since` on."""
    query = select(ActionItem).where(
        col(ActionItem.employee_id).in_(employee_ids),
        or_(col(ActionItem.status) == ActionStatus.OPEN, col(ActionItem.completed_at) > since),
    )
    return list(await session.exec(query))


async def all_people(session: AsyncSession) -> list[Person]:
    """Everyone in the org chart."""
    rows = await session.exec(select(Person).order_by(col(Person.id)))
    return list(rows)


async def all_identities(session: AsyncSession) -> list[ChatIdentity]:
    """Every chat identity, oldest first."""
    return list(await session.exec(select(ChatIdentity).order_by(col(ChatIdentity.id))))


async def reports_of(
    session: AsyncSession, manager_id: str, *, offset: int = 0, limit: int | None = None
) -> list[Person]:
    """A manager's active direct reports, by name."""
    query = (
        select(Person)
        .where(Person.manager_id == manager_id, col(Person.active).is_(True))
        .order_by(func.lower(Person.name), col(Person.id))
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(await session.exec(query))


LIKE_ESCAPE = "\\"


def like_literal(text: str) -> str:
    """`text` as part of a LIKE pattern that matches it literally (its `%`, `_` and `\\`
    escaped); use with `escape=LIKE_ESCAPE`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, literally."""
    return f"%{like_literal(text)}%"


async def people_matching(
    session: AsyncSession, text: str, *, manager_id: str | None, limit: int
) -> list[Person]:
    """Active people whose name contains `text` (literally, ignoring case), by name; only a
    manager's direct reports when `manager_id` is given."""
    query = select(Person).where(
        col(Person.active).is_(True),
        func.lower(Person.name).like(func.lower(_contains(text)), escape=LIKE_ESCAPE),
    )
    if manager_id is not None:
        query = query.where(Person.manager_id == manager_id)
    query = query.order_by(func.lower(Person.name), col(Person.id)).limit(limit)
    return list(await session.exec(query))


async def count_reports(session: AsyncSession, manager_id: str) -> int:
    """How many active direct reports a manager has."""
    query = select(func.count()).where(
        Person.manager_id == manager_id,
        col(Person.active).is_(True),
    )
    return (await session.exec(query)).one()


async def people_named(session: AsyncSession, handle: str) -> list[Person]:
    """Active people whose name (spaces ignored) or email local part equals `handle`,
    literally: `%`, `_` and the escape character in `handle` match only themselves."""
    handle = handle.lower()
    squashed_name = func.replace(func.lower(Person.name), " ", "")
    email = func.lower(Person.email)
    query = select(Person).where(
        col(Person.active).is_(True),
        or_(squashed_name == handle, email.startswith(f"{handle}@", autoescape=True)),
    )
    return list(await session.exec(query))


def _on(platform: Platform, person_ids: Iterable[str]) -> SelectOfScalar[ChatIdentity]:
    return select(ChatIdentity).where(
        col(ChatIdentity.platform) == platform, col(ChatIdentity.person_id).in_(person_ids)
    )


async def identity_on(
    session: AsyncSession, person_id: str, platform: Platform
) -> ChatIdentity | None:
    """The person's account on one platform, if they have one (the first, should they have
    several)."""
    found = await session.exec(_on(platform, [person_id]).order_by(col(ChatIdentity.id)).limit(1))
    return found.first()


async def identities_on(
    session: AsyncSession, person_ids: Iterable[str], platform: Platform
) -> dict[str, ChatIdentity]:
    """The account on one platform of each of these people that has one, by person."""
    ids = list(set(person_ids))
    if not ids:
        return {}
    rows = await session.exec(_on(platform, ids).order_by(col(ChatIdentity.id).desc()))
    return {row.person_id: row for row in rows}  # the first identity wins: it comes last


async def slack_identity(session: AsyncSession, person_id: str) -> ChatIdentity | None:
    """The person's Slack identity, if they have one."""
    return await identity_on(session, person_id, Platform.SLACK)


async def slack_identities(
    session: AsyncSession, person_ids: Iterable[str]
) -> dict[str, ChatIdentity]:
    """The Slack identity of each of these people that has one, by person."""
    return await identities_on(session, person_ids, Platform.SLACK)


async def reporting_identity(session: AsyncSession, person_id: str) -> ChatIdentity | None:
    """The account whose platform's profile tells a person's language and time zone to the
    domain (and to the planner's snapshot, which picks the same one): their first Slack
    account, else their first Teams account."""
    return await slack_identity(session, person_id) or await identity_on(
        session, person_id, Platform.TEAMS
    )


async def reporting_identities(
    session: AsyncSession, person_ids: Iterable[str]
) -> dict[str, ChatIdentity]:
    """`reporting_identity` of each of these people that has one, by person (one query)."""
    found: dict[str, ChatIdentity] = {}
    for row in (await accounts_of(session, person_ids)).values():
        chosen = next((a for a in row if a.platform == Platform.SLACK), None) or next(
            (a for a in row if a.platform == Platform.TEAMS), None
        )
        if chosen is not None:
            found[chosen.person_id] = chosen
    return found


async def identity_of_account(
    session: AsyncSession, platform: Platform, workspace: str, user_id: str
) -> ChatIdentity | None:
    """The identity of one platform account."""
    query = select(ChatIdentity).where(
        col(ChatIdentity.platform) == platform,
        col(ChatIdentity.workspace) == workspace,
        col(ChatIdentity.user_id) == user_id,
    )
    return (await session.exec(query)).first()


async def identities_of(session: AsyncSession, person_id: str) -> list[ChatIdentity]:
    """Every chat identity of a person, oldest first."""
    query = (
        select(ChatIdentity)
        .where(col(ChatIdentity.person_id) == person_id)
        .order_by(col(ChatIdentity.id))
    )
    return list(await session.exec(query))


async def accounts_of(
    session: AsyncSession, person_ids: Iterable[str]
) -> dict[str, list[ChatIdentity]]:
    """Every chat identity of each of these people, oldest first, by person."""
    ids = list(set(person_ids))
    found: dict[str, list[ChatIdentity]] = {}
    if not ids:
        return found
    query = (
        select(ChatIdentity)
        .where(col(ChatIdentity.person_id).in_(ids))
        .order_by(col(ChatIdentity.id))
    )
    for row in await session.exec(query):
        found.setdefault(row.person_id, []).append(row)
    return found


async def active_person_by_email(session: AsyncSession, email: str) -> Person | None:
    """The one active person with this email (letter case ignored), or None (also when two
    share it: an email that names two people names nobody)."""
    query = select(Person).where(
        col(Person.active).is_(True), func.lower(col(Person.email)) == email.strip().lower()
    )
    found = list(await session.exec(query.limit(2)))
    return found[0] if len(found) == 1 else None


async def person_by_employee_number(session: AsyncSession, number: str) -> Person | None:
    """The person the HRIS knows by this employee number."""
    found = await session.exec(select(Person).where(col(Person.employee_number) == number))
    return found.first()


async def person_of_account(
    session: AsyncSession, platform: Platform, user_id: str, workspace: str = ""
) -> Person | None:
    """The person behind one chat account, active or not."""
    query = (
        select(Person)
        .join(ChatIdentity, col(ChatIdentity.person_id) == col(Person.id))
        .where(
            col(ChatIdentity.platform) == platform,
            col(ChatIdentity.workspace) == workspace,
            col(ChatIdentity.user_id) == user_id,
        )
    )
    return (await session.exec(query)).first()


async def person_named_by(session: AsyncSession, ref: str) -> Person | None:
    """The person an operator names: by person key, a chat account's user id (any
    platform), employee number or email."""
    person = await get_person(session, ref)
    if person is not None or not ref:
        return person
    by_account = (
        select(Person)
        .join(ChatIdentity, col(ChatIdentity.person_id) == col(Person.id))
        .where(col(ChatIdentity.user_id) == ref)
        .order_by(col(ChatIdentity.id))
    )
    for query in (
        by_account,
        select(Person).where(col(Person.employee_number) == ref),
        select(Person).where(func.lower(col(Person.email)) == ref.lower()),
    ):
        person = (await session.exec(query.limit(1))).first()
        if person is not None:
            return person
    return None


async def keys_of_accounts(
    session: AsyncSession, platform: Platform, user_ids: Iterable[str], workspace: str = ""
) -> dict[str, str]:
    """The person key behind each of these accounts that has one, by the account's user id."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    query = select(col(ChatIdentity.user_id), col(ChatIdentity.person_id)).where(
        col(ChatIdentity.platform) == platform,
        col(ChatIdentity.workspace) == workspace,
        col(ChatIdentity.user_id).in_(wanted),
    )
    return {user_id: key for user_id, key in await session.exec(query)}


async def reported_timezone(session: AsyncSession, person_id: str) -> str | None:
    """The time zone the person's chat platform reported, if any (`reporting_identity`)."""
    identity = await reporting_identity(session, person_id)
    return identity.timezone if identity is not None else None


async def active_hr(session: AsyncSession) -> list[Person]:
    """The active HR people, by key."""
    query = (
        select(Person)
        .where(col(Person.is_hr).is_(True), col(Person.active).is_(True))
        .order_by(Person.id)
    )
    return list((await session.execute(query)).scalars())


# -- talks and their actions -----------------------------------------------------------------------


async def talk_by_submission(session: AsyncSession, key: str) -> Talk | None:
    """The talk saved from the submission with this key, if any."""
    rows = await session.exec(select(Talk).where(Talk.submission_key == key))
    return rows.first()


async def actions_of_talks(session: AsyncSession, talk_ids: Sequence[int]) -> list[ActionItem]:
    """The action items created in these talks, in creation order."""
    if not talk_ids:
        return []
    query = (
        select(ActionItem).where(col(ActionItem.talk_id).in_(talk_ids)).order_by(col(ActionItem.id))
    )
    return list(await session.exec(query))


async def open_actions_about(session: AsyncSession, employee_id: str) -> list[ActionItem]:
    """Open action items from the employee's talks, earliest due first."""
    query = (
        select(ActionItem)
        .where(ActionItem.employee_id == employee_id, ActionItem.status == ActionStatus.OPEN)
        .order_by(col(ActionItem.due_on), col(ActionItem.id))
    )
    return list(await session.exec(query))


async def open_actions_owned_by(session: AsyncSession, owner_id: str) -> list[ActionItem]:
    """Open action items someone owns, earliest due first."""
    query = (
        select(ActionItem)
        .where(ActionItem.owner_id == owner_id, ActionItem.status == ActionStatus.OPEN)
        .order_by(col(ActionItem.due_on), col(ActionItem.id))
    )
    return list(await session.exec(query))


async def latest_talks(session: AsyncSession, employee_ids: Sequence[str]) -> dict[str, Talk]:
    """Each employee's most recent talk (by date held, then by id)."""
    if not employee_ids:
        return {}
    ranked = (
        select(
            col(Talk.id),
            func.row_number()
            .over(
                partition_by=Talk.employee_id,
                order_by=(col(Talk.held_on).desc(), col(Talk.id).desc()),
            )
            .label("rank"),
        )
        .where(col(Talk.employee_id).in_(employee_ids))
        .subquery()
    )
    query = select(Talk).join(ranked, ranked.c.id == Talk.id).where(ranked.c.rank == 1)
    return {t.employee_id: t for t in await session.exec(query)}


async def action_counts(
    session: AsyncSession, employee_ids: Sequence[str], today: date
) -> dict[str, tuple[int, int]]:
    """(open, overdue) action item counts per employee."""
    if not employee_ids:
        return {}
    overdue = func.sum(case((ActionItem.due_on < today, 1), else_=0))
    query = (
        select(col(ActionItem.employee_id), func.count(), overdue)
        .where(
            col(ActionItem.employee_id).in_(employee_ids),
            ActionItem.status == ActionStatus.OPEN,
        )
        .group_by(col(ActionItem.employee_id))
    )
    rows = (await session.exec(query)).all()
    return {emp: (int(n), int(late or 0)) for emp, n, late in rows}


async def talks_about(
    session: AsyncSession, employee_id: str, *, limit: int | None = None
) -> list[Talk]:
    """An employee's talks, newest first."""
    query = (
        select(Talk)
        .where(Talk.employee_id == employee_id)
        .order_by(col(Talk.held_on).desc(), col(Talk.id).desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(await session.exec(query))


async def talks_for_export(
    session: AsyncSession, *, employee_id: str | None = None, since: date | None = None
) -> list[Talk]:
    """Talks in held order, optionally for one employee and from a date on."""
    query = select(Talk).order_by(col(Talk.held_on), col(Talk.id))
    if employee_id is not None:
        query = query.where(Talk.employee_id == employee_id)
    if since is not None:
        query = query.where(Talk.held_on >= since)
    return list(await session.exec(query))


async def actions_completed_in(session: AsyncSession, talk_id: int) -> list[ActionItem]:
    """The earlier actions marked done in this talk, in creation order."""
    query = (
        select(ActionItem)
        .where(ActionItem.completed_in_talk_id == talk_id)
        .order_by(col(ActionItem.id))
    )
    return list((await session.execute(query)).scalars())


async def actions_added_with(
    session: AsyncSession, talk_id: int, *, created_at: datetime
) -> list[ActionItem]:
    """A talk's actions created at one moment (by one submission of its form)."""
    query = select(ActionItem).where(
        ActionItem.talk_id == talk_id,
        ActionItem.created_at == created_at,
    )
    return list((await session.execute(query)).scalars())


async def first_acknowledgement(session: AsyncSession, talk_id: int, *, now: datetime) -> bool:
    """Mark a talk acknowledged unless it was; True if this was the first time (one
    conditional update: of two clicks at once only one is the first)."""
    result = await session.execute(
        update(Talk)
        .where(col(Talk.id) == talk_id, col(Talk.acknowledged_at).is_(None))
        .values(acknowledged_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


async def acknowledge_talk(session: AsyncSession, talk_id: int, *, now: datetime) -> None:
    """Mark a talk acknowledged at `now`, whatever it said before."""
    await session.execute(
        update(Talk)
        .where(col(Talk.id) == talk_id)
        .values(acknowledged_at=now)
        .execution_options(synchronize_session=False)
    )


async def last_dialogue(session: AsyncSession, employee_id: str) -> date | None:
    """The day of the employee's latest dialogue (reviews do not count), if any."""
    query = (
        select(col(Talk.held_on))
        .where(Talk.employee_id == employee_id, Talk.family == Family.DIALOGUE)
        .order_by(col(Talk.held_on).desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar()


async def last_dialogues(session: AsyncSession, employee_ids: Sequence[str]) -> dict[str, date]:
    """The day of each employee's latest dialogue, for those who had one."""
    query = (
        select(Talk.employee_id, func.max(Talk.held_on))
        .where(col(Talk.family) == Family.DIALOGUE, col(Talk.employee_id).in_(employee_ids))
        .group_by(Talk.employee_id)
    )
    return dict((await session.execute(query)).all())


async def talks_held_between(
    session: AsyncSession, employee_ids: Sequence[str], *, start: date, end: date
) -> list[Talk]:
    """These employees' talks held from `start` to `end`, newest first."""
    query = (
        select(Talk)
        .where(
            col(Talk.employee_id).in_(employee_ids),
            Talk.held_on >= start,
            Talk.held_on <= end,
        )
        .order_by(col(Talk.held_on).desc(), col(Talk.id).desc())
    )
    return list((await session.execute(query)).scalars())


async def actions_of_talks_or_open(
    session: AsyncSession, employee_ids: Sequence[str], talk_ids: Sequence[int | None]
) -> list[ActionItem]:
    """These employees' actions created in these talks or still open, earliest due first."""
    query = (
        select(ActionItem)
        .where(
            col(ActionItem.employee_id).in_(employee_ids),
            or_(
                col(ActionItem.talk_id).in_(talk_ids),
                ActionItem.status == ActionStatus.OPEN,
            ),
        )
        .order_by(col(ActionItem.due_on), col(ActionItem.id))
    )
    return list((await session.execute(query)).scalars())


# -- goals -----------------------------------------------------------------------------------------

OPEN_GOAL_STATUSES = (GoalStatus.PROPOSED.value, GoalStatus.ACTIVE.value)


async def goal_by_submission(session: AsyncSession, key: str) -> Goal | None:
    """The goal saved from the goal form with this key, if any."""
    rows = await session.execute(select(Goal).where(Goal.submission_key == key))
    return rows.scalars().first()


async def goal_saved_since(
    session: AsyncSession, *, employee_id: str, set_by: str, title: str, since: datetime
) -> Goal | None:
    """A goal with this title set for the employee by `set_by` at `since` or later."""
    rows = await session.execute(
        select(Goal).where(
            Goal.employee_id == employee_id,
            Goal.set_by == set_by,
            Goal.title == title,
            Goal.created_at >= since,
        )
    )
    return rows.scalars().first()


async def decide_proposed_goal(
    session: AsyncSession, goal_id: int, *, status: str, confirmed_at: datetime | None = None
) -> bool:
    """Give a proposed goal its `status` (and `confirmed_at`, when given); False if it was not
    proposed any more (one conditional update: of two decisions at once only one decides)."""
    values: dict[str, object] = {"status": status}
    if confirmed_at is not None:
        values["confirmed_at"] = confirmed_at
    result = await session.execute(
        update(Goal)
        .where(col(Goal.id) == goal_id, col(Goal.status) == GoalStatus.PROPOSED.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


async def unclarified_goals(
    session: AsyncSession, employee_id: str, *, set_by_then: datetime
) -> list[Goal]:
    """The employee's open goals not clarified yet, set at `set_by_then` or before."""
    rows = await session.execute(
        select(Goal).where(
            Goal.employee_id == employee_id,
            col(Goal.clarified_at).is_(None),
            col(Goal.status).in_(OPEN_GOAL_STATUSES),
            Goal.created_at <= set_by_then,
        )
    )
    return list(rows.scalars())


async def open_goal_titles(session: AsyncSession, employee_id: str) -> set[str]:
    """The titles of the employee's open goals (proposed or active)."""
    rows = await session.execute(
        select(Goal.title).where(
            Goal.employee_id == employee_id,
            col(Goal.status).in_(OPEN_GOAL_STATUSES),
        )
    )
    return set(rows.scalars())


async def goals_set_in_review(
    session: AsyncSession, employee_id: str, *, created_at: datetime
) -> list[Goal]:
    """The employee's active goals a review's submission set at `created_at` (goals from a
    review have no form key of their own)."""
    rows = await session.execute(
        select(Goal).where(
            Goal.employee_id == employee_id,
            Goal.created_at == created_at,
            col(Goal.submission_key).is_(None),
            Goal.status == GoalStatus.ACTIVE.value,
        )
    )
    return list(rows.scalars())


async def goals_open_or_due_since(
    session: AsyncSession, employee_ids: Sequence[str], *, since: date
) -> list[Goal]:
    """These employees' goals still open or due from `since` on, earliest due first."""
    query = (
        select(Goal)
        .where(
            col(Goal.employee_id).in_(employee_ids),
            or_(
                col(Goal.status).in_(OPEN_GOAL_STATUSES),
                Goal.due_on >= since,
            ),
        )
        .order_by(col(Goal.due_on), col(Goal.id))
    )
    return list((await session.execute(query)).scalars())


# -- milestones ------------------------------------------------------------------------------------


async def milestone_by_key(session: AsyncSession, key: str) -> Milestone | None:
    """The milestone whose registration holds this key, if any."""
    found = await session.execute(select(Milestone).where(Milestone.submission_key == key))
    return found.scalars().first()


async def milestone_participants(session: AsyncSession, milestone_id: int) -> list[Person]:
    """Who took part in a milestone, by name."""
    rows = await session.execute(
        select(Person)
        .join(MilestoneParticipant, col(MilestoneParticipant.person_id) == Person.id)
        .where(MilestoneParticipant.milestone_id == milestone_id)
        .order_by(Person.name, Person.id)
    )
    return list(rows.scalars())


async def mark_milestone_done(session: AsyncSession, milestone_id: int, *, now: datetime) -> bool:
    """Record that a milestone ended, unless it was; True if this was the first time."""
    result = await session.execute(
        update(Milestone)
        .where(col(Milestone.id) == milestone_id, col(Milestone.done_at).is_(None))
        .values(done_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


# -- cycles and interviews -------------------------------------------------------------------------


async def cycle_named(session: AsyncSession, name: str) -> Cycle | None:
    """The cycle with this name, if any."""
    return (await session.execute(select(Cycle).where(Cycle.name == name))).scalar()


async def cycle_names(session: AsyncSession) -> set[str]:
    """The names of every stored cycle."""
    return set((await session.execute(select(Cycle.name))).scalars())


async def all_cycles(session: AsyncSession) -> list[Cycle]:
    """Every cycle, oldest first."""
    rows = await session.execute(select(Cycle).order_by(col(Cycle.starts_on)))
    return list(rows.scalars())


async def next_review_cycle(session: AsyncSession, today: date) -> Cycle | None:
    """The cycle whose review window is open on `today` or opens first after it."""
    upcoming = await session.execute(
        select(Cycle).where(Cycle.review_to >= today).order_by(col(Cycle.review_from)).limit(1)
    )
    return upcoming.scalar()


async def last_review_cycle(session: AsyncSession) -> Cycle | None:
    """The cycle whose review window ends last."""
    latest = await session.execute(select(Cycle).order_by(col(Cycle.review_to).desc()).limit(1))
    return latest.scalar()


async def end_of_cycle_after(session: AsyncSession, cycle: Cycle) -> date | None:
    """The last day of the first cycle that starts after `cycle` ends, if one is stored."""
    following = await session.execute(
        select(col(Cycle.ends_on))
        .where(Cycle.starts_on > cycle.ends_on)
        .order_by(col(Cycle.starts_on))
    )
    return following.scalars().first()


async def interview_for(
    session: AsyncSession, cycle_id: int | None, employee_id: str
) -> Interview | None:
    """The employee's interview day as set in a cycle, if one was."""
    found = await session.execute(
        select(Interview).where(
            Interview.cycle_id == cycle_id, Interview.employee_id == employee_id
        )
    )
    return found.scalars().first()


async def interview_day_set(
    session: AsyncSession, cycle_id: int | None, employee_id: str
) -> date | None:
    """The day set for the employee's interview in a cycle, if one was."""
    found = await session.execute(
        select(col(Interview.scheduled_on)).where(
            Interview.cycle_id == cycle_id, Interview.employee_id == employee_id
        )
    )
    return found.scalar()


async def interview_dates(
    session: AsyncSession, cycle_id: int, employee_ids: Sequence[str]
) -> dict[str, date]:
    """The interview dates managers have set in a cycle, by employee."""
    if not employee_ids:
        return {}
    rows = await session.execute(
        select(col(Interview.employee_id), col(Interview.scheduled_on)).where(
            Interview.cycle_id == cycle_id,
            col(Interview.employee_id).in_(employee_ids),
        )
    )
    return dict(rows.all())


# -- self-assessments ------------------------------------------------------------------------------


async def self_assessment_for(
    session: AsyncSession, cycle_id: int, employee_id: str
) -> SelfAssessment | None:
    """The employee's self-assessment for a cycle (a draft or submitted), if any."""
    rows = await session.execute(
        select(SelfAssessment).where(
            SelfAssessment.cycle_id == cycle_id, SelfAssessment.employee_id == employee_id
        )
    )
    return rows.scalars().first()


async def self_assessments_of(
    session: AsyncSession, cycle_id: int | None, employee_ids: Sequence[str]
) -> dict[str, SelfAssessment]:
    """The self-assessments (drafts included; see `submitted_at`) of these employees for one
    cycle, by employee, in one query."""
    if not employee_ids:
        return {}
    rows = await session.execute(
        select(SelfAssessment).where(
            SelfAssessment.cycle_id == cycle_id,
            col(SelfAssessment.employee_id).in_(list(employee_ids)),
        )
    )
    return {row.employee_id: row for row in rows.scalars()}


async def self_assessment_submitted(session: AsyncSession, cycle_id: int, employee_id: str) -> bool:
    """Whether the employee has submitted their self-assessment for this cycle."""
    rows = await session.execute(
        select(SelfAssessment.submitted_at).where(
            SelfAssessment.cycle_id == cycle_id, SelfAssessment.employee_id == employee_id
        )
    )
    return rows.scalar() is not None


async def submit_self_assessment(
    session: AsyncSession, assessment_id: int, *, now: datetime
) -> bool:
    """Mark a self-assessment submitted unless it was; True if this was the first submission
    (one conditional update: of two submissions at once only one is the first)."""
    result = await session.execute(
        update(SelfAssessment)
        .where(
            col(SelfAssessment.id) == assessment_id,
            col(SelfAssessment.submitted_at).is_(None),
        )
        .values(submitted_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


# -- reviews ---------------------------------------------------------------------------------------


async def has_review(session: AsyncSession, cycle_id: int | None, employee_id: str) -> bool:
    """Whether the employee's review for a cycle is recorded."""
    reviewed = await session.execute(
        select(Review.id).where(Review.cycle_id == cycle_id, Review.employee_id == employee_id)
    )
    return reviewed.first() is not None


async def review_for(session: AsyncSession, cycle_id: int, employee_id: str) -> Review | None:
    """The employee's review for a cycle, if recorded."""
    rows = await session.execute(
        select(Review).where(Review.cycle_id == cycle_id, Review.employee_id == employee_id)
    )
    return rows.scalars().first()


async def review_of_talk(session: AsyncSession, talk_id: int | None) -> Review | None:
    """The review row beside a talk of family review, if it is one."""
    return (await session.execute(select(Review).where(Review.talk_id == talk_id))).scalar()


async def reviews_of_talks(session: AsyncSession, talk_ids: Sequence[int]) -> dict[int, Review]:
    """The review rows of these talks (family review), by talk id, in one query."""
    if not talk_ids:
        return {}
    rows = await session.execute(select(Review).where(col(Review.talk_id).in_(talk_ids)))
    return {r.talk_id: r for r in rows.scalars()}


async def reviews_outside_cycle(
    session: AsyncSession, employee_ids: Sequence[str], cycle_id: int | None
) -> list[Review]:
    """These employees' reviews of other cycles, oldest first."""
    query = (
        select(Review)
        .where(col(Review.employee_id).in_(employee_ids), col(Review.cycle_id) != cycle_id)
        .order_by(col(Review.created_at))
    )
    return list((await session.execute(query)).scalars())


async def latest_reviews(session: AsyncSession, employee_ids: Sequence[str]) -> dict[str, Review]:
    """Each employee's review of their latest reviewed cycle, in one query."""
    if not employee_ids:
        return {}
    order = (col(Cycle.ends_on).desc(), col(Review.id).desc())
    ranked = (
        select(
            Review.id,
            func.row_number().over(partition_by=Review.employee_id, order_by=order).label("rank"),
        )
        .join(Cycle, col(Cycle.id) == col(Review.cycle_id))
        .where(col(Review.employee_id).in_(employee_ids))
        .subquery()
    )
    query = select(Review).join(ranked, ranked.c.id == Review.id).where(ranked.c.rank == 1)
    return {r.employee_id: r for r in (await session.execute(query)).scalars()}


async def answer_review(
    session: AsyncSession, review_id: int, *, disagreement: str | None, now: datetime
) -> bool:
    """Record the employee's first answer to a review: acknowledged, or (with a
    `disagreement`) disagreed; False if it was answered before (one conditional update: of
    two clicks at once only one is the first answer)."""
    answer: dict[str, object] = (
        {"acknowledged_at": now}
        if disagreement is None
        else {"disagreed_at": now, "disagreement": disagreement}
    )
    unanswered = (col(Review.acknowledged_at).is_(None), col(Review.disagreed_at).is_(None))
    result = await session.execute(
        update(Review)
        .where(col(Review.id) == review_id, *unanswered)
        .values(updated_at=now, **answer)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


async def change_disagreement(
    session: AsyncSession, review_id: int | None, *, comment: str, now: datetime
) -> bool:
    """Replace the comment of a disagreement with `comment`; True if that changed it."""
    result = await session.execute(
        update(Review)
        .where(
            col(Review.id) == review_id,
            col(Review.disagreed_at).is_not(None),
            col(Review.disagreement) != comment,
        )
        .values(disagreement=comment, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


# -- Slack's events --------------------------------------------------------------------------------


async def claim_event(session: AsyncSession, event_id: str, now: datetime) -> bool:
    """Record an Events API delivery; False when it was handled before."""
    try:
        async with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id, received_at=now))
            await session.flush()
    except IntegrityError:
        return False
    return True
