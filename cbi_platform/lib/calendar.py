"""The CME Globex trading calendar (exchange_calendars "CMES") and trading hours.

Hourly bars follow each root's Globex hours in Chicago time (daylight saving included), so a
bar's UTC hour shifts with the seasons as it does on CME.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

CALENDAR_START = dt.date(2005, 1, 3)
CALENDAR_END = dt.date(2030, 12, 31)


@lru_cache(maxsize=1)
def federal_holidays() -> frozenset[dt.date]:
    """US federal holidays 1950-2040 (pandas' USFederalHolidayCalendar, observed dates, today's
    rules applied to every year): the release calendars of FRED, EIA, the CFTC and USDA shift
    around them. Real FRED exports reach back to 1962."""
    from pandas.tseries.holiday import USFederalHolidayCalendar

    return frozenset(USFederalHolidayCalendar().holidays("1950-01-01", "2040-12-31").date)


def is_business_day(day: dt.date) -> bool:
    """A US government business day: a weekday that is not a federal holiday."""
    return day.weekday() < 5 and day not in federal_holidays()


@lru_cache(maxsize=1)
def sessions() -> np.ndarray:
    """CME trading dates from 2005 to 2030, as datetime64[D]."""
    import exchange_calendars as xcals  # imported lazily: loads holiday rules for many exchanges

    calendar = xcals.get_calendar("CMES", start=CALENDAR_START.isoformat(), end=CALENDAR_END.isoformat())
    return calendar.sessions.values.astype("datetime64[D]")


@lru_cache(maxsize=1)
def _session_set() -> frozenset[dt.date]:
    return frozenset(session_dates())


@lru_cache(maxsize=1)
def _full_closures() -> frozenset[dt.date]:
    """The days every CME market closes, by rule (for years the calendar does not cover): New
    Year's Day (Monday when a Sunday), Good Friday, Christmas (the nearest weekday)."""
    from pandas.tseries.holiday import AbstractHolidayCalendar, GoodFriday, Holiday, nearest_workday, sunday_to_monday

    class Closures(AbstractHolidayCalendar):
        rules = [Holiday("New Year's Day", month=1, day=1, observance=sunday_to_monday), GoodFriday,
                 Holiday("Christmas", month=12, day=25, observance=nearest_workday)]

    return frozenset(Closures().holidays("1950-01-01", "2100-12-31").date)


def is_cme_session(day: dt.date) -> bool:
    """A CME trading date (Good Friday, Christmas and New Year's Day are not). Outside the
    calendar's years (real exports reach back to 1959, partitions run past 2030) a weekday other
    than those three."""
    if CALENDAR_START <= day <= CALENDAR_END:
        return day in _session_set()
    return day.weekday() < 5 and day not in _full_closures()


# The session templates (SESSION_HOURS) of CME's agricultural markets: CBOT grains and oilseeds,
# livestock, dairy and lumber
AG_TEMPLATES = frozenset({"grains", "day"})


@lru_cache(maxsize=1)
def _ag_closures() -> frozenset[dt.date]:
    """The holidays on which CME's agricultural markets close while Globex equity, rates and
    energy keep an abbreviated session (so CMES counts them as sessions): Martin Luther King Day
    (from 1998), Presidents' Day, Memorial Day, Juneteenth (from 2022), Independence Day, Labor
    Day and Thanksgiving (exchange_calendars' US rules, observed dates). CMES itself closes every
    market on national days of mourning."""
    from exchange_calendars import us_holidays as us
    from pandas.tseries.holiday import AbstractHolidayCalendar, USLaborDay

    class AgHolidays(AbstractHolidayCalendar):
        rules = [us.USMartinLutherKingJrAfter1998, us.USPresidentsDay, us.USMemorialDay, us.USJuneteenth,
                 us.USIndependenceDay, USLaborDay, us.USThanksgivingDay]

    return frozenset(AgHolidays().holidays("1950-01-01", "2100-12-31").date)


def is_session(day: dt.date, template: str) -> bool:
    """A trading date of a market on a session template: a CME session, and for the agricultural
    templates not one of their own holidays."""
    if template not in SESSION_HOURS:
        raise ValueError(f"unknown session template {template!r}; choose one of {', '.join(SESSION_HOURS)}")
    return is_cme_session(day) and (template not in AG_TEMPLATES or day not in _ag_closures())


@lru_cache(maxsize=8)
def template_sessions(template: str) -> np.ndarray:
    """The trading dates, 2005 to 2030, of the markets on a session template, as datetime64[D]
    (read-only: shared by every caller)."""
    days = sessions()[np.array([is_session(day, template) for day in session_dates()], dtype=bool)]
    days.setflags(write=False)
    return days


def business_day_in(window) -> bool:
    """Whether a window holds a US government business day: when FRED publishes observations."""
    return any(is_business_day(day) for day in window.days())


def trading_day_after(day: dt.date, n: int, template: str) -> dt.date:
    """The n-th trading date strictly after `day` of the markets on a session template (ZL's
    horizons count its own sessions: a week after the Friday before Memorial Day ends a day later
    than ES's)."""
    s = template_sessions(template)
    position = int(np.searchsorted(s, np.datetime64(day, "D"), side="right")) + n - 1
    if position >= len(s):
        raise ValueError(f"{day} + {n} sessions is beyond the calendar ({CALENDAR_END})")
    return s[position].astype(object)


CHICAGO = ZoneInfo("America/Chicago")

# Trading hours per session template, in Chicago local time, as (start, end) minute offsets
# from midnight of the trade date; negative offsets start on the previous evening.
SESSION_HOURS: dict[str, tuple[tuple[int, int], ...]] = {
    "globex": ((-7 * 60, 16 * 60),),  # 17:00 previous day .. 16:00
    "grains": ((-5 * 60, 7 * 60 + 45), (8 * 60 + 30, 13 * 60 + 20)),  # 19:00..07:45, 08:30..13:20
    "day": ((8 * 60 + 30, 13 * 60 + 5),),  # livestock and other day-only markets
}


def session_dates() -> list[dt.date]:
    return [d.astype(object) for d in sessions()]


def index_of(day: dt.date) -> int:
    """Index of the first session on or after `day`."""
    return int(np.searchsorted(sessions(), np.datetime64(day, "D"), side="left"))


def session_range(start: dt.date, end: dt.date) -> slice:
    """Slice of session indices with start <= session < end."""
    s = sessions()
    lo = np.searchsorted(s, np.datetime64(start, "D"), side="left")
    hi = np.searchsorted(s, np.datetime64(end, "D"), side="left")
    return slice(int(lo), int(hi))


@lru_cache(maxsize=4096)
def bar_hours(trade_date: dt.date, template: str) -> list[pd.Timestamp]:
    """UTC start times of the hourly bars of one trade date under a session template."""
    midnight = dt.datetime.combine(trade_date, dt.time(0, 0))
    starts: list[pd.Timestamp] = []
    for begin, end in SESSION_HOURS[template]:
        local_begin = midnight + dt.timedelta(minutes=begin)
        local_end = midnight + dt.timedelta(minutes=end)
        first = pd.Timestamp(local_begin, tz=CHICAGO).tz_convert("UTC")
        last = pd.Timestamp(local_end, tz=CHICAGO).tz_convert("UTC")
        hour = first.floor("h")
        while hour < last:
            starts.append(hour)
            hour += pd.Timedelta(hours=1)
    return starts
