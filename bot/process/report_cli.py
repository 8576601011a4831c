"""HR's and managers' reports on the command line: `coverage`, `export`, `prep-pack`."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

from bot.clock import system_clock
from bot.errors import NotAllowed
from bot.org.policy import load_policy
from bot.org.worktime import policy_today
from bot.privacy import access
from bot.process.config import Settings
from bot.process.operator import (
    EXIT_FAILED,
    EXIT_OK,
    OperatorError,
    Progress,
    database,
    operator_reader,
    refusal,
    resolve_optional,
    resolve_person,
)
from bot.process.table import table
from bot.records.coverage import STATUSES, PairCoverage

COVERAGE_FORMATS = ("table", "csv", "json", "html")
# The columns of the CSV and the keys of each JSON pair.
PAIR_FIELDS = (
    "status",
    "manager",
    "manager_key",
    "report",
    "report_key",
    "last_dialogue",
    "open",
    "overdue",
    "waiting",
)


async def cmd_coverage(args: argparse.Namespace, settings: Settings) -> int:
    """Print (or write to --output) HR's coverage report: the summary, then every pair."""
    from bot.engine import outbox
    from bot.records.coverage import coverage
    from storage.db import session_scope

    policy = load_policy(settings.config_path)
    now = args.now or system_clock()
    async with database(settings) as engine:
        manager_id = await resolve_optional(engine, args.manager)
        rows = await coverage(engine, policy=policy, now=now)
        async with session_scope(engine) as session:
            waiting = await outbox.unreachable_pairs(session)
        if args.format == "html":
            from bot.records.coverage_history import changes, coverage_history

            history = await coverage_history(
                engine, policy=policy, now=now, group_by=policy.hr_digest.group_by
            )
    if manager_id is not None:
        rows = [r for r in rows if r.manager_id == manager_id]
    if args.status:
        rows = [r for r in rows if r.status in args.status]
    today = policy_today(policy, now)
    if args.format == "html":
        from bot.records.coverage_charts import coverage_html

        text = coverage_html(
            history, changes(history), rows, locale=policy.locale, generated_at=now
        )
    elif args.format == "json":
        text = _coverage_json(rows, waiting, as_of=today.isoformat())
    elif args.format == "csv":
        text = _coverage_csv(rows, waiting)
    else:
        text = (
            "\n".join(_coverage_table(rows, waiting, as_of=f"{today} ({policy.timezone})")) + "\n"
        )
    _write(text, args.output)
    return EXIT_OK


def _summary(rows: list[PairCoverage]) -> dict[str, int]:
    return {s: sum(1 for r in rows if r.status == s) for s in STATUSES}


def _coverage_table(
    rows: list[PairCoverage], waiting: set[tuple[str, str]], *, as_of: str
) -> list[str]:
    """The summary first (a large org's table is long), then the pairs, neediest first."""
    counts = _summary(rows)
    lines = [
        f"coverage on {as_of}: {len(rows)} pairs: "
        + ", ".join(f"{n} {s}" for s, n in counts.items()),
        f"open actions {sum(r.open_actions for r in rows)},"
        f" overdue {sum(r.overdue_actions for r in rows)}",
    ]
    stuck = [r for r in rows if (r.manager_id, r.employee_id) in waiting]
    if stuck:
        lines.append(
            f"{len(stuck)} pair(s) whose nudges wait: the manager has no account on a chat"
            " platform this deployment sends through (or, on Teams, the app is not installed"
            " for them yet): "
            + ", ".join(f"{r.manager} → {r.employee}" for r in stuck[:20])
            + (f" and {len(stuck) - 20} more" if len(stuck) > 20 else "")
        )
    if not rows:
        return [*lines, "no pairs match"]
    body = table(
        ["status", "manager", "report", "last dialogue", "open", "overdue"],
        [
            [
                r.status,
                r.manager,
                r.employee,
                r.last_dialogue.isoformat() if r.last_dialogue else "never",
                r.open_actions,
                r.overdue_actions,
            ]
            for r in rows
        ],
        width=28,
    )
    return [*lines, "", *body]


def _pair(r: PairCoverage, waiting: set[tuple[str, str]]) -> dict[str, object]:
    """One pair as the CSV and JSON give it (PAIR_FIELDS)."""
    values = (
        r.status,
        r.manager,
        r.manager_id,
        r.employee,
        r.employee_id,
        r.last_dialogue.isoformat() if r.last_dialogue else None,
        r.open_actions,
        r.overdue_actions,
        (r.manager_id, r.employee_id) in waiting,
    )
    return dict(zip(PAIR_FIELDS, values, strict=True))


def _coverage_json(rows: list[PairCoverage], waiting: set[tuple[str, str]], *, as_of: str) -> str:
    summary = {"pairs": len(rows), **_summary(rows)}
    summary["overdue_actions"] = sum(r.overdue_actions for r in rows)
    body = {"as_of": as_of, "summary": summary, "pairs": [_pair(r, waiting) for r in rows]}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def _coverage_csv(rows: list[PairCoverage], waiting: set[tuple[str, str]]) -> str:
    """RFC 4180 CSV, one row per pair, every cell spreadsheet-safe (names are people's text)."""
    from bot.records.export import spreadsheet_safe

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PAIR_FIELDS)
    for r in rows:
        writer.writerow(spreadsheet_safe(_csv_cell(v)) for v in _pair(r, waiting).values())
    return out.getvalue()


def _csv_cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def _write(text: str, output: Path | None) -> None:
    """To the file named, or to standard output."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OperatorError(f"cannot write {output}: {exc.strerror}") from None
    print(f"wrote {output}", file=sys.stderr)


async def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Print recorded talks, as HR may read them (app.yaml `privacy`, `hr_reads_content`)."""
    from bot.records.export import export_talks, to_csv, to_json

    policy = load_policy(settings.config_path)
    if args.include_private and not policy.privacy.hr_reads_private_notes:
        raise OperatorError(
            "private notes are the manager's alone under this policy"
            " (app.yaml privacy.hr_reads_private_notes is false); nothing was exported"
        )
    now = args.now or system_clock()
    progress = Progress("exporting talks")
    async with database(settings) as engine:
        try:
            data = await export_talks(
                engine,
                employee_id=await resolve_optional(engine, args.employee),
                since=args.since,
                include_private=args.include_private,
                today=policy_today(policy, now),
                reads_content=policy.hr_reads_content,
                reader=operator_reader(),
                now=now,
                progress=progress,
            )
        finally:
            progress.close()
    sys.stdout.write(to_csv(data) if args.format == "csv" else to_json(data))
    if not data["talks"]:
        print("no talks recorded" + (f" since {args.since}" if args.since else ""), file=sys.stderr)
    return EXIT_OK


async def cmd_prep_pack(args: argparse.Namespace, settings: Settings) -> int:
    """Print prep packs."""
    from bot.org.profiles import slack_identity, stored_locale
    from bot.review.prep_pack import build_packs, dumps
    from bot.review.prep_pack_text import to_markdown

    policy = load_policy(settings.config_path)
    now = args.now or system_clock()
    async with database(settings) as engine:
        manager_id = await resolve_person(engine, args.manager)
        employee_id = await resolve_optional(engine, args.employee)
        try:
            packs = await build_packs(
                engine, manager_id=manager_id, employee_id=employee_id, policy=policy, now=now
            )
        except NotAllowed as refused:
            raise refusal(refused, locale="en", named=None) from None
        await access.log(
            engine,
            reader=operator_reader(),
            subjects=[pack.employee.id for pack in packs],
            what=access.PREP_PACK_BUILT,
            platform=access.CLI,
            now=now,
        )
        manager_identity = await slack_identity(engine, manager_id)
    if not packs:
        print(
            f"error: no prep pack for {args.manager}: no reports"
            + (f" named {args.employee}" if args.employee else "")
            + ", or no cycle under review (see `cadence cycle list`)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if args.format == "json":
        sys.stdout.write(dumps(packs))
        return EXIT_OK
    locale = args.locale or stored_locale(packs[0].manager, manager_identity, policy)
    sys.stdout.write("\n".join(to_markdown(p, policy=policy, locale=locale) for p in packs))
    return EXIT_OK
