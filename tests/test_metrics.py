"""`GET /metrics`: Prometheus' text format, read back with prometheus_client's own parser.
Sends count by outcome and by the platform's error, the outbox gauge is the database's own
count, requests are timed by kind, and no label names a person or anything typed.

The counters are the process's own and other tests add to them too: every assertion on a
counter or a histogram is on the change across the steps of one test."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import metrics
from bot.engine import delivery_pause
from bot.engine.dispatch import KNOWN_KINDS, DeliveryError, TokenRefused, Unreachable
from bot.engine.kinds import ACTION_DUE
from bot.engine.outbox import NudgeSpec, enqueue
from bot.process.web import create_web
from bot.teams.connector import ConnectorError
from storage.db import make_engine, session_scope
from storage.models import ChatIdentity, Nudge, NudgeState
from tests.app_fixtures import RunningApp
from tests.factories import ORG, block_actions, key, seed_org
from tests.teams_fixtures import TARA, TEAMS_ORG, TOM, RunningTeams
from tests.test_dispatcher import FRI_10_SHANGHAI, add_checkin_nudge, the_nudge
from tests.test_teams_delivery import add_checkin

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
NudgeTable = Nudge.__table__  # type: ignore[attr-defined]
ChatIdentityTable = ChatIdentity.__table__  # type: ignore[attr-defined]


def parse(page: str) -> Samples:
    """Every sample of a page: (name, sorted labels) → value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }


async def scrape(url: str, http: httpx.AsyncClient) -> Samples:
    response = await http.get(f"{url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def change(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def sends(before: Samples, after: Samples, platform: str) -> dict[str, float]:
    """How each outcome's count of `platform` moved (only those that did)."""
    moved = {
        outcome: change(before, after, "cadence_sends_total", platform=platform, outcome=outcome)
        for outcome in metrics.OUTCOMES
    }
    return {outcome: n for outcome, n in moved.items() if n}


def label_values(samples: Samples) -> set[str]:
    return {v for (_name, labels) in samples for _label, v in labels}


async def test_a_sent_nudge_counts_sent_and_its_lag_from_its_due_time(
    running_app: RunningApp, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    await add_checkin_nudge(engine, due_at=FRI_10_SHANGHAI - timedelta(minutes=10))
    before = await scrape(running_app.url, running_app.http)

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    after = await scrape(running_app.url, running_app.http)
    assert report.sent == 1
    assert sends(before, after, "slack") == {"sent": 1}
    lag = "cadence_send_lag_seconds"
    assert change(before, after, f"{lag}_count", kind="checkin") == 1
    assert change(before, after, f"{lag}_sum", kind="checkin") == 600  # ten minutes late
    assert change(before, after, f"{lag}_bucket", kind="checkin", le="300.0") == 0
    assert change(before, after, f"{lag}_bucket", kind="checkin", le="900.0") == 1
    passes = "cadence_pass_seconds_count"
    assert change(before, after, passes, **{"pass": "dispatch"}) == 1


async def test_a_429_counts_rate_limited_and_slacks_error_code(
    running_app: RunningApp, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    await add_checkin_nudge(engine)
    running_app.slack.fail_next("chat.postMessage", status=429, retry_after=7)
    before = await scrape(running_app.url, running_app.http)

    await nudge_engine.dispatch(FRI_10_SHANGHAI)
    limited = await scrape(running_app.url, running_app.http)
    await nudge_engine.dispatch(FRI_10_SHANGHAI + timedelta(seconds=7))
    after = await scrape(running_app.url, running_app.http)

    assert sends(before, limited, "slack") == {"rate_limited": 1}
    errors = "cadence_platform_errors_total"
    assert change(before, limited, errors, platform="slack", error="ratelimited") == 1
    assert sends(limited, after, "slack") == {"sent": 1}
    # lag from the due time the 429 moved it to: it went as soon as it was due again
    assert change(limited, after, "cadence_send_lag_seconds_sum", kind="checkin") == 0


async def test_failures_count_retried_then_failed_each_with_its_error_code(
    running_app: RunningApp, engine, nudge_engine, policy
):
    await seed_org(engine, running_app.slack)
    await add_checkin_nudge(engine)
    running_app.slack.fail_next("chat.postMessage", error="invalid_blocks", times=100)
    before = await scrape(running_app.url, running_app.http)

    now = FRI_10_SHANGHAI
    for _ in range(policy.delivery.max_attempts):
        await nudge_engine.dispatch(now)
        now = (await the_nudge(engine)).due_at

    after = await scrape(running_app.url, running_app.http)
    attempts = policy.delivery.max_attempts
    assert (await the_nudge(engine)).state == "failed"
    assert sends(before, after, "slack") == {"retried": attempts - 1, "failed": 1}
    errors = "cadence_platform_errors_total"
    assert change(before, after, errors, platform="slack", error="invalid_blocks") == attempts
    assert change(before, after, "cadence_outbox_rows", state="failed", kind="checkin") == 1


async def test_a_recipient_slack_says_is_gone_counts_cancelled_and_a_night_deferred(
    running_app: RunningApp, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    await add_checkin_nudge(engine)
    saturday = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: not a workday
    await add_checkin_nudge(engine, due_at=saturday, to="U0ANN", subject="U0OTH")
    running_app.slack.fail_next("chat.postMessage", error="user_not_found")
    before = await scrape(running_app.url, running_app.http)

    await nudge_engine.dispatch(FRI_10_SHANGHAI)
    await nudge_engine.dispatch(saturday)

    after = await scrape(running_app.url, running_app.http)
    assert sends(before, after, "slack") == {"cancelled": 1, "deferred": 1}
    errors = "cadence_platform_errors_total"
    assert change(before, after, errors, platform="slack", error="user_not_found") == 1


async def test_someone_on_no_platform_served_counts_unreachable_under_none(
    running_app: RunningApp, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    async with session_scope(engine) as session:
        await session.execute(
            ChatIdentityTable.delete().where(ChatIdentityTable.c.person_id == key("U0MGR"))
        )
        await session.commit()
    await add_checkin_nudge(engine)
    before = await scrape(running_app.url, running_app.http)

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    after = await scrape(running_app.url, running_app.http)
    assert report.unreachable == 1
    assert sends(before, after, metrics.NONE) == {"unreachable": 1}
    assert sends(before, after, "slack") == {}


async def test_the_outbox_gauge_is_the_databases_count_by_state_and_kind(
    running_app: RunningApp, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    later = FRI_10_SHANGHAI + timedelta(hours=1)
    await add_checkin_nudge(engine)
    await add_checkin_nudge(engine, to="U0ANN", subject="U0OTH", due_at=later)
    await add_checkin_nudge(engine, to="U0OTH", subject="U0ANN", due_at=later)
    async with session_scope(engine) as session:
        action = NudgeSpec(
            ACTION_DUE, key("U0ANN"), "action-1", "2026-11-30", later, None, "owner", {}
        )
        await enqueue(session, [action], FRI_10_SHANGHAI)
        await session.commit()
    await nudge_engine.dispatch(FRI_10_SHANGHAI)  # sends the first
    async with session_scope(engine) as session:
        rows = list((await session.execute(select(Nudge))).scalars())
    stored = Counter((row.state, row.kind) for row in rows)
    earliest = min(row.due_at for row in rows if row.state == "pending")

    start = datetime.now(UTC)
    samples = await scrape(running_app.url, running_app.http)
    end = datetime.now(UTC)

    gauge = {
        (dict(labels)["state"], dict(labels)["kind"]): n
        for (name, labels), n in samples.items()
        if name == "cadence_outbox_rows"
    }
    assert stored == {("sent", "checkin"): 1, ("pending", "checkin"): 2, ("pending", ACTION_DUE): 1}
    assert gauge == stored
    overdue = value(samples, "cadence_outbox_oldest_pending_overdue_seconds")
    assert (start - earliest).total_seconds() <= overdue <= (end - earliest).total_seconds()
    assert value(samples, "cadence_database_up") == 1

    async with session_scope(engine) as session:  # the rows go: so does their gauge
        await session.execute(NudgeTable.delete())
        await session.commit()
    emptied = await scrape(running_app.url, running_app.http)
    assert not [name for (name, _labels) in emptied if name == "cadence_outbox_rows"]
    assert value(emptied, "cadence_outbox_oldest_pending_overdue_seconds") == 0


async def test_a_paused_platform_is_reported_until_it_resumes(running_app: RunningApp, engine):
    await delivery_pause.pause(engine, reason="token_revoked", now=FRI_10_SHANGHAI)
    paused = await scrape(running_app.url, running_app.http)
    await delivery_pause.resume(engine)
    resumed = await scrape(running_app.url, running_app.http)

    assert value(paused, "cadence_delivery_paused", platform="slack") == 1
    assert ("cadence_delivery_paused", (("platform", "slack"),)) not in resumed


async def test_requests_are_timed_by_kind_and_no_label_names_a_person_or_their_words(
    running_app: RunningApp, engine
):
    await seed_org(engine, running_app.slack)
    typed = "milestone Confidential-Quokka-Launch"
    before = await scrape(running_app.url, running_app.http)

    assert (await running_app.command("U0MGR", typed)).status_code == 200
    click = block_actions("U0MGR", {"action_id": "no_such_action", "type": "button"})
    await running_app.interact(click)
    await running_app.event(
        {"type": "app_home_opened", "user": "U0EMP", "tab": "home"}, event_id="Ev0METRICS"
    )
    unsigned = await running_app.http.post(
        f"{running_app.url}/slack/events", content="command=/checkin&text=hi"
    )

    page = (await running_app.http.get(f"{running_app.url}/metrics")).text
    after = parse(page)
    assert unsigned.status_code == 401
    timed = "cadence_request_seconds_count"
    for kind in ("command", "action", "event", "refused"):
        assert change(before, after, timed, platform="slack", kind=kind) == 1, kind
    assert change(before, after, timed, platform="slack", kind="view_submission") == 0
    for person in ORG:
        for said in (person["slack_id"], key(person["slack_id"]), person["name"]):
            assert said not in page
    assert "Quokka" not in page and "no_such_action" not in page
    assert label_values(after) <= _allowed_label_values(after)


def _allowed_label_values(samples: Samples) -> set[str]:
    """What a label may hold: our fixed sets, the outbox's states and kinds, bucket bounds,
    and what prometheus_client says of the interpreter (python_info)."""
    ours = (
        metrics.PLATFORMS
        | metrics.OUTCOMES
        | metrics.PASSES
        | metrics.REQUEST_KINDS
        | metrics.SLACK_ERRORS
        | {str(status) for status in metrics.HTTP_STATUSES}
        | {metrics.OTHER, metrics.NONE, "4xx", "5xx", "network"}
        | {str(state) for state in NudgeState}
    )
    bounds = {dict(labels)["le"] for (_name, labels) in samples if "le" in dict(labels)}
    python = {v for (name, labels) in samples if name == "python_info" for _label, v in labels}
    return ours | KNOWN_KINDS | bounds | python


async def test_teams_requests_are_timed_and_its_http_errors_counted(teams_app: RunningTeams):
    url, http = teams_app.url, teams_app.http
    before = await scrape(url, http)

    await teams_app.install(TARA)
    await teams_app.say(TOM, "help Confidential-Quokka")
    await add_checkin(teams_app)
    teams_app.teams.fail_next("send", 429, retry_after=7)
    await teams_app.platforms.engine.dispatch(FRI_10_SHANGHAI)
    teams_app.teams.uninstall(TARA.bf_id)
    await teams_app.platforms.engine.dispatch(FRI_10_SHANGHAI + timedelta(seconds=7))

    page = (await http.get(f"{url}/metrics")).text
    after = parse(page)
    timed = "cadence_request_seconds_count"
    assert change(before, after, timed, platform="teams", kind="installation_update") == 1
    assert change(before, after, timed, platform="teams", kind="message") == 1
    errors = "cadence_platform_errors_total"
    assert change(before, after, errors, platform="teams", error="429") == 1
    assert change(before, after, errors, platform="teams", error="403") == 1
    assert sends(before, after, "teams") == {"rate_limited": 1, "unreachable": 1}
    assert "Quokka" not in page
    for user, _manager, _fields in TEAMS_ORG:
        assert user.aad not in page and user.name not in page


def _raised(outer: BaseException, inner: BaseException, *, hide: bool = False) -> BaseException:
    """`outer` raised while handling `inner`, as a sender raises it (`from None`: `hide`)."""
    try:
        try:
            raise inner
        except BaseException as exc:
            if hide:
                raise outer from None
            raise outer from exc
    except BaseException as raised:
        return raised
    raise AssertionError("unreachable")


def _slack_error(code: str | None, status: int = 200) -> SlackApiError:
    data: object = {"ok": False, "error": code} if code is not None else "<html>busy</html>"
    response = AsyncSlackResponse(
        client=None,  # type: ignore[arg-type]
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data=data,  # type: ignore[arg-type]
        headers={},
        status_code=status,
    )
    return SlackApiError("refused", response)


def test_error_classes_are_slacks_codes_teams_statuses_or_a_bounded_other():
    cases = {
        "channel_not_found": _raised(DeliveryError("x"), _slack_error("channel_not_found")),
        "token_revoked": _raised(TokenRefused("x"), _slack_error("token_revoked")),
        metrics.OTHER: _raised(DeliveryError("x"), _slack_error("U0SECRET_new_code")),
        "5xx": _raised(DeliveryError("x"), _slack_error(None, 503)),
        "403": _raised(Unreachable(), ConnectorError(403), hide=True),
        "4xx": _raised(DeliveryError("x"), ConnectorError(418), hide=True),
        "network": _raised(DeliveryError("x"), ConnectorError(0), hide=True),
        "network ": _raised(DeliveryError("x"), TimeoutError()),
    }
    for expected, exc in cases.items():
        assert metrics.error_class(exc) == expected.strip(), expected
    assert metrics.error_class(DeliveryError("history look-ups over budget")) is None


async def test_the_page_answers_when_the_database_does_not(tmp_path):
    broken = make_engine(f"sqlite:///{tmp_path}/missing/dir/cadence.db")
    try:
        transport = httpx.ASGITransport(app=create_web(broken, []))
        async with httpx.AsyncClient(transport=transport, base_url="http://cadence") as http:
            samples = await scrape("http://cadence", http)
    finally:
        await broken.dispose()

    assert value(samples, "cadence_database_up") == 0
    assert not [name for (name, _labels) in samples if name == "cadence_outbox_rows"]


async def test_a_metrics_token_keeps_the_page_from_anyone_without_it(engine: AsyncEngine):
    app = create_web(engine, [], metrics_token="scrape-secret")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cadence") as http:
        nothing = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer guess"})
        right = await http.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        health = await http.get("/healthz")

    assert (nothing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert "cadence_outbox_oldest_pending_overdue_seconds" in right.text
    assert "cadence_" not in nothing.text + wrong.text
    assert health.status_code == 200  # the health check needs no token


async def test_plan_passes_are_timed(running_app: RunningApp, engine, nudge_engine):
    await seed_org(engine, running_app.slack)
    before = await scrape(running_app.url, running_app.http)

    await nudge_engine.plan(FRI_10_SHANGHAI)

    after = await scrape(running_app.url, running_app.http)
    plan = {"pass": "plan"}
    assert change(before, after, "cadence_pass_seconds_count", **plan) == 1
    assert change(before, after, "cadence_pass_seconds_sum", **plan) > 0
    assert change(before, after, "cadence_pass_failures_total", **plan) == 0
