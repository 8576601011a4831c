"""The policy file (app.yaml): the shipped one loads; a bad one stops start-up, saying why."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.org.policy import Policy, PolicyError, load_policy
from bot.process.cli import EXIT_CONFIG, main
from storage.models import Family

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "app.yaml"

Edit = Callable[[dict[str, Any]], None]


def _shipped_data() -> dict[str, Any]:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: object, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _edited(tmp_path: Path, edit: Edit) -> Path:
    data = copy.deepcopy(_shipped_data())
    edit(data)
    return _write(tmp_path, data)


def _error(path: Path) -> str:
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    return str(caught.value)


# --- the shipped file -------------------------------------------------------------------------


def test_shipped_policy_loads_with_four_dialogue_kinds_and_a_decision_linked_review() -> None:
    policy = load_policy(SHIPPED)

    assert isinstance(policy, Policy)
    assert policy.dialogue_kinds() == [
        "goal_clarification",
        "checkin",
        "milestone_retro",
        "coaching",
    ]
    reviews = [k for k, v in policy.talk_kinds.items() if v.family is Family.REVIEW]
    assert reviews == ["review"]
    assert policy.kind("review").linked_to_decisions is True
    assert not any(policy.kind(k).linked_to_decisions for k in policy.dialogue_kinds())


def test_shipped_policy_reads_zone_hours_and_days() -> None:
    policy = load_policy(SHIPPED)

    assert policy.timezone == "Asia/Shanghai"
    assert policy.working_days == ("mon", "tue", "wed", "thu", "fri")
    assert policy.working_hours.start.isoformat() == "09:30:00"
    assert policy.working_hours.end.isoformat() == "18:00:00"


def test_loaded_policy_is_frozen() -> None:
    policy = load_policy(SHIPPED)

    with pytest.raises(ValueError):
        policy.timezone = "UTC"  # type: ignore[misc]


def test_an_unchanged_copy_of_the_shipped_file_loads(tmp_path: Path) -> None:
    path = _edited(tmp_path, lambda data: None)

    assert load_policy(path) == load_policy(SHIPPED)


# --- bad files: the message names the file, the field and the fault --------------------------


def _set_family(data: dict[str, Any]) -> None:
    data["talk_kinds"]["checkin"]["family"] = "appraisal"


def _set_zone(data: dict[str, Any]) -> None:
    data["timezone"] = "Mars/Olympus_Mons"


def _misspell_top_level(data: dict[str, Any]) -> None:
    data["working_hour"] = data.pop("working_hours")


def _misspell_kind_field(data: dict[str, Any]) -> None:
    kind = data["talk_kinds"]["coaching"]
    kind["defualt_minutes"] = kind.pop("default_minutes")


def _hours_backwards(data: dict[str, Any]) -> None:
    data["working_hours"] = {"start": "18:00", "end": "09:00"}


def _hours_empty(data: dict[str, Any]) -> None:
    data["working_hours"] = {"start": "09:00", "end": "09:00"}


def _no_working_days(data: dict[str, Any]) -> None:
    data["working_days"] = []


def _link_dialogue(data: dict[str, Any]) -> None:
    data["talk_kinds"]["checkin"]["linked_to_decisions"] = True


def _only_reviews(data: dict[str, Any]) -> None:
    data["talk_kinds"] = {"review": data["talk_kinds"]["review"]}


def _too_long(data: dict[str, Any]) -> None:
    data["talk_kinds"]["review"]["default_minutes"] = 600


def _too_short(data: dict[str, Any]) -> None:
    data["talk_kinds"]["checkin"]["default_minutes"] = 2


@pytest.mark.parametrize(
    ("edit", "field", "fault"),
    [
        pytest.param(
            _set_family, "talk_kinds.checkin.family", "'dialogue' or 'review'", id="family"
        ),
        pytest.param(
            _set_zone, "timezone", "unknown IANA time zone 'Mars/Olympus_Mons'", id="zone"
        ),
        pytest.param(
            _misspell_top_level,
            "working_hour",
            "unknown field (check its spelling)",
            id="misspelt-top-level-field",
        ),
        pytest.param(
            _misspell_kind_field,
            "talk_kinds.coaching.defualt_minutes",
            "unknown field (check its spelling)",
            id="misspelt-kind-field",
        ),
        pytest.param(_hours_backwards, "working_hours", "start must be before end", id="hours"),
        pytest.param(_hours_empty, "working_hours", "start must be before end", id="no-hours"),
        pytest.param(
            _no_working_days, "working_days", "name at least one working day", id="no-days"
        ),
        pytest.param(
            _link_dialogue,
            "talk_kinds.checkin",
            "a dialogue (绩效对话) cannot be linked to reward decisions",
            id="linked-dialogue",
        ),
        pytest.param(
            _only_reviews,
            "(top level)",
            "talk_kinds needs at least one dialogue (绩效对话) kind",
            id="no-dialogue",
        ),
        pytest.param(
            _too_long, "talk_kinds.review.default_minutes", "less than or equal to 240", id="long"
        ),
        pytest.param(
            _too_short,
            "talk_kinds.checkin.default_minutes",
            "greater than or equal to 5",
            id="short",
        ),
    ],
)
def test_bad_policy_is_refused_naming_file_field_and_fault(
    tmp_path: Path, edit: Edit, field: str, fault: str
) -> None:
    path = _edited(tmp_path, edit)

    message = _error(path)

    assert message.startswith(f"{path}: invalid policy")
    assert f"  {field}: " in message
    field_line = next(line for line in message.splitlines() if line.startswith(f"  {field}: "))
    assert fault in field_line


def test_misspelt_kind_field_also_reports_the_field_it_should_have_been(tmp_path: Path) -> None:
    message = _error(_edited(tmp_path, _misspell_kind_field))

    assert "  talk_kinds.coaching.default_minutes: Field required" in message


def test_every_fault_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    def two_faults(data: dict[str, Any]) -> None:
        _set_zone(data)
        _no_working_days(data)

    message = _error(_edited(tmp_path, two_faults))

    assert "  timezone: " in message
    assert "  working_days: " in message


def test_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("locale: en\ntalk_kinds: [unclosed\n", encoding="utf-8")

    message = _error(path)

    assert message.startswith(f"{path}: not valid YAML")


@pytest.mark.parametrize(
    "content", ["- a\n- list\n", "just a sentence\n", ""], ids=["list", "scalar", "empty"]
)
def test_file_that_is_not_a_mapping_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(content, encoding="utf-8")

    assert _error(path) == f"{path}: the file must hold a mapping of settings"


def test_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"

    message = _error(path)

    assert message.startswith(f"{path}: cannot read the policy file")
    assert "No such file" in message


# --- through the command line -----------------------------------------------------------------


@pytest.fixture
def serve_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets for HTTP mode, a throwaway database, and no stray .env."""
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_APP_TOKEN", "SLACK_API_URL", "PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cadence.db'}")


@pytest.mark.usefixtures("serve_env")
def test_serve_with_bad_policy_exits_2_naming_file_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _edited(tmp_path, _set_zone)
    monkeypatch.setenv("CADENCE_CONFIG", str(path))

    code = main(["serve"])

    err = capsys.readouterr().err
    assert code == EXIT_CONFIG == 2
    assert f"error: {path}: invalid policy" in err
    assert "timezone: unknown IANA time zone 'Mars/Olympus_Mons'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "cadence.db").exists()  # refused before touching the database


@pytest.mark.usefixtures("serve_env")
def test_serve_with_missing_policy_file_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CADENCE_CONFIG", str(tmp_path / "absent.yaml"))

    code = main(["serve"])

    err = capsys.readouterr().err
    assert code == 2
    assert f"{tmp_path / 'absent.yaml'}: cannot read the policy file" in err


@pytest.mark.usefixtures("serve_env")
def test_serve_reads_app_yaml_from_working_directory_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CADENCE_CONFIG", raising=False)
    (tmp_path / "app.yaml").write_text("talk_kinds: {}\n", encoding="utf-8")

    code = main(["serve"])

    err = capsys.readouterr().err
    assert code == 2
    assert "app.yaml: invalid policy" in err
    assert "talk_kinds needs at least one dialogue" in err
