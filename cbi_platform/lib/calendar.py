"""The CME Globex trading calendar (exchange_calendars "CMES"), for session arithmetic."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

CALENDAR_START = dt.date(2005, 1, 3)
CALENDAR_END = dt.date(2030, 12, 31)


@lru_cache(maxsize=1)
def sessions() -> np.ndarray:
    """CME trading dates from 2005 to 2030, as datetime64[D]."""
    import exchange_calendars as xcals  # imported lazily: loads holiday rules for many exchanges

    calendar = xcals.get_calendar("CMES", start=CALENDAR_START.isoformat(), end=CALENDAR_END.isoformat())
    return calendar.sessions.values.astype("datetime64[D]")


def trading_day_after(day: dt.date, n: int) -> dt.date:
    """The n-th CME session strictly after `day`."""
    s = sessions()
    position = int(np.searchsorted(s, np.datetime64(day, "D"), side="right")) + n - 1
    if position >= len(s):
        raise ValueError(f"{day} + {n} sessions is beyond the calendar ({CALENDAR_END})")
    return s[position].astype(object)
