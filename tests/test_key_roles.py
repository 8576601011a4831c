"""Key roles (`review.key_people` in app.yaml): HR names people as the org file does, and
their review interviews are planned longer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.org.policy import Policy
from bot.review.prep_pack import build_packs
from tests.factories import ORG, add_people, key
from tests.test_self_assessment import add_cycle

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def naming(policy: Policy, *names: str) -> Policy:
    review = policy.review.model_copy(update={"key_people": names})
    return policy.model_copy(update={"review": review})


async def seed(engine) -> None:
    """`ORG`, Eli with an employee number, and a cycle under review."""
    await add_people(engine, [*ORG[:2], {**ORG[2], "employee_number": "E-042"}, *ORG[3:]])
    await add_cycle(engine)


@pytest.mark.parametrize("name", ["U0EMP", "eli@example.com", "ELI@example.com", "E-042"])
async def test_a_key_role_named_as_hr_names_people_gets_a_longer_interview(engine, policy, name):
    await seed(engine)

    packs = await build_packs(engine, manager_id=key("U0MGR"), policy=naming(policy, name), now=NOW)

    longer = {p.employee.name: (p.longer_because, p.minutes) for p in packs}
    base = longer["Ann Lee"][1]
    assert longer["Eli Wang"] == (["key_role"], base + policy.review.extra_minutes)
    assert longer["Ann Lee"] == ([], base)


async def test_nobody_else_is_a_key_role_for_sharing_a_name_with_one(engine, policy):
    await seed(engine)

    packs = await build_packs(
        engine, manager_id=key("U0MGR"), policy=naming(policy, "U0ANNX", "Eli Wang"), now=NOW
    )

    assert all(p.longer_because == [] for p in packs)
