"""An organisation whose policy keeps even the review interview's content from HR: HR still
learns that an employee disagrees, never their comment or rating; the manager reads both."""

from __future__ import annotations

import pytest

from bot.org.policy import Policy, load_policy
from tests.blockkit import texts
from tests.conftest import ROOT
from tests.factories import opened_form, view_submission
from tests.test_reviews import buttons, click, dm_to, record, seed


@pytest.fixture(scope="module")
def policy() -> Policy:
    shipped = load_policy(ROOT / "app.yaml")
    review = shipped.talk_kinds["review"].model_copy(update={"hr_reads_content": False})
    return shipped.model_copy(update={"talk_kinds": {**shipped.talk_kinds, "review": review}})


async def test_hr_is_told_of_a_disagreement_without_its_content(running_app, engine):
    await seed(running_app, engine)
    dm = await record(running_app)
    running_app.slack.reset()
    await running_app.interact(click("U0EMP", buttons(dm)["review_disagree"], dm))
    [modal] = await opened_form(running_app.slack)
    comment = "The NPS gain came from the whole team."

    sent = await running_app.interact(view_submission("U0EMP", modal, {"review_comment": comment}))

    assert sent.text == ""
    [to_hr] = await dm_to(running_app, "U0HR")
    [to_manager] = await dm_to(running_app, "U0MGR")
    assert "Eli Wang" in texts(to_hr["blocks"]) and "HR does not read" in texts(to_hr["blocks"])
    assert comment not in texts(to_hr["blocks"]) and "Exceeds" not in texts(to_hr["blocks"])
    assert comment in texts(to_manager["blocks"])
