"""SQL lives in storage/ and in the query modules of the services that own a table (see
storage/queries.py): no other module of the product builds a statement of its own."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What builds a statement: SQLAlchemy's and SQLModel's constructs.
BUILDERS = {"select", "update", "delete", "insert", "text", "union", "union_all", "exists"}
OWNERS = {
    "bot/engine/outbox.py",  # the outbox's rows
    "bot/engine/snapshot.py",  # the planner's fixed reads
    "bot/engine/known_keys.py",
    "bot/engine/delivery_pause.py",  # its one row
}


def statement_builders(path: Path) -> set[str]:
    """The statement builders a module imports from SQLAlchemy or SQLModel."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
            "sqlalchemy",
            "sqlmodel",
        ):
            found |= {alias.name for alias in node.names} & BUILDERS
        elif isinstance(node, ast.Attribute) and node.attr in BUILDERS:
            base = node.value
            if isinstance(base, ast.Name) and base.id in ("sqlalchemy", "sa", "sqlmodel"):
                found.add(node.attr)
    return found


def test_no_module_outside_storage_and_the_table_owners_builds_sql():
    modules = [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]
    builders = {
        str(path.relative_to(ROOT)): statement_builders(path)
        for path in modules
        if str(path.relative_to(ROOT)) not in OWNERS
    }
    assert {module: used for module, used in builders.items() if used} == {}


def test_the_check_sees_a_statement_built_in_place(tmp_path):
    module = tmp_path / "service.py"
    module.write_text(
        "from sqlalchemy import func, select\nimport sqlalchemy\nsqlalchemy.text('x')\n"
    )
    assert statement_builders(module) == {"select", "text"}
