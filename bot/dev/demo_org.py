"""The demo's scripted organisation: who works for whom, where, in which language, and what
people write in the quarter (`bot.dev.demo` plays it): each person's own talks, in the
language the pair shares, and the review cycle's self-assessments, reviews and answers."""

from __future__ import annotations

from typing import NamedTuple

from bot.records.meeting import Owner

# handle, name, manager, zone, locale, hr, country, platform. A company mid-migration: Zhou
# Min's team moved to Teams except Emma and Noah; Jonas (Mia's report) is on Teams too. So
# Slack managers have Teams reports and the other way round.
ORG = [
    ("U0HANA", "Hana Berg", "", "Europe/Berlin", "en", "true", "DE", "slack"),
    ("U0MIA", "Mia Chen", "", "Asia/Shanghai", "en", "false", "CN", "slack"),
    ("U0ZHOU", "Zhou Min", "", "Asia/Shanghai", "zh", "false", "CN", "teams"),
    ("U0ELI", "Eli Wang", "U0MIA", "Asia/Shanghai", "zh", "false", "CN", "slack"),
    ("U0JONAS", "Jonas Weber", "U0MIA", "Europe/Berlin", "en", "false", "DE", "teams"),
    ("U0ANN", "Ann Lee", "U0MIA", "America/New_York", "en", "false", "US", "slack"),
    ("U0LINA", "Li Na", "U0ZHOU", "Asia/Shanghai", "zh", "false", "CN", "teams"),
    ("U0EMMA", "Emma Schulz", "U0ZHOU", "Europe/Berlin", "en", "false", "DE", "slack"),
    ("U0NOAH", "Noah Brooks", "U0ZHOU", "America/New_York", "en", "false", "US", "slack"),
]
NEGLECTED = ("U0ZHOU", "U0NOAH")  # this pair never talks: the firm reminder shows it
Act = tuple[str, Owner, int, str]  # text, owner, due in days; done "early", "due" or "late"
Talk = tuple[str, str, tuple[Act, ...]]  # facts, consensus, actions

# (kind, employee's handle) -> that person's talks of that kind, used in turn. Each person has
# their own work, so no two people's records read alike; Li Na and Zhou Min write in Chinese.
TALKS: dict[tuple[str, str], list[Talk]] = {
    ("checkin", "U0ELI"): [
        ("Profiling the checkout found two N+1 queries in the cart service; on-call was quiet.",
         "Fix the queries before adding any cache: measure first.",
         (("Remove the N+1 queries in the cart service", "employee", 8, "due"),
          ("Get a staging database with production-sized data", "manager", 10, "early"))),
        ("The cart fixes took p95 from 520 to 410 ms; the cache design waits for an SRE review.",
         "Eli brings the cache design to the SRE office hours himself.",
         (("Present the cache design at SRE office hours", "employee", 6, "late"),)),
        ("The cache serves 10% of traffic; Eli asks what a senior role would take.",
         "Read the career ladder together and write down what is already met.",
         (("Mark the ladder items already met", "employee", 9, "due"),
          ("Share two senior-level design docs as examples", "manager", 7, "early"))),
        ("Peak traffic reached three times normal; checkout held 290 ms p95 with no pages.",
         "Thank the team in the all-hands; no risky changes until January.",
         (("Write a one-page peak-traffic report", "employee", 8, "due"),)),
    ],
    ("checkin", "U0JONAS"): [
        ("Shipped the export API two days early; on-call is still heavy (two pages last week).",
         "Keep the API as it is; hand one on-call week to the platform team.",
         (("Write the on-call hand-over note", "employee", 7, "due"),
          ("Ask the platform lead to take one on-call week", "manager", 9, "early"))),
        ("On-call is lighter since the hand-over; the partner integration waits on their sandbox.",
         "Escalate the sandbox through the partner manager rather than their engineers.",
         (("Email the partner manager about the sandbox", "employee", 4, "due"),)),
        ("The integration passed its first end-to-end test; Jonas wants to run sprint planning.",
         "Jonas runs December's planning; Mia prepares it with him.",
         (("Draft the sprint planning agenda", "employee", 8, "late"),
          ("Hold a 30-minute prep session with Jonas", "manager", 6, "due"))),
        ("Planning ran on time; the estimates were about 20% optimistic again.",
         "Track estimate against actual for two sprints before changing the process.",
         (("Add an estimate-versus-actual column to the board", "employee", 5, "due"),)),
    ],
    ("checkin", "U0ANN"): [
        ("The customer demo went well; flaky UI tests slow every code review down.",
         "Friday afternoons go to flaky tests until the suite is green.",
         (("Fix the three flakiest UI tests", "employee", 8, "late"),)),
        ("Mentoring the new hire took longer than planned; the accessibility audit is on track.",
         "Mentoring is part of Ann's role this quarter: plan it explicitly.",
         (("Add mentoring hours to the sprint plan", "employee", 6, "early"),
          ("Book the accessibility course", "manager", 12, "due"))),
        ("The audit's fixes are merged; the new design system is slower to build with.",
         "Ann collects the worst friction points for the design-system team.",
         (("List the five worst design-system friction points", "employee", 7, "due"),)),
        ("The new hire now reviews code alone; Ann wants a quieter January for deep work.",
         "No new mentoring in January; two focus days a week.",
         (("Block two focus days a week in the calendar", "employee", 3, "due"),)),
    ],
    ("checkin", "U0EMMA"): [
        ("Emma covered payments on-call alone for two weeks; reconciliation fails every Monday.",
         "Emma finds the cause of the Monday failures; Zhou adds a second person to on-call.",
         (("Find the cause of the Monday reconciliation failures", "employee", 9, "due"),
          ("Add a second person to the payments on-call rota", "manager", 5, "early"))),
        ("The Monday failures came from a time-zone bug in the batch window; fixed and verified.",
         "A short post-mortem, so other teams can check their own batch jobs.",
         (("Publish the batch-window post-mortem", "employee", 6, "due"),)),
        ("Emma wants more design work and less operations; the launch is three weeks away.",
         "After the launch Emma leads the design of the refund service.",
         (("Read the refund service requirements", "employee", 10, "due"),)),
        ("The refund service design is drafted; two teams have not reviewed it yet.",
         "Give the reviewers one week, then decide with what has come in.",
         (("Ask both teams for their review by Friday", "employee", 4, "late"),)),
    ],
    ("checkin", "U0LINA"): [
        ("结算模块重构提前一周完成；跨团队评审总被推迟。", "评审固定在每周二下午，由周敏协调。",
         (("整理评审清单发给相关团队", "employee", 7, "due"),
          ("和财务团队约定固定评审时间", "manager", 14, "late"))),
        ("线上告警减少了一半；新人培训材料还没写完。", "培训材料优先于新需求，本月完成。",
         (("完成新人培训材料初稿", "employee", 9, "early"),)),
        ("对账延迟定位到消息队列积压，扩容后恢复正常。",
         "下月做一次容量评估，避免年底高峰再出问题。",
         (("写容量评估报告", "employee", 10, "due"),
          ("申请两台备用服务器", "manager", 8, "early"))),
        ("年底冲刺压力大，连续两周加班。", "砍掉两个低优先级需求，保证质量，也保证休息。",
         (("和产品确认需求优先级", "manager", 5, "due"),)),
    ],
    ("goal_clarification", "U0ELI"): [
        ("Goal: p95 checkout latency under 300 ms by March, measured on the production dashboard.",
         "Key path: profiling in October, caching in November, rollout in December.",
         (("Publish the latency baseline", "employee", 8, "due"),)),
        ("Next cycle: checkout errors under 0.1% of orders, and a cache runbook on-call can use.",
         "Errors counted weekly from the payment gateway's logs; the runbook is done once on-call"
         " has used it.",
         (("Set up the weekly error-rate report", "employee", 7, "due"),)),
    ],
    ("goal_clarification", "U0EMMA"): [
        ("Next cycle: the refund service in production, refunds done within an hour.",
         "Measured on the refunds dashboard; the first step is the design sign-off in January.",
         (("Book the design sign-off meeting", "employee", 5, "due"),)),
    ],
    ("milestone_retro", "U0JONAS"): [
        ("Payments v2 went live on time; the export endpoints had no incident, but the launch"
         " checklist was written the night before.",
         "Keep the staged rollout; write the checklist a week ahead.",
         (("Turn the launch checklist into a template", "employee", 10, "due"),)),
    ],
    ("milestone_retro", "U0EMMA"): [
        ("Payments v2 launched; the refund path needed a hotfix on day two because the test"
         " environment's configuration differed from production's.",
         "Test environments get production's configuration, checked by a script.",
         (("Write the configuration diff script", "employee", 10, "due"),)),
    ],
    ("milestone_retro", "U0LINA"): [
        ("支付 v2 按时上线；灰度发布顺利，但对账报表晚了一天。",
         "保持灰度发布；对账报表纳入上线清单。",
         (("把对账报表加进上线清单", "employee", 10, "late"),)),
    ],
    ("coaching", "U0ANN"): [
        ("A conflict with the design team over late spec changes cost two sprints of rework.",
         "Specs freeze two weeks before each sprint; Mia talks to the design lead.",
         (("Agree a spec freeze with the design lead", "manager", 6, "due"),)),
    ],
}  # fmt: skip


class SelfView(NamedTuple):
    """An employee's self-assessment, as they type it."""

    rating: int
    proudest: str
    redo: str
    blockers: str
    support: str


class ReviewNotes(NamedTuple):
    """What a manager records after the review interview, and the hour (their local time,
    inside both people's working hours) they record it on the window's first working day."""

    hour: int
    rating: int
    evidence: str
    gaps: str
    next_goals: tuple[str, ...]
    development: tuple[tuple[str, Owner, int], ...]  # text, owner, due in days
    decisions: tuple[str, ...]
    employee_view: str


# The review cycle: two people submit a self-assessment (the others get a reminder), two
# managers record a review; Eli acknowledges his, Emma disagrees with hers.
SELF_ASSESSMENTS: dict[str, SelfView] = {
    "U0ELI": SelfView(
        4,
        "Checkout p95 went from 520 to about 300 ms without a new service; the cart fixes alone"
        " took 110 ms off.",
        "I would ask for the SRE review in the first week instead of waiting three weeks for a"
        " slot.",
        "The staging data was too small to reproduce the slow queries.",
        "A plan towards a senior role: which design work I should lead next.",
    ),
    "U0LINA": SelfView(
        4,
        "结算模块重构提前一周完成，线上告警减少了一半。",
        "对账延迟应该更早升级，而不是自己排查了三天。",
        "跨团队评审经常被推迟。",
        "希望参加架构评审，学习容量规划。",
    ),
}
REVIEWS: dict[str, ReviewNotes] = {
    "U0ELI": ReviewNotes(
        15,
        4,
        "Checkout p95 from 520 to 310 ms (production dashboard); the cart fixes and the cache"
        " rollout were his; no checkout incident this cycle.",
        "The cache design waited three weeks for a review: ask for help sooner.",
        ("Checkout errors under 0.1% of orders", "A cache runbook on-call can use"),
        (("Lead the January design review", "employee", 30),
         ("Pair Eli with a staff engineer on the runbook", "manager", 14)),
        ("pay",),
        "Agrees with the rating; wants the plan towards a senior role written down.",
    ),
    "U0EMMA": ReviewNotes(
        17,
        3,
        "Found and fixed the Monday reconciliation failures; two teams used her post-mortem;"
        " the refund path needed a hotfix after the launch.",
        "The launch checks missed that the test environment differed from production.",
        ("The refund service in production, refunds within an hour",),
        (("Shadow the architecture review twice", "employee", 30),),
        (),
        "Sees the launch hotfix as a gap in the team's checks rather than her own.",
    ),
}  # fmt: skip
DISAGREEMENTS = {  # by handle; everyone else who gets a review acknowledges it
    "U0EMMA": "The record leaves out the two weeks I covered payments on-call alone, which is"
    " why the refund tests were cut short. I'd like that in the evidence before the rating is"
    " final.",
}
