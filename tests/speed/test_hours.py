"""``leads_core.hours``: BUSINESS_HOURS parsing and the SLA clock, at fixed instants (a frozen clock).

US daylight saving time in 2026: clocks go forward on Sunday 8 March (02:00 CST -> 03:00 CDT) and back on
Sunday 1 November (02:00 CDT -> 01:00 CST). America/Chicago is UTC-6 in winter (CST), UTC-5 in summer (CDT).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leads_core.errors import ConfigurationError
from leads_core.hours import BusinessHoursError, SlaPolicy, describe, parse_business_hours
from leads_core.settings import settings_from

CHICAGO = ZoneInfo("America/Chicago")
LOCATIONS = ("naperville", "aurora", "joliet", "online")
HOURS = (
    "naperville=America/Chicago;mon-fri 08:00-18:00;sat 09:00-13:00"
    "|aurora=America/Chicago;tue,thu 08:00-12:00,13:00-18:00"
    "|online=America/Chicago;mon-sun 00:00-24:00"
)


def chicago(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHICAGO)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def policy() -> SlaPolicy:
    return SlaPolicy(parse_business_hours(HOURS, LOCATIONS), first_contact_minutes=15, urgent_minutes=5)


# ------------------------------------------------------------------------------------------ the clock


def test_a_lead_at_1759_on_a_friday_is_due_at_the_next_opening_plus_14_minutes(policy: SlaPolicy) -> None:
    created = chicago(2026, 11, 27, 17, 59)  # Friday, CST
    due = policy.due_at(created, "joliet", urgent=False)  # default hours: mon-fri 08:00-18:00
    assert due == utc(2026, 11, 30, 14, 14)  # Monday 08:14 CST
    assert due.astimezone(CHICAGO).strftime("%a %H:%M") == "Mon 08:14"
    assert policy.business_minutes_between(created, due, "joliet") == pytest.approx(15)
    # naperville is open on Saturday mornings: due Saturday 09:14.
    saturday = policy.due_at(created, "naperville", urgent=False)
    assert saturday == utc(2026, 11, 28, 15, 14)


def test_the_twice_sla_escalation_counts_twice_the_business_minutes(policy: SlaPolicy) -> None:
    created = chicago(2026, 11, 27, 17, 50)  # 10 minutes left on Friday
    assert policy.due_at(created, "joliet", urgent=False, level=1) == chicago(2026, 11, 30, 8, 5)
    assert policy.due_at(created, "joliet", urgent=False, level=2) == chicago(2026, 11, 30, 8, 20)


def test_an_urgent_lead_counts_every_minute_at_any_hour(policy: SlaPolicy) -> None:
    created = chicago(2026, 11, 27, 17, 59)
    assert policy.due_at(created, "naperville", urgent=True) == chicago(2026, 11, 27, 18, 4)
    assert policy.due_at(created, "aurora", urgent=True, level=2) == chicago(2026, 11, 27, 18, 9)
    sunday_night = chicago(2026, 11, 29, 3, 0)
    assert policy.due_at(sunday_night, "naperville", urgent=True) == chicago(2026, 11, 29, 3, 5)


def test_friday_1759_before_the_spring_change_is_due_monday_0814_daylight_time(policy: SlaPolicy) -> None:
    created = chicago(2026, 3, 6, 17, 59)  # Friday, CST (UTC-6)
    assert created.utcoffset() == timedelta(hours=-6)
    due = policy.due_at(created, "joliet", urgent=False)
    assert due == utc(2026, 3, 9, 13, 14)  # Monday 08:14 CDT (UTC-5)
    assert due.astimezone(CHICAGO).strftime("%a %H:%M %Z") == "Mon 08:14 CDT"


def test_friday_1759_before_the_autumn_change_is_due_monday_0814_standard_time(policy: SlaPolicy) -> None:
    created = chicago(2026, 10, 30, 17, 59)  # Friday, CDT (UTC-5)
    due = policy.due_at(created, "joliet", urgent=False)
    assert due == utc(2026, 11, 2, 14, 14)  # Monday 08:14 CST (UTC-6)
    assert due.astimezone(CHICAGO).strftime("%a %H:%M %Z") == "Mon 08:14 CST"


def test_all_day_hours_count_real_minutes_across_both_changes(policy: SlaPolicy) -> None:
    # Spring: the night of 8 March has 23 hours; 01:50 CST + 20 minutes is 03:10 CDT.
    created = chicago(2026, 3, 8, 1, 50)
    assert policy.due_at(created, "online", urgent=False, level=1) == utc(2026, 3, 8, 8, 5)
    assert policy.hours.for_location("online").add_business_minutes(created, 20) == chicago(2026, 3, 8, 3, 10)
    spring_day = policy.business_minutes_between(chicago(2026, 3, 7, 12), chicago(2026, 3, 8, 12), "online")
    assert spring_day == pytest.approx(23 * 60)
    # Autumn: the night of 1 November has 25 hours.
    autumn_day = policy.business_minutes_between(
        chicago(2026, 10, 31, 12), chicago(2026, 11, 1, 12), "online"
    )
    assert autumn_day == pytest.approx(25 * 60)
    # 00:59 CDT + 15 business minutes: in the hour that repeats, 01:14 CDT (06:14 UTC), not 01:14 CST.
    assert policy.due_at(utc(2026, 11, 1, 5, 59), "online", urgent=False) == utc(2026, 11, 1, 6, 14)


def test_business_hours_across_the_changes_count_the_real_hours_open(policy: SlaPolicy) -> None:
    # Friday 17:00 to Monday 09:00 over each change: Friday 1 h + Saturday 4 h + Monday 1 h.
    for friday, monday in (
        (chicago(2026, 3, 6, 17), chicago(2026, 3, 9, 9)),
        (chicago(2026, 10, 30, 17), chicago(2026, 11, 2, 9)),
    ):
        assert policy.business_minutes_between(friday, monday, "naperville") == pytest.approx(6 * 60)


def test_a_location_with_no_hours_that_day_waits_for_its_next_open_day(policy: SlaPolicy) -> None:
    # aurora is open on Tuesday and Thursday only (with a lunch break).
    monday = chicago(2026, 11, 30, 10, 0)
    assert policy.due_at(monday, "aurora", urgent=False) == chicago(2026, 12, 1, 8, 15)
    assert policy.business_minutes_between(monday, chicago(2026, 12, 1, 9, 0), "aurora") == pytest.approx(60)
    # Sunday at naperville (no hours on Sunday).
    assert policy.due_at(chicago(2026, 11, 29, 11, 0), "naperville", urgent=False) == chicago(
        2026, 11, 30, 8, 15
    )


def test_several_ranges_a_day_skip_the_gap_between_them(policy: SlaPolicy) -> None:
    before_lunch = chicago(2026, 12, 1, 11, 50)  # Tuesday
    assert policy.due_at(before_lunch, "aurora", urgent=False) == chicago(2026, 12, 1, 13, 5)
    assert policy.business_minutes_between(
        before_lunch, chicago(2026, 12, 1, 13, 30), "aurora"
    ) == pytest.approx(40)


def test_before_opening_the_clock_starts_at_opening(policy: SlaPolicy) -> None:
    assert policy.due_at(chicago(2026, 12, 2, 6, 30), "naperville", urgent=False) == chicago(
        2026, 12, 2, 8, 15
    )
    assert (
        policy.business_minutes_between(chicago(2026, 12, 2, 6), chicago(2026, 12, 2, 8), "naperville") == 0
    )


def test_a_location_not_named_keeps_the_default_hours(policy: SlaPolicy) -> None:
    joliet = policy.hours.for_location("joliet")
    assert (
        describe(joliet) == "America/Chicago; mon 08:00-18:00; tue 08:00-18:00; wed 08:00-18:00; "
        "thu 08:00-18:00; fri 08:00-18:00"
    )
    assert policy.hours.for_location("no-longer-configured").zone_name == "America/Chicago"
    assert describe(parse_business_hours("", ("naperville",)).for_location("naperville")) == describe(joliet)


def test_fractional_minutes(policy: SlaPolicy) -> None:
    fractional = SlaPolicy(policy.hours, first_contact_minutes=0.05, urgent_minutes=0.2)
    created = chicago(2026, 12, 2, 10, 0)
    assert fractional.due_at(created, "naperville", urgent=False) == created + timedelta(seconds=3)
    assert fractional.due_at(created, "naperville", urgent=True, level=2) == created + timedelta(seconds=24)


def test_naive_instants_are_utc_and_reversed_spans_are_zero(policy: SlaPolicy) -> None:
    naive = datetime(2026, 12, 2, 15, 0)  # 09:00 CST
    assert policy.due_at(naive, "naperville", urgent=False) == utc(2026, 12, 2, 15, 15)
    assert policy.business_minutes_between(utc(2026, 12, 2, 16), utc(2026, 12, 2, 15), "naperville") == 0


@settings(max_examples=150, deadline=None)
@given(
    created=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    minutes=st.floats(min_value=0.01, max_value=2000, allow_nan=False),
    location=st.sampled_from(LOCATIONS),
)
def test_due_at_is_exactly_sla_business_minutes_later(
    created: datetime, minutes: float, location: str
) -> None:
    hours = parse_business_hours(HOURS, LOCATIONS)
    due = hours.for_location(location).add_business_minutes(created, minutes)
    assert due > created
    assert hours.for_location(location).business_minutes_between(created, due) == pytest.approx(
        minutes, abs=1e-6
    )
    assert hours.for_location(location).is_open(due - timedelta(microseconds=1))


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("raw", "bad_part"),
    [
        ("naperville America/Chicago;mon-fri 08:00-18:00", "each location must look like"),
        ("naperville=America/Chicago", "at least one 'days HH:MM-HH:MM'"),
        ("naperville=America/Chicago;mon-fri", "a segment must look like"),
        ("naperville=America/Chicago;funday 08:00-18:00", "days must be mon..sun"),
        ("naperville=America/Chicago;mon-fri 8:00-18:00", "times must look like 08:00"),
        ("naperville=America/Chicago;mon-fri 08:00-25:00", "25:00 is not a time of day"),
        ("naperville=America/Chicago;mon-fri 08:00-18:60", "18:60 is not a time of day"),
        ("naperville=America/Chicago;mon-fri 08:00", "a range must look like 08:00-18:00"),
        ("springfield=America/Chicago;mon-fri 08:00-18:00", "'springfield' is not one of LOCATIONS"),
        ("naperville=America/Springfield;mon-fri 08:00-18:00", "unknown time zone 'America/Springfield'"),
        ("naperville=../../etc/passwd;mon 08:00-09:00", "unknown time zone"),
        ("naperville=America/Chicago;mon-fri 18:00-08:00", "the range 18:00-08:00 ends before it starts"),
        ("naperville=America/Chicago;mon-fri 09:00-09:00", "ends before it starts"),
        ("naperville=America/Chicago;mon-fri 08:00-18:00;fri 17:00-20:00", "ranges overlap on fri"),
        ("naperville=America/Chicago;mon 08:00-12:00,11:59-13:00", "ranges overlap on mon"),
        (
            "naperville=America/Chicago;mon 08:00-18:00|naperville=America/Chicago;tue 08:00-18:00",
            "given twice",
        ),
        ("naperville=America/Chicago;mon 08:00-18:00||", "an empty location entry"),
    ],
)
def test_bad_business_hours_stop_the_function_naming_the_variable_and_the_part(
    raw: str, bad_part: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        settings_from({"TABLE_NAME": "leads", "LOCATIONS": "naperville,aurora", "BUSINESS_HOURS": raw})
    message = str(caught.value)
    assert "BUSINESS_HOURS: " in message
    assert bad_part in message


def test_touching_ranges_join_and_wrapping_day_ranges_are_read() -> None:
    hours = parse_business_hours(
        "naperville=America/Chicago;fri-mon 08:00-12:00;mon 12:00-13:00", ("naperville",)
    )
    assert describe(hours.for_location("naperville")) == (
        "America/Chicago; mon 08:00-13:00; fri 08:00-12:00; sat 08:00-12:00; sun 08:00-12:00"
    )
    with pytest.raises(BusinessHoursError):
        parse_business_hours("naperville=America/Chicago;mon 08:00-12:00;mon 10:00-11:00", ("naperville",))


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("FIRST_CONTACT_SLA_MINUTES", "0", "greater than 0"),
        ("URGENT_SLA_MINUTES", "-1", "greater than 0"),
        ("URGENT_SLA_MINUTES", "soon", "valid number"),
    ],
)
def test_bad_sla_minutes_name_the_variable(variable: str, value: str, rule: str) -> None:
    with pytest.raises(ConfigurationError, match=f"{variable}: .*{rule}"):
        settings_from({"TABLE_NAME": "leads", variable: value})


def test_settings_give_the_sla_policy_with_defaults_and_fractions() -> None:
    default = settings_from({"TABLE_NAME": "leads"}).sla_policy()
    assert (default.first_contact_minutes, default.urgent_minutes) == (15, 5)
    assert describe(default.hours.for_location("naperville")).startswith("America/Chicago; mon 08:00-18:00")
    custom = settings_from(
        {
            "TABLE_NAME": "leads",
            "LOCATIONS": "naperville,aurora",
            "BUSINESS_HOURS": "aurora=America/Denver;mon-sun 00:00-24:00",
            "FIRST_CONTACT_SLA_MINUTES": "0.05",
            "URGENT_SLA_MINUTES": "0.2",
        }
    ).sla_policy()
    assert (custom.first_contact_minutes, custom.urgent_minutes) == (0.05, 0.2)
    assert custom.hours.for_location("aurora").all_day_every_day
    assert custom.hours.for_location("aurora").zone_name == "America/Denver"
