"""The demo's scripted organisation: who works for whom, where, in which language, and what
managers say in the talks they log (`bot.dev.demo` plays it through a simulated quarter)."""

from __future__ import annotations

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
TALKS: dict[tuple[str, str], list[tuple[str, str, tuple[Act, ...]]]] = {
    ("checkin", "en"): [
        ("Shipped the export API two days early; on-call load is still heavy (two pages).",
         "Keep the API; hand one on-call week to the platform team.",
         (("Write the on-call hand-over note", "employee", 7, "due"),
          ("Ask the platform lead to take one on-call week", "manager", 9, "early"))),
        ("The customer demo went well; flaky tests slow every review down.",
         "Friday afternoons go to flaky tests until the suite is green.",
         (("Fix the three flakiest tests", "employee", 8, "late"),)),
        ("Mentoring the new hire took more time than planned; the migration is on track.",
         "Mentoring is part of the role this quarter: plan it explicitly.",
         (("Add mentoring hours to the sprint plan", "employee", 6, "early"),
          ("Book the architecture course", "manager", 12, "due"))),
        ("Q4 goals are mostly done; wants to grow into tech-lead work next year.",
         "Lead the January design review.",
         (("Share the design-review agenda", "employee", 10, "due"),)),
    ],
    ("checkin", "zh"): [
        ("结算模块重构提前一周完成；跨团队评审总被推迟。", "评审固定在每周二下午，由周敏协调。",
         (("整理评审清单发给相关团队", "employee", 7, "due"),
          ("和财务团队约定固定评审时间", "manager", 14, "late"))),
        ("线上告警减少了一半；新人培训材料还没写完。", "培训材料优先于新需求，本月完成。",
         (("完成新人培训材料初稿", "employee", 9, "early"),)),
        ("年底冲刺压力大，加班较多。", "砍掉两个低优先级需求，保证质量。",
         (("和产品确认需求优先级", "manager", 5, "due"),)),
    ],
    ("goal_clarification", "en"): [
        ("Goal: p95 checkout latency under 300 ms by March, measured on the production dashboard.",
         "Key path: profiling in October, caching in November, rollout in December.",
         (("Publish the latency baseline", "employee", 8, "due"),)),
    ],
    ("milestone_retro", "en"): [
        ("Payments v2 went live on time; the launch checklist was written the night before.",
         "Keep the staged rollout; write the checklist a week ahead.",
         (("Turn the launch checklist into a template", "employee", 10, "due"),)),
    ],
    ("milestone_retro", "zh"): [
        ("支付 v2 按时上线；灰度发布顺利，但上线清单是前一晚才写好的。",
         "保持灰度发布；上线清单提前一周准备。",
         (("把上线清单整理成模板", "employee", 10, "late"),)),
    ],
    ("coaching", "en"): [
        ("A conflict with the design team over late spec changes.",
         "Specs freeze two weeks before each sprint; the manager talks to the design lead.",
         (("Agree a spec freeze with the design lead", "manager", 6, "due"),)),
    ],
}  # fmt: skip
