"""Load the org chart from an HR export (CSV): validate every row, then upsert all or nothing.

The file is the whole organisation, so people missing from it are deactivated. A file with
nobody in it is refused, and an import that would deactivate more than the policy's share
of the active people stops (naming them) unless the operator allows it: a truncated export
must not empty the organisation. A dry run makes every change in a transaction, reports it,
and rolls it back."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from graphlib import TopologicalSorter
from pathlib import Path
from typing import TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import notices
from bot.engine.kinds import MANAGER_CHANGED
from bot.engine.outbox import move_to_new_managers
from bot.org.policy import OrgImportRules
from bot.text import clean
from storage import queries
from storage.db import session_scope
from storage.models import ChatIdentity, Person, Platform, new_person_key

REQUIRED_COLUMNS = ("slack_id", "email", "name", "manager", "timezone", "locale", "hr")
LOCALES = ("en", "zh")
HR_VALUES = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
LOOKUP_CONCURRENCY = 4  # users.lookupByEmail is Tier 3 (~50 calls a minute)
NAME_MAX, EMAIL_MAX, TIMEZONE_MAX, EMPLOYEE_NUMBER_MAX = 200, 320, 64, 64
# an Entra (Azure AD) object id: a GUID
TEAMS_ID_RE = re.compile(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")  # lower-cased first
SLACK_ID_RE = re.compile(r"[A-Z0-9]{2,32}")
EMAIL_RE = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")
NAMES_SHOWN = 20  # names listed per kind of change; the rest are counted
COLUMN_OF = {"manager_id": "manager", "is_hr": "hr", "active": "back in the file"}

Problem = tuple[int, str]
LookupEmail = Callable[[str], Awaitable[str | None]]


class ImportRejected(Exception):
    """The file had problems; nothing was written. str() lists every problem by line, then
    any `details` (such as the names of the people a problem is about)."""

    def __init__(self, file: str, problems: list[Problem], details: Sequence[str] = ()) -> None:
        self.file = file
        self.problems = sorted(problems, key=lambda p: p[0])
        lines = [f"{file}: rejected, nothing was changed ({len(self.problems)} problem(s))"]
        lines += [f"  line {n}: {why}" if n else f"  {why}" for n, why in self.problems]
        lines += [f"    {detail}" for detail in details]
        super().__init__("\n".join(lines))


class TooManyLeaving(ImportRejected):
    """The import would deactivate more of the active people than the policy allows."""

    def __init__(self, file: str, leaving: list[str], active: int, share: float) -> None:
        why = (
            f"it would deactivate {len(leaving)} of the {active} active people, more than"
            f" {share:.0%} (org_import.max_deactivate_share in app.yaml). Check that the file"
            " is the whole organisation; if they really left, run again with --allow-deactivate:"
        )
        super().__init__(file, [(0, why)], shortened(leaving))
        self.leaving = leaving


def shortened(names: list[str], limit: int = NAMES_SHOWN) -> list[str]:
    """The first `limit` names, then "and N more"."""
    more = len(names) - limit
    return names[:limit] + ([f"and {more} more"] if more > 0 else [])


def label(name: str, account: str) -> str:
    """A person as the operator reads them on one line: `Ann Lee (U0ANN)`."""
    return f"{' '.join(clean(name).split())} ({account})"


@dataclass
class ImportResult:
    """How many people the import created, updated, left alone and deactivated, and who."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    nudges_moved: int = 0  # pending nudges handed to a report's new manager
    created_people: list[str] = field(default_factory=list)
    updated_people: list[str] = field(default_factory=list)  # with the fields that changed
    deactivated_people: list[str] = field(default_factory=list)
    manager_changes: list[str] = field(default_factory=list)  # report: old -> new manager
    dry_run: bool = False
    stopped: TooManyLeaving | None = None  # a dry run's import would stop for this

    def summary(self) -> str:
        """One line for the operator."""
        if self.dry_run:
            line = (
                f"dry run, nothing was changed: {self.created} to create, {self.updated} to"
                f" update, {self.unchanged} unchanged, {self.deactivated} to deactivate"
            )
        else:
            line = (
                f"imported org chart: {self.created} created, {self.updated} updated,"
                f" {self.unchanged} unchanged, {self.deactivated} deactivated"
            )
        if self.nudges_moved:
            moved = "would move" if self.dry_run else "moved"
            line += f"; {self.nudges_moved} pending nudge(s) {moved} to new managers"
        return line

    def changes(self) -> list[str]:
        """Who is created, updated, deactivated and who gets a new manager, by name (the
        first 20 of each), and how many pending nudges move."""
        lines: list[str] = []
        for title, names in (
            ("created", self.created_people),
            ("updated", self.updated_people),
            ("deactivated", self.deactivated_people),
            ("new manager", self.manager_changes),
        ):
            lines.append(f"{title} ({len(names)}){':' if names else ''}")
            lines += [f"  {name}" for name in shortened(sorted(names))]
        lines.append(f"pending nudges moving to a new manager: {self.nudges_moved}")
        return lines


class PersonFields(TypedDict):
    """The Person columns an org file sets (all but the key and the timestamps)."""

    email: str | None
    name: str
    manager_id: str | None
    timezone: str | None
    locale: str | None
    country: str | None
    is_hr: bool
    active: bool
    employee_number: str | None


@dataclass
class OrgRow:
    """One person as the file describes them; `manager` is the raw slack_id or email."""

    line: int
    slack_id: str | None
    email: str | None
    name: str
    manager: str | None
    timezone: str | None
    locale: str | None
    is_hr: bool
    country: str | None
    teams_id: str | None = None  # the Entra object id: the person's Teams account
    employee_number: str | None = None  # the HRIS key
    manager_id: str | None = None  # the manager row's `ref`, filled in by check_org

    @property
    def ref(self) -> str:
        """The row's chat account, which names it within the file: its slack_id, else its
        teams_id (a person only on Teams), else "" (an email still to look up)."""
        return self.slack_id or self.teams_id or ""

    def fields(self) -> PersonFields:
        """The Person columns this row sets."""
        return PersonFields(
            email=self.email,
            name=self.name,
            manager_id=self.manager_id,
            timezone=self.timezone,
            locale=self.locale,
            country=self.country,
            is_hr=self.is_hr,
            active=True,
            employee_number=self.employee_number,
        )


def parse_org_csv(text: str) -> tuple[list[OrgRow], list[Problem]]:
    """Parse and check each row on its own; rows come back even when they have problems."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        return [], [(1, f"the file is empty; the header must name {', '.join(REQUIRED_COLUMNS)}")]
    columns = [cell.strip().removeprefix("\ufeff").strip().lower() for cell in header]
    problems: list[Problem] = [
        (1, f"column {name!r} appears more than once")
        for name in sorted({c for c in columns if c and columns.count(c) > 1})
    ]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if "slack_id" in missing and "teams_id" in columns:
        missing.remove("slack_id")  # an organisation on Teams alone
    problems += [(1, f"missing required column {name!r}") for name in missing]
    if problems:
        return [], problems
    rows: list[OrgRow] = []
    end = reader.line_num
    for record in reader:
        line, end = end + 1, reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if any(cell.strip() for cell in record[len(columns) :]):
            problems.append((line, f"has {len(record)} fields but the header has {len(columns)}"))
        values = {col: cell.strip() for col, cell in zip(columns, record, strict=False)}
        row, reasons = _parse_row(line, values)
        rows.append(row)
        problems += [(line, reason) for reason in reasons]
    if not rows:
        why = "lists nobody after the header: the file must hold the whole organisation"
        problems.append((0, why))
    return rows, problems


def _parse_row(line: int, values: dict[str, str]) -> tuple[OrgRow, list[str]]:
    """One row's fields, each checked on its own."""
    reasons: list[str] = []
    slack_id = values.get("slack_id") or None
    if slack_id and not SLACK_ID_RE.fullmatch(slack_id):
        reasons.append(f"slack_id {slack_id!r} is not a Slack user id (like U012AB3CD)")
    email = values.get("email") or None
    if email and (len(email) > EMAIL_MAX or not EMAIL_RE.fullmatch(email)):
        reasons.append(f"email {email!r} is not a valid email address")
        email = None
    elif not slack_id and not email and not values.get("teams_id"):
        reasons.append("needs a slack_id, a teams_id or an email")
    name = values.get("name", "")
    if not name:
        reasons.append("name is empty")
    elif len(name) > NAME_MAX:
        reasons.append(f"name is longer than {NAME_MAX} characters")
    timezone = values.get("timezone") or None
    if timezone and not _is_zone(timezone):
        reasons.append(f"timezone {timezone!r} is not an IANA time zone (like Europe/Berlin)")
    locale = (values.get("locale") or "").lower() or None
    if locale and locale not in LOCALES:
        reasons.append(f"locale {values['locale']!r} is not one of {', '.join(LOCALES)}")
    hr_text = values.get("hr", "").lower()
    if hr_text and hr_text not in HR_VALUES:
        reasons.append(f"hr {values['hr']!r} is not one of true, false, yes, no, 1, 0")
    country = (values.get("country") or "").upper() or None
    if country and (len(country) != 2 or country not in holidays.list_supported_countries()):
        reasons.append(f"country {values['country']!r} is not a supported ISO 3166 alpha-2 code")
    teams_id = (values.get("teams_id") or "").lower() or None
    if teams_id and not TEAMS_ID_RE.fullmatch(teams_id):
        reasons.append(f"teams_id {values['teams_id']!r} is not an Entra object id (a GUID)")
    employee_number = values.get("employee_number") or None
    if employee_number and len(employee_number) > EMPLOYEE_NUMBER_MAX:
        reasons.append(f"employee_number is longer than {EMPLOYEE_NUMBER_MAX} characters")
    row = OrgRow(
        line=line,
        slack_id=slack_id,
        email=email,
        name=name,
        manager=values.get("manager") or None,
        timezone=timezone,
        locale=locale,
        is_hr=HR_VALUES.get(hr_text, False),
        country=country,
        teams_id=teams_id,
        employee_number=employee_number,
    )
    return row, reasons


def _is_zone(name: str) -> bool:
    if len(name) > TIMEZONE_MAX:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


async def resolve_emails(rows: list[OrgRow], lookup_email: LookupEmail | None) -> list[Problem]:
    """Fill in slack_id from Slack for rows that only give an email, 4 look-ups at a time. A
    row with a teams_id is a person on Teams: it needs no Slack account, and no look-up."""
    pending = [row for row in rows if not row.slack_id and not row.teams_id and row.email]
    if lookup_email is None:
        why = "has no slack_id and SLACK_BOT_TOKEN is not set to look up the email"
        return [(row.line, why) for row in pending]
    gate = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def look_up(email: str) -> tuple[str | None, str | None]:
        async with gate:
            try:
                return await lookup_email(email), None
            except Exception as exc:  # any failure becomes a problem on the row, not a crash
                return None, _describe(exc)

    emails = {row.email.lower(): row.email for row in pending if row.email}
    answers = await asyncio.gather(*(look_up(email) for email in emails.values()))
    found = dict(zip(emails, answers, strict=True))
    problems: list[Problem] = []
    for row in pending:
        user_id, error = found[(row.email or "").lower()]
        if error:
            problems.append((row.line, f"Slack could not look up {row.email}: {error}"))
        elif user_id is None:
            problems.append((row.line, f"no Slack user has the email {row.email}"))
        else:
            row.slack_id = user_id
    return problems


def _describe(exc: Exception) -> str:
    response: object = getattr(exc, "response", None)
    code = response.get("error") if hasattr(response, "get") else None
    text = str(exc).strip().splitlines()
    return str(code) if code else (text[0] if text else type(exc).__name__)


def check_org(rows: list[OrgRow]) -> list[Problem]:
    """Set each row's manager_id; report duplicates, unknown managers and reporting cycles."""
    problems: list[Problem] = []
    by_id: dict[str, OrgRow] = {}
    by_email: dict[str, OrgRow] = {}
    by_teams_id: dict[str, OrgRow] = {}
    by_number: dict[str, OrgRow] = {}
    for row in rows:
        for label, key, index in (
            ("slack_id", row.slack_id, by_id),
            ("email", row.email, by_email),
            ("teams_id", row.teams_id, by_teams_id),
            ("employee_number", row.employee_number, by_number),
        ):
            first = index.setdefault(key.lower() if label == "email" else key, row) if key else row
            if first is not row:
                problems.append((row.line, f"{label} {key} is already on line {first.line}"))
    by_ref = {row.ref: row for row in rows if row.ref}
    for row in rows:
        ref = row.manager
        target = None
        if ref is not None:
            target = (
                by_email.get(ref.lower())
                if "@" in ref
                else by_id.get(ref) or by_teams_id.get(ref.lower())
            )
        if ref is None or (target is not None and not target.ref):
            continue  # no manager, or the manager's own row already carries a problem
        row.manager_id = target.ref if target is not None else None
        if row.manager_id is None:
            why = (
                f"manager {ref!r} is not the slack_id, teams_id or email of another row in"
                " this file"
            )
            problems.append((row.line, why))
        elif row.manager_id == row.ref:
            problems.append((row.line, f"{row.ref} is their own manager"))
            row.manager_id = None
    return problems + _cycles(by_ref)


def _cycles(by_id: dict[str, OrgRow]) -> list[Problem]:
    """One problem per row on a reporting cycle, each showing the whole loop."""
    boss = {sid: r.manager_id for sid, r in by_id.items() if r.manager_id in by_id}
    problems: list[Problem] = []
    done: set[str] = set()
    for start in boss:
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in done and node not in path:
            path.append(node)
            node = boss.get(node)
        if node is not None and node in path:
            loop = path[path.index(node) :]
            for i, member in enumerate(loop):
                chain = " -> ".join([*loop[i:], *loop[:i], member])
                problems.append((by_id[member].line, f"reporting cycle: {chain}"))
        done.update(path)
    return problems


async def import_org_file(
    engine: AsyncEngine,
    path: Path,
    *,
    lookup_email: LookupEmail | None,
    now: datetime,
    rules: OrgImportRules | None = None,
    allow_deactivate: bool = False,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Validate the whole file, then upsert it in one transaction; raise ImportRejected if bad
    (TooManyLeaving if it would deactivate more than `rules` allow, unless `allow_deactivate`).
    A dry run reports what the import would change, and changes nothing. `progress` hears
    how many rows of how many were written."""
    rules = rules or OrgImportRules()
    try:
        # people's text: no control characters (NUL would fail on PostgreSQL) nor surrogates
        text = clean(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportRejected(str(path), [(0, "is not UTF-8 text (save it as CSV UTF-8)")]) from None
    except OSError as exc:
        raise ImportRejected(str(path), [(0, f"cannot be read: {exc.strerror}")]) from None
    rows, problems = parse_org_csv(text)
    problems += await resolve_emails(rows, lookup_email)
    async with session_scope(engine) as session:
        people = await queries.all_people(session)
        identities = await queries.all_identities(session)
        problems += check_org(rows)
        matched, mismatched = match_people(rows, people, identities)
        problems += mismatched
        if problems:
            raise ImportRejected(str(path), problems)
        listed = {p.id for p in matched.values()}
        account_ids = _account_ids(identities)
        active = [p for p in people if p.active]
        leaving = sorted(
            label(p.name, account_ids.get(p.id, p.id)) for p in active if p.id not in listed
        )
        stopped = None
        if len(leaving) > rules.max_deactivate_share * len(active) and not allow_deactivate:
            stopped = TooManyLeaving(str(path), leaving, len(active), rules.max_deactivate_share)
            if not dry_run:
                raise stopped
        # A dry run makes the very changes the import would (so what it reports is exact,
        # nudges moved included) and rolls them back.
        result = await _write(session, rows, matched, people, identities, now, progress)
        if dry_run:
            await session.rollback()
            result.dry_run, result.stopped = True, stopped
        else:
            await session.commit()
    return result


def _account_ids(identities: list[ChatIdentity]) -> dict[str, str]:
    """The chat account that names each person to an operator, by person key: their first
    Slack account's user id, else their Teams one (as the org file names them)."""
    found: dict[str, str] = {}
    for platform in (Platform.SLACK, Platform.TEAMS):
        for i in identities:
            if i.platform == platform and i.workspace == "":
                found.setdefault(i.person_id, i.user_id)
    return found


def _owners(identities: list[ChatIdentity], platform: Platform) -> dict[str, str]:
    """Who holds each account of a platform (installed workspace): user id -> person key."""
    return {
        i.user_id: i.person_id for i in identities if i.platform == platform and i.workspace == ""
    }


def match_people(
    rows: list[OrgRow], people: list[Person], identities: list[ChatIdentity]
) -> tuple[dict[str, Person], list[Problem]]:
    """Which stored person each row describes (by the row's slack_id; new people are absent),
    and the rows that contradict the database.

    A row is matched by employee_number first, then by its Slack account: the same number
    under a new slack_id is the same person with a new chat account, and keeps their
    records. A slack_id or teams_id the database knows as someone else's is refused."""
    by_number = {p.employee_number: p for p in people if p.employee_number}
    by_key = {p.id: p for p in people}
    slack_owner = _owners(identities, Platform.SLACK)
    teams_owner = _owners(identities, Platform.TEAMS)
    account_ids = _account_ids(identities)

    def named(key: str) -> str:
        known = by_key.get(key)
        return label(known.name, account_ids.get(key, key)) if known else key

    matched: dict[str, Person] = {}
    problems: list[Problem] = []
    line_of: dict[str, int] = {}
    for row in rows:
        sid = row.ref
        by_account = by_key.get(
            slack_owner.get(row.slack_id or "", "")
            or ("" if row.slack_id else teams_owner.get(row.teams_id or "", ""))
        )
        person = (by_number.get(row.employee_number) if row.employee_number else None) or (
            by_account
        )
        if by_account is not None and person is not None and by_account.id != person.id:
            account = f"slack_id {row.slack_id}" if row.slack_id else f"teams_id {row.teams_id}"
            why = (
                f"employee_number {row.employee_number} is {named(person.id)} in the database,"
                f" but {account} is {named(by_account.id)}'s"
            )
            problems.append((row.line, why))
            continue
        owner = teams_owner.get(row.teams_id) if row.teams_id else None
        if owner is not None and (person is None or owner != person.id):
            problems.append((row.line, f"teams_id {row.teams_id} is already {named(owner)}'s"))
            continue
        if person is None:
            continue
        first = line_of.setdefault(person.id, row.line)
        if first != row.line:
            why = f"is {named(person.id)} in the database, like line {first}"
            problems.append((row.line, why))
            continue
        matched[sid] = person
    return matched, problems


def _chat_accounts(
    session: AsyncSession,
    key: str,
    row: OrgRow,
    mine: list[ChatIdentity],
    now: datetime,
) -> list[str]:
    """Give the row's person their Slack identity, and their Teams identity when the row has a
    teams_id; a new account replaces the old one's row (what the old one's platform told us is
    not about it). Returns the file's columns whose account changed. A Teams identity the file
    no longer names is kept."""
    changed: list[str] = []
    for platform, user_id, column in (
        (Platform.SLACK, row.slack_id, "slack_id"),
        (Platform.TEAMS, row.teams_id, "teams_id"),
    ):
        if user_id is None:
            continue
        held = [i for i in mine if i.platform == platform and i.workspace == ""]
        if any(i.user_id == user_id for i in held):
            continue
        if held:
            old = held[0]
            old.user_id, old.conversation, old.locale, old.timezone = user_id, None, None, None
            old.refreshed_at, old.updated_at = None, now
            changed.append(column)
        else:
            session.add(_identity(key, platform, user_id, now))
            if mine and held == []:  # a person known before gains an account
                changed.append(column)
    return changed


def _identity(person_id: str, platform: Platform, user_id: str, now: datetime) -> ChatIdentity:
    return ChatIdentity(
        person_id=person_id,
        platform=platform,
        workspace="",
        user_id=user_id,
        created_at=now,
        updated_at=now,
    )


async def _write(
    session: AsyncSession,
    rows: list[OrgRow],
    matched: dict[str, Person],
    people: list[Person],
    identities: list[ChatIdentity],
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Upsert the (valid) rows, managers before their reports, each with their chat
    identities, and deactivate the absent; a report's pending manager nudges go to their new
    manager. `matched`: the stored person of each row's slack_id (`match_people`)."""
    result = ImportResult()
    owned: dict[str, list[ChatIdentity]] = {}
    for identity in identities:
        owned.setdefault(identity.person_id, []).append(identity)
    account_ids = _account_ids(identities)
    new_managers: dict[str, str] = {}  # employee -> their new manager, by key
    previous: dict[str, str | None] = {}  # employee -> the manager they had, by key
    by_id = {row.ref: row for row in rows}
    key_of = {sid: matched[sid].id if sid in matched else new_person_key() for sid in by_id}
    name_of = {p.id: (p.name, account_ids.get(p.id, p.id)) for p in people}
    name_of |= {key_of[sid]: (row.name, sid) for sid, row in by_id.items()}

    def who(key: str | None) -> str:
        if key is None:
            return "nobody"
        return label(*name_of[key]) if key in name_of else key

    order = TopologicalSorter({sid: by_id.keys() & {r.manager_id} for sid, r in by_id.items()})
    order.prepare()
    written = 0
    while order.is_active():
        ready = order.get_ready()
        created: list[str] = []
        for sid in ready:
            written += 1
            if progress is not None:
                progress(written, len(rows))
            row, person, key = by_id[sid], matched.get(sid), key_of[sid]
            fields = row.fields()
            fields["manager_id"] = key_of[row.manager_id] if row.manager_id else None
            if person is None:
                session.add(Person(id=key, created_at=now, updated_at=now, **fields))
                created.append(sid)
                result.created += 1
                result.created_people.append(who(key))
                continue
            accounts = _chat_accounts(session, key, row, owned.get(key, []), now)
            if not accounts and all(getattr(person, k) == v for k, v in fields.items()):
                result.unchanged += 1
            else:
                changed = [
                    COLUMN_OF.get(k, k) for k, v in fields.items() if getattr(person, k) != v
                ] + accounts
                result.updated_people.append(f"{who(key)}: {', '.join(changed)}")
                if person.manager_id != fields["manager_id"]:
                    old, new = who(person.manager_id), who(fields["manager_id"])
                    result.manager_changes.append(f"{who(key)}: {old} -> {new}")
                    if fields["manager_id"]:
                        new_managers[key] = str(fields["manager_id"])
                        previous[key] = person.manager_id
                if fields.get("active") and not person.active:
                    person.left_at = None  # back: retention no longer counts them as gone
                for k, value in fields.items():
                    setattr(person, k, value)
                person.updated_at = now
                result.updated += 1
        await session.flush()  # so the next level's manager_id points at a stored row
        for sid in created:  # stored now: their identities may point at them
            _chat_accounts(session, key_of[sid], by_id[sid], [], now)
        await session.flush()
        order.done(*ready)
    listed = set(key_of.values())
    for person in people:
        if person.id not in listed and person.active:
            result.deactivated_people.append(who(person.id))
            person.active, person.updated_at, person.left_at = False, now, now
            result.deactivated += 1
    result.nudges_moved, _ = await move_to_new_managers(session, new_managers, now)
    await _tell_who_sees_what(session, new_managers, previous, now)
    return result


async def _tell_who_sees_what(
    session: AsyncSession,
    new_managers: dict[str, str],
    previous: dict[str, str | None],
    now: datetime,
) -> None:
    """Each report with a new manager is told who now sees their shared record, and that
    the previous manager's private notes stay with them (README "Security and data
    handling")."""
    for employee, manager in new_managers.items():
        await notices.owe(
            session,
            kind=MANAGER_CHANGED,
            recipient_id=employee,
            subject=f"manager:{manager}",
            about_id=employee,
            payload={"manager_id": manager, "previous_id": previous.get(employee)},
            now=now,
            version=now.isoformat(),
        )
