"""Business hours per location and the speed-to-lead clock (contract section 8, docs/speed-to-lead.md).

Pure code: no AWS, no clock of its own (every function takes the instants it works on).

``BUSINESS_HOURS`` format: locations separated by ``|``; each is ``slug=Area/City`` followed by
``;``-separated day segments ``days HH:MM-HH:MM[,HH:MM-HH:MM...]``::

    naperville=America/Chicago;mon-fri 08:00-18:00;sat 09:00-13:00|aurora=America/Chicago;mon-sun 00:00-24:00

- ``days``: a day (``mon`` ... ``sun``), a range (``mon-fri``; ``fri-mon`` wraps over the weekend) or a comma
  list of both (``mon,wed,fri-sat``).
- Times are the location's wall clock; ``24:00`` ends a range at midnight, so ``00:00-24:00`` is all day.
  Several ranges per day are fine (``mon-fri 08:00-12:00;mon-fri 13:00-18:00``) as long as they do not
  overlap (ranges that touch are joined). A range that ends before it starts (``18:00-08:00``) is refused:
  write the night as two ranges on two days.
- A location of ``LOCATIONS`` that ``BUSINESS_HOURS`` does not name keeps the default hours, and so does a
  lead whose location is no longer configured: mon-fri 08:00-18:00 in America/Chicago.

A business minute is a real minute (DST-correct: ranges are placed on the calendar in the location's time
zone and measured in UTC, so the night the clocks go back has one more hour). ``SlaPolicy`` turns the two SLA
settings into due times: an urgent lead's SLA counts every minute, any other lead's counts business minutes;
escalation level ``n`` is due after ``n`` times the SLA.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_ZONE = "America/Chicago"
DEFAULT_SPEC = f"{DEFAULT_ZONE};mon-fri 08:00-18:00"
MINUTES_PER_DAY = 24 * 60
# A search for the next business minute gives up after this many days (a location always has some hours,
# so this only bounds SLAs far beyond any setting's limit).
_SEARCH_DAYS = 3700

_TIME = re.compile(r"^(\d{2}):(\d{2})$")
_SEGMENT = re.compile(r"^([A-Za-z][A-Za-z,\s-]*?)\s+(\d.*)$")
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$")

Range = tuple[int, int]  # minutes after local midnight, start < end <= 1440


class BusinessHoursError(ValueError):
    """``BUSINESS_HOURS`` is not usable; the message names the bad part."""


@dataclass(frozen=True)
class LocationHours:
    """One location's weekly hours: ``week[d]`` are the ranges of weekday ``d`` (0 = Monday), sorted."""

    location: str
    zone_name: str
    week: tuple[tuple[Range, ...], ...]
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", _zone(self.zone_name))

    @property
    def all_day_every_day(self) -> bool:
        return all(day == ((0, MINUTES_PER_DAY),) for day in self.week)

    def intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The business intervals (UTC, ``start <= a < b``) from ``start`` on, in order, without end."""
        start = _utc(start)
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            for begin, end in self.week[day.weekday()]:
                a = self._instant(day, begin)
                b = self._instant(day, end)
                if b <= start or b <= a:
                    continue
                yield max(a, start), b
            day += timedelta(days=1)

    def _instant(self, day: date, minute: int) -> datetime:
        if minute >= MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), minute - MINUTES_PER_DAY
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.zone)
        return local.astimezone(UTC)

    def add_business_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant ``minutes`` business minutes after ``start``."""
        left = timedelta(minutes=minutes)
        if left <= timedelta(0):
            return _utc(start)
        for a, b in self.intervals(start):
            if b - a >= left:
                return a + left
            left -= b - a
        raise BusinessHoursError(f"no business hours found for {self.location} within {_SEARCH_DAYS} days")

    def business_minutes_between(self, a: datetime, b: datetime) -> float:
        """Business minutes from ``a`` to ``b`` (0 when ``b`` is not after ``a``)."""
        a, b = _utc(a), _utc(b)
        total = timedelta(0)
        if b <= a:
            return 0.0
        for start, end in self.intervals(a):
            if start >= b:
                break
            total += min(end, b) - start
        return total.total_seconds() / 60.0

    def is_open(self, moment: datetime) -> bool:
        moment = _utc(moment)
        local = moment.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(begin <= minute < end for begin, end in self.week[local.weekday()])


@dataclass(frozen=True)
class BusinessHours:
    """Every location's hours; ``for_location`` falls back to the default hours."""

    locations: Mapping[str, LocationHours]
    default: LocationHours

    def for_location(self, location: str) -> LocationHours:
        return self.locations.get(location, self.default)


@dataclass(frozen=True)
class SlaPolicy:
    """The two SLAs (minutes, fractional allowed) over ``hours``."""

    hours: BusinessHours
    first_contact_minutes: float = 15.0
    urgent_minutes: float = 5.0

    def sla_minutes(self, urgent: bool) -> float:
        return self.urgent_minutes if urgent else self.first_contact_minutes

    def due_at(self, created: datetime, location: str, urgent: bool, level: int = 1) -> datetime:
        """When escalation ``level`` of a lead created at ``created`` is due (level 2: twice the SLA)."""
        minutes = self.sla_minutes(urgent) * level
        if urgent:
            return _utc(created) + timedelta(minutes=minutes)
        return self.hours.for_location(location).add_business_minutes(created, minutes)

    def business_minutes_between(self, a: datetime, b: datetime, location: str) -> float:
        return self.hours.for_location(location).business_minutes_between(a, b)

    def minutes_to_answer(self, created: datetime, answered: datetime, location: str, urgent: bool) -> float:
        """How long a lead waited, in the minutes its SLA counts (calendar for urgent, else business)."""
        if urgent:
            return max(0.0, (_utc(answered) - _utc(created)).total_seconds() / 60.0)
        return self.business_minutes_between(created, answered, location)


# ------------------------------------------------------------------------------------------ parsing


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    if not _ZONE.match(name):
        raise BusinessHoursError(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise BusinessHoursError(f"unknown time zone {name!r}") from None


def _minute(text: str, part: str) -> int:
    match = _TIME.match(text)
    if match is None:
        raise BusinessHoursError(f"{part!r}: times must look like 08:00 or 24:00")
    hour, minute = int(match.group(1)), int(match.group(2))
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise BusinessHoursError(f"{part!r}: {text} is not a time of day (00:00 to 24:00)")
    return hour * 60 + minute


def _days(text: str, part: str) -> list[int]:
    found: list[int] = []
    for item in text.split(","):
        first, dash, last = item.strip().partition("-")
        if first not in DAYS or (dash and last not in DAYS):
            raise BusinessHoursError(f"{part!r}: days must be mon..sun, a range such as mon-fri, or a list")
        start = DAYS.index(first)
        end = DAYS.index(last) if dash else start
        length = (end - start) % 7 + 1
        found += [(start + offset) % 7 for offset in range(length)]
    return found


def _ranges(text: str, part: str) -> list[Range]:
    found: list[Range] = []
    for item in text.split(","):
        begin_text, dash, end_text = item.strip().partition("-")
        if not dash:
            raise BusinessHoursError(f"{part!r}: a range must look like 08:00-18:00")
        begin, end = _minute(begin_text.strip(), part), _minute(end_text.strip(), part)
        if end <= begin:
            raise BusinessHoursError(f"{part!r}: the range {item.strip()} ends before it starts")
        found.append((begin, end))
    return found


def _add_range(day: list[Range], new: Range, location: str, weekday: int) -> None:
    for begin, end in day:
        if new[0] < end and begin < new[1]:
            raise BusinessHoursError(
                f"{location}: ranges overlap on {DAYS[weekday]} "
                f"({_clock(begin)}-{_clock(end)} and {_clock(new[0])}-{_clock(new[1])})"
            )
    day.append(new)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _joined(day: list[Range]) -> tuple[Range, ...]:
    joined: list[Range] = []
    for begin, end in sorted(day):
        if joined and joined[-1][1] == begin:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((begin, end))
    return tuple(joined)


def parse_location(location: str, spec: str) -> LocationHours:
    """``Area/City;days HH:MM-HH:MM[;...]`` of one location."""
    zone_text, *segments = [s.strip() for s in spec.split(";")]
    _zone(zone_text)
    if not segments or not any(segments):
        raise BusinessHoursError(f"{location}: give at least one 'days HH:MM-HH:MM' after the time zone")
    week: list[list[Range]] = [[] for _ in DAYS]
    for segment in segments:
        match = _SEGMENT.match(segment)
        if match is None:
            raise BusinessHoursError(f"{segment!r}: a segment must look like 'mon-fri 08:00-18:00'")
        days_text, ranges_text = match.group(1).replace(" ", "").lower(), match.group(2)
        weekdays = _days(days_text, segment)
        for new in _ranges(ranges_text, segment):
            for weekday in weekdays:
                _add_range(week[weekday], new, location, weekday)
    return LocationHours(location, zone_text, tuple(_joined(day) for day in week))


@lru_cache(maxsize=16)
def parse_business_hours(raw: str, locations: Sequence[str]) -> BusinessHours:
    """Parse ``BUSINESS_HOURS`` for the configured ``locations`` (a tuple); raise ``BusinessHoursError``.

    An empty ``raw`` gives every location the default hours.
    """
    default = parse_location("default", DEFAULT_SPEC)
    parsed: dict[str, LocationHours] = {}
    for entry in (e.strip() for e in raw.split("|")):
        if not entry:
            if raw.strip():
                raise BusinessHoursError("an empty location entry (two '|' in a row, or one at an end)")
            continue
        slug, equals, spec = entry.partition("=")
        slug = slug.strip()
        if not equals or not slug or not spec.strip():
            raise BusinessHoursError(
                f"{entry!r}: each location must look like 'slug=Area/City;mon-fri 08:00-18:00'"
            )
        if slug not in locations:
            raise BusinessHoursError(f"{slug!r} is not one of LOCATIONS ({', '.join(locations)})")
        if slug in parsed:
            raise BusinessHoursError(f"{slug!r} is given twice")
        parsed[slug] = parse_location(slug, spec)
    return BusinessHours(
        {slug: parsed.get(slug) or _relabel(default, slug) for slug in locations},
        default,
    )


def _relabel(hours: LocationHours, location: str) -> LocationHours:
    return LocationHours(location, hours.zone_name, hours.week)


def describe(hours: LocationHours) -> str:
    """One line of a location's hours (for docs and the report), e.g. ``America/Chicago; mon 08:00-18:00``."""
    parts = [
        f"{DAYS[weekday]} " + ",".join(f"{_clock(b)}-{_clock(e)}" for b, e in day)
        for weekday, day in enumerate(hours.week)
        if day
    ]
    return "; ".join([hours.zone_name, *parts])


def parse_iso(value: object) -> datetime | None:
    """A stored ISO 8601 timestamp (``...Z`` or with an offset) as an aware UTC datetime, else ``None``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _utc(parsed)
