"""`cadence demo`: the real planner and dispatcher through a simulated quarter, offline.

A sample org is imported into a local SQLite file, some people on Slack and some on Teams (both
in-process stand-ins: Slack's Web API and Teams' Bot Connector), the clock jumps from one due
moment to the next, managers log talks after their nudges, and the outbox is printed as a
timeline in each recipient's local time, with the platform each message went out on. A review
cycle inside the quarter brings self-assessments, prep packs, review interviews and the
employees' answers, printed after the timeline (`bot.dev.demo_records`); the demo ends with the
commands that explore its database (`bot.dev.demo_ending`).
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dev.demo_ending import closing_lines
from bot.dev.demo_org import DISAGREEMENTS, NEGLECTED, ORG, REVIEWS, SELF_ASSESSMENTS, TALKS
from bot.dev.demo_records import SHOWN_NOTICES, print_review_cycle
from bot.dev.project_files import shipped_policy
from bot.dev.slack_standin import SlackStandIn
from bot.dev.teams_standin import TeamsStandIn
from bot.engine import kinds, outbox
from bot.engine.choices import complete_action
from bot.engine.scheduler import Engine
from bot.org.importer import import_org_file
from bot.org.people import zone_of
from bot.org.policy import Policy, load_policy
from bot.org.profiles import remember_teams_contact, reported_zone
from bot.org.worktime import WorkCalendar, calendar_for
from bot.process.config import Settings, TeamsSettings
from bot.records.goals import create_goal
from bot.records.meeting import ActionDraft
from bot.records.milestones import mark_done, register_milestone
from bot.records.talks import TalkDraft, record_talk, submission_key
from bot.review import self_assessment
from bot.review.answers import respond_to_review
from bot.review.cycles import add_cycle
from bot.review.interview_record import ReviewDraft, record_review
from bot.slack.app import create_app, create_nudge_engine
from bot.teams.app import TeamsBot, teams_delivery
from bot.teams.auth import fixed_token
from bot.teams.connector import ConversationReference
from storage import migrate, queries, sealing
from storage.db import make_engine, session_scope, to_async_url
from storage.models import ActionStatus, Cycle, NudgeState, Person, TalkShare

LABELS = {
    kinds.CHECKIN: "check-in", kinds.HEADS_UP: "heads-up",
    kinds.GOAL: "goal clarification", kinds.MILESTONE: "milestone retrospective",
    kinds.ACTION_DUE: "action due", kinds.ACTION_OVERDUE: "action overdue",
    kinds.SELF_ASSESSMENT: "self-assessment", kinds.SELF_REMINDER: "self-assessment reminder",
    kinds.PREP_PACK: "prep pack", kinds.HR_DIGEST: "HR digest",
    # the review cycle's notices, sent at once whatever the hour (bot.dev.demo_records)
    kinds.SELF_SUBMITTED: "self-assessment received", kinds.REVIEW_SUMMARY: "review record",
    kinds.REVIEW_SAVED: "review saved", kinds.REVIEW_ACKNOWLEDGED: "review acknowledged",
    kinds.REVIEW_DISAGREED: "review disagreement",
}  # fmt: skip
TALK_LABELS = {
    "checkin": "check-in",
    "goal_clarification": "goal clarification",
    "milestone_retro": "retrospective",
    "review": "review interview",
}
WHY = {
    "the talk happened": ("dialogue logged", "a dialogue was logged in this period"),
    "the action was done": ("action done", "the action was done"),
    "the goal was clarified": ("goal clarified", "the goal was clarified"),
}
Step = Callable[..., Awaitable[object]]
DEMO_BOT = "00000000-0000-4000-8000-00000000c0de"  # the demo bot's Entra client id


class SimClock:
    """The simulated clock handed to the app: `now` moves only when the demo moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Script:
    """What people do in the demo: scripted moments, and reactions to the nudges they get."""

    def __init__(self, engine: AsyncEngine, policy: Policy, clock: SimClock) -> None:
        self.engine, self.policy, self.clock = engine, policy, clock
        self.people: dict[str, Person] = {}  # by person key
        self.key_of: dict[str, str] = {}  # the demo's handles (demo_org.ORG) -> person keys
        self.handle_of: dict[str, str] = {}  # and back
        self.events: list[tuple[datetime, int, Step]] = []
        self.seq, self.seen, self.late = itertools.count(), set[int](), set[int]()
        self.held: Counter[tuple[str, str]] = Counter()  # talks logged, by employee and kind
        self.asked: set[tuple[str, str, date]] = set()  # goal talks planned: manager, report, day
        self.cycle: Cycle | None = None  # the review cycle the script plays

    def at(self, moment: datetime, step: Step, *args: object) -> None:
        """Run `step(*args, now)` when the simulated clock reaches `moment`."""
        run: Step = partial(step, *args)
        heapq.heappush(self.events, (moment, next(self.seq), run))

    def calendar(self, person_id: str) -> WorkCalendar:
        """The person's working calendar (zone, days, hours, holidays)."""
        person = self.people[person_id]
        return calendar_for(self.policy, timezone=person.timezone, country=person.country)

    def moment(self, person_id: str, day: date | datetime, hour: int) -> datetime:
        """`hour` local time on the person's first working day from `day` (or after a moment)."""
        cal = self.calendar(person_id)
        if isinstance(day, datetime):
            day = day.astimezone(cal.zone).date() + timedelta(days=1)
        return cal.next_working_moment(datetime.combine(day, time(0), cal.zone), at=time(hour))

    def start(self, start: date) -> None:
        """The scripted moments: a goal, a milestone, an unplanned coaching talk."""
        mia, zhou, ann = (self.key_of[sid] for sid in ("U0MIA", "U0ZHOU", "U0ANN"))
        self.at(self.moment(mia, start + timedelta(days=11), 11), self.goal, start)
        self.at(self.moment(zhou, start + timedelta(days=19), 11), self.milestone)
        coaching = self.moment(mia, start + timedelta(days=62), 11)
        self.at(coaching, self.talk, mia, ann, "coaching")

    async def goal(self, start: date, now: datetime) -> None:
        """Mia sets Eli a goal: a goal-clarification talk is due."""
        await create_goal(
            self.engine, actor_id=self.key_of["U0MIA"], employee_id=self.key_of["U0ELI"],
            title="Checkout p95 under 300 ms",
            measure="p95 latency on the production dashboard",
            due_on=start + timedelta(days=150), now=now, policy=self.policy,
        )  # fmt: skip

    async def milestone(self, now: datetime) -> None:
        """Zhou registers a milestone with three people and marks it done weeks later."""
        ends, zhou = now.date() + timedelta(days=24), self.key_of["U0ZHOU"]
        participants = [self.key_of[sid] for sid in ("U0LINA", "U0EMMA", "U0JONAS")]
        info = await register_milestone(
            self.engine, actor_id=zhou, name="Payments v2 launch", due_on=ends,
            participant_ids=participants, now=now, policy=self.policy,
        )  # fmt: skip
        assert info.milestone.id is not None  # registered: stored
        done = partial(mark_done, self.engine, milestone_id=info.milestone.id, actor_id=zhou)
        self.at(self.moment(zhou, ends, 16), lambda now: done(now=now))

    async def done(self, action_id: int, owner_id: str, now: datetime) -> None:
        """The owner marks an action done (the button on its nudge)."""
        await complete_action(self.engine, action_id=action_id, actor_id=owner_id, now=now)

    async def talk(self, manager_id: str, employee_id: str, kind: str, now: datetime) -> None:
        """The manager logs a talk; earlier actions already due are ticked as done."""
        bank = TALKS[(kind, self.handle_of[employee_id])]  # the employee's own, in turn
        facts, consensus, acts = bank[self.held[(employee_id, kind)] % len(bank)]
        self.held[(employee_id, kind)] += 1
        today = self.today(manager_id, now)
        async with session_scope(self.engine) as session:
            earlier = await queries.open_actions_about(session, employee_id)
        draft = TalkDraft(
            employee_id, kind, today, None, facts, consensus,
            actions=tuple(ActionDraft(a[0], a[1], today + timedelta(days=a[2])) for a in acts),
            completed_action_ids=tuple(a.id for a in earlier if a.id and a.due_on <= today),
            talk_share=TalkShare.HALF_OR_MORE,
        )  # fmt: skip
        key = submission_key("demo", manager_id, f"V{next(self.seq)}")
        saved = await record_talk(
            self.engine, actor_id=manager_id, draft=draft, policy=self.policy, now=now, key=key
        )
        for item, act in zip(saved.actions, acts, strict=True):
            if act[3] != "due":  # not in answer to its due nudge: late, or the day before it
                self.late.add(item.id or 0)
            if act[3] == "early":
                cal = self.calendar(item.owner_id)
                day = cal.working_day_on_or_before(item.due_on) - timedelta(days=1)
                moment = self.moment(item.owner_id, cal.working_day_on_or_before(day), 15)
                self.at(moment, self.done, item.id, item.owner_id)

    def today(self, person_id: str, now: datetime) -> date:
        """The person's local date at `now`."""
        return now.astimezone(zone_of(self.people[person_id], self.policy)).date()

    async def self_assess(self, employee_id: str, cycle_id: int, now: datetime) -> None:
        """The employee submits the self-assessment the nudge asked for."""
        view = SELF_ASSESSMENTS[self.handle_of[employee_id]]
        await self_assessment.save(
            self.engine, employee_id=employee_id, cycle_id=cycle_id, rating=view.rating,
            proudest=view.proudest, redo=view.redo, blockers=view.blockers,
            support=view.support, submit=True, policy=self.policy, now=now,
        )  # fmt: skip

    async def review(self, manager_id: str, employee_id: str, now: datetime) -> None:
        """The manager records the review interview held today (the form's one domain call)."""
        notes, today = REVIEWS[self.handle_of[employee_id]], self.today(manager_id, now)
        draft = ReviewDraft(
            employee_id, str(notes.rating), notes.evidence, today, None, notes.gaps,
            "\n".join(notes.next_goals),
            tuple(ActionDraft(t, o, today + timedelta(days=d)) for t, o, d in notes.development),
            notes.decisions, notes.employee_view,
        )  # fmt: skip
        key = submission_key("demo-review", manager_id, f"V{next(self.seq)}")
        await record_review(
            self.engine, actor_id=manager_id, draft=draft, policy=self.policy, now=now, key=key
        )

    async def answer(self, employee_id: str, review_id: int, now: datetime) -> None:
        """The employee acknowledges the review, or disagrees with a comment."""
        comment = DISAGREEMENTS.get(self.handle_of[employee_id])
        await respond_to_review(
            self.engine, review_id=review_id, actor_id=employee_id, agree=comment is None,
            comment=comment, now=now,
        )  # fmt: skip

    def react_to_cycle(self, kind: str, who: str, about: str, when: datetime) -> None:
        """The review cycle's people, on their nudges: submit, record the interview, answer."""
        handle = self.handle_of.get(about, "")
        cycle = self.cycle
        assert cycle is not None and cycle.id is not None  # added before the quarter starts
        if kind == kinds.SELF_ASSESSMENT and handle in SELF_ASSESSMENTS:
            self.at(self.moment(who, when, 11), self.self_assess, who, cycle.id)
        elif kind == kinds.PREP_PACK and handle in REVIEWS:
            # the interview is on the window's first working day, as the prep pack says
            moment = self.moment(who, cycle.review_from, REVIEWS[handle].hour)
            self.at(moment, self.review, who, about)

    async def react(self) -> None:
        """Act on the nudges just sent, as people would."""
        async with session_scope(self.engine) as session:
            sent = [n for n in await outbox.all_sent(session) if n.id not in self.seen]
        for n in sent:
            self.seen.add(n.id or 0)
            payload, who, when = json.loads(n.payload), n.recipient_id, n.sent_at or self.clock.now
            pair = (self.handle_of[who], self.handle_of.get(n.about_id or ""))
            ours = self.cycle is not None and payload.get("cycle_id") == self.cycle.id
            if n.kind == kinds.CHECKIN and pair != NEGLECTED:
                self.at(self.moment(who, when, 14), self.talk, who, n.about_id, n.kind)
            elif n.kind == kinds.GOAL and n.role == "manager":
                # one talk clarifies every goal of the report that waits (the review sets two)
                day = self.moment(who, when, 15)
                if (who, n.about_id or "", day.date()) not in self.asked:
                    self.asked.add((who, n.about_id or "", day.date()))
                    self.at(day, self.talk, who, n.about_id, n.kind)
            elif n.kind in (kinds.SELF_ASSESSMENT, kinds.PREP_PACK) and ours:
                self.react_to_cycle(n.kind, who, n.about_id or "", when)
            elif n.kind == kinds.REVIEW_SUMMARY:
                self.at(self.moment(who, when, 10), self.answer, who, payload["review_id"])
            elif n.kind == kinds.MILESTONE:
                for pid in payload["participants"]:
                    self.at(self.moment(who, when, 15), self.talk, who, pid, n.kind)
            elif n.kind == kinds.ACTION_DUE and payload["action_id"] not in self.late:
                self.at(when + timedelta(hours=2), self.done, payload["action_id"], who)

    async def until(self, limit: datetime, nudger: Engine) -> None:
        """Jump from one due nudge or scripted moment to the next, up to `limit`."""
        while True:
            async with session_scope(self.engine) as session:
                due = await outbox.first_due(session)
            event = self.events[0][0] if self.events else None
            moment = min((m for m in (due, event) if m is not None), default=None)
            if moment is None or moment >= limit:
                return
            self.clock.now = max(moment, self.clock.now)
            if event is not None and event <= moment:
                await heapq.heappop(self.events)[2](self.clock.now)
            elif (await nudger.dispatch(self.clock.now)).claimed:
                await self.react()
            else:
                raise RuntimeError(f"a nudge due at {due} could not be claimed")


def _email(name: str) -> str:
    return f"{name.split()[0].lower()}@example.com"


def _teams_id(handle: str) -> str:
    """The Entra object id the demo gives a person on Teams."""
    return f"00000000-0000-4000-8000-{[row[0] for row in ORG].index(handle) + 1:012d}"


async def seed(
    engine: AsyncEngine, slack: SlackStandIn, teams: TeamsStandIn, csv_path: Path, now: datetime
) -> None:
    """Import the org chart from a generated HR CSV (a template for a real one), the Slack
    people into Slack, and the app installed for the Teams people (org-wide, as an admin
    deploys it): each install is the activity Teams sends, which stores their chat."""
    names = {row[0]: row[1] for row in ORG}
    rows = ["slack_id,teams_id,email,name,manager,timezone,locale,hr,country"]
    for handle, name, manager, zone, locale, hr, country, platform in ORG:
        slack_id = handle if platform == "slack" else ""
        teams_id = _teams_id(handle) if platform == "teams" else ""
        boss = _email(names[manager]) if manager else ""
        rows.append(
            ",".join((slack_id, teams_id, _email(name), name, boss, zone, locale, hr, country))
        )
        chat_locale = "zh-CN" if locale == "zh" else "en-US"
        if platform == "slack":
            slack.add_user(handle, name=name, email=_email(name), tz=zone, locale=chat_locale)
    csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    await import_org_file(engine, csv_path, lookup_email=None, now=now)
    for handle, _name, _manager, zone, locale, *_rest, platform in ORG:
        if platform == "teams":
            user = f"29:{_teams_id(handle)}"
            reference = ConversationReference(
                service_url=teams.service_url,
                conversation_id=teams.install(user),
                user_id=user,
                bot_id=f"28:{DEMO_BOT}",
                tenant_id=teams.tenant_id,
            )
            await remember_teams_contact(
                engine,
                aad_object_id=_teams_id(handle),
                reference=reference.dumps(),
                locale=locale,
                tz=zone,
                now=now,
            )


async def report(engine: AsyncEngine, end: date, policy: Policy) -> None:
    """Print the outbox as a timeline (with the review cycle's notices) and the talk records."""
    async with session_scope(engine) as session:
        people = {p.id: p for p in await queries.all_people(session)}
        reporting = await queries.reporting_identities(session, people)
        nudges = await outbox.every_row(session)
        talks = await queries.talks_for_export(session)  # every talk, as held
        actions = await queries.actions_of_talks(session, [t.id for t in talks if t.id])
    delivered = [(n, n.sent_at) for n in nudges if n.state == NudgeState.SENT and n.sent_at]
    shown = [
        (n, at) for n, at in delivered if not kinds.is_notice(n.kind) or n.kind in SHOWN_NOTICES
    ]
    nudges_sent = sum(1 for n, _at in shown if not kinds.is_notice(n.kind))
    print(
        f"\nTimeline: {nudges_sent} nudges sent, in each recipient's local time and working"
        f" hours,\nand {len(shown) - nudges_sent} notices of the review cycle, sent at once\n"
    )
    for n, sent_at in shown:
        person = people[n.recipient_id]
        local = sent_at.astimezone(
            zone_of(person, policy, reported_zone(person, reporting.get(person.id)))
        )
        kind = LABELS[n.kind] + (" (firm)" if json.loads(n.payload).get("firm") else "")
        first = (n.sent_text or "").split("\n")[0]
        where = (n.platform or "slack").capitalize()
        print(
            f"{local:%Y-%m-%d %a %H:%M} {local.tzname():<4}  {where:<5}  {person.name:<12}"
            f" {kind:<26}{first}"
        )
    print(f"\nTalks recorded: {len(talks)} (status of their actions on {end})\n")
    for t in talks:
        pair = f"{people[t.manager_id].name} → {people[t.employee_id].name}"
        kind = TALK_LABELS.get(t.kind, t.kind)
        print(f"{t.held_on:%Y-%m-%d %a}  {kind:<19} {pair:<27} {t.facts.splitlines()[0]}")
        for a in (a for a in actions if a.talk_id == t.id):
            status = "overdue" if a.status == ActionStatus.OPEN and a.due_on < end else a.status
            print(f"{'':16}[{status}] {a.text} ({people[a.owner_id].name}, due {a.due_on})")


async def summary(engine: AsyncEngine, end: date) -> None:
    """Print what was sent, by kind, and what was not and why."""
    async with session_scope(engine) as session:
        nudges = await outbox.every_row(session)
    delivered = [(n, n.sent_at) for n in nudges if n.state == NudgeState.SENT and n.sent_at]
    sent = [(n, sent_at) for n, sent_at in delivered if not kinds.is_notice(n.kind)]
    notices_sent = len(delivered) - len(sent)
    by_kind = Counter(LABELS[n.kind] for n, _sent_at in sent)
    cancelled = Counter(n.last_error or "" for n in nudges if n.state == NudgeState.CANCELLED)
    why = ", ".join(f"{sum(cancelled[r] for r in rs)} because {w}" for w, rs in WHY.items())
    dropped = sum(v for k, v in cancelled.items() if k.startswith("dropped"))
    pending = sum(1 for n in nudges if n.state == NudgeState.PENDING)
    per_kind = ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items()))
    print(f"\nSummary: {len(sent)} nudges sent: {per_kind}.")
    print(f"Notices sent at once (records, confirmations, acknowledgements): {notices_sent}.")
    print(f"Not sent: {why}; {dropped} dropped; {pending} still pending after {end}.")


async def add_review_cycle(engine: AsyncEngine, policy: Policy, start: date, days: int) -> Cycle:
    """The cycle the script plays: from `start` over about two thirds of the simulated days,
    so that its review window (the policy's length, right after it) falls inside them."""
    ends = start + timedelta(days=max(days * 2 // 3, 28) - 1)
    name = f"{start:%Y} {start:%b}-{ends:%b}"  # e.g. "2026 Oct-Nov"
    now = datetime.combine(start, time(0), UTC) - timedelta(days=30)  # HR added it earlier
    saved = await add_cycle(
        engine, name=name, start=start, end=ends, review_from=None, review_to=None,
        policy=policy, now=now,
    )  # fmt: skip
    return saved.cycle


async def run_demo(database: Path, *, start: date, days: int) -> int:
    """Seed, simulate `days` days from `start` under the shipped policy (`app.yaml` as
    released, wherever the demo runs from), print what happened; the exit code.

    Ratings and comments are sealed (storage.sealing) under a key made for this database,
    never the environment's: the demo prints it in the commands that explore the database.
    The process's own key is back in place when the demo returns."""
    end = start + timedelta(days=days - 1)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    config = shipped_policy()
    policy, url = load_policy(config), to_async_url(f"sqlite:///{database}")
    slack, teams, engine = SlackStandIn().start(), TeamsStandIn().start(), make_engine(url)
    clock = SimClock(datetime.combine(start, time(0), UTC))
    data_key, keys_before = sealing.new_key(), sealing.installed()
    sealing.install(sealing.Keyring.parse(data_key))
    try:
        await migrate.upgrade(engine)
        await sealing.verify(engine, required=True, now=clock.now)  # the key's check token
        org_csv = database.with_name(f"{database.stem}-org.csv")
        await seed(engine, slack, teams, org_csv, clock.now - timedelta(days=30))
        settings = Settings(slack.bot_token, None, None, slack.base_url, url, 0, config)
        _app, deps = create_app(settings, policy, engine=engine, clock=clock)
        # simulated time: the stand-ins limit nothing, so no real second between two posts
        nudger = create_nudge_engine(deps, settings, sends_per_second=1000, channel_spacing=0)
        bot = TeamsBot(
            TeamsSettings({"CLIENTID": DEMO_BOT}),
            policy,
            engine=engine,
            token=fixed_token(teams.token),
            clock=clock,
        )
        nudger.platforms.append(teams_delivery(bot, sends_per_second=1000, channel_spacing=0))
        script = Script(engine, policy, clock)
        async with session_scope(engine) as session:
            script.people = {p.id: p for p in await queries.all_people(session)}
        by_email = {p.email: key for key, p in script.people.items()}
        script.key_of = {row[0]: by_email[_email(row[1])] for row in ORG}
        script.handle_of = {key: handle for handle, key in script.key_of.items()}
        script.cycle = cycle = await add_review_cycle(engine, policy, start, days)
        on_teams = ", ".join(row[1] for row in ORG if row[7] == "teams")
        print(f"Cadence demo: the real engine from {start} to {end} ({days} days), offline.")
        print(f"{len(ORG)} people imported from {org_csv.name} into {database}. Slack and")
        print(f"Teams are in-process stand-ins; on Teams: {on_teams}.")
        print("Managers log a talk the day after each check-in nudge; Zhou Min never talks with")
        print("Noah Brooks, so Zhou gets a firm reminder. HR added the appraisal cycle")
        print(f"{cycle.name} ({cycle.starts_on} to {cycle.ends_on}), reviews from")
        print(f"{cycle.review_from}: Eli Wang and Li Na submit a self-assessment, Mia Chen and")
        print("Zhou Min record a review, Eli acknowledges his and Emma Schulz disagrees with hers.")
        script.start(start)
        for offset in range(days):
            clock.now = datetime.combine(start + timedelta(days=offset), time(0), UTC)
            await nudger.plan(clock.now)
            await script.until(clock.now + timedelta(days=1), nudger)
        await report(engine, end, policy)
        await print_review_cycle(engine, slack, cycle, policy)
        await summary(engine, end)
    finally:
        await engine.dispose()
        slack.stop()
        teams.stop()
        sealing.install(keys_before)
    for line in closing_lines(database, org_csv, data_key=data_key, end=end):
        print(line)
    return 0
