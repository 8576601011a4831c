"""person keys: a person is keyed by Cadence's own opaque key ("p" + 16 hex digits), no
longer by their Slack user id; their Slack id stays on their `slack` chat identity

`person.slack_id` becomes `person.id` and every person gets a new key. Every value that
names a person follows, old Slack id to new key: the foreign keys, the columns that name a
person without one (`talk.logged_by`, `goal.set_by`, `interview.set_by`,
`milestone.created_by`, `nudge.recipient_id`, `nudge.about_id`), and the outbox's keys and
payloads that embed one: the subject of a check-in and its heads-up (the employee), a prep
pack's subject (`cycle:<n>:<employee>`), a goal notice's `by`, a heads-up's `manager` and a
milestone retrospective's `participants`. A value that names nobody in `person` (someone
since removed) is left as it was.

The mapping is set-wise: a temporary table `person_key_map(slack_id, key)`, filled from
Python, read by one UPDATE per table. Keys change while other rows point at them: SQLite
defers its foreign key checks to the commit (`PRAGMA defer_foreign_keys`); PostgreSQL's
foreign keys to `person` are dropped and made again, by the same names, once every row has
moved. SQLite's RENAME COLUMN rewrites the other tables' REFERENCES clauses; a batch copy of
`person` would drop the table its filled children point at, which foreign keys refuse.

Downgrade: every key goes back to the user id of the person's Slack identity (their first,
as 0008's downgrade takes). One-way for anyone without a Slack identity (a Teams-only
person): the downgrade refuses, saying how many, and changes nothing. Two people whose first
Slack identities share a user id (two workspaces) are refused the same way.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 23:30:00
"""

import json
import secrets
from collections import Counter
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

MAP = "person_key_map"

# Every column that names a person, by table. `person.id` is the key itself (`slack_id` is
# renamed before the upgrade's updates and after the downgrade's).
PERSON_COLUMNS = {
    "person": ("id", "manager_id"),
    "chat_identity": ("person_id",),
    "talk": ("manager_id", "employee_id", "logged_by"),
    "action_item": ("employee_id", "owner_id"),
    "goal": ("employee_id", "set_by"),
    "milestone": ("created_by",),
    "milestone_participant": ("person_id",),
    "leave": ("person_id",),
    "self_assessment": ("employee_id",),
    "interview": ("employee_id", "set_by"),
    "review": ("employee_id", "manager_id"),
    "nudge": ("recipient_id", "about_id"),
}

# Foreign keys to person whose column leads no index at 0008. SQLite finds the rows that
# point at a person whose key changes by their column: without an index, by reading the
# whole table once per person (minutes for 10,000 people), so one is made meanwhile.
UNINDEXED_FOREIGN_KEYS = (
    ("talk", "manager_id"),
    ("review", "manager_id"),
    ("milestone_participant", "person_id"),
)

# The outbox's subjects that are, or end with, a person (bot/engine/kinds.py, as of 0009).
SUBJECT_IS_PERSON = ("checkin", "checkin_heads_up")
SUBJECT_ENDS_WITH_PERSON = "prep_pack"  # cycle:<cycle id>:<employee>
CYCLE_PREFIX_LEN = len("cycle:")

# Payload fields that hold a person, by the kinds that write them.
PAYLOAD_PERSON = (
    (("goal_proposed", "goal_set", "goal_decided"), "by"),
    (("checkin_heads_up",), "manager"),
)
PAYLOAD_PEOPLE = ((("milestone_retro",), "participants"),)


def new_key() -> str:
    """A person key as storage.models.new_person_key makes them, frozen here."""
    return "p" + secrets.token_hex(8)


def upgrade() -> None:
    bind = op.get_bind()
    slack_ids = [row[0] for row in bind.execute(sa.text("SELECT slack_id FROM person"))]
    keys = _new_keys(len(slack_ids), avoiding=set(slack_ids))
    _create_map(bind, zip(slack_ids, keys, strict=True))
    foreign_keys = _release_foreign_keys(bind)
    op.execute("ALTER TABLE person RENAME COLUMN slack_id TO id")
    _remap_everything(bind, old="slack_id", new="key")
    _restore_foreign_keys(bind, foreign_keys, to="id")
    op.execute(f"DROP TABLE {MAP}")


def downgrade() -> None:
    bind = op.get_bind()
    slack_id_of: dict[str, str] = {}
    for key, slack_id in bind.execute(
        sa.text("SELECT person_id, user_id FROM chat_identity WHERE platform = 'slack' ORDER BY id")
    ):
        slack_id_of.setdefault(key, slack_id)  # their first, as 0008's downgrade takes
    keys = [row[0] for row in bind.execute(sa.text("SELECT id FROM person"))]
    without = sum(key not in slack_id_of for key in keys)
    if without:
        raise RuntimeError(
            f"cannot downgrade below 0009: {_people(without)} no Slack identity, and before"
            " 0009 a person is keyed by their Slack user id (0009 is one-way for them)"
        )
    pairs = [(slack_id_of[key], key) for key in keys]
    people_per_slack_id = Counter(slack_id for slack_id, _ in pairs)
    shared = sum(count for count in people_per_slack_id.values() if count > 1)
    if shared:
        raise RuntimeError(
            f"cannot downgrade below 0009: {shared} people share a Slack user id with someone"
            " in another workspace, and before 0009 a person is keyed by it"
        )
    _create_map(bind, pairs)
    foreign_keys = _release_foreign_keys(bind)
    _remap_everything(bind, old="key", new="slack_id")
    op.execute("ALTER TABLE person RENAME COLUMN id TO slack_id")
    _restore_foreign_keys(bind, foreign_keys, to="slack_id")
    op.execute(f"DROP TABLE {MAP}")


def _people(count: int) -> str:
    return "1 person has" if count == 1 else f"{count} people have"


def _new_keys(count: int, avoiding: set[str]) -> list[str]:
    """`count` distinct new keys, none equal to a value in `avoiding`."""
    keys: set[str] = set()
    while len(keys) < count:
        key = new_key()
        if key not in avoiding:
            keys.add(key)
    return list(keys)


def _create_map(bind: Connection, pairs: Iterable[tuple[str, str]]) -> None:
    """The temporary table person_key_map(slack_id, key), filled with `pairs`.

    On SQLite, filling it opens the transaction (the driver begins one before the first
    write), inside which foreign key checks are then deferred to the commit: set outside
    one, the pragma would end with its own statement."""
    op.execute(f"DROP TABLE IF EXISTS {MAP}")  # left by a failed run on this connection
    op.execute(
        f"CREATE TEMPORARY TABLE {MAP} (slack_id VARCHAR(64) PRIMARY KEY,"
        " key VARCHAR(32) NOT NULL UNIQUE)"
    )
    rows = [{"slack_id": slack_id, "key": key} for slack_id, key in pairs]
    if rows:
        bind.execute(sa.text(f"INSERT INTO {MAP} (slack_id, key) VALUES (:slack_id, :key)"), rows)
    if bind.dialect.name == "postgresql":
        op.execute(f"ANALYZE {MAP}")  # autovacuum never analyses a temporary table
    elif rows:
        op.execute("PRAGMA defer_foreign_keys = ON")
        if bind.execute(sa.text("PRAGMA defer_foreign_keys")).scalar() != 1:
            raise RuntimeError("SQLite did not defer foreign keys: not inside a transaction")


# A foreign key to person as PostgreSQL's was: table, name, columns, options (ondelete, …)
ForeignKey = tuple[str, str, list[str], dict[str, Any]]


def _release_foreign_keys(bind: Connection) -> list[ForeignKey]:
    """On PostgreSQL, drop every foreign key to `person` (its keys are about to change) and
    return them. SQLite defers its checks instead, and gets an index meanwhile on each
    foreign key column without one."""
    if bind.dialect.name != "postgresql":
        for table, column in UNINDEXED_FOREIGN_KEYS:
            op.create_index(_meanwhile(table, column), table, [column])
        return []
    inspector = sa.inspect(bind)
    foreign_keys: list[ForeignKey] = []
    for table in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(table):
            if fk["referred_table"] != "person":
                continue
            if fk["name"] is None:  # PostgreSQL names every constraint
                raise RuntimeError(f"a foreign key from {table} to person without a name")
            options = dict(fk.get("options", {}))
            foreign_keys.append((table, fk["name"], fk["constrained_columns"], options))
    for table, name, _, _ in foreign_keys:
        op.drop_constraint(name, table, type_="foreignkey")
    return foreign_keys


def _restore_foreign_keys(bind: Connection, foreign_keys: list[ForeignKey], to: str) -> None:
    """Make again the foreign keys `_release_foreign_keys` dropped, pointing at `person.{to}`
    (SQLite: drop the indexes it made)."""
    if bind.dialect.name != "postgresql":
        for table, column in UNINDEXED_FOREIGN_KEYS:
            op.drop_index(_meanwhile(table, column), table_name=table)
    for table, name, columns, options in foreign_keys:
        op.create_foreign_key(name, table, "person", columns, [to], **options)


def _meanwhile(table: str, column: str) -> str:
    """The name of the index on `table.column` while keys change."""
    return f"ix_0009_{table}_{column}"


def _remap_everything(bind: Connection, old: str, new: str) -> None:
    """Every value that names a person, from the map's `old` column to its `new` one."""
    sql = _RemapSql(bind.dialect.name, old=old, new=new)
    for table, columns in PERSON_COLUMNS.items():
        sets = [f"{column} = {sql.mapped(f'{table}.{column}')}" for column in columns]
        if table == "nudge":  # one pass over the outbox, its largest table
            sets += [f"subject = {sql.subject()}", f"payload = {sql.payload()}"]
        op.execute(f"UPDATE {table} SET {', '.join(sets)}")
    for kinds, field in PAYLOAD_PERSON:
        _remap_payloads_spelt_otherwise(bind, sql, kinds, field)
    for kinds, field in PAYLOAD_PEOPLE:
        _remap_payload_lists(bind, sql, kinds, field)


class _RemapSql:
    """SQL expressions for a value mapped from the map's `old` column to its `new` one."""

    def __init__(self, dialect: str, old: str, new: str) -> None:
        self.dialect, self.old, self.new = dialect, old, new

    def person(self, value: str) -> str:
        """The person `value` names, mapped; NULL when it names nobody."""
        return f"(SELECT m.{self.new} FROM {MAP} m WHERE m.{self.old} = {value})"

    def mapped(self, value: str) -> str:
        """`value` mapped, or as it was when it names nobody."""
        return f"COALESCE({self.person(value)}, {value})"

    def subject(self) -> str:
        """A nudge's subject with the person it is, or ends with, mapped."""
        position = "strpos" if self.dialect == "postgresql" else "instr"
        # where a prep pack's employee starts: after the colon that follows the cycle id
        after_prefix = CYCLE_PREFIX_LEN + 1
        start = f"({position}(substr(nudge.subject, {after_prefix}), ':') + {after_prefix})"
        employee = self.person(f"substr(nudge.subject, {start})")
        return (
            "CASE"
            f" WHEN nudge.kind IN ({_quoted(SUBJECT_IS_PERSON)})"
            f" THEN {self.mapped('nudge.subject')}"
            f" WHEN nudge.kind = '{SUBJECT_ENDS_WITH_PERSON}' AND nudge.subject LIKE 'cycle:%:%'"
            f" THEN COALESCE(substr(nudge.subject, 1, {start} - 1) || {employee}, nudge.subject)"
            " ELSE nudge.subject END"
        )

    def payload(self) -> str:
        """A nudge's payload with the person each of PAYLOAD_PERSON's fields names mapped.

        The text `"field": "<person>"` is replaced as the outbox spells it (json.dumps, sorted
        keys, default separators), which leaves the rest of the payload exactly as it was;
        rows spelt otherwise are left for `_remap_payloads_spelt_otherwise`."""

        def spelt(field: str, person: str) -> str:
            return f"'\"{field}\": \"' || {person} || '\"'"

        cases = "".join(
            f" WHEN nudge.kind IN ({_quoted(kinds)}) THEN COALESCE(replace(nudge.payload,"
            f" {spelt(field, self.field(field))},"
            f" {spelt(field, self.person(self.field(field)))}), nudge.payload)"
            for kinds, field in PAYLOAD_PERSON
        )
        return f"CASE{cases} ELSE nudge.payload END"

    def field(self, field: str) -> str:
        """The text of a payload's top-level `field`."""
        if self.dialect == "postgresql":
            return f"(CAST(nudge.payload AS json) ->> '{field}')"
        return f"json_extract(nudge.payload, '$.{field}')"


def _remap_payloads_spelt_otherwise(
    bind: Connection, sql: _RemapSql, kinds: tuple[str, ...], field: str
) -> None:
    """Map, in Python, a payload `field` that still names someone: a payload the outbox
    did not spell (none it wrote)."""
    left = bind.execute(
        sa.text(
            f"SELECT id, payload FROM nudge WHERE kind IN ({_quoted(kinds)})"
            f" AND {sql.field(field)} IN (SELECT {sql.old} FROM {MAP})"
        )
    ).all()
    if left:
        mapping = _mapping(bind, sql.old, sql.new)
        for nudge_id, payload in left:
            data = json.loads(payload)
            data[field] = mapping[data[field]]
            _store_payload(bind, nudge_id, data)


def _remap_payload_lists(
    bind: Connection, sql: _RemapSql, kinds: tuple[str, ...], field: str
) -> None:
    """Map the people a payload's list `field` names, in the rows of `kinds` (few: one per
    manager and milestone), in Python."""
    rows = bind.execute(
        sa.text(f"SELECT id, payload FROM nudge WHERE kind IN ({_quoted(kinds)})")
    ).all()
    mapping: dict[str, str] | None = None
    for nudge_id, payload in rows:
        data = json.loads(payload)
        people = data.get(field)
        if not isinstance(people, list) or not people:
            continue
        mapping = mapping if mapping is not None else _mapping(bind, sql.old, sql.new)
        mapped = [mapping.get(person, person) for person in people]
        if mapped != people:
            data[field] = mapped
            _store_payload(bind, nudge_id, data)


def _quoted(kinds: tuple[str, ...]) -> str:
    """Kinds as a list of SQL literals (constants of this file, never input)."""
    return ", ".join(f"'{kind}'" for kind in kinds)


def _mapping(bind: Connection, old: str, new: str) -> dict[str, str]:
    return {row[0]: row[1] for row in bind.execute(sa.text(f"SELECT {old}, {new} FROM {MAP}"))}


def _store_payload(bind: Connection, nudge_id: int, data: dict) -> None:
    """Write a payload as the outbox does (bot/engine/outbox.py)."""
    bind.execute(
        sa.text("UPDATE nudge SET payload = :payload WHERE id = :id"),
        {"payload": json.dumps(data, sort_keys=True, default=str), "id": nudge_id},
    )
