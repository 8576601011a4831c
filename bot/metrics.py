"""What the process exports on `GET /metrics` (Prometheus' text format): one registry for the
process, its metric objects, and the functions that record into them with bounded labels.

Counters and histograms are this process's own (each replica exports its own; Prometheus
adds them up). The outbox's rows and the delivery pauses are read from the database at scrape
time (`set_outbox`, `set_paused`): the same truth on every replica. Labels only ever hold
values from the fixed sets below ("other" for anything else): never an id, a name, or
anything a person typed. Imports only prometheus_client and the standard library, so the
engine may use it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)

# The text format generate_latest writes, named as every Prometheus reads it (newer clients
# call the same text 1.0.0, which Prometheus 2 scrapers do not know).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OTHER = "other"
NONE = "none"  # no platform: the recipient has no account on one the process serves

PLATFORMS = frozenset({"slack", "teams"})
# How a claimed row left the dispatcher's hands (docs: the Metrics table).
OUTCOMES = frozenset(
    {
        "sent",
        "deferred",
        "spaced",
        "rate_limited",
        "retried",
        "failed",
        "cancelled",
        "unreachable",
        "held",
    }
)
PASSES = frozenset({"plan", "dispatch", "notices"})
REQUEST_KINDS = frozenset(
    {
        # Slack
        "command",
        "view_submission",
        "view_closed",
        "action",
        "options",
        "shortcut",
        "event",
        "url_verification",
        # Teams
        "message",
        "task_fetch",
        "task_submit",
        "card_action",
        "invoke",
        "installation_update",
        "conversation_update",
        # either: refused at the edge (size, signature or token, not a payload)
        "refused",
    }
)
# Slack Web API error codes worth telling apart; any other code is "other".
SLACK_ERRORS = frozenset(
    {
        "ratelimited",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "org_login_required",
        "ekm_access_denied",
        "team_access_not_granted",
        "invalid_blocks",
        "msg_too_long",
        "invalid_arguments",
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "request_timeout",
    }
)
# HTTP statuses told apart; any other is its class ("4xx", "5xx").
HTTP_STATUSES = frozenset({400, 401, 403, 404, 412, 413, 429})

disable_created_metrics()  # no `_created` twin of every series: half the page, no use here
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # CPU, memory, open files (Linux: /proc; else nothing)
PlatformCollector(registry=REGISTRY)  # python_info

OUTBOX_ROWS = Gauge(
    "cadence_outbox_rows",
    "Outbox rows by state and kind, read from the database at scrape time.",
    ["state", "kind"],
    registry=REGISTRY,
)
OUTBOX_OLDEST_PENDING = Gauge(
    "cadence_outbox_oldest_pending_overdue_seconds",
    "How long the earliest pending row has been due at scrape time (0: none overdue).",
    registry=REGISTRY,
)
DELIVERY_PAUSED = Gauge(
    "cadence_delivery_paused",
    "1 for each platform whose delivery is paused (it refused the bot's token).",
    ["platform"],
    registry=REGISTRY,
)
DATABASE_UP = Gauge(
    "cadence_database_up",
    "Whether the scrape-time database reads succeeded (1) or failed (0).",
    registry=REGISTRY,
)
SENDS = Counter(
    "cadence_sends",
    "What the dispatcher did with a claimed row, by platform and outcome.",
    ["platform", "outcome"],
    registry=REGISTRY,
)
SEND_LAG = Histogram(
    "cadence_send_lag_seconds",
    "From a row's due time (as stored when it went) to its send.",
    ["kind"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400),
    registry=REGISTRY,
)
PASS_SECONDS = Histogram(
    "cadence_pass_seconds",
    "How long a planning or dispatch pass took.",
    ["pass"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
    registry=REGISTRY,
)
PASS_FAILURES = Counter(
    "cadence_pass_failures",
    "Planning or dispatch passes that raised (the next run tries again).",
    ["pass"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "cadence_request_seconds",
    "How long the edge took to answer a chat platform's request, by platform and kind.",
    ["platform", "kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10),  # Slack gives 3 s, Teams 5 s
    registry=REGISTRY,
)
PLATFORM_ERRORS = Counter(
    "cadence_platform_errors",
    "Errors a chat platform answered a send with: Slack's error code, Teams' HTTP status.",
    ["platform", "error"],
    registry=REGISTRY,
)


# Series that exist at 0 from the start, so `increase()` sees their first count.
for _name in PASSES:
    PASS_SECONDS.labels(_name)
    PASS_FAILURES.labels(_name)
for _served in PLATFORMS:
    for _outcome in OUTCOMES:
        SENDS.labels(_served, _outcome)


def _platform(platform: str) -> str:
    return platform if platform in PLATFORMS else OTHER


def send(platform: str | None, outcome: str) -> None:
    """Count one outcome of a claimed row (`platform` None: not known to be on any)."""
    label = NONE if platform is None else _platform(platform)
    SENDS.labels(label, outcome if outcome in OUTCOMES else OTHER).inc()


def send_lag(kind: str, seconds: float) -> None:
    """Record how late a sent row went; `kind` must be one of the outbox's kinds."""
    SEND_LAG.labels(kind).observe(max(seconds, 0.0))


@contextmanager
def timed_pass(name: str) -> Iterator[None]:
    """Time a pass (`plan`, `dispatch`, `notices`); count it as failed if it raises."""
    label = name if name in PASSES else OTHER
    started = time.perf_counter()
    try:
        yield
    except Exception:
        PASS_FAILURES.labels(label).inc()
        raise
    finally:
        PASS_SECONDS.labels(label).observe(time.perf_counter() - started)


def request(platform: str, kind: str, seconds: float) -> None:
    """Record one request the edge answered; `kind` from the parsed request's type."""
    REQUEST_SECONDS.labels(_platform(platform), kind if kind in REQUEST_KINDS else OTHER).observe(
        seconds
    )


def platform_error(platform: str, exc: BaseException) -> None:
    """Count the platform's error behind a failed send, if the platform gave one."""
    error = error_class(exc)
    if error is not None:
        PLATFORM_ERRORS.labels(_platform(platform), error).inc()


def error_class(exc: BaseException) -> str | None:
    """The bounded label of the platform's answer behind `exc` (a sender's exception raised
    from the platform's error): Slack's `error` code, an HTTP status or its class, "network";
    None when no platform error lies behind it (Cadence's own decision or budget).

    Read by shape, not by type, so the engine imports no chat SDK: an API error whose
    `response.data` carries an `error` code (Slack's Web API), or one with an HTTP `status`
    (Teams' connector), else a network failure."""
    cause = exc.__cause__ or exc.__context__
    if cause is None:
        return None
    response = getattr(cause, "response", None)
    data = getattr(response, "data", None)
    if isinstance(data, Mapping) and isinstance(data.get("error"), str):
        code = data["error"]
        return code if code in SLACK_ERRORS else OTHER
    status = getattr(cause, "status", None)
    if not isinstance(status, int):
        status = getattr(response, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool):
        return _status_class(status)
    if isinstance(cause, TimeoutError | OSError) or type(cause).__module__.startswith("aiohttp"):
        return "network"
    return OTHER


def _status_class(status: int) -> str:
    if status in HTTP_STATUSES:
        return str(status)
    if 400 <= status < 600:
        return f"{status // 100}xx"
    return "network" if status == 0 else OTHER  # Teams' connector: 0 is no answer at all


def set_outbox(counts: Mapping[tuple[str, str], int], oldest_overdue: float) -> None:
    """Replace the outbox gauges with this scrape's counts by (state, kind) (states and kinds
    are the outbox's own, stored by the engine) and the earliest pending row's lateness."""
    DATABASE_UP.set(1)
    OUTBOX_ROWS.clear()  # a state or kind with no rows left is no longer reported
    for (state, kind), count in counts.items():
        OUTBOX_ROWS.labels(state, kind).set(count)
    OUTBOX_OLDEST_PENDING.set(max(oldest_overdue, 0.0))


def set_paused(platforms: Iterable[str]) -> None:
    """Replace the pause gauge with the platforms paused now."""
    DELIVERY_PAUSED.clear()
    for platform in platforms:
        DELIVERY_PAUSED.labels(_platform(platform)).set(1)


def database_down() -> None:
    """The scrape could not read the database: its gauges say nothing rather than stale."""
    DATABASE_UP.set(0)
    OUTBOX_ROWS.clear()
    DELIVERY_PAUSED.clear()


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE
