"""Data-fault drills: a real vendor file from ../shared/real with one fault injected at a time.
Each fault must end in a blocking gate on features/futures_returns or a parse error naming the
file, never in returns a model trains on; the conventions a vendor may legitimately use (Change
signed, unsigned or empty and switching part-way, BOM and CRLF, a history split across files)
must give the same returns as the clean file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib import features, quality, warehouse
from cbi_platform.lib.ingest import ingest
from cbi_platform.lib.landing import LandingZone
from cbi_platform.lib.sources import databento, fred
from cbi_platform.lib.sources.base import ParseError
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import CONFIG_DIR, SQL_DIR, shared_file

WINDOW = Window(dt.date(1950, 1, 1), dt.date(2010, 1, 1), include_history=True)
ZL_FILE = "ZL_front_daily_1990-2009.csv"


def zl_rows() -> pd.DataFrame:
    return pd.read_csv(shared_file("real", ZL_FILE), dtype=str, keep_default_na=False)


def to_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode()


def build(tmp_path: Path, files: dict[str, bytes], with_fred: bool = False):
    """Ingest `files` in files mode and build features.futures_returns; the open connection."""
    folder = tmp_path / "files"
    folder.mkdir(exist_ok=True)
    for name, body in files.items():
        (folder / name).write_bytes(body)
    ctx = FetchContext("files", LandingZone(tmp_path / "landing"), folder, CONFIG_DIR, dt.date(2010, 1, 1))
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    ingest(databento.spec("ohlcv-1d"), WINDOW, ctx, conn)
    if with_fred:
        ingest(fred.spec(), WINDOW, ctx, conn)
    features.run_sql(conn, SQL_DIR, "futures_returns", CONFIG_DIR)
    return conn


def returns(conn, root: str = "ZL") -> pd.DataFrame:
    return conn.execute("SELECT trade_date, log_return, is_roll FROM features.futures_returns WHERE root = ? "
                        "ORDER BY trade_date", [root]).df()


def failing_gates(conn) -> set[str]:
    return {outcome.name for outcome in quality.futures_returns_gates(conn) if not outcome.passed}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    conn = build(tmp_path_factory.mktemp("clean"), {ZL_FILE: shared_file("real", ZL_FILE).read_bytes()})
    yield returns(conn)
    conn.close()


def with_change(frame: pd.DataFrame, clean: pd.DataFrame, signed: bool) -> pd.DataFrame:
    """The Change column a vendor would publish: the contract's own settle change, as a signed or
    unsigned number. On a roll day that is the new contract's change, which differs from the
    continuous series' jump; the clean run's roll calendar says which days those are."""
    settle = frame["Settle"].astype(float)
    diff = settle.diff()
    rolls = clean["is_roll"].to_numpy()
    # on a roll day the new contract's own change is the jump less the calendar spread (1.3% here);
    # a spread making |own| equal |jump| within a tick would hide the roll from Change: avoid it
    spread = 0.013 * settle.shift()
    own = diff - spread
    own = np.where(np.abs(np.abs(own) - np.abs(diff)) <= 0.01, diff - 2 * spread, own)
    own = np.where(rolls, own, diff)
    change = own if signed else np.abs(own)
    out = frame.copy()
    out["Change"] = [f"{c:.2f}" if np.isfinite(c) else "" for c in change]
    return out


# ------------------------------------------------------------------- conventions that must just work
def test_the_real_histories_pass_every_gate_with_the_listed_number_of_rolls(tmp_path):
    real = shared_file("real")
    files = {p.name: p.read_bytes() for p in [*real.glob("*_front_daily_*.csv"), *real.glob("pre1990/*_front_daily_*.csv")]}
    conn = build(tmp_path, files)
    assert failing_gates(conn) == set()
    known, settled = {}, {}
    for root, year, rolls, settled_rolls, listed in quality.rolls_per_year(conn):
        known.setdefault(root, []).append(rolls)
        settled.setdefault(root, []).append(settled_rolls)
        assert listed / 2 <= min(rolls, settled_rolls) and max(rolls, settled_rolls) <= 2 * listed, (root, year)
    # 1959-2009 for the soybean complex, CL from 1983, ES from 1997: settled, one roll per listed
    # contract give or take one; as known that day, a few missed or early (see the SQL)
    assert {root: len(v) for root, v in settled.items()} == {"ZL": 50, "ZS": 50, "ZM": 50, "CL": 26, "ES": 12}
    assert set(settled["ZL"]) == {8} and np.mean(settled["CL"]) == pytest.approx(12, abs=0.3)
    assert np.mean(known["ZL"]) == pytest.approx(8, abs=1.5) and np.mean(known["CL"]) == pytest.approx(12, abs=1.5)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_change_column_signed_or_unsigned_gives_the_clean_returns(tmp_path, clean, signed):
    conn = build(tmp_path, {ZL_FILE: to_bytes(with_change(zl_rows(), clean, signed))})
    assert failing_gates(conn) == set()
    got = returns(conn)
    assert got["is_roll"].tolist() == clean["is_roll"].tolist()
    assert np.allclose(got["log_return"], clean["log_return"], atol=1e-12, equal_nan=True)
    evidence = conn.execute("SELECT DISTINCT roll_evidence FROM features.roll_calendar").fetchall()
    assert evidence == [("change",)]


def test_a_file_that_switches_change_convention_part_way_gives_the_clean_returns(tmp_path, clean):
    frame = zl_rows()
    signed, unsigned = with_change(frame, clean, True), with_change(frame, clean, False)
    years = frame["Date"].str[:4].astype(int)
    frame.loc[years.between(1997, 2002), "Change"] = signed.loc[years.between(1997, 2002), "Change"]
    frame.loc[years >= 2003, "Change"] = unsigned.loc[years >= 2003, "Change"]
    conn = build(tmp_path, {ZL_FILE: to_bytes(frame)})
    assert failing_gates(conn) == set()
    assert np.allclose(returns(conn)["log_return"], clean["log_return"], atol=1e-12, equal_nan=True)


def test_reading_an_unsigned_change_as_signed_is_stopped_by_the_sign_and_balance_gates(tmp_path, clean):
    """The defect this guards against: ln(settle / (settle - change)) on an unsigned Change makes
    every return positive. Planted in the built table, the gates fail."""
    conn = build(tmp_path, {ZL_FILE: to_bytes(with_change(zl_rows(), clean, signed=False))})
    conn.execute("UPDATE features.futures_returns SET log_return = ln(close / (close - vendor_change)) "
                 "WHERE roll_method = 'none' AND vendor_change IS NOT NULL AND close - vendor_change > 0")
    assert {"returns_sign_agreement", "returns_balance"} <= failing_gates(conn)


def test_bom_and_crlf_give_the_clean_returns(tmp_path, clean):
    body = b"\xef\xbb\xbf" + shared_file("real", ZL_FILE).read_bytes().replace(b"\n", b"\r\n")
    conn = build(tmp_path, {ZL_FILE: body})
    assert failing_gates(conn) == set()
    assert returns(conn).equals(clean)


def test_a_history_split_across_overlapping_files_is_concatenated(tmp_path, clean):
    frame = zl_rows()
    conn = build(tmp_path, {"ZL_part1.csv": to_bytes(frame.iloc[:3000]), "ZL_part2.csv": to_bytes(frame.iloc[2900:])})
    assert returns(conn).equals(clean)


def test_overlapping_files_that_disagree_fail_naming_both(tmp_path):
    frame = zl_rows()
    second = frame.iloc[2900:].copy()
    second.loc[2950, "Settle"] = "99.99"
    with pytest.raises(ParseError, match=r"ZL_part1\.csv.*settle=.*ZL_part2\.csv|ZL_part2\.csv.*ZL_part1\.csv"):
        build(tmp_path, {"ZL_part1.csv": to_bytes(frame.iloc[:3000]), "ZL_part2.csv": to_bytes(second)})


# ------------------------------------------------------------------- faults that must be stopped
def test_drill_sign_flip_on_a_block_of_days(tmp_path, clean):
    frame = with_change(zl_rows(), clean, signed=True)
    block = frame.index[(frame["Date"] >= "2003-03-01") & (frame["Date"] < "2003-05-01")]
    frame.loc[block, "Change"] = [c[1:] if c.startswith("-") else f"-{c}" for c in frame.loc[block, "Change"]]
    conn = build(tmp_path, {ZL_FILE: to_bytes(frame)})
    assert "returns_sign_agreement" in failing_gates(conn)


def test_drill_roll_gaps_left_in(tmp_path):
    """Without Change and open interest nothing can find a roll: the gaps stay in the returns and
    the roll-frequency gate stops them."""
    frame = zl_rows()
    frame["Previous Day Open Interest"] = ""
    conn = build(tmp_path, {ZL_FILE: to_bytes(frame)})
    assert "roll_frequency" in failing_gates(conn)


def test_drill_stale_price_repeated_for_two_weeks(tmp_path):
    frame = zl_rows()
    start = frame.index[frame["Date"] == "2004-06-01"][0]
    for column in ("Open", "High", "Low", "Last", "Settle"):
        frame.loc[start + 1:start + 9, column] = frame.loc[start, column]
    conn = build(tmp_path, {ZL_FILE: to_bytes(frame)})
    assert failing_gates(conn) == {"prices_not_stale"}


def test_drill_series_rescaled_x100_mid_way(tmp_path):
    frame = zl_rows()
    later = frame["Date"] >= "2005-01-01"
    for column in ("Open", "High", "Low", "Last", "Settle"):
        frame.loc[later, column] = (frame.loc[later, column].astype(float) * 100).round(2).astype(str)
    conn = build(tmp_path, {ZL_FILE: to_bytes(frame)})
    assert "price_moves_plausible" in failing_gates(conn)


def test_drill_duplicated_day(tmp_path):
    frame = zl_rows()
    damaged = pd.concat([frame.iloc[:1000], frame.iloc[999:1000], frame.iloc[1000:]])
    with pytest.raises(ParseError, match=rf"{ZL_FILE}: 1 date\(s\) appear more than once, first 1993-12-"):
        build(tmp_path, {ZL_FILE: to_bytes(damaged)})


@pytest.mark.parametrize("cut", [-20, -1, 120_000], ids=["mid-last-row", "final-newline", "mid-file"])
def test_drill_file_truncated_mid_row(tmp_path, cut):
    body = shared_file("real", ZL_FILE).read_bytes()[:cut]
    with pytest.raises(ParseError, match=rf"{ZL_FILE}: truncated"):
        build(tmp_path, {ZL_FILE: body})


def test_features_from_vendor_files_are_point_in_time_across_rolls(tmp_path):
    """The settled reading of a roll needs the rest of its segment; the features must not. Two
    sessions after a day that looked like the roll when it happened but that a bigger move later
    in its segment displaced, features built from raw data cut there equal the full-history row."""
    macro = {name: shared_file("real", name).read_bytes() for name in ("DGS10_1990-2009_legacy_format.csv", "VIXCLS_1990-2009.csv")}
    conn = build(tmp_path, {ZL_FILE: shared_file("real", ZL_FILE).read_bytes(), **macro}, with_fred=True)
    for name in features.FEATURE_ORDER[1:]:
        features.run_sql(conn, SQL_DIR, name, CONFIG_DIR)
    hindsight = conn.execute(
        "SELECT trade_date FROM features.roll_calendar WHERE root = 'ZL' AND known_that_day AND NOT settled "
        "AND trade_date > DATE '1995-01-01' ORDER BY trade_date LIMIT 2").fetchall()
    assert len(hindsight) == 2
    days = [conn.execute("SELECT trade_date FROM features.zl_daily_matrix WHERE trade_date > ? ORDER BY trade_date "
                         "LIMIT 1 OFFSET 1", [day]).fetchone()[0] for (day,) in hindsight]
    assert features.point_in_time_mismatches(conn, SQL_DIR, days, config_dir=CONFIG_DIR) == {}
