"""Every data-quality check, fed data that passes and data that makes it fail."""

import datetime as dt

import pandas as pd
import pytest

from cbi_platform.lib import quality, warehouse
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import SQL_DIR

DAY = dt.date(2024, 3, 4)
WINDOW = Window(DAY, DAY + dt.timedelta(days=1))


@pytest.fixture()
def conn():
    with warehouse.connection(":memory:") as connection:
        warehouse.apply_migrations(connection, SQL_DIR)
        connection.execute("CREATE TABLE features.t (trade_date DATE, x DOUBLE, y DOUBLE, target_1w DOUBLE, target_end_1w DATE)")
        yield connection


def bar(symbol="ZL.c.0", day=DAY, close=50.0, high=51.0, low=49.0, volume=10, as_of=None):
    return {"symbol": symbol, "root": symbol.split(".")[0], "rank": 0, "trade_date": day, "instrument_id": 1,
            "open": 50.0, "high": high, "low": low, "close": close, "volume": volume, "settle": None, "change": None,
            "prev_day_open_interest": None, "as_of_date": as_of or day, "ingested_at": dt.datetime(2024, 3, 5)}


def insert_bars(conn, rows):
    frame = pd.DataFrame(rows)
    with conn.cursor() as cursor:  # a check may have left a partly fetched result on `conn`
        cursor.register("_bars", frame)
        cursor.execute(f"INSERT INTO raw.futures_ohlcv_1d ({', '.join(frame.columns)}) SELECT * FROM _bars")


def test_primary_key_unique(conn):
    insert_bars(conn, [bar(), bar(symbol="ZL.c.1")])
    assert quality.primary_key_unique(conn, "raw.futures_ohlcv_1d", ["symbol", "trade_date"], WINDOW).passed
    outcome = quality.primary_key_unique(conn, "raw.futures_ohlcv_1d", ["root", "trade_date"], WINDOW)
    assert not outcome.passed and outcome.metadata["duplicate_keys"] == 1


def test_no_future_as_of(conn):
    insert_bars(conn, [bar(as_of=DAY + dt.timedelta(days=3))])
    assert quality.no_future_as_of(conn, "raw.futures_ohlcv_1d", DAY + dt.timedelta(days=3)).passed
    assert not quality.no_future_as_of(conn, "raw.futures_ohlcv_1d", DAY).passed


def test_rows_present(conn):
    assert not quality.rows_present(conn, "raw.futures_ohlcv_1d", WINDOW, expected=True).passed
    assert quality.rows_present(conn, "raw.futures_ohlcv_1d", WINDOW, expected=False).passed  # a holiday
    # files mode: the user's exports decide what exists, so an empty window warns instead of blocking
    from_files = quality.rows_present(conn, "raw.futures_ohlcv_1d", WINDOW, expected=True, user_files=True)
    assert not from_files.passed and from_files.severity == "WARN" and "files mode" in from_files.description
    insert_bars(conn, [bar()])
    assert quality.rows_present(conn, "raw.futures_ohlcv_1d", WINDOW, expected=True).passed


@pytest.mark.parametrize("row, problem", [
    (dict(high=48.0), "inconsistent_bars"), (dict(close=60.0), "inconsistent_bars"),
    (dict(volume=-1), "negative_volume"), (dict(close=-1.0, low=-2.0), "non_positive_prices")])
def test_ohlc_consistent(conn, row, problem):
    insert_bars(conn, [bar(symbol="ZS.c.0"), bar(**row)])
    outcome = quality.ohlc_consistent(conn, "raw.futures_ohlcv_1d", WINDOW)
    assert not outcome.passed and outcome.metadata[problem] == 1 and outcome.severity == "ERROR"


def test_a_vendor_file_settle_outside_the_range_only_warns(conn):
    # settle CSVs carry no instrument id; their settle may lie outside a range from another session
    insert_bars(conn, [bar(symbol="ZS.c.0"), {**bar(close=60.0), "instrument_id": None}])
    outcome = quality.ohlc_consistent(conn, "raw.futures_ohlcv_1d", WINDOW)
    assert not outcome.passed and outcome.severity == "WARN" and outcome.metadata["of_which_vendor_file_rows"] == 1
    assert outcome.metadata["first_offending_bars"] == [f"ZL.c.0 {WINDOW.start}: O 50.0 H 51.0 L 49.0 C 60.0"]
    insert_bars(conn, [{**bar(symbol="ZM.c.0", close=-1.0, low=-2.0), "instrument_id": None}])
    assert quality.ohlc_consistent(conn, "raw.futures_ohlcv_1d", WINDOW).severity == "ERROR"


def test_finite_values_and_no_inf(conn):
    conn.execute("INSERT INTO features.t VALUES (DATE '2024-03-04', 1.0, NULL, NULL, NULL)")
    assert quality.no_inf(conn, "features.t").passed  # NULL is missing, not infinite
    conn.execute("INSERT INTO features.t VALUES (DATE '2024-03-05', 'inf'::DOUBLE, 'nan'::DOUBLE, NULL, NULL)")
    outcome = quality.no_inf(conn, "features.t")
    assert not outcome.passed and outcome.metadata["columns_with_inf_or_nan"] == {"x": 1, "y": 1}


def test_gaps_and_quantiles_ordered():
    assert quality.gaps([], "symbols").passed and not quality.gaps(["ZL.c.0"], "symbols").passed
    frame = pd.DataFrame({"q10": [1.0, 1.0], "q50": [2.0, 0.5], "q90": [3.0, 3.0]})
    assert not quality.quantiles_ordered(frame, ["q10", "q50", "q90"]).passed
    assert quality.quantiles_ordered(frame.iloc[:1], ["q10", "q50", "q90"]).passed


def test_covers_trading_days_and_history(conn):
    insert_bars(conn, [bar(), bar(day=DAY + dt.timedelta(days=1))])
    conn.execute("INSERT INTO features.t VALUES (DATE '2024-03-04', 1, 1, NULL, NULL)")
    assert not quality.covers_trading_days(conn, "features.t").passed
    conn.execute("INSERT INTO features.t VALUES (DATE '2024-03-05', 1, 1, NULL, NULL)")
    assert quality.covers_trading_days(conn, "features.t").passed
    assert not quality.history_long_enough(conn, "features.t").passed
    assert quality.history_long_enough(conn, "features.t", minimum=1).passed


def test_null_share_bucket_readiness_and_column_coverage(conn):
    for k in range(20):
        conn.execute("INSERT INTO features.t VALUES (?, ?, ?, NULL, NULL)", [DAY + dt.timedelta(days=k), k, 1.0 if k < 15 else None])
    assert quality.null_share(conn, "features.t", 2, 0.10, exclude=["target_1w", "target_end_1w"]).metadata[
        "features_over_limit"] == {"y": round(5 / 18, 4)}
    assert quality.null_share(conn, "features.t", 2, 0.30, exclude=["target_1w", "target_end_1w"]).passed
    assert quality.bucket_readiness(conn, "features.t", ["x", "y"], 2).passed
    assert not quality.bucket_readiness(conn, "features.t", ["x", "target_1w"], 2).passed
    assert quality.column_coverage(conn, "features.t", "x", 2, 0.95, "x_coverage").passed
    assert not quality.column_coverage(conn, "features.t", "y", 2, 0.95, "y_coverage").passed


def test_targets_within_known_prices(conn):
    insert_bars(conn, [bar(), bar(day=DAY + dt.timedelta(days=1))])
    conn.execute("INSERT INTO features.t VALUES (DATE '2024-03-01', 1, 1, 0.01, DATE '2024-03-05')")
    assert quality.targets_within_known_prices(conn, "features.t", {"1w": 5}).passed
    conn.execute("INSERT INTO features.t VALUES (DATE '2024-03-04', 1, 1, 0.01, DATE '2024-03-11')")
    assert not quality.targets_within_known_prices(conn, "features.t", {"1w": 5}).passed


def test_fresh_and_non_negative(conn):
    insert_bars(conn, [bar()])
    assert quality.fresh(conn, "raw.futures_ohlcv_1d", DAY + dt.timedelta(days=3), 4).passed
    assert not quality.fresh(conn, "raw.futures_ohlcv_1d", DAY + dt.timedelta(days=30), 4).passed
    assert quality.non_negative(conn, "raw.futures_ohlcv_1d", ["volume"], ["close"], WINDOW).passed
    conn.execute("UPDATE raw.futures_ohlcv_1d SET close = 0")
    assert not quality.non_negative(conn, "raw.futures_ohlcv_1d", ["volume"], ["close"], WINDOW).passed


def test_rolls_adjusted(conn):
    conn.execute("""CREATE TABLE features.futures_returns AS SELECT * FROM (VALUES
        ('ZL', DATE '2024-03-01', 1, 'none', 0.010, 0.010),
        ('ZL', DATE '2024-03-04', 2, 'second_month', 0.005, 0.030),
        ('ZL', DATE '2024-03-05', 2, 'none', -0.002, -0.002))
        t(root, trade_date, instrument_id, roll_method, log_return, raw_log_return)""")
    outcome = quality.rolls_adjusted(conn, "ZL")
    assert outcome.passed and outcome.metadata["rolls_adjusted"] == 1
    # a roll classified as a plain day, or "adjusted" to exactly the raw gap: both span the roll
    for change in ("roll_method = 'none'", "log_return = raw_log_return"):
        conn.execute(f"UPDATE features.futures_returns SET {change} WHERE trade_date = DATE '2024-03-04'")
        assert not quality.rolls_adjusted(conn, "ZL").passed
        conn.execute("UPDATE features.futures_returns SET roll_method = 'second_month', log_return = 0.005 "
                     "WHERE trade_date = DATE '2024-03-04'")


def test_schema_unchanged_and_point_in_time(conn):
    first = quality.schema_fingerprint(conn, "features.t")
    assert quality.schema_unchanged(first, "cfg1", None, None).passed  # first build
    conn.execute("ALTER TABLE features.t ADD COLUMN z DOUBLE")
    second = quality.schema_fingerprint(conn, "features.t")
    assert second != first
    assert not quality.schema_unchanged(second, "cfg1", first, "cfg1").passed  # same definition, new columns
    assert quality.schema_unchanged(second, "cfg2", first, "cfg1").passed  # the SQL or config changed
    assert quality.point_in_time({}, [DAY]).passed
    assert not quality.point_in_time({"2024-03-04": ["tomorrow_close"]}, [DAY]).passed


def test_a_check_declared_once_yields_its_outcome_and_refuses_another_name():
    positive = quality.Check("positive", "x > 0", lambda x: quality.CheckOutcome("positive", x > 0, f"x = {x}"))
    misnamed = quality.Check("positive", "x > 0", lambda x: quality.CheckOutcome("x_positive", x > 0, ""))
    assert [o.passed for o in quality.evaluate([positive, positive.on(lambda x: -x)], 2)] == [True, False]
    with pytest.raises(quality.UndeclaredCheck, match="check positive returned an outcome named x_positive"):
        quality.evaluate([misnamed], 2)


def test_reported_checks_take_exactly_the_declared_outcomes_in_declaration_order():
    checks = [quality.Check.reported("b", "second"), quality.Check.reported("a", "first", blocking=False)]
    computed = [quality.CheckOutcome("a", True, ""), quality.CheckOutcome("b", False, "")]
    assert [o.name for o in quality.evaluate(checks, quality.by_name(computed, checks))] == ["b", "a"]
    assert not checks[1].blocking
    for outcomes in (computed[:1], [*computed, quality.CheckOutcome("c", True, "")]):
        with pytest.raises(quality.UndeclaredCheck, match="do not match the declared checks"):
            quality.by_name(outcomes, checks)
