import datetime as dt
import shutil

import numpy as np
import pytest

from cbi_platform.lib import features, warehouse
from cbi_platform.lib.config import configured_horizons
from cbi_platform.lib.ingest import ingest
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import CONFIG_DIR, SQL_DIR, sample_context
from cbi_platform_tests.lib.test_ingest import DAILY, FRED

START, END = dt.date(2019, 6, 3), dt.date(2024, 7, 1)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("features")
    conn = warehouse.connect(path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    ctx = sample_context(path)
    window = Window(START, END, include_history=True)
    ingest(FRED, window, ctx, conn)
    ingest(DAILY, Window(START, END), ctx, conn)
    for name in features.FEATURE_ORDER:
        features.run_sql(conn, SQL_DIR, name, CONFIG_DIR)
    yield conn
    conn.close()


def test_features_are_point_in_time(built):
    days = [dt.date(2021, 3, 15), dt.date(2023, 11, 2), dt.date(2024, 6, 28)]
    assert features.point_in_time_mismatches(built, SQL_DIR, days, config_dir=CONFIG_DIR) == {}


def test_the_point_in_time_check_catches_a_leak(built, tmp_path):
    # a feature that peeks at the next day's price must be flagged
    leaky = tmp_path / "sql"
    shutil.copytree(SQL_DIR, leaky)
    core = next((leaky / "features").glob("*_core_macro_fx.sql"))
    core.write_text(core.read_text().replace(
        "    zl_close,                                   -- ZL front-month close, cents/lb",
        "    zl_close,                                   -- ZL front-month close, cents/lb\n"
        "    lead(zl_close) OVER (ORDER BY trade_date) AS tomorrow_close,"))
    try:
        for name in ("core_macro_fx", "zl_daily_matrix"):
            features.run_sql(built, leaky, name, CONFIG_DIR)
        found = features.point_in_time_mismatches(built, leaky, [dt.date(2023, 11, 2)], config_dir=CONFIG_DIR)
    finally:
        for name in ("core_macro_fx", "zl_daily_matrix"):
            features.run_sql(built, SQL_DIR, name, CONFIG_DIR)
    assert found == {"2023-11-02": ["tomorrow_close"]}


def test_returns_are_roll_adjusted(built):
    rolls = built.execute("SELECT * FROM features.roll_calendar WHERE root = 'ZL'").df()
    assert len(rolls) >= 30 and set(rolls["roll_method"]) == {"second_month"}
    # the naive continuous series jumps by the calendar spread at a roll; the adjusted return does not
    gap = (rolls["raw_gap"] - rolls["adjusted_return"]).abs()
    assert gap.median() > 1e-4
    returns = built.execute("SELECT * FROM features.futures_returns WHERE root = 'ZL' ORDER BY trade_date").df()
    assert returns["log_return"].iloc[1:].notna().all()


def test_targets_sum_adjusted_returns_and_stop_at_the_last_price(built):
    matrix = built.execute("SELECT * FROM features.zl_daily_matrix ORDER BY trade_date").df()
    returns = built.execute("SELECT log_return FROM features.futures_returns WHERE root = 'ZL' ORDER BY trade_date").df()["log_return"]
    i = 300
    assert matrix["target_1m"].iloc[i] == pytest.approx(returns.iloc[i + 1:i + 22].sum())
    assert matrix["target_6m"].iloc[-126:].isna().all() and matrix["target_6m"].iloc[-127] == pytest.approx(returns.iloc[-126:].sum())


def test_no_inf_and_one_row_per_day(built):
    matrix = built.execute("SELECT * FROM features.core_macro_fx").df()
    numeric = matrix.select_dtypes("number").to_numpy(dtype=float)
    assert not np.isinf(numeric).any()
    assert matrix["trade_date"].is_unique
    assert len(matrix.columns) - 1 >= 45


def test_terms_of_trade_is_null_not_inf_when_brl_is_missing(built):
    built.execute("UPDATE raw.futures_ohlcv_1d SET close = 0.0 WHERE root = '6L' AND trade_date = DATE '2023-11-02'")
    try:
        features.run_sql(built, SQL_DIR, "futures_returns", CONFIG_DIR)
        features.run_sql(built, SQL_DIR, "core_macro_fx", CONFIG_DIR)
        row = built.execute("SELECT terms_of_trade FROM features.core_macro_fx WHERE trade_date = DATE '2023-11-02'").fetchone()
    finally:
        built.execute("DELETE FROM raw.futures_ohlcv_1d WHERE root = '6L' AND trade_date = DATE '2023-11-02'")
    assert row == (None,)


def test_every_feature_column_is_described(built):
    """The UI's column schema shows each column's description: the comment at the end of the
    line that defines it in sql/features/, inherited by the matrix and the bucket views."""
    docs = features.column_docs(SQL_DIR)
    for bucket in features.load_buckets(CONFIG_DIR):
        features.build_bucket_view(built, CONFIG_DIR, bucket)
    tables = [t for (t,) in built.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'features'").fetchall()]
    assert {"zl_daily_matrix", "core_macro_fx", "bucket_fx", "macro_pit", "futures_returns"} <= set(tables)
    published = (*features.FEATURE_ORDER, "macro_wide", *(f"bucket_{b}" for b in features.load_buckets(CONFIG_DIR)))
    undocumented = {t: [c for c in features.table_schema(built, f"features.{t}")["column_name"]
                        if c not in docs and c != "trade_date"]
                    for t in tables if t in published}
    assert {t: cols for t, cols in undocumented.items() if cols} == {}
    assert docs["crush_z_252d"] == "board crush vs its 1-year mean, in standard deviations"  # qualified r.column
    assert docs["root"] == "futures root (ZL, CL, ...)"  # SELECT root, -- ...
    assert docs["target_6m"].startswith("ZL log return over the next 126 trading days")


def test_the_matrix_targets_are_the_configured_horizons():
    """config/training.yaml declares the horizons; the SQL that computes the targets is checked
    against it, so changing one without the other fails here."""
    import re

    horizons = configured_horizons(CONFIG_DIR)
    sql = features.sql_path(SQL_DIR, "zl_daily_matrix").read_text()
    targets = dict(re.findall(r"count\(log_return\) OVER h(\w+) = (\d+) THEN sum\(log_return\) OVER h\1 END AS target_\1\b", sql))
    ends = dict(re.findall(r"lead\(trade_date, (\d+)\) OVER w AS target_end_(\w+)", sql))
    windows = dict(re.findall(r"h(\w+) AS \(ORDER BY trade_date ROWS BETWEEN 1 FOLLOWING AND (\d+) FOLLOWING\)", sql))
    assert {h: int(d) for h, d in targets.items()} == horizons
    assert {h: int(d) for d, h in ends.items()} == horizons
    assert {h: int(d) for h, d in windows.items()} == horizons
