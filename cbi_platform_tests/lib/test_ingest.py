import datetime as dt

import httpx
import pandas as pd
import pytest

from cbi_platform.lib.ingest import SourceSpec, ingest
from cbi_platform.lib.sources import databento, fred
from cbi_platform.lib.sources.base import ParseError, SourceError
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import sample_context

FRED = fred.spec()
DAILY = databento.spec("ohlcv-1d")


def table(conn, name, order):
    return conn.execute(f"SELECT * EXCLUDE (ingested_at) FROM {name} ORDER BY {order}").df()


def test_ranged_backfill_equals_single_days(tmp_path, conn):
    ctx = sample_context(tmp_path)
    ranged = Window(dt.date(2024, 3, 4), dt.date(2024, 3, 9))
    report = ingest(DAILY, ranged, ctx, conn)
    assert report.rows["raw.futures_ohlcv_1d"] > 0 and report.gaps == []
    whole = table(conn, "raw.futures_ohlcv_1d", "symbol, trade_date")
    conn.execute("DELETE FROM raw.futures_ohlcv_1d")
    for day in ranged.days():
        ingest(DAILY, Window(day, day + dt.timedelta(days=1)), ctx, conn)
    pd.testing.assert_frame_equal(whole, table(conn, "raw.futures_ohlcv_1d", "symbol, trade_date"))


def test_fred_daily_partitions_hold_what_was_published_that_day(tmp_path, conn):
    ctx = sample_context(tmp_path)
    day = dt.date(2024, 3, 4)  # a Monday: the weekly H.10 exchange rates appear
    ingest(FRED, Window(day, day + dt.timedelta(days=1)), ctx, conn)
    frame = table(conn, "raw.fred_observations", "series_id, observation_date")
    assert (frame["as_of_date"] == pd.Timestamp(day)).all() and (frame["realtime_start"] == pd.Timestamp(day)).all()
    brl = frame[frame["series_id"] == "DEXBZUS"]
    # last week's five business days, published together on Monday
    assert sorted(brl["observation_date"].dt.date) == [dt.date(2024, 2, 26) + dt.timedelta(days=i) for i in range(5)]
    assert set(frame["series_id"]) >= {"DFF", "DGS10", "VIXCLS", "DEXBZUS"}


def test_replay_reparses_the_landing_zone_without_network(tmp_path, conn):
    ctx = sample_context(tmp_path)
    window = Window(dt.date(2024, 3, 4), dt.date(2024, 3, 6))
    ingest(DAILY, window, ctx, conn)
    ingest(FRED, window, ctx, conn)
    fetched = {t: table(conn, t, "ALL") for t in ("raw.futures_ohlcv_1d", "raw.fred_observations")}
    conn.execute("DELETE FROM raw.futures_ohlcv_1d; DELETE FROM raw.fred_observations")

    def no_network(request):
        raise AssertionError(f"replay must not fetch {request.url}")

    replay = FetchContext("replay", ctx.landing, ctx.files_dir, ctx.config_dir, ctx.today, httpx.MockTransport(no_network))
    ingest(DAILY, Window(dt.date(2024, 3, 5), dt.date(2024, 3, 6)), replay, conn)  # a sub-window of what landed
    ingest(FRED, window, replay, conn)
    day = fetched["raw.futures_ohlcv_1d"]
    pd.testing.assert_frame_equal(day[day["as_of_date"] == pd.Timestamp("2024-03-05")].reset_index(drop=True),
                                  table(conn, "raw.futures_ohlcv_1d", "ALL"))
    pd.testing.assert_frame_equal(fetched["raw.fred_observations"], table(conn, "raw.fred_observations", "ALL"))


def test_a_bad_payload_writes_nothing(tmp_path, conn):
    ctx = sample_context(tmp_path)
    good = Window(dt.date(2024, 3, 4), dt.date(2024, 3, 5))
    ingest(DAILY, good, ctx, conn)
    before = table(conn, "raw.futures_ohlcv_1d", "ALL")

    def truncated(window, context):
        payloads = databento.fetch(window, context, "ohlcv-1d")
        return [p.__class__(**{**p.__dict__, "body": p.body[: len(p.body) // 2]}) for p in payloads]

    broken = SourceSpec("databento", truncated, databento.parse, DAILY.tables, DAILY.expected_keys)
    with pytest.raises(ParseError, match=r"databento \[2024-03-04\]"):
        ingest(broken, good, ctx, conn)
    pd.testing.assert_frame_equal(before, table(conn, "raw.futures_ohlcv_1d", "ALL"))


def test_live_mode_without_a_key_fails_fast_naming_the_variable(tmp_path, conn, monkeypatch):
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    ctx = sample_context(tmp_path)
    live = FetchContext("live", ctx.landing, ctx.files_dir, ctx.config_dir, ctx.today, ctx.transport)
    with pytest.raises(SourceError, match="FRED_API_KEY"):
        ingest(FRED, Window(dt.date(2024, 3, 4), dt.date(2024, 3, 5)), live, conn)
    assert conn.execute("SELECT count(*) FROM raw.fred_observations").fetchone()[0] == 0


def test_live_code_path_with_a_key_never_leaks_it(tmp_path, conn, monkeypatch, caplog):
    secret = "live-secret-0123456789abcdef"
    monkeypatch.setenv("FRED_API_KEY", secret)
    ctx = sample_context(tmp_path)
    live = FetchContext("live", ctx.landing, ctx.files_dir, ctx.config_dir, ctx.today, ctx.transport)
    with caplog.at_level("DEBUG"):
        report = ingest(FRED, Window(dt.date(2024, 3, 4), dt.date(2024, 3, 5)), live, conn)
    assert report.rows[fred.TABLE] > 0
    landed = "".join(p.read_text(errors="ignore") for p in (tmp_path / "landing").rglob("*.meta.json"))
    assert secret not in landed and secret not in caplog.text and secret not in " ".join(report.requests)


def test_symbols_that_return_nothing_are_reported_as_gaps(tmp_path, conn):
    ctx = sample_context(tmp_path)
    spec = SourceSpec("databento", DAILY.fetch,
                      lambda p: {k: v[~v["symbol"].str.startswith("ZL.")] for k, v in databento.parse(p).items()},
                      DAILY.tables, DAILY.expected_keys)
    report = ingest(spec, Window(dt.date(2024, 3, 4), dt.date(2024, 3, 9)), ctx, conn)
    assert report.gaps == ["ZL.c.0", "ZL.c.1"]
