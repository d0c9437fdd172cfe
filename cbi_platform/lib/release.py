"""Release calendars: when an observation becomes public.

Shared by the sample world (to publish values) and by `files` mode (to estimate the
publication date of vendor CSV rows that carry no vintage), so both agree by construction.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from cbi_platform.lib.calendar import is_business_day


def next_business_day_on_or_after(day: dt.date) -> dt.date:
    """Agencies publish on US government business days: not on weekends, not on federal
    holidays (a value estimated to appear on a holiday could not have been read that day)."""
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def period_end(observation_date: dt.date, frequency: str) -> dt.date:
    """Last day of the period an observation dated `observation_date` covers (FRED dates
    monthly and quarterly observations by the period's first day, weekly by its last)."""
    if frequency in {"d", "w"}:
        return observation_date
    months = 3 if frequency == "q" else 1
    return (pd.Timestamp(observation_date) + pd.DateOffset(months=months) - pd.Timedelta(days=1)).date()


def release_date(end_of_period: dt.date, rule: dict) -> dt.date:
    """First publication date of an observation whose period ends on `end_of_period`.

    rule: {lag_days: N} moved to a business day, optionally then to `weekday`; or
    {batch_weekday: W}: the next weekday W strictly after the period (weekly batches). A
    release that would fall on a federal holiday comes the next business day (the H.10 of a
    Monday holiday is out on Tuesday).
    """
    if "batch_weekday" in rule:
        weekday = int(rule["batch_weekday"])
        days_ahead = (weekday - end_of_period.weekday()) % 7 or 7
        return next_business_day_on_or_after(end_of_period + dt.timedelta(days=days_ahead))
    day = next_business_day_on_or_after(end_of_period + dt.timedelta(days=int(rule.get("lag_days", 1))))
    if "weekday" in rule:
        day = next_business_day_on_or_after(day + dt.timedelta(days=(int(rule["weekday"]) - day.weekday()) % 7))
    return day


def revision_dates(first_release: dt.date, rule: dict) -> list[dt.date]:
    return [next_business_day_on_or_after(first_release + dt.timedelta(days=int(lag))) for lag in rule.get("revisions", ())]
