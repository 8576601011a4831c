"""Working time: weekends, public holidays with China's make-up working days (调休), night,
leave, each in the person's own zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bot.org.worktime import calendar_for


def test_chinese_national_day_is_skipped_and_the_make_up_sunday_is_worked(policy):
    china = calendar_for(policy, timezone="Asia/Shanghai", country="CN")

    assert not china.is_working_day(date(2026, 10, 1))  # National Day, a Thursday
    assert china.is_working_day(date(2026, 9, 20))  # Sunday, a make-up working day (调休)
    assert not china.is_working_day(date(2026, 9, 19))  # an ordinary Saturday
    after_holiday = china.next_working_moment(datetime(2026, 9, 30, 12, 0, tzinfo=UTC))
    assert after_holiday.date() > date(2026, 10, 7)
    assert after_holiday.time() == time(9, 30)


def test_german_christmas_is_a_holiday_but_not_in_china(policy):
    germany = calendar_for(policy, timezone="Europe/Berlin", country="DE")
    china = calendar_for(policy, timezone="Asia/Shanghai", country="CN")
    assert not germany.is_working_day(date(2026, 12, 25))
    assert china.is_working_day(date(2026, 12, 25))


def test_next_working_moment_respects_local_hours_in_each_zone(policy):
    new_york = calendar_for(policy, timezone="America/New_York", country="US")
    three_am_in_new_york = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tuesday

    moment = new_york.next_working_moment(three_am_in_new_york)

    assert moment.astimezone(new_york.zone).replace(tzinfo=None) == datetime(2026, 11, 24, 9, 30)
    assert new_york.is_working_moment(moment)
    assert not new_york.is_working_moment(three_am_in_new_york)


def test_a_slot_at_ten_moves_to_the_next_working_day_once_passed(policy):
    shanghai = calendar_for(policy, timezone="Asia/Shanghai", country="CN")
    thursday_eleven = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)

    slot = shanghai.next_working_moment(thursday_eleven, at=time(10))

    assert slot == datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def test_leave_days_are_skipped(policy):
    shanghai = calendar_for(policy, timezone="Asia/Shanghai", country="CN")
    leave = [(date(2026, 11, 26), date(2026, 12, 1))]

    moment = shanghai.next_working_moment(datetime(2026, 11, 26, 3, 0, tzinfo=UTC), leave=leave)

    assert moment.astimezone(shanghai.zone).date() == date(2026, 12, 2)
    assert not shanghai.is_working_moment(datetime(2026, 11, 30, 3, 0, tzinfo=UTC), leave)


def test_unknown_zone_falls_back_to_the_policys(policy):
    assert calendar_for(policy, timezone="Mars/Olympus", country=None).zone.key == policy.timezone
