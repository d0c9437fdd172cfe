"""Partitions of the raw assets, one grain per publication cadence, from the configured start
(default 2010-06-06, where Databento GLBX.MDP3 history begins) through today (UTC):

- daily: market data, FRED, news: something is published most days;
- weekly (Sunday to Saturday): CFTC COT (Friday), USDA export sales (Thursday), EIA's weekly
  petroleum report (Wednesday), EPA RIN prices (a week's prices at once). A daily partition of
  a weekly source is six empty days in seven, and each costs Dagster's events all the same;
- monthly: WASDE.

A weekly or monthly partition's window never reaches past the last daily one (today, or the
day before CBI_END_DATE): its current week or month is re-ingested each day it is run, and its
quality checks judge only the days that have happened. Its first partition is the week or month
holding the start date and carries everything published before it, as the first daily partition
does.
"""

import datetime as dt

import dagster as dg

from cbi_platform.defs.settings import SETTINGS
from cbi_platform.lib.window import Window


def _boundary_on_or_before(day: dt.date, grain: str) -> dt.date:
    """The Sunday (weekly) or first of the month (monthly) that starts `day`'s period."""
    return day - dt.timedelta(days=(day.weekday() + 1) % 7) if grain == "weekly" else day.replace(day=1)


def _boundary_on_or_after(day: dt.date, grain: str) -> dt.date:
    start = _boundary_on_or_before(day, grain)
    if start == day:
        return day
    return start + dt.timedelta(days=7) if grain == "weekly" else (start + dt.timedelta(days=31)).replace(day=1)


def time_partitions(grain: str, start: dt.date, end: dt.date | None = None) -> dg.TimeWindowPartitionsDefinition:
    """Partitions of one grain from the period holding `start` through today, or through the
    period holding the day before `end` when it is given."""
    kind = {"daily": dg.DailyPartitionsDefinition, "weekly": dg.WeeklyPartitionsDefinition,
            "monthly": dg.MonthlyPartitionsDefinition}[grain]
    first = start if grain == "daily" else _boundary_on_or_before(start, grain)
    if end is None:
        return kind(start_date=first.isoformat(), end_offset=1)
    # CBI_END_DATE closes the range (files mode on exports that end in the past); a week or month
    # it cuts keeps its partition, whose window stops at the end date
    return kind(start_date=first.isoformat(), end_date=(end if grain == "daily" else _boundary_on_or_after(end, grain)).isoformat())


PARTITIONS = {grain: time_partitions(grain, SETTINGS.start_date, SETTINGS.end_date) for grain in ("daily", "weekly", "monthly")}


def partition_window(start: dt.date, end: dt.date, first: dt.date, today: dt.date, end_date: dt.date | None) -> Window:
    """The publication dates partitions [start, end) cover: the first partition's (starting at
    `first`) with the history before it, and never past the last daily partition (today, or the
    day before `end_date`), so a week or month under way holds only the days that happened."""
    end = min(end, end_date or today + dt.timedelta(days=1))
    if end <= start:
        raise ValueError(f"the partitions from {start} start after the last day there is data for ({end - dt.timedelta(days=1)})")
    return Window(start, end, include_history=start <= first)


def partition_key_on(partitions_def: dg.TimeWindowPartitionsDefinition, day: dt.date) -> str:
    """The key of the partition whose window holds `day` (a schedule's tick date)."""
    moment = dt.datetime.combine(day, dt.time(12), tzinfo=dt.timezone.utc)
    return partitions_def.get_partition_key_for_timestamp(moment.timestamp())
