"""Partitions of the raw assets, one grain per publication cadence, from the configured start
(default 2010-06-06, where Databento GLBX.MDP3 history begins) through today (UTC):

- weekdays (Monday to Friday, a Friday's window running to Monday): daily futures bars, session
  statistics, options and FRED, which publish on business days. A Saturday or Sunday partition of
  those is empty but for the odd publication stamped on a weekend (a FRED revision, Friday's
  settlement published Saturday), which falls in Friday's window, and costs Dagster's events all
  the same. A start on a weekend begins with Monday's partition (the history carries the
  weekend), so the keys of an instance backfilled by day stay valid;
- daily: hourly bars (Sunday evening's Globex session) and news, published any day;
- weekly (Sunday to Saturday): CFTC COT (Friday), USDA export sales (Thursday), EIA's weekly
  petroleum report (Wednesday), EPA RIN prices (a week's prices at once). A daily partition of
  a weekly source is six empty days in seven, and each costs Dagster's events all the same;
- monthly: WASDE.

A partition's window never reaches past the last day (today, or the day before CBI_END_DATE):
the week, month or weekend under way is re-ingested each day it is run, and its quality checks
judge only the days that have happened. The first partition of each grain is the one holding the
start date and carries everything published before it.
"""

import datetime as dt

import dagster as dg

from cbi_platform.defs.settings import SETTINGS
from cbi_platform.lib.window import Window

# the cron tick that starts each grain's partitions (UTC midnight): the one statement of each
# grain's boundaries, which Dagster derives every window from
CRON = {"daily": "0 0 * * *", "weekdays": "0 0 * * 1-5", "weekly": "0 0 * * 0", "monthly": "0 0 1 * *"}
KEY_FORMAT = "%Y-%m-%d"
_ALL_TIME = {grain: dg.TimeWindowPartitionsDefinition(cron_schedule=cron, fmt=KEY_FORMAT, start="1900-01-01")
             for grain, cron in CRON.items()}


def _partition_holding(day: dt.date, grain: str) -> tuple[dt.date, dt.date]:
    """The first day of the grain's partition holding `day`, and the first day of the next one."""
    window = _ALL_TIME[grain].time_window_for_partition_key(partition_key_on(_ALL_TIME[grain], day))
    return window.start.date(), window.end.date()


def _first_partition_day_on_or_after(day: dt.date, grain: str) -> dt.date:
    start, next_start = _partition_holding(day, grain)
    return day if start == day else next_start


def time_partitions(grain: str, start: dt.date, end: dt.date | None = None) -> dg.TimeWindowPartitionsDefinition:
    """Partitions of one grain from the one holding `start` through today, or through the one
    holding the day before `end` when it is given. Weekdays starting on a weekend begin on the
    Monday (the first partition's history holds the weekend), not on the Friday before: an instance
    backfilled by day from that start keeps its keys; unless the range ends before that Monday."""
    first, next_start = _partition_holding(start, grain)
    if grain == "weekdays" and first < start and next_start <= (end - dt.timedelta(days=1) if end else dt.date.today()):
        first = next_start
    if end is None:
        return dg.TimeWindowPartitionsDefinition(cron_schedule=CRON[grain], fmt=KEY_FORMAT, start=first.isoformat(),
                                                 end_offset=1)
    # CBI_END_DATE closes the range (files mode on exports that end in the past); a partition it
    # cuts (a week, a month, a Friday's weekend) keeps its key, and its window stops at the end date
    return dg.TimeWindowPartitionsDefinition(cron_schedule=CRON[grain], fmt=KEY_FORMAT, start=first.isoformat(),
                                             end=_first_partition_day_on_or_after(end, grain).isoformat())


def partition_window(start: dt.date, end: dt.date, first: dt.date, today: dt.date, end_date: dt.date | None) -> Window:
    """The publication dates partitions [start, end) cover: the first partition's (starting at
    `first`) with the history before it, and never past the last day partitioned (today, or the
    day before `end_date`), so a week or month under way holds only the days that happened."""
    end = min(end, end_date or today + dt.timedelta(days=1))
    if end <= start:
        raise ValueError(f"the partitions from {start} start after the last day there is data for ({end - dt.timedelta(days=1)})")
    return Window(start, end, include_history=start <= first)


def partition_key_on(partitions_def: dg.TimeWindowPartitionsDefinition, day: dt.date) -> str:
    """The key of the partition whose window holds `day` (a schedule's tick date)."""
    moment = dt.datetime.combine(day, dt.time(12), tzinfo=dt.timezone.utc)
    return partitions_def.get_partition_key_for_timestamp(moment.timestamp())


PARTITIONS = {grain: time_partitions(grain, SETTINGS.start_date, SETTINGS.end_date) for grain in CRON}
