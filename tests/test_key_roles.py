"""Key roles (`review.key_people` in app.yaml): HR names people as the org file does, and
their review interviews are planned longer."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.org.policy import Policy
from bot.review.prep_pack import build_packs
from storage.db import session_scope
from storage.models import Cycle
from tests.factories import ORG, T0, add_people, key

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def naming(policy: Policy, *names: str) -> Policy:
    review = policy.review.model_copy(update={"key_people": names})
    return policy.model_copy(update={"review": review})


async def seed(engine) -> None:
    await add_people(engine, [*ORG[:2], {**ORG[2], "employee_number": "E-042"}, *ORG[3:]])
    async with session_scope(engine) as session:
        session.add(
            Cycle(
                name="2026-Q3",
                starts_on=date(2026, 7, 1),
                ends_on=date(2026, 9, 30),
                review_from=date(2026, 12, 1),
                review_to=date(2026, 12, 14),
                created_at=T0,
            )
        )
        await session.commit()


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
