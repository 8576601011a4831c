"""Every message and view builder of `handlers/blocks`, called with people's text in every
field they show: short hostile strings (mentions, links, `&`) or long ones (at the input
limits, full of characters that grow when escaped). Used by the rendering sweeps."""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import handlers.slack.blocks
from bot.engine import kinds, notices
from bot.engine.notice_content import NoticeContent
from bot.engine.nudge_content import NudgeContent
from bot.org.policy import Policy
from bot.privacy.my_data import MyData
from bot.records.milestones import MilestoneInfo
from bot.records.overview import Overview, ReportRow
from bot.records.talks import RecordContext, Recorded
from bot.review.interview_days import InterviewSet
from bot.review.interview_record import RecordedReview, ReviewForm
from bot.review.prep_pack import (
    ActionEntry,
    FactEntry,
    GoalEntry,
    PrepPack,
    ShareSummary,
    TimelineEntry,
)
from bot.review.self_assessment import Saved, SelfForm
from handlers.slack.blocks import (
    goal_views,
    home,
    messages,
    modals,
    nudges,
    prep_pack,
    privacy,
    review_views,
    self_views,
    waiting,
)
from handlers.slack.blocks import (
    notices as notice_views,
)
from storage.models import (
    ActionItem,
    Cycle,
    Goal,
    Interview,
    Milestone,
    Nudge,
    Person,
    Review,
    SelfAssessment,
    Talk,
)

# Every module of handlers/blocks but the primitives in kit: a new module is swept too.
MODULES = tuple(
    importlib.import_module(f"handlers.slack.blocks.{found.name}")
    for found in pkgutil.iter_modules(handlers.slack.blocks.__path__)
    if found.name != "kit"
)
# Public functions of the builder modules that build no text a person reads, and why.
NOT_RENDERING = {
    "rating_label": "HR's rating label as plain text (options; escaped where mrkdwn)",
}
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)
SHANGHAI = ZoneInfo("Asia/Shanghai")
HR_RECORDER = "U0HRREC"  # who recorded a review for the manager: a mention is our own markup


def short(field: str, limit: int = 3000) -> str:
    """A short hostile string naming its field (at most `limit` characters)."""
    text = f"<!channel> R&D <@U0BOSS> <#C0ALL> <https://evil.example|click> <!here> x>y {field}"
    return text[:limit]


def long(field: str, limit: int = 3000) -> str:
    """A hostile string at `limit` characters: every line grows fivefold when escaped."""
    line = f"{field} & <!channel> <@U0BOSS> <https://evil.example|click> &&&&<<<<>>>> "
    text = (line * (limit // len(line) + 1))[: limit - 12] + "\nend-of-text"
    return text[:limit]


@dataclass(frozen=True)
class Sample:
    """One call of a builder: its name, a label, and a function producing its output."""

    builder: str
    label: str
    build: Callable[[], Any]
    shows: tuple[str, ...] = ()  # people's texts that must be shown whole (long run)
    nudge_kind: str | None = None
    content: Any = None  # a nudge's or notice's plain data: every platform renders it


def _person(key: str, name: str, manager: str | None = None, **extra: Any) -> Person:
    return Person(id=key, name=name, manager_id=manager, created_at=NOW, updated_at=NOW, **extra)


def samples(policy: Policy, text: Callable[..., str], many: int = 3) -> list[Sample]:
    """Every builder with `text(field[, limit])` in every people-provided field and `many`
    items in every list."""
    manager = _person("U0MGR", text("manager name", 200))
    employee = _person("U0EMP", text("employee name", 200), "U0MGR")
    hr = _person("U0HR", text("hr name", 200), is_hr=True)
    reports = [_person(f"U0R{n:04d}", text(f"report {n} name", 200), "U0MGR") for n in range(many)]
    names = {p.id: p.name for p in (manager, employee, hr)}
    cycle = Cycle(
        id=7,
        name=text("cycle", 40),
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        review_from=date(2026, 12, 1),
        review_to=date(2026, 12, 31),
        created_at=NOW,
    )
    talk = Talk(
        id=11,
        kind="checkin",
        family="dialogue",
        manager_id="U0MGR",
        employee_id="U0EMP",
        logged_by="U0MGR",
        held_on=TODAY,
        duration_minutes=30,
        facts=text("facts"),
        consensus=text("consensus"),
        submission_key="k",
        created_at=NOW,
    )

    def action(n: int, owner: str = "U0EMP") -> ActionItem:
        return ActionItem(
            id=100 + n,
            talk_id=11,
            employee_id="U0EMP",
            owner_id=owner,
            text=text(f"action {n}", 500),
            due_on=date(2026, 11, 20),
            created_at=NOW,
        )

    actions = [action(n, "U0EMP" if n % 2 else "U0MGR") for n in range(many)]
    recorded = Recorded(talk, actions, actions[:1], employee, manager, True)
    goal = Goal(
        id=5,
        employee_id="U0EMP",
        set_by="U0EMP",
        title=text("goal title", 200),
        measure=text("goal measure"),
        due_on=date(2027, 3, 31),
        status="proposed",
        created_at=NOW,
    )
    milestone = Milestone(
        id=3,
        name=text("milestone", 200),
        due_on=date(2026, 12, 15),
        created_by="U0MGR",
        created_at=NOW,
    )
    assessment = SelfAssessment(
        id=2,
        cycle_id=7,
        employee_id="U0EMP",
        rating=4,
        proudest=text("proudest"),
        redo=text("redo"),
        blockers=text("blockers"),
        support=text("support"),
        other=text("other"),
        submitted_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    review_talk = Talk(**{**talk.model_dump(), "id": 12, "kind": "review", "family": "review"})

    def review(**state: Any) -> Review:
        return Review(
            id=9,
            cycle_id=7,
            talk_id=12,
            employee_id="U0EMP",
            manager_id="U0MGR",
            rating=4,
            evidence=text("evidence"),
            gaps=text("gaps"),
            next_goals="\n".join(text(f"next goal {n}", 200) for n in range(many)),
            decisions='["pay", "promotion"]',
            employee_view=text("employee view"),
            disagreement=text("disagreement"),
            created_at=NOW,
            updated_at=NOW,
            **state,
        )

    def recorded_review(logged_by: str = "U0MGR", **state: Any) -> RecordedReview:
        rtalk = Talk(**{**review_talk.model_dump(), "logged_by": logged_by})
        return RecordedReview(review(**state), rtalk, cycle, actions, [], employee, manager)

    my_data = MyData(
        employee,
        {},
        dict.fromkeys(
            ("talks", "private_notes", "actions", "goals", "self_assessments", "reviews", "reads"),
            many,
        ),
        ["review", "checkin"],
        False,
    )
    pack = PrepPack(
        cycle=cycle,
        manager=manager,
        employee=employee,
        interview_on=date(2026, 12, 3),
        timeline=[TimelineEntry(TODAY, "checkin", "dialogue") for _ in range(many * 6)],
        silent_months=["2026-03", "2026-04"],
        facts=[FactEntry(TODAY, "checkin", text("pack fact"), text("pack goal", 200))],
        consensus=[(TODAY, text("pack consensus"))],
        actions=[ActionEntry(text("pack action", 500), "U0EMP", employee.name, TODAY, "open")],
        goals=[GoalEntry(text("pack goal", 200), text("pack measure"), TODAY, "active", None)],
        self_assessment=assessment,
        share=ShareSummary(3, 2, 0.55),
        previous_rating=3,
        longer_because=("key_role",),
    )

    def nudge(kind: str, role: str = "manager", **payload: Any) -> Nudge:
        return Nudge(
            id=40,
            kind=kind,
            recipient_id="U0MGR",
            subject="s",
            period="p",
            about_id="U0EMP",
            role=role,
            due_at=NOW,
            payload=json.dumps(payload),
            created_at=NOW,
            updated_at=NOW,
        )

    def content(kind: str, role: str = "manager", **fields: Any) -> NudgeContent:
        return NudgeContent(
            nudge(kind, role, round=2),
            manager,
            employee,
            manager,
            {"round": 2, "firm": fields.pop("firm", False)},
            names=names,
            **fields,
        )

    nudge_contents = {
        "checkin": content(kinds.CHECKIN, carry_over=actions, last_dialogue=TODAY),
        "checkin firm": content(kinds.CHECKIN, carry_over=actions, firm=True),
        "heads-up": content(kinds.HEADS_UP, "employee", carry_over=actions),
        "goal manager": content(kinds.GOAL, goal=goal),
        "goal employee": content(kinds.GOAL, "employee", goal=goal),
        "action due": content(kinds.ACTION_DUE, "owner", action=actions[0]),
        "action overdue": content(kinds.ACTION_OVERDUE, "owner", action=actions[0]),
        "milestone": content(
            kinds.MILESTONE, milestone=milestone, participants=[employee, *reports]
        ),
        "self": content(kinds.SELF_ASSESSMENT, "employee", cycle=cycle),
        "self reminder": content(kinds.SELF_REMINDER, "employee", cycle=cycle),
        "prep pack": content(kinds.PREP_PACK, cycle=cycle, pack=pack),
        "hr digest": content(kinds.HR_DIGEST, "hr", digest=_digest(policy, manager, employee)),
    }
    info = MilestoneInfo(milestone, [employee, *reports], actor=manager)
    form_with_picker = _goal_form(manager, None, manager, reports)
    self_form = SelfForm(employee, manager, cycle, assessment, SHANGHAI, TODAY)
    saved = Saved(assessment, employee, manager, cycle, True, 0, SHANGHAI)
    review_form = ReviewForm(
        employee,
        manager,
        "review",
        cycle,
        TODAY,
        date(2027, 6, 30),
        True,
        review(),
        review_talk,
        actions,
    )
    overview = Overview(
        manager,
        TODAY,
        [ReportRow(p, talk, 2, 1, TODAY) for p in [employee, *reports][:15]],
        2,
        3,
        [talk] * 5,
        actions,
        names,
        7,
    )
    interview = InterviewSet(
        Interview(
            id=1,
            cycle_id=7,
            employee_id="U0EMP",
            scheduled_on=TODAY,
            set_by="U0MGR",
            created_at=NOW,
            updated_at=NOW,
        ),
        employee,
        cycle,
        NOW,
        SHANGHAI,
    )
    ctx = RecordContext(employee, manager, actions * 4, TODAY)
    P = policy
    out = [
        Sample("action_lines", "", lambda: messages.action_lines(actions, names, "en")),
        Sample(
            "employee_record",
            "",
            lambda: messages.employee_record(recorded, policy=P, locale="en"),
            (talk.facts, talk.consensus, actions[0].text),
        ),
        Sample(
            "acknowledge_blocks",
            "",
            lambda: messages.acknowledge_blocks(talk, "en", manager=manager.name),
        ),
        Sample(
            "acknowledged_record",
            "",
            lambda: messages.acknowledged_record(
                messages.employee_record(recorded, policy=P, locale="en").last_part().as_kwargs(),
                Talk(**{**talk.model_dump(), "acknowledged_at": NOW}),
                "zh",
            ),
        ),
        Sample(
            "manager_confirmation",
            "",
            lambda: messages.manager_confirmation(recorded, policy=P, locale="zh"),
        ),
        Sample(
            "acknowledged_notice",
            "talk",
            lambda: messages.acknowledged_notice(
                talk, employee=employee.name, policy=P, locale="en"
            ),
        ),
        Sample("help_message", "", lambda: messages.help_message("zh", unknown=True)),
        Sample(
            "refusal",
            "",
            lambda: messages.refusal("refusal.not_your_report", "en", name=employee.name),
        ),
        Sample(
            "settled_message",
            "",
            lambda: nudges.settled_message(
                nudges.nudge_message(nudge_contents["checkin"], policy=P, locale="en").as_kwargs(),
                text("note", 300),
            ),
        ),
        Sample("home_view", "", lambda: home.home_view(overview, policy=P, locale="en")),
        Sample(
            "home_view",
            "employee",
            lambda: home.home_view(
                Overview(employee, TODAY, [], 1, 1, [talk], actions * 10, names),
                policy=P,
                locale="zh",
            ),
        ),
        Sample(
            "record_modal",
            "",
            lambda: modals.record_modal(
                ctx, policy=P, locale="en", kind="checkin", today=TODAY, rows=5
            ),
        ),
        Sample("picker_modal", "", lambda: modals.picker_modal(locale="en", any_user=False)),
        Sample("picker_modal", "hr", lambda: modals.picker_modal(locale="zh", any_user=True)),
        Sample("report_options", "", lambda: modals.report_options(reports)),
        Sample(
            "goal_modal", "picker", lambda: goal_views.goal_modal(form_with_picker, locale="en")
        ),
        Sample(
            "goal_modal",
            "for",
            lambda: goal_views.goal_modal(_goal_form(manager, employee, manager, []), locale="en"),
        ),
        Sample(
            "goal_modal",
            "proposal",
            lambda: goal_views.goal_modal(_goal_form(employee, employee, manager, []), locale="zh"),
        ),
        Sample(
            "employee_options",
            "",
            lambda: goal_views.employee_options(
                reports, actor=manager, manager=hr, typed="", locale="en"
            ),
        ),
        Sample(
            "goal_set_notice",
            "",
            lambda: goal_views.goal_set_notice(goal, by=manager, locale="en"),
            (goal.measure,),
        ),
        Sample(
            "proposal_message",
            "proposed",
            lambda: goal_views.proposal_message(goal, employee=employee, locale="en"),
            (goal.title, goal.measure),
        ),
        Sample(
            "proposal_message",
            "decided",
            lambda: goal_views.proposal_message(
                Goal(**{**goal.model_dump(), "status": "active"}),
                employee=employee,
                locale="en",
                decided_by=manager,
                on=TODAY,
            ),
        ),
        Sample(
            "proposal_message",
            "already",
            lambda: goal_views.proposal_message(
                Goal(**{**goal.model_dump(), "status": "dropped"}), employee=employee, locale="zh"
            ),
        ),
        Sample(
            "decision_notice",
            "confirmed",
            lambda: goal_views.decision_notice(
                Goal(**{**goal.model_dump(), "status": "active"}), manager=manager, locale="en"
            ),
        ),
        Sample(
            "decision_notice",
            "declined",
            lambda: goal_views.decision_notice(
                Goal(**{**goal.model_dump(), "status": "dropped"}), manager=manager, locale="zh"
            ),
        ),
        Sample(
            "milestone_registered",
            "",
            lambda: goal_views.milestone_registered(info, locale="en"),
            (milestone.name,),
        ),
        Sample(
            "milestone_done", "", lambda: goal_views.milestone_done(info, locale="zh", on=TODAY)
        ),
        Sample(
            "usage",
            "goal",
            lambda: goal_views.usage("milestone.usage", "en", problem=text("problem", 100)),
        ),
        Sample(
            "self_modal",
            "",
            lambda: self_views.self_modal(
                self_form,
                policy=P,
                locale="en",
                note=text("note", 300),
                errors={"self_redo": text("error", 300)},
            ),
        ),
        Sample(
            "self_modal",
            "typed",
            lambda: self_views.self_modal(
                SelfForm(employee, None, cycle, None, SHANGHAI, TODAY),
                policy=P,
                locale="zh",
                typed={"rating": "3", "proudest": text("typed")},
            ),
        ),
        Sample("notice_view", "", lambda: self_views.notice_view(text("notice", 300), locale="en")),
        Sample("submitted_view", "", lambda: self_views.submitted_view(saved, locale="en")),
        Sample(
            "manager_notice",
            "",
            lambda: self_views.manager_notice(saved, policy=P, locale="en"),
            (assessment.proudest, assessment.other),
        ),
        Sample("open_button", "", lambda: self_views.open_button(7, "zh")),
        Sample(
            "interview_picker",
            "",
            lambda: self_views.interview_picker(nudge_contents["prep pack"], "en"),
        ),
        Sample(
            "interview_home_block",
            "",
            lambda: self_views.interview_home_block("U0EMP", employee.name, "en", cycle_id=7),
        ),
        Sample(
            "interview_set_message",
            "",
            lambda: self_views.interview_set_message(interview, locale="en"),
        ),
        Sample(
            "review_modal",
            "",
            lambda: review_views.review_modal(review_form, policy=P, locale="en"),
        ),
        Sample(
            "review_summary",
            "open",
            lambda: review_views.review_summary(recorded_review(), policy=P, locale="en"),
            (text("evidence"), text("gaps"), text("employee view")),
        ),
        Sample(
            "review_summary",
            "disagreed",
            lambda: review_views.review_summary(
                recorded_review(disagreed_at=NOW), policy=P, locale="zh"
            ),
            (text("disagreement"),),
        ),
        Sample(
            "review_summary",
            "acknowledged",
            lambda: review_views.review_summary(
                recorded_review(acknowledged_at=NOW), policy=P, locale="en"
            ),
        ),
        Sample(
            "summary_update",
            "",
            lambda: review_views.summary_update(
                recorded_review(disagreed_at=NOW), policy=P, locale="en"
            ),
        ),
        Sample(
            "saved_notice",
            "",
            lambda: review_views.saved_notice(recorded_review(), policy=P, locale="en"),
        ),
        Sample(
            "acknowledged_notice",
            "review",
            lambda: review_views.acknowledged_notice(recorded_review(), locale="zh"),
        ),
        Sample(
            "disagreement_notice",
            "manager",
            lambda: review_views.disagreement_notice(recorded_review(), policy=P, locale="en"),
            (text("disagreement"),),
        ),
        Sample(
            "disagreement_notice",
            "hr",
            lambda: review_views.disagreement_notice(
                recorded_review(HR_RECORDER), policy=P, locale="zh"
            ),
        ),
        Sample(
            "disagreement_notice",
            "hr withheld",
            lambda: review_views.disagreement_notice(
                recorded_review(HR_RECORDER), policy=P, locale="en", withheld=True
            ),
        ),
        Sample(
            "disagree_modal",
            "",
            lambda: review_views.disagree_modal(9, locale="en"),
        ),
        Sample("usage", "review", lambda: review_views.usage("zh")),
        Sample("loading_view", "", lambda: waiting.loading_view(None)),
        Sample("loading_view", "zh", lambda: waiting.loading_view("zh")),
        Sample(
            "message_view",
            "",
            lambda: waiting.message_view(
                messages.refusal("refusal.not_your_report", "en", name=employee.name).text,
                locale="en",
            ),
        ),
        Sample(
            "prep_pack_blocks", "", lambda: prep_pack.prep_pack_blocks(pack, policy=P, locale="en")
        ),
        Sample("file_comment", "", lambda: prep_pack.file_comment(pack, locale="zh")),
        Sample(
            "my_data_summary",
            "",
            lambda: privacy.my_data_summary(my_data, policy=P, locale="en"),
        ),
        Sample(
            "my_data_summary",
            "zh",
            lambda: privacy.my_data_summary(
                replace(my_data, hr_reads=[], notes_shown=True), policy=P, locale="zh"
            ),
        ),
    ]
    from handlers.slack.blocks import digest as digest_views

    hr_digest = nudge_contents["hr digest"].digest
    out.append(
        Sample("digest_message", "zh", lambda: digest_views.digest_message(hr_digest, locale="zh"))
    )
    for kind in sorted(kinds.NOTICE_KINDS):
        notice = _notice(kind, recorded, goal, employee, manager, saved, recorded_review())
        out.append(
            Sample(
                "notice_message",
                kind,
                lambda n=notice: notice_views.notice_message(n, policy=P, locale="en"),
                content=notice,
            )
        )
    for label, c in nudge_contents.items():
        out.append(
            Sample(
                "nudge_message",
                label,
                lambda c=c: nudges.nudge_message(c, policy=P, locale="en"),
                nudge_kind=c.nudge.kind,
                content=c,
            )
        )
    return out


def _digest(policy: Policy, manager: Person, employee: Person) -> Any:
    """HR's digest with people's names (hostile) as its groups and pairs."""
    from bot.records.coverage import PairCoverage
    from bot.records.coverage_digest import CoverageDigest
    from bot.records.coverage_history import (
        Change,
        CoverageHistory,
        GroupHistory,
        PeriodCounts,
        last_periods,
    )

    counts = tuple(PeriodCounts(2, n % 3, n, 1) for n in range(6))
    history = CoverageHistory(
        as_of=TODAY,
        group_by="manager",
        escalate_after_periods=2,
        periods=tuple(last_periods(TODAY, policy, 6)),
        groups=(GroupHistory(manager.id, manager.name, counts),),
        totals=counts,
    )
    pairs = [PairCoverage(manager.id, manager.name, employee.id, employee.name, None, 2, 1, "ok")]
    moved = [
        Change("share", "manager", manager.id, manager.name, 50, 0),
        Change("overdue", "manager", None, None, 1, 4),
    ]
    return CoverageDigest(NOW, pairs, history, moved)


def _notice(
    kind: str,
    recorded: Recorded,
    goal: Goal,
    employee: Person,
    manager: Person,
    saved: Saved,
    review: RecordedReview,
) -> NoticeContent:
    """A notice of `kind` about the samples' records, as the dispatcher loads it."""
    row = Nudge(
        id=1,
        kind=kind,
        recipient_id=manager.id,
        subject="x:1",
        period="once",
        due_at=NOW,
        role=notices.ROLE,
        created_at=NOW,
        updated_at=NOW,
    )
    return NoticeContent(
        row,
        manager,
        {},
        recorded=recorded,
        goal=goal,
        goal_employee=employee,
        goal_by=manager,
        saved=saved,
        review=review,
        manager=manager,
        previous=employee,
    )


def _goal_form(
    actor: Person, employee: Person | None, manager: Person | None, choices: list
) -> Any:
    from bot.records.goals import GoalForm

    return GoalForm(actor, employee, manager, choices, manager is not None, TODAY)
