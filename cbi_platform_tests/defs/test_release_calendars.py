"""A partition's gates follow its source's release calendar. A holiday's partition is not a
failure: the daily schedule runs every weekday partition, and on Good Friday or Christmas CME
publishes no bars, on Thanksgiving or Memorial Day FRED no observations; the empty partition
passes, without a gap warning for every symbol, while the trading day before it still must hold
rows. And a month's WASDE partition must hold the month's report once its release days are past
(before, no monthly window ever expected one, so a missing report could not fail the gate)."""

import datetime as dt

import pytest

from cbi_platform.lib import calendar, warehouse
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import SQL_DIR, sample_context


def test_release_calendars_know_the_holidays():
    good_friday, thanksgiving, memorial_day = dt.date(2026, 4, 3), dt.date(2026, 11, 26), dt.date(2026, 5, 25)
    assert not calendar.is_cme_session(good_friday) and calendar.is_cme_session(dt.date(2026, 4, 2))
    assert not calendar.is_cme_session(dt.date(2026, 12, 25)) and not calendar.is_cme_session(dt.date(2027, 1, 1))
    assert calendar.is_cme_session(memorial_day)  # Globex trades on Memorial Day: a session, for Tuesday's date
    # before the calendar's years, weekdays
    assert not calendar.is_cme_session(dt.date(1999, 1, 2)) and calendar.is_cme_session(dt.date(1999, 1, 4))
    friday_to_monday = Window(good_friday, good_friday + dt.timedelta(days=3))  # a weekday partition's window
    assert not calendar.cme_session_in(friday_to_monday)
    assert calendar.cme_session_in(Window(good_friday, good_friday + dt.timedelta(days=4)))  # Easter Monday trades
    assert calendar.business_day_in(friday_to_monday)  # not a federal holiday: FRED publishes
    assert not calendar.business_day_in(Window(thanksgiving, thanksgiving + dt.timedelta(days=1)))
    assert calendar.business_day_in(Window(thanksgiving, thanksgiving + dt.timedelta(days=2)))


def _tables(first_table: str):
    from cbi_platform import definitions  # noqa: F401  (declares every raw asset)
    from cbi_platform.defs.ingest.common import DECLARED

    return next((source, tables) for source, tables in DECLARED if tables[0].table == first_table)


def _run(first_table: str, grain: str, days: list[dt.date], today: dt.date, tmp_path) -> list[list]:
    """What the raw asset does for the partitions holding `days`, in turn, as the daily schedule
    runs them into one warehouse (the sample world as of `today`): the first table's check outcomes."""
    from cbi_platform.defs.ingest.common import checked_ingest
    from cbi_platform.defs.partitions import partition_key_on, partition_window, time_partitions

    partitions = time_partitions(grain, dt.date(2025, 1, 6), today)
    source, tables = _tables(first_table)
    ctx = sample_context(tmp_path, today=today)
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    runs = []
    try:
        for day in days:
            span = partitions.time_window_for_partition_key(partition_key_on(partitions, day))
            window = partition_window(span.start.date(), span.end.date(), partitions.start.date(), today, None)
            assert not window.include_history and window.contains(day)
            runs.append(checked_ingest(source(), tables, window, ctx, conn, user_files=False)[1][0])
    finally:
        conn.close()
    return runs


@pytest.mark.parametrize("first_table, grain, day_before, holiday", [
    ("raw.futures_ohlcv_1d", "weekdays", dt.date(2026, 4, 2), dt.date(2026, 4, 3)),  # Good Friday, and its weekend
    ("raw.futures_statistics_1d", "weekdays", dt.date(2026, 4, 2), dt.date(2026, 4, 3)),
    ("raw.options_ohlcv_1d", "weekdays", dt.date(2026, 4, 2), dt.date(2026, 4, 3)),
    ("raw.futures_ohlcv_1h", "daily", dt.date(2026, 4, 2), dt.date(2026, 4, 3)),  # a UTC day: Globex reopens Sunday evening
    ("raw.fred_observations", "weekdays", dt.date(2025, 11, 26), dt.date(2025, 11, 27)),  # Thanksgiving
    ("raw.fred_observations", "weekdays", dt.date(2026, 5, 22), dt.date(2026, 5, 25)),  # Memorial Day
])
def test_a_holiday_partition_passes_its_gates_and_the_day_before_holds_rows(first_table, grain, day_before, holiday,
                                                                              tmp_path):
    before, on_holiday = _run(first_table, grain, [day_before, holiday], holiday + dt.timedelta(days=1), tmp_path)
    present = next(o for o in before if o.name == "rows_present")
    assert present.passed and present.metadata["rows"] > 0 and present.metadata["publication_expected"] is True
    assert all(o.passed for o in on_holiday), [(o.name, o.metadata) for o in on_holiday if not o.passed]
    by_name = {o.name: o for o in on_holiday}
    assert by_name["rows_present"].metadata == {"rows": 0, "publication_expected": False}
    assert by_name["no_gaps"].metadata["count"] == 0  # no symbol or series listed as missing


def test_a_wasde_month_must_hold_its_report_once_its_release_days_are_past(tmp_path):
    from cbi_platform.lib.sources import usda_wasde

    march = dt.date(2026, 3, 1)
    assert not usda_wasde.release_due_in(Window(march, dt.date(2026, 3, 14)))  # the report may come on the 14th
    assert usda_wasde.release_due_in(Window(march, dt.date(2026, 3, 15)))
    assert usda_wasde.release_due_in(Window(dt.date(2026, 2, 20), dt.date(2026, 3, 20)))  # any month's 8th-14th
    assert not usda_wasde.release_due_in(Window(dt.date(2026, 2, 10), dt.date(2026, 3, 10)))

    # the sample world's October 2025 report, on a day from the 8th to the 12th, read on the 20th
    day, today = dt.date(2025, 10, 1), dt.date(2025, 10, 20)
    (outcomes,) = _run("raw.usda_wasde", "monthly", [day], today, tmp_path / "released")
    present = next(o for o in outcomes if o.name == "rows_present")
    assert present.passed and present.metadata["rows"] > 0 and present.metadata["publication_expected"] is True
    assert next(o for o in outcomes if o.name == "no_gaps").passed
    # read on the 6th, the month's partition holds no report yet, and none is expected
    (outcomes,) = _run("raw.usda_wasde", "monthly", [day], dt.date(2025, 10, 6), tmp_path / "too_early")
    assert all(o.passed for o in outcomes if o.name != "fresh")
    assert next(o for o in outcomes if o.name == "rows_present").metadata == {"rows": 0, "publication_expected": False}
