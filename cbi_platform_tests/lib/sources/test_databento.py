import datetime as dt

import databento_dbn as dbn
import numpy as np
import pandas as pd
import pytest
import zstandard

from cbi_platform.lib.sample.render_dbn import OHLCV_DTYPE, DbnRenderer
from cbi_platform.lib.sample.world import get_world
from cbi_platform.lib.sources import databento
from cbi_platform.lib.sources.base import ParseError, Payload
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import CONFIG_DIR, TODAY, shared_file

WINDOW = Window(dt.date(2020, 12, 28), dt.date(2020, 12, 29))


def dbn_payload(body: bytes, name="x.dbn.zst") -> Payload:
    return Payload("databento", name, "dbn", body, "POST timeseries.get_range", WINDOW, {})


def fixture_bytes(schema: str) -> bytes:
    return shared_file("fixtures", "databento", f"GLBX.MDP3_ESH1_2020-12-28.{schema}.dbn.zst").read_bytes()


def test_daily_fixture_real_bar():
    frame = databento.parse(dbn_payload(fixture_bytes("ohlcv-1d")))[databento.TABLES["ohlcv-1d"]]
    assert len(frame) == 1
    bar = frame.iloc[0]
    assert (bar["symbol"], bar["root"], bar["instrument_id"]) == ("ESH1", "ES", 5482)
    assert pd.isna(bar["rank"])  # a raw contract symbol, not a continuous rank
    assert bar["trade_date"] == dt.date(2020, 12, 28) == bar["as_of_date"]
    assert [bar["open"], bar["high"], bar["low"], bar["close"]] == [3702.75, 3735.0, 3697.25, 3735.0]
    assert bar["volume"] == 718174


def test_hourly_fixture_real_bars():
    frame = databento.parse(dbn_payload(fixture_bytes("ohlcv-1h")))[databento.TABLES["ohlcv-1h"]]
    assert list(frame["ts_event"].dt.hour) == [0, 1, 2, 3]
    assert list(frame["close"]) == [3705.75, 3711.75, 3715.25, 3717.75]
    assert list(frame["volume"]) == [11891, 14364, 10784, 8651]
    assert frame.iloc[2][["open", "high", "low"]].tolist() == [3711.50, 3717.00, 3710.50]
    # 00:00 UTC on Monday 28 Dec is 18:00 CT on Sunday: the Globex session of trade date 28 Dec
    assert set(frame["trade_date"]) == {dt.date(2020, 12, 28)}


def _raw(body: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompress(body, max_output_size=10**7)


@pytest.mark.parametrize("cut", [1, 20, 55])
def test_truncated_dbn_is_an_error_not_a_warning(cut):
    raw = _raw(fixture_bytes("ohlcv-1h"))
    with pytest.raises(ParseError, match="invalid DBN"):
        databento.parse(dbn_payload(raw[:-cut]))


@pytest.mark.parametrize("body, message", [
    (b"", "empty body"),
    (b"<html><head><title>503</title></head></html>", "HTML/JSON instead of DBN"),
    (b'{"detail": "Authentication failed."}', "HTML/JSON instead of DBN"),
    (b"DBN\x03garbage", "invalid DBN"),
])
def test_malformed_dbn(body, message):
    with pytest.raises(ParseError, match=message) as error:
        databento.parse(dbn_payload(body))
    assert str(error.value).startswith("databento [2020-12-28]")


def test_vectorised_records_are_byte_identical_to_databento_dbn():
    record = np.zeros(1, dtype=OHLCV_DTYPE)
    record["length"], record["rtype"], record["publisher_id"], record["instrument_id"] = 14, 0x23, 1, 5482
    record["ts_event"] = 1609113600000000000
    record["open"], record["high"], record["low"], record["close"] = 3702750000000, 3735000000000, 3697250000000, 3735000000000
    record["volume"] = 718174
    reference = bytes(dbn.OHLCVMsg(rtype=0x23, publisher_id=1, instrument_id=5482, ts_event=1609113600000000000,
                                   open=3702750000000, high=3735000000000, low=3697250000000, close=3735000000000,
                                   volume=718174))
    assert record.tobytes() == reference
    assert _raw(fixture_bytes("ohlcv-1d")).endswith(reference)


@pytest.fixture(scope="module")
def renderer():
    return DbnRenderer(get_world(7, 1.0, CONFIG_DIR))


def test_sample_daily_roundtrip_with_rolls(renderer):
    body = renderer.render(["ZL.c.0", "ZL.c.1", "MES.c.0", "XX.c.0"], "ohlcv-1d", dt.date(2018, 1, 1), dt.date(2020, 1, 1), TODAY)
    frame = databento.parse(dbn_payload(body))[databento.TABLES["ohlcv-1d"]]
    front = frame[frame["symbol"] == "ZL.c.0"].sort_values("trade_date")
    second = frame[frame["symbol"] == "ZL.c.1"].set_index("trade_date")
    # ZL lists 8 months a year: about 16 rolls in two years, and every day's second month
    # is the next day's front at a roll
    rolls = front[front["instrument_id"].diff().fillna(0) != 0]
    assert 14 <= len(rolls) <= 17
    for _, row in rolls.iterrows():
        previous = front[front["trade_date"] < row["trade_date"]].iloc[-1]
        assert second.loc[previous["trade_date"], "instrument_id"] == row["instrument_id"]
    # MES lists in 2019-05: only part of the window; the unknown root is not found
    import databento as db
    metadata = db.DBNStore.from_bytes(body).metadata
    assert "XX.c.0" in metadata.not_found and "MES.c.0" in metadata.partial
    assert frame[frame["symbol"] == "MES.c.0"]["trade_date"].min() >= dt.date(2019, 5, 6)
    assert ((frame["high"] >= frame[["open", "close"]].max(axis=1)) & (frame["low"] <= frame[["open", "close"]].min(axis=1))).all()


@pytest.mark.parametrize("source", ["real ohlcv-1h", "real ohlcv-1d", "sample ohlcv-1h", "sample statistics"])
def test_symbols_are_mapped_exactly_as_dbnstore_maps_them(renderer, source):
    """Our per-(instrument, date) mapping replaces DBNStore's (70% of decoding time): it must
    give the same symbol on every record, across rolls, for ts_event- and ts_recv-keyed schemas."""
    import databento as db

    from cbi_platform.lib.sample.render_dbn import StatisticsRenderer

    kind, schema = source.split()
    if kind == "real":
        body = fixture_bytes(schema)
    elif schema == "statistics":
        body = StatisticsRenderer(renderer.world).render_statistics(["ZL.c.0", "ZL.c.1"], dt.date(2023, 1, 1),
                                                                    dt.date(2024, 1, 1), TODAY)
    else:
        body = renderer.render(["ZL.c.0", "ZL.c.1", "ES.c.0"], schema, dt.date(2023, 1, 1), dt.date(2023, 7, 1), TODAY)
    store = db.DBNStore.from_bytes(body)
    expected = store.to_df(map_symbols=True)["symbol"].to_numpy()
    frame, _, _ = databento.decode(dbn_payload(body))
    np.testing.assert_array_equal(frame["symbol"].to_numpy(), expected)
    assert len(set(expected)) >= 1 and not pd.isna(expected).any()
    if kind == "sample":  # rolls happened inside the window: one symbol, several instruments
        assert frame.groupby("symbol")["instrument_id"].nunique().max() >= 2


def test_sample_prices_sit_on_the_tick_grid(renderer):
    body = renderer.render(["ZL.c.0", "ES.c.0"], "ohlcv-1d", dt.date(2024, 1, 1), dt.date(2024, 3, 1), TODAY)
    frame = databento.parse(dbn_payload(body))[databento.TABLES["ohlcv-1d"]]
    for root, tick in (("ZL", 0.01), ("ES", 0.25)):
        prices = frame[frame["root"] == root][["open", "high", "low", "close"]].to_numpy()
        assert np.allclose(np.round(prices / tick) * tick, prices, atol=1e-9)


def test_sample_hourly_bars_aggregate_to_the_daily_bar(renderer):
    start, end = dt.date(2024, 3, 4), dt.date(2024, 3, 9)
    daily = databento.parse(dbn_payload(renderer.render(["ES.c.0", "ZL.c.0"], "ohlcv-1d", start, end, TODAY)))[databento.TABLES["ohlcv-1d"]]
    rendered = renderer.render(["ES.c.0", "ZL.c.0"], "ohlcv-1h", start - dt.timedelta(days=1), end, TODAY)
    hourly = databento.parse(dbn_payload(rendered))[databento.TABLES["ohlcv-1h"]]
    grouped = hourly.groupby(["symbol", "trade_date"]).agg(high=("high", "max"), low=("low", "min"), volume=("volume", "sum"),
                                                           close=("close", "last"), bars=("close", "size"))
    merged = daily.set_index(["symbol", "trade_date"]).join(grouped, rsuffix="_h", how="inner")
    assert len(merged) == 10
    assert np.allclose(merged["high"], merged["high_h"]) and np.allclose(merged["low"], merged["low_h"])
    assert np.allclose(merged["close"], merged["close_h"])
    assert (merged["volume"] == merged["volume_h"]).all()
    # Globex hours: 23 bars for ES, grains trade 19:00-07:45 and 08:30-13:20 CT: 19 hourly bars
    assert set(merged.loc["ES.c.0", "bars"]) == {23} and set(merged.loc["ZL.c.0", "bars"]) == {19}


def test_settle_csv_real_file():
    body = shared_file("real", "ZL_front_daily_1990-2009.csv").read_bytes()
    payload = Payload("databento", "ZL_front_daily.csv", "settle_csv", body, "file", WINDOW, {"root": "ZL"})
    frame = databento.parse(payload)[databento.TABLES["ohlcv-1d"]]
    assert len(frame) == 5037
    first = frame.iloc[0]
    assert first["trade_date"] == dt.date(1990, 1, 2)
    assert [first["open"], first["high"], first["low"], first["close"], first["volume"]] == [19.2, 19.2, 18.86, 18.87, 11926]
    assert first["prev_day_open_interest"] == 38563.0 and first["symbol"] == "ZL.c.0"
    assert frame["instrument_id"].isna().all() and frame["change"].isna().all()


@pytest.mark.parametrize("body, message", [
    (b"", "empty file"),
    (b"Date,Open,Close\n1990-01-02,1,2\n", "expected"),
    (b"Date,Open,High,Low,Last,Change,Settle,Volume,Previous Day Open Interest\n1990-01-02,x,1,1,1,,1,1,1\n", "bad row"),
])
def test_malformed_settle_csv(body, message):
    payload = Payload("databento", "ZL.csv", "settle_csv", body, "file", WINDOW, {"root": "ZL"})
    with pytest.raises(ParseError, match=message):
        databento.parse(payload)


def test_statistics_roundtrip_publishes_the_next_morning(renderer):
    from cbi_platform.lib.sample.render_dbn import StatisticsRenderer

    world = renderer.world
    body = StatisticsRenderer(world).render_statistics(["ZL.c.0", "ZL.c.1"], dt.date(2024, 3, 4), dt.date(2024, 3, 9), TODAY)
    frame = databento.parse(dbn_payload(body))[databento.TABLES["statistics"]]
    front = frame[frame["symbol"] == "ZL.c.0"].sort_values("trade_date")
    # Monday's publication describes Friday's session; each later one the previous session
    assert list(front["trade_date"]) == [dt.date(2024, 3, 1)] + [dt.date(2024, 3, d) for d in (4, 5, 6, 7)]
    assert list(front["as_of_date"]) == [dt.date(2024, 3, d) for d in (4, 5, 6, 7, 8)]
    assert (frame["open_interest"] > 0).all() and (frame["settlement_price"] > 0).all()
    # the settlement equals the daily bar's close of the same contract and session
    bars = databento.parse(dbn_payload(renderer.render(["ZL.c.0"], "ohlcv-1d", dt.date(2024, 3, 4), dt.date(2024, 3, 8), TODAY)))
    closes = bars[databento.TABLES["ohlcv-1d"]].set_index("trade_date")["close"]
    for day in (dt.date(2024, 3, 4), dt.date(2024, 3, 5)):
        assert front.set_index("trade_date").loc[day, "settlement_price"] == pytest.approx(closes.loc[day])


def test_statistics_are_public_when_their_last_figure_is(renderer):
    """A session's settlement, volume and open interest can be published on different mornings:
    its row is known only once the last of them is out."""
    from cbi_platform.lib.sample.render_dbn import STAT_DTYPE, STAT_OPEN_INTEREST, StatisticsRenderer

    body = StatisticsRenderer(renderer.world).render_statistics(["ZL.c.0"], dt.date(2024, 3, 4), dt.date(2024, 3, 9), TODAY)
    raw = _raw(body)
    header = 8 + int.from_bytes(raw[4:8], "little")  # b"DBN", version, metadata length, metadata
    records = np.frombuffer(raw[header:], dtype=STAT_DTYPE).copy()
    late = (records["stat_type"] == STAT_OPEN_INTEREST) & (
        records["ts_ref"] == np.datetime64("2024-03-05", "ns").astype(np.int64))
    assert late.sum() == 1
    records["ts_event"][late] += np.uint64(86_400 * 10**9)  # published a day late
    edited = zstandard.ZstdCompressor().compress(raw[:header] + records.tobytes())
    frame = databento.parse(dbn_payload(edited))[databento.TABLES["statistics"]].sort_values("trade_date")
    assert list(frame["trade_date"]) == [dt.date(2024, 3, 1)] + [dt.date(2024, 3, d) for d in (4, 5, 6, 7)]
    assert list(frame["as_of_date"]) == [dt.date(2024, 3, d) for d in (4, 5, 7, 7, 8)]


def test_options_bars_and_definitions_roundtrip(renderer):
    from cbi_platform.lib.sample.render_dbn import OptionsRenderer

    options = OptionsRenderer(renderer.world)
    args = ("ZL.OPT", dt.date(2024, 3, 4), dt.date(2024, 3, 6), TODAY)
    bars = databento.parse(dbn_payload(options.render_options(args[0], "ohlcv-1d", *args[1:])))["raw.options_ohlcv_1d"]
    definitions = databento.parse(dbn_payload(options.render_options(args[0], "definition", *args[1:])))["raw.options_definitions"]
    assert set(bars["instrument_id"]) <= set(definitions["instrument_id"])
    assert set(definitions["option_type"]) == {"C", "P"} and (definitions["strike"] > 0).all()
    # every bar has its instrument's definition of the same day
    joined = bars.merge(definitions.rename(columns={"as_of_date": "trade_date"}), on=["instrument_id", "parent", "trade_date"])
    assert len(joined) == len(bars)
    # put-call parity around the money: call - put ~ forward - strike (zero rates)
    day = joined[joined["trade_date"] == dt.date(2024, 3, 4)]
    expiry = day["expiration"].min()
    near = day[day["expiration"] == expiry].pivot_table(index="strike", columns="option_type", values="close")
    differences = (near["C"] - near["P"]).dropna()
    implied_forward = (differences + differences.index).median()
    assert np.allclose(differences + differences.index, implied_forward, atol=0.05)
    assert (joined["expiration"] > joined["trade_date"]).all()


def test_a_days_option_bars_and_definitions_are_the_same_alone_or_inside_a_range(renderer):
    """A daily refresh re-ingests today's partition alone: it must store what the ranged backfill
    stored for that day, no more, no less."""
    from cbi_platform.lib.sample.render_dbn import OptionsRenderer

    options = OptionsRenderer(renderer.world)
    day = dt.date(2024, 3, 6)
    for schema, table, date_column in (("definition", "raw.options_definitions", "as_of_date"),
                                       ("ohlcv-1d", "raw.options_ohlcv_1d", "trade_date")):
        def rows(start: dt.date, schema=schema, table=table) -> pd.DataFrame:
            rendered = options.render_options("ZL.OPT", schema, start, day + dt.timedelta(days=1), TODAY)
            return databento.parse(dbn_payload(rendered))[table].drop(columns=["ingested_at"], errors="ignore")

        ranged, alone = rows(dt.date(2024, 2, 26)), rows(day)
        in_range = ranged[ranged[date_column] == day]
        assert len(alone) > 20 and set(alone[date_column]) == {day}, schema
        pd.testing.assert_frame_equal(in_range.sort_values("instrument_id").reset_index(drop=True),
                                      alone.sort_values("instrument_id").reset_index(drop=True), obj=schema)


@pytest.mark.parametrize("version", [1, 2, 3])
def test_any_dbn_version_decodes(version):
    from cbi_platform.lib.sample.render_dbn import _Interval, _Mapping

    mapping = _Mapping("ESH1", [_Interval(dt.date(2020, 12, 28), dt.date(2020, 12, 29), "5482")])
    metadata = dbn.Metadata(dataset="GLBX.MDP3", start=0, end=2 * 10**18, stype_in=dbn.SType.RAW_SYMBOL,
                            stype_out=dbn.SType.INSTRUMENT_ID, schema=dbn.Schema.OHLCV_1D, symbols=["ESH1"],
                            mappings=[mapping], version=version)
    raw = _raw(fixture_bytes("ohlcv-1d"))
    record = raw[-56:]
    frame = databento.parse(dbn_payload(metadata.encode() + record))[databento.TABLES["ohlcv-1d"]]
    assert frame["close"].tolist() == [3735.0] and frame["instrument_id"].tolist() == [5482]
