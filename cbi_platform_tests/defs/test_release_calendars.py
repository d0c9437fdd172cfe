"""A partition's gates follow its source's release calendar. A holiday's partition is not a
failure: the daily schedule runs every weekday partition, and on Good Friday or Christmas CME
publishes no bars, on Thanksgiving or Memorial Day FRED no observations; the empty partition
passes, without a gap warning for every symbol, while the trading day before it still must hold
rows; on the holidays when Globex equity and energy trade but the grain and livestock markets close
(Memorial Day), those markets' symbols are not listed as gaps. And a month's WASDE partition must
hold the month's report once its release days are past (before, no monthly window ever expected
one, so a missing report could not fail the gate)."""

import datetime as dt

import pytest

from cbi_platform.lib import calendar, warehouse
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import SQL_DIR, sample_context


def test_release_calendars_know_the_holidays():
    good_friday, thanksgiving, memorial_day = dt.date(2026, 4, 3), dt.date(2026, 11, 26), dt.date(2026, 5, 25)
    assert not calendar.is_cme_session(good_friday) and calendar.is_cme_session(dt.date(2026, 4, 2))
    assert not calendar.is_cme_session(dt.date(2026, 12, 25)) and not calendar.is_cme_session(dt.date(2027, 1, 1))
    assert calendar.is_cme_session(memorial_day)  # CMES: an early-close session for Globex equity and energy
    assert calendar.is_session(memorial_day, "globex") and not calendar.is_session(memorial_day, "grains")
    assert not calendar.is_session(memorial_day, "day") and calendar.is_session(dt.date(2026, 5, 26), "grains")
    assert not calendar.is_session(good_friday, "globex") and not calendar.is_session(good_friday, "grains")
    ag_closed = [day for day in (dt.date(2025, 1, 20), dt.date(2025, 2, 17), dt.date(2025, 6, 19), dt.date(2025, 7, 4),
                                 dt.date(2025, 9, 1), dt.date(2025, 11, 27))
                 if calendar.is_cme_session(day) and not calendar.is_session(day, "grains")]
    assert len(ag_closed) == 6
    assert calendar.is_session(dt.date(2025, 10, 13), "grains")  # Columbus Day: a federal holiday, grains trade
    assert calendar.is_session(dt.date(2021, 6, 18), "grains")  # Juneteenth closes the exchanges from 2022
    assert not calendar.is_session(dt.date(2026, 7, 3), "grains")  # July 4 on a Saturday: observed on Friday
    with pytest.raises(ValueError, match="unknown session template 'grain'"):
        calendar.is_session(memorial_day, "grain")
    from cbi_platform.lib.config import ConfigError, _parse_symbols

    with pytest.raises(ConfigError, match="symbol ZL: unknown session 'grain'"):  # caught when the config loads
        _parse_symbols({"symbols": {"ZL": {"name": "Soybean Oil", "session": "grain", "bucket": "ags", "exchange": "CBOT",
                                           "tick_size": 0.01, "contract_size": 60000, "units": "cents/lb", "months": "FH",
                                           "expiry": {"day": 14}, "listed": "2005-01-03"}}})
    # a horizon counts its market's own sessions: from the Friday before Memorial Day
    assert calendar.trading_day_after(dt.date(2026, 5, 22), 1, "globex") == memorial_day
    assert calendar.trading_day_after(dt.date(2026, 5, 22), 1, "grains") == dt.date(2026, 5, 26)
    assert calendar.trading_day_after(dt.date(2026, 5, 22), 5, "grains") == dt.date(2026, 6, 1)
    # outside the calendar's years (real files from 1959, partitions past 2030): weekdays but the full closures
    assert calendar.is_cme_session(dt.date(1999, 1, 4)) and not calendar.is_cme_session(dt.date(1999, 4, 2))
    assert not calendar.is_cme_session(dt.date(2031, 12, 25)) and not calendar.is_cme_session(dt.date(2031, 4, 11))
    assert calendar.is_cme_session(dt.date(2031, 4, 10)) and not calendar.is_cme_session(dt.date(2032, 12, 24))
    friday_to_monday = Window(good_friday, good_friday + dt.timedelta(days=3))  # a weekday partition's window
    assert not any(calendar.is_cme_session(day) for day in friday_to_monday.days())
    assert calendar.is_cme_session(good_friday + dt.timedelta(days=3))  # Easter Monday trades
    assert calendar.business_day_in(friday_to_monday)  # not a federal holiday: FRED publishes
    assert not calendar.business_day_in(Window(thanksgiving, thanksgiving + dt.timedelta(days=1)))
    assert calendar.business_day_in(Window(thanksgiving, thanksgiving + dt.timedelta(days=2)))


def test_grain_and_livestock_bars_are_not_expected_on_their_holidays_when_globex_trades(tmp_path):
    """Memorial Day: CME's equity and energy markets hold a session, the grain, livestock, dairy
    and lumber markets are closed, so a live partition without their bars lists no gap for them."""
    from cbi_platform.lib.sources import databento

    ctx = sample_context(tmp_path, today=dt.date(2026, 6, 1))
    memorial_day = dt.date(2026, 5, 25)

    def expected_roots(start, days):
        return {s.split(".")[0] for s in databento.expected_keys(ctx, Window(start, start + dt.timedelta(days=days)), "ohlcv-1d")}

    on_holiday, day_after = expected_roots(memorial_day, 1), expected_roots(memorial_day + dt.timedelta(days=1), 1)
    ags = {"ZL", "ZS", "ZM", "ZC", "LE", "HE", "DC", "LBR"}
    assert {"ES", "CL", "6L", "HG"} <= on_holiday and not ags & on_holiday
    assert ags <= day_after and on_holiday < day_after
    assert ags <= expected_roots(dt.date(2026, 5, 22), 4)  # the Friday partition's window runs over the holiday
    assert expected_roots(dt.date(2026, 4, 3), 3) == set()  # Good Friday: no market trades
    assert "ZL" in {s.split(".")[0] for s in databento.expected_keys(ctx, Window(memorial_day, memorial_day + dt.timedelta(days=1),
                                                                                         include_history=True), "ohlcv-1d")}


def _asset(first_table: str):
    """The raw asset whose first table is `first_table`, its source and its tables."""
    from cbi_platform import definitions
    from cbi_platform.defs.ingest.common import DECLARED

    source, tables = next((source, tables) for source, tables in DECLARED if tables[0].table == first_table)
    asset = next(a for a in definitions.RAW_ASSETS if tables[0].key in a.keys)
    return asset, source, tables


def _run(first_table: str, days: list[dt.date], today: dt.date, tmp_path) -> list[list]:
    """What the raw asset does for the partitions holding `days`, in turn, as its schedule runs
    them into one warehouse (the sample world as of `today`), on partitions of the asset's own
    grain: each run's check outcomes, every table's."""
    from cbi_platform.defs.ingest.common import checked_ingest
    from cbi_platform.defs.partitions import CRON, partition_key_on, partition_window, time_partitions

    asset, source, tables = _asset(first_table)
    grain = next(grain for grain, cron in CRON.items() if cron == asset.partitions_def.cron_schedule)
    partitions = time_partitions(grain, dt.date(2025, 1, 6), today)
    ctx = sample_context(tmp_path, today=today)
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    runs = []
    try:
        for day in days:
            span = partitions.time_window_for_partition_key(partition_key_on(partitions, day))
            window = partition_window(span.start.date(), span.end.date(), partitions.start.date(), today, None)
            assert not window.include_history and window.contains(day)
            _, outcomes = checked_ingest(source(), tables, window, ctx, conn, user_files=False)
            runs.append([outcome for table in outcomes for outcome in table])
    finally:
        conn.close()
    return runs


def _rows_present(outcomes):
    return next(o for o in outcomes if o.name == "rows_present")  # the first table's: bars, observations


@pytest.mark.parametrize("first_table, day_before, holiday", [
    ("raw.futures_ohlcv_1d", dt.date(2026, 4, 2), dt.date(2026, 4, 3)),  # Good Friday, and its weekend
    ("raw.futures_statistics_1d", dt.date(2026, 4, 2), dt.date(2026, 4, 3)),
    ("raw.options_ohlcv_1d", dt.date(2026, 4, 2), dt.date(2026, 4, 3)),  # and the options' definitions
    ("raw.futures_ohlcv_1h", dt.date(2026, 4, 2), dt.date(2026, 4, 3)),  # a UTC day: Globex reopens Sunday evening
    ("raw.fred_observations", dt.date(2025, 11, 26), dt.date(2025, 11, 27)),  # Thanksgiving, and the series table
    ("raw.fred_observations", dt.date(2026, 5, 22), dt.date(2026, 5, 25)),  # Memorial Day
])
def test_a_holiday_partition_passes_its_gates_and_the_day_before_holds_rows(first_table, day_before, holiday, tmp_path):
    before, on_holiday = _run(first_table, [day_before, holiday], holiday + dt.timedelta(days=1), tmp_path)
    present = _rows_present(before)
    assert present.passed and present.metadata["rows"] > 0 and present.metadata["publication_expected"] is True
    assert all(o.passed for o in on_holiday), [(o.name, o.metadata) for o in on_holiday if not o.passed]
    assert _rows_present(on_holiday).metadata == {"rows": 0, "publication_expected": False}
    assert next(o for o in on_holiday if o.name == "no_gaps").metadata["count"] == 0  # no symbol or series missing


def test_zl_options_are_not_expected_on_an_agricultural_holiday_when_globex_bars_are():
    """ZL is the only root with options: on Memorial Day the options partition is empty in live
    data, and its blocking rows_present must pass, while the futures bars must hold rows."""
    memorial_day, day_after, good_friday = dt.date(2026, 5, 25), dt.date(2026, 5, 26), dt.date(2026, 4, 3)

    def expected(first_table: str, day: dt.date) -> list[bool]:
        """Each of the raw asset's tables: must its one-day window hold rows?"""
        return [table.publication_expected(Window(day, day + dt.timedelta(days=1))) for table in _asset(first_table)[2]]

    assert expected("raw.options_ohlcv_1d", memorial_day) == [False, False]  # bars and definitions
    assert expected("raw.options_ohlcv_1d", day_after) == [True, True]
    for first_table in ("raw.futures_ohlcv_1d", "raw.futures_ohlcv_1h", "raw.futures_statistics_1d"):
        assert expected(first_table, memorial_day) == [True] and expected(first_table, good_friday) == [False]


@pytest.mark.parametrize("first_table", ["raw.futures_ohlcv_1d", "raw.fred_observations", "raw.usda_wasde"])
def test_a_first_partition_carrying_history_must_hold_rows_whatever_its_own_days(first_table, tmp_path):
    """A start on a holiday (January 1, say): the first partition's own days publish nothing,
    but it carries the history, so an empty one fails."""
    from cbi_platform.defs.ingest.common import Written

    _, _, tables = _asset(first_table)
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    try:
        window = Window(dt.date(2027, 1, 1), dt.date(2027, 1, 2), include_history=True)
        written = Written(conn, tables[0], window, dt.date(2027, 1, 1), False, [])
        present = next(check for check in tables[0].all_checks(True) if check.name == "rows_present").evaluate(written)
    finally:
        conn.close()
    assert not present.passed and present.metadata == {"rows": 0, "publication_expected": True}


def test_a_wasde_month_must_hold_its_report_once_its_release_days_are_past(tmp_path):
    from cbi_platform.lib.sources import usda_wasde
    from cbi_platform_tests.conftest import CONFIG_DIR

    config = usda_wasde.load_config(CONFIG_DIR)

    march = dt.date(2026, 3, 1)
    assert not usda_wasde.release_due_in(Window(march, dt.date(2026, 3, 14)), config)  # it may come on the 14th
    assert usda_wasde.release_due_in(Window(march, dt.date(2026, 3, 15)), config)  # the 14th's run
    assert usda_wasde.release_due_in(Window(dt.date(2026, 2, 20), dt.date(2026, 3, 20)), config)
    assert not usda_wasde.release_due_in(Window(dt.date(2026, 2, 10), dt.date(2026, 3, 10)), config)
    # USDA cancelled October 2025's report (the shutdown): that month expects none
    assert not usda_wasde.release_due_in(Window(dt.date(2025, 10, 1), dt.date(2025, 11, 1)), config)

    # the sample world's September 2025 report, released the 8th to the 12th, read on the 20th
    september, today = dt.date(2025, 9, 1), dt.date(2025, 9, 20)
    (outcomes,) = _run("raw.usda_wasde", [september], today, tmp_path / "released")
    present = _rows_present(outcomes)
    assert present.passed and present.metadata["rows"] > 0 and present.metadata["publication_expected"] is True
    assert next(o for o in outcomes if o.name == "no_gaps").passed
    # read on the 6th, the month holds no report yet, and none is expected
    (outcomes,) = _run("raw.usda_wasde", [september], dt.date(2025, 9, 6), tmp_path / "too_early")
    assert all(o.passed for o in outcomes if o.name != "fresh")
    assert _rows_present(outcomes).metadata == {"rows": 0, "publication_expected": False}
    # a month past its release days without the report fails the gate
    from cbi_platform.defs.ingest.common import Written

    _, _, tables = _asset("raw.usda_wasde")
    conn = warehouse.connect(tmp_path / "empty.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    try:
        written = Written(conn, tables[0], Window(march, dt.date(2026, 3, 20)), dt.date(2026, 3, 19), False, [])
        missing = next(c for c in tables[0].all_checks(True) if c.name == "rows_present").evaluate(written)
    finally:
        conn.close()
    assert not missing.passed and missing.metadata == {"rows": 0, "publication_expected": True}
