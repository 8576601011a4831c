"""The outbox's commands: `tick` (one plan and dispatch pass) and `nudges` (what is owed to
whom, and what became of it)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from bot.clock import system_clock
from bot.org.people import zone_of
from bot.org.policy import load_policy
from bot.org.profiles import reported_zone
from bot.process.config import TEAMS_CLIENT_ID, Settings
from bot.process.operator import EXIT_CONFIG, EXIT_OK, database, resolve_optional
from bot.process.table import table

NO_PLATFORM = (
    "tick sends what is due, so it needs a chat platform to send through: set SLACK_BOT_TOKEN"
    f" (Slack), or {TEAMS_CLIENT_ID} with CLIENTSECRET and TENANTID (Teams), in the"
    " environment or .env. It needs neither Slack's signing secret nor its app token."
)


async def cmd_tick(args: argparse.Namespace, settings: Settings) -> int:
    """One plan and dispatch pass."""
    from bot.process.assembly import assemble

    if not settings.slack and settings.teams is None:
        print(f"error: {NO_PLATFORM}", file=sys.stderr)
        return EXIT_CONFIG
    policy = load_policy(settings.config_path)
    now = args.now or system_clock()
    async with database(settings) as engine:
        platforms = assemble(settings, policy, engine=engine, clock=lambda: now)
        planned, sent = await platforms.engine.tick(now)
    print(
        f"tick at {now.isoformat()}: planned {planned.created} new nudge(s)"
        f" ({planned.cancelled} cancelled); sent {sent.sent},"
        f" deferred {sent.deferred}, retrying {sent.retried}, failed {sent.failed},"
        f" cancelled {sent.cancelled}"
        + (f", waiting for an unreachable recipient {sent.unreachable}" if sent.unreachable else "")
        + (
            f"; delivery paused: {', '.join(sorted(sent.paused_platforms))} refuses the bot's token"
            if sent.paused
            else ""
        )
    )
    return EXIT_OK


async def cmd_nudges(args: argparse.Namespace, settings: Settings) -> int:
    """List outbox rows as a table, the latest due first."""
    from bot.engine import outbox
    from storage import queries
    from storage.db import session_scope

    policy = load_policy(settings.config_path)
    async with database(settings) as engine:
        person_id = await resolve_optional(engine, args.person)
        chosen = dict(failed=args.failed, pending=args.pending, person_id=person_id)
        async with session_scope(engine) as session:
            rows = await outbox.latest(session, limit=args.limit, **chosen)
            total = await outbox.count_listed(session, **chosen)
            named = {n.recipient_id for n in rows} | {n.about_id for n in rows if n.about_id}
            people = await queries.people_by_ids(session, named)
            accounts = await queries.reporting_identities(session, named)
            waiting = await outbox.count_unreachable(session)

    def who(key: str | None) -> str:
        """A person as an operator knows them: name and chat user id (Slack's, else Teams')."""
        if key is None:
            return ""
        person, account = people.get(key), accounts.get(key)
        name = person.name if person is not None else "(erased)"
        return f"{name} ({account.user_id})" if account is not None else name

    def local(key: str, due: datetime) -> str:
        """`due` on the recipient's clock, with its offset."""
        person = people.get(key)
        zone = zone_of(person, policy, reported_zone(person, accounts.get(key)) if person else None)
        return f"{due.astimezone(zone):%Y-%m-%d %H:%M %z}"

    if not rows:
        print("no nudges" + (" failed" if args.failed else " pending" if args.pending else ""))
    else:
        lines = table(
            ["#", "due (UTC)", "recipient's time", "to", "about", "kind", "state", "tries", "note"],
            [
                [
                    n.id or 0,
                    f"{n.due_at:%Y-%m-%d %H:%M}",
                    local(n.recipient_id, n.due_at),
                    who(n.recipient_id),
                    who(n.about_id) if n.subject == n.about_id else (who(n.about_id) or n.subject),
                    n.kind,
                    n.state,
                    n.attempts,
                    _note(n.state, n.last_error, n.skip_reason, unreachable=outbox.UNREACHABLE),
                ]
                for n in rows
            ],
        )
        print("\n".join(lines))
        if total > len(rows):
            print(f"{len(rows)} of {total} shown (--limit)")
    if waiting:
        print(
            f"{waiting} pending nudge(s) wait for their recipient to be reachable: no account"
            " on a chat platform this deployment sends through (see delivery.platform_order),"
            " or, on Teams, the app not installed for them yet"
        )
    return EXIT_OK


def _note(state: str, error: str | None, skipped: str | None, *, unreachable: str) -> str:
    """Why a row is where it is, when that is not plain."""
    if error == unreachable:
        return "waiting: unreachable"
    if state == "failed" and error:
        return f"error: {error}"
    if state == "skipped" and skipped:
        return f"skipped: {skipped}"
    return ""
