"""Partitions follow publication: weekdays for futures bars, statistics, options and FRED, daily for
hourly bars and news, weekly for the weekly sources, monthly for WASDE. Every day from the start
date to the end is in exactly one partition of each grain, the first carries the history, and a
week under way holds only the days that happened, so a Wednesday's run of the COT week expects no
Friday release yet."""

import datetime as dt

import pytest

from cbi_platform.defs.partitions import partition_key_on, partition_window, time_partitions
from cbi_platform.lib.sources import cftc


def _windows(partitions):
    return [partitions.time_window_for_partition_key(key) for key in partitions.get_partition_keys()]


@pytest.mark.parametrize("grain, first_key, last_key", [("daily", "2009-12-03", "2009-12-31"),
                                                        ("weekdays", "2009-12-03", "2009-12-31"),
                                                        ("weekly", "2009-11-29", "2009-12-27"),
                                                        ("monthly", "2009-12-01", "2009-12-01")])
def test_every_day_from_start_to_end_is_in_one_partition(grain, first_key, last_key):
    # files mode: exports from a Thursday to the day before CBI_END_DATE, a Friday
    start, end = dt.date(2009, 12, 3), dt.date(2010, 1, 1)
    partitions = time_partitions(grain, start, end)
    keys = partitions.get_partition_keys()
    assert (keys[0], keys[-1]) == (first_key, last_key)
    windows = _windows(partitions)
    assert all(a.end == b.start for a, b in zip(windows, windows[1:]))  # no gap, no overlap
    assert windows[0].start.date() <= start and windows[-1].end.date() >= end
    # the last week runs into 2010: its window stops at the end date
    last = partition_window(windows[-1].start.date(), windows[-1].end.date(), windows[0].start.date(),
                            today=dt.date(2026, 12, 3), end_date=end)
    assert last.end == end and last.include_history == (len(windows) == 1)


def test_the_first_partition_carries_the_history_and_a_week_under_way_stops_today():
    weekly = time_partitions("weekly", dt.date(2026, 1, 1))  # make demo's start, a Thursday
    keys = weekly.get_partition_keys(current_time=dt.datetime(2026, 12, 2, 12, tzinfo=dt.timezone.utc))
    assert keys[0] == "2025-12-28" and keys[-1] == "2026-11-29"  # the weeks holding the start and today
    first = dt.date(2025, 12, 28)
    assert partition_window(first, dt.date(2026, 1, 4), first, dt.date(2026, 12, 2), None).include_history
    # Wednesday 2026-12-02: this week's partition holds Sunday to today; the COT release of
    # Friday 12-04 is not expected yet (the full week would expect it and fail rows_present)
    window = partition_window(dt.date(2026, 11, 29), dt.date(2026, 12, 6), first, dt.date(2026, 12, 2), None)
    assert (window.start, window.end, window.include_history) == (dt.date(2026, 11, 29), dt.date(2026, 12, 3), False)
    assert cftc.releases_in(window) == []
    assert cftc.releases_in(partition_window(dt.date(2026, 11, 29), dt.date(2026, 12, 6), first, dt.date(2026, 12, 5),
                                             None)) == [dt.date(2026, 12, 4)]


def test_a_partition_after_the_last_day_is_refused():
    with pytest.raises(ValueError, match="start after the last day there is data for"):
        partition_window(dt.date(2010, 1, 3), dt.date(2010, 1, 10), dt.date(2009, 11, 29), dt.date(2026, 12, 3),
                         end_date=dt.date(2010, 1, 1))


def test_weekday_partitions_skip_weekends_and_a_friday_holds_its_weekend():
    # the default start, 2010-06-06, is a Sunday: the first partition is the Monday after, carrying
    # the history (the weekend with it), so an instance backfilled by day from there keeps its keys;
    # an end on a Sunday cuts the last Friday's window there
    partitions = time_partitions("weekdays", dt.date(2010, 6, 6), dt.date(2010, 6, 20))
    keys = partitions.get_partition_keys()
    assert keys == ["2010-06-07", "2010-06-08", "2010-06-09", "2010-06-10", "2010-06-11",
                    "2010-06-14", "2010-06-15", "2010-06-16", "2010-06-17", "2010-06-18"]
    friday = partitions.time_window_for_partition_key("2010-06-11")
    assert (friday.start.date(), friday.end.date()) == (dt.date(2010, 6, 11), dt.date(2010, 6, 14))
    # a schedule ticking on Saturday or Sunday re-ingests Friday's partition, where a settlement
    # published on Saturday lands
    assert [partition_key_on(partitions, dt.date(2010, 6, d)) for d in (11, 12, 13, 14)] == \
        ["2010-06-11", "2010-06-11", "2010-06-11", "2010-06-14"]
    last = partitions.time_window_for_partition_key(keys[-1])
    window = partition_window(last.start.date(), last.end.date(), dt.date(2010, 6, 7), dt.date(2026, 12, 3),
                              end_date=dt.date(2010, 6, 20))
    assert (window.start, window.end) == (dt.date(2010, 6, 18), dt.date(2010, 6, 20))
    first = partitions.time_window_for_partition_key(keys[0])
    assert partition_window(first.start.date(), first.end.date(), dt.date(2010, 6, 7), dt.date(2026, 12, 3),
                            end_date=None).include_history
    # a range inside one weekend (exports from Saturday to Sunday) is Friday's partition, cut to it
    weekend = time_partitions("weekdays", dt.date(2010, 6, 12), dt.date(2010, 6, 14))
    assert weekend.get_partition_keys() == ["2010-06-11"]


def test_each_source_is_partitioned_by_its_publication_cadence():
    from cbi_platform.defs.ingest.databento import futures_daily, futures_hourly, futures_statistics, options
    from cbi_platform.defs.ingest.fred import fred
    from cbi_platform.defs.ingest.news import news_items

    today = dt.date.today()
    saturday = (today - dt.timedelta(days=(today.weekday() - 5) % 7)).isoformat()  # the latest, inside the range
    business_days = [futures_daily, futures_statistics, options, fred]
    assert all(saturday not in a.partitions_def.get_partition_keys() for a in business_days)
    assert all(saturday in a.partitions_def.get_partition_keys() for a in (futures_hourly, news_items))
