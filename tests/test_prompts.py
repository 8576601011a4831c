"""The en and zh catalogs: same keys, same placeholders, the domain's own words in Chinese."""

from __future__ import annotations

import string

import pytest

import prompts
from bot.org.policy import Policy
from prompts import catalog, has, normalize_locale, outline, questions, t

EN, ZH = catalog("en"), catalog("zh")


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)]


def _placeholders(value: object) -> set[str]:
    return {
        field
        for text in _texts(value)
        for _literal, field, _spec, _conversion in string.Formatter().parse(text)
        if field is not None
    }


def test_catalogs_are_not_empty() -> None:
    assert len(EN) > 50
    assert "family.dialogue" in EN


def test_en_and_zh_have_exactly_the_same_keys() -> None:
    assert sorted(set(EN) - set(ZH)) == [], "missing in zh"
    assert sorted(set(ZH) - set(EN)) == [], "missing in en"


@pytest.mark.parametrize("key", sorted(EN))
def test_each_key_has_the_same_placeholders_in_both_languages(key: str) -> None:
    assert _placeholders(ZH.get(key, "")) == _placeholders(EN[key])


def test_placeholder_check_sees_placeholders() -> None:
    """Guard against the comparison above passing because nothing was parsed."""
    assert _placeholders(EN["record.held"]) == {"date", "minutes", "family"}


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_every_text_formats_once_its_placeholders_are_filled(locale: str) -> None:
    for key, value in catalog(locale).items():
        if not isinstance(value, str):
            continue
        params = {name: f"<<{name}>>" for name in _placeholders(value)}
        text = t(key, locale, **params)
        assert all(filled in text for filled in params.values()), key


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_every_dialogue_kind_has_an_outline_of_three_to_five_questions(
    policy: Policy, locale: str
) -> None:
    kinds = policy.dialogue_kinds()
    assert len(kinds) == 4

    for kind in kinds:
        own = catalog(locale).get(f"questions.{kind}")
        assert isinstance(own, list), f"{locale} has no questions for {kind}"
        assert all(isinstance(q, str) and q.strip() for q in own), kind
        assert questions(kind, locale) == own
        for round_ in range(3):
            assert 3 <= len(outline(kind, locale, round_)) <= 5, kind


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_checkin_outlines_of_consecutive_months_differ(locale: str) -> None:
    for month in range(24):
        this, following = outline("checkin", locale, month), outline("checkin", locale, month + 1)
        assert set(this) != set(following)
        assert set(this) <= set(questions("checkin", locale))


def test_chinese_questions_are_chinese_not_an_english_fallback(policy: Policy) -> None:
    for kind in policy.dialogue_kinds():
        assert questions(kind, "zh") != questions(kind, "en")
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in q) for q in questions(kind, "zh"))


def test_unknown_kind_has_no_questions() -> None:
    assert questions("no_such_kind", "en") == []
    assert questions("review", "zh") == []


def test_t_falls_back_to_english_for_a_locale_without_a_catalog() -> None:
    assert t("family.dialogue", "fr") == t("family.dialogue", "en") == "Dialogue"
    assert t("record.held", "de", date="2026-11-26", minutes=15, family="Dialogue") == (
        "2026-11-26 · 15 min · Dialogue"
    )


def test_t_falls_back_to_english_for_a_key_missing_in_chinese(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = prompts.catalog

    def without_dialogue(locale: str) -> dict[str, object]:
        entries = dict(real(locale))
        if locale == "zh":
            entries.pop("family.dialogue")
        return entries

    monkeypatch.setattr(prompts, "catalog", without_dialogue)

    assert t("family.dialogue", "zh") == "Dialogue"
    assert t("family.review", "zh") == "绩效面谈"


def test_t_fills_placeholders_in_chinese() -> None:
    assert t("record.held", "zh", date="2026-11-26", minutes=15, family="绩效对话") == (
        "2026-11-26 · 15 分钟 · 绩效对话"
    )


def test_unknown_key_is_an_error_not_a_blank() -> None:
    with pytest.raises(KeyError, match=r"no\.such\.key"):
        t("no.such.key", "zh")
    assert not has("no.such.key", "zh")


def test_chinese_uses_the_domain_terms() -> None:
    assert t("family.dialogue", "zh") == "绩效对话"
    assert t("family.review", "zh") == "绩效面谈"
    assert t("kind.review", "zh") == "绩效面谈"
    assert "事实" in t("record.facts", "zh")
    assert "共识" in t("record.consensus", "zh")
    assert "行动" in t("record.actions", "zh")


def test_english_record_labels_carry_the_chinese_terms_too() -> None:
    assert "事实" in t("record.facts", "en")
    assert "共识" in t("record.consensus", "en")
    assert "行动" in t("record.actions", "en")


@pytest.mark.parametrize(
    ("slack_locale", "expected"),
    [
        ("zh-CN", "zh"),
        ("zh_CN", "zh"),
        ("en-GB", "en"),
        ("en-US", "en"),
        ("fr-FR", "en"),
        ("ZH-cn", "zh"),
        (None, None),
        ("", None),
    ],
)
def test_normalize_locale_maps_slack_locales_to_catalogs(
    slack_locale: str | None, expected: str | None
) -> None:
    assert normalize_locale(slack_locale) == expected


def test_when_an_action_is_due_is_said_from_the_readers_own_today():
    from datetime import date

    from prompts import when_due

    friday = date(2026, 12, 4)
    assert when_due(date(2026, 12, 4), friday, "en") == "due today"
    assert when_due(date(2026, 12, 5), friday, "en") == "due tomorrow (Saturday)"
    assert when_due(date(2026, 12, 7), friday, "en") == "due Monday 2026-12-07"
    assert when_due(date(2026, 10, 17), friday, "en") == "was due 2026-10-17"
    assert when_due(date(2026, 12, 5), friday, "zh") == "明天（星期六）到期"
    assert when_due(date(2026, 10, 17), friday, "zh") == "原定 2026-10-17 完成"
