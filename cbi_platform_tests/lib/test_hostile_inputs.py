"""Hostile and broken inputs that used to pass silently (issue 14): truncation per format, the
window-shrink guard, decompression and row limits, errors that name their cause, replay paths
confined to the landing zone, and FRED CSV dates that respect federal holidays. Each test
reproduces what happened before its guard existed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import struct
import zipfile

import numpy as np
import pandas as pd
import pytest
import zstandard

from cbi_platform.lib import warehouse
from cbi_platform.lib.ingest import ShrinkRefused, ingest, parse_window
from cbi_platform.lib.landing import LandingZone
from cbi_platform.lib.sources import cftc, databento, epa_rin, fred, news, news_config
from cbi_platform.lib.sources.base import ParseError, Payload, SourceError
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.sources.limits import SourceLimits
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import CONFIG_DIR, SQL_DIR, shared_file

DAY = Window(dt.date(2009, 12, 1), dt.date(2009, 12, 2))
HISTORY = Window(dt.date(1950, 1, 1), dt.date(2010, 1, 1), include_history=True)


def files_context(tmp_path, files: dict[str, bytes], today=dt.date(2010, 1, 1)) -> FetchContext:
    folder = tmp_path / "files"
    folder.mkdir(exist_ok=True)
    for name, body in files.items():
        (folder / name).write_bytes(body)
    return FetchContext("files", LandingZone(tmp_path / "landing"), folder, CONFIG_DIR, today)


def fred_csv(body: bytes, series="DGS10", release=None) -> Payload:
    return Payload("fred", f"{series}.csv", "fred_csv", body, "file", DAY,
                   {"series_id": series, "frequency": "d", "release": release or {"lag_days": 1}})


# ------------------------------------------------------------------ truncation, per format
def test_a_fred_csv_cut_mid_value_is_refused_not_stored_wrong():
    body = shared_file("real", "DGS10_1990-2009_legacy_format.csv").read_bytes()
    assert body.endswith(b"2009-12-31,3.85\n")
    cut = body[:-2]  # "...2009-12-31,3.8": a plausible, wrong value
    with pytest.raises(ParseError, match=r"fred \[2009-12-01\]: DGS10.csv: truncated"):
        fred.parse(fred_csv(cut))
    assert fred.parse(fred_csv(body))[fred.TABLE]["value"].iloc[-1] == pytest.approx(3.85)


def test_a_fred_csv_of_random_bytes_names_the_file():
    noise = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(ParseError, match=r"fred \[2009-12-01\]: DGS10.csv: not UTF-8 text"):
        fred.parse(fred_csv(noise))


def two_frame_dbn() -> bytes:
    """The recorded hourly DBN payload re-framed as Databento's DBN v1 files are: metadata in
    one zstd frame, records in a second."""
    recorded = shared_file("fixtures", "databento", "GLBX.MDP3_ESH1_2020-12-28.ohlcv-1h.dbn.zst").read_bytes()
    raw = zstandard.ZstdDecompressor().stream_reader(recorded).read()
    metadata_end = 8 + struct.unpack("<I", raw[4:8])[0]
    compress = zstandard.ZstdCompressor().compress
    return compress(raw[:metadata_end]) + compress(raw[metadata_end:])


def dbn_payload(body: bytes, limit: int | None = None) -> Payload:
    meta = {"schema": "ohlcv-1h"} | ({"max_decompressed_bytes": limit} if limit else {})
    return Payload("databento", "GLBX.MDP3.ohlcv-1h.dbn.zst", "dbn", body, "file",
                   Window(dt.date(2020, 12, 28), dt.date(2020, 12, 29)), meta)


@pytest.mark.parametrize("cut", [1, 3, 8])
def test_a_two_frame_dbn_cut_by_a_few_bytes_is_refused(cut):
    body = two_frame_dbn()
    assert len(databento.decode(dbn_payload(body))[0]) == 4  # the whole file: four hourly bars
    with pytest.raises(ParseError, match="truncated zstd stream"):
        databento.decode(dbn_payload(body[:-cut]))


def rss(items: int) -> bytes:
    entries = "".join(f"<item><title>Item {k}</title><link>https://example.org/{k}</link>"
                      f"<pubDate>Mon, 04 Nov 2024 {k % 24:02d}:00:00 GMT</pubDate></item>" for k in range(items))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{entries}</channel></rss>\n'.encode()


def feed_payload(body: bytes) -> Payload:
    config = news_config.load_config(CONFIG_DIR)
    return Payload("news", "fpn_trade.xml", news.RSS_FORMAT, body, "GET feed",
                   Window(dt.date(2024, 11, 1), dt.date(2024, 12, 1)), news_config.payload_meta(config, config.feed("fpn_trade")))


def test_an_rss_feed_cut_in_half_is_refused_not_shortened():
    body = rss(26)
    assert len(news.parse(feed_payload(body))[news.TABLE]) == 26
    with pytest.raises(ParseError, match=r"news \[2024-11-01_2024-11-30\]: fpn_trade.xml: truncated feed .*</rss>"):
        news.parse(feed_payload(body[: len(body) // 2]))
    # a comment or whitespace after the closing tag is still a whole document
    assert len(news.parse(feed_payload(body + b"<!-- cached -->\n"))[news.TABLE]) == 26


# --------------------------------------------------------------------- the window-shrink guard
def zl_file() -> bytes:
    return shared_file("real", "ZL_front_daily_1990-2009.csv").read_bytes()


def test_an_export_cut_at_a_line_end_cannot_shrink_a_window(tmp_path):
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    whole = zl_file()
    ctx = files_context(tmp_path, {"ZL_front_daily_1990-2009.csv": whole})
    ingest(databento.spec("ohlcv-1d"), HISTORY, ctx, conn)
    before = conn.execute("SELECT count(*) FROM raw.futures_ohlcv_1d").fetchone()[0]
    assert before == whole.count(b"\n") - 1
    lines = whole.splitlines(keepends=True)
    (tmp_path / "files" / "ZL_front_daily_1990-2009.csv").write_bytes(b"".join(lines[: len(lines) * 6 // 10]))
    with pytest.raises(ShrinkRefused) as refused:
        ingest(databento.spec("ohlcv-1d"), HISTORY, ctx, conn)
    message = str(refused.value)
    assert message.startswith("databento [1950-01-01_2009-12-31+history]: raw.futures_ohlcv_1d")
    assert f"({before} -> {len(lines) * 6 // 10 - 1} rows; ZL.c.0: {before} -> {len(lines) * 6 // 10 - 1})" in message
    assert conn.execute("SELECT count(*) FROM raw.futures_ohlcv_1d").fetchone()[0] == before  # nothing written
    # the run can say a shrink is expected
    ingest(databento.spec("ohlcv-1d"), HISTORY, ctx, conn, allow_shrink=True)
    assert conn.execute("SELECT count(*) FROM raw.futures_ohlcv_1d").fetchone()[0] == len(lines) * 6 // 10 - 1


def test_an_export_cut_to_nothing_in_a_window_is_refused(tmp_path):
    """EPA's export cut at a line end before the window's weeks: the window held rows, the new
    payload none."""
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    export = shared_file("fixtures", "epa_rin", "epa_rin_price_data_export_2016-12_to_2022-11.csv").read_bytes()
    name = "epa_rin_price_data_export.csv"
    ctx = files_context(tmp_path, {name: export}, today=dt.date(2023, 1, 1))
    window = Window(dt.date(2022, 6, 1), dt.date(2022, 7, 1))
    first = ingest(epa_rin.spec(), window, ctx, conn)
    held = first.rows["raw.epa_rin_prices"]
    assert held > 0
    lines = export.splitlines(keepends=True)
    kept = [line for line in lines if b"/2022" not in line or line.startswith((b'"1/', b'"2/', b'"3/', b'"4/'))]
    (tmp_path / "files" / name).write_bytes(b"".join(kept))
    with pytest.raises(ShrinkRefused, match=rf"raw.epa_rin_prices: the new payloads would shrink the window \({held} -> 0"):
        ingest(epa_rin.spec(), window, ctx, conn)
    assert conn.execute("SELECT count(*) FROM raw.epa_rin_prices").fetchone()[0] == held


def test_a_window_may_grow_and_an_empty_window_may_stay_empty(tmp_path):
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    lines = zl_file().splitlines(keepends=True)
    ctx = files_context(tmp_path, {"ZL_front_daily_1990-2009.csv": b"".join(lines[:1000])})
    ingest(databento.spec("ohlcv-1d"), HISTORY, ctx, conn)
    (tmp_path / "files" / "ZL_front_daily_1990-2009.csv").write_bytes(b"".join(lines))
    assert ingest(databento.spec("ohlcv-1d"), HISTORY, ctx, conn).rows["raw.futures_ohlcv_1d"] == len(lines) - 1


# ------------------------------------------------------------------ decompression and row limits
def test_a_zip_bomb_stops_at_the_decompressed_limit():
    member = io.BytesIO()
    with zipfile.ZipFile(member, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("f_year.txt", b"0" * (64 * 2**20))
    body = member.getvalue()
    assert len(body) < 100_000  # 64 MiB in well under 100 KB
    payload = Payload("cftc", "fut_disagg_txt_2024.zip", "cftc_zip", body, "file", DAY,
                      {"max_decompressed_bytes": 8 * 2**20})
    with pytest.raises(ParseError, match=r"f_year.txt: more than 8,388,608 bytes once decompressed"):
        cftc.parse(payload)


def test_a_zstd_bomb_stops_at_the_decompressed_limit():
    bomb = zstandard.ZstdCompressor(level=19).compress(b"\0" * (256 * 2**20))
    assert len(bomb) < 20_000
    with pytest.raises(ParseError, match="more than 16,777,216 bytes once decompressed"):
        databento.decode(dbn_payload(bomb, limit=16 * 2**20))


def test_ingestion_hands_the_configured_limit_to_the_parser_and_caps_rows():
    body = shared_file("real", "DGS10_1990-2009_legacy_format.csv").read_bytes()
    spec = fred.spec()
    payload = dataclasses.replace(fred_csv(body), window=HISTORY)
    assert len(parse_window(spec, HISTORY, [payload], SourceLimits())["raw.fred_observations"]) == 5218  # one in 2010
    with pytest.raises(ParseError, match=r"DGS10.csv: 5,219 rows, above the source's limit of 1,000"):
        parse_window(spec, HISTORY, [payload], SourceLimits(max_rows=1000))
    seen = []
    recording = dataclasses.replace(spec, parse=lambda p: seen.append(p.meta["max_decompressed_bytes"]) or {})
    parse_window(recording, HISTORY, [payload], SourceLimits(max_decompressed_bytes=12345))
    assert seen == [12345]


# ------------------------------------------------------------------ errors that name the cause
def test_a_not_null_violation_is_reported_not_masked_by_the_rollback(tmp_path):
    """A settle row with no close used to surface as "Current transaction is aborted"."""
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    row = {"symbol": "ZL.c.0", "root": "ZL", "rank": 0, "trade_date": dt.date(2009, 12, 1), "instrument_id": None,
           "open": 40.0, "high": 41.0, "low": 39.0, "close": None, "volume": 1.0, "open_interest": 1.0,
           "as_of_date": dt.date(2009, 12, 1)}
    columns = set(warehouse.table_columns(conn, "raw.futures_ohlcv_1d"))
    frame = pd.DataFrame([{k: v for k, v in row.items() if k in columns}])
    with pytest.raises(Exception) as error:
        warehouse.replace_window(conn, "raw.futures_ohlcv_1d", frame, DAY)
    assert "NOT NULL" in str(error.value) and "transaction is aborted" not in str(error.value)
    # the connection is usable afterwards
    assert conn.execute("SELECT count(*) FROM raw.futures_ohlcv_1d").fetchone()[0] == 0


# ------------------------------------------------------------------ replay trusts nothing
def test_replay_cannot_read_outside_the_landing_zone(tmp_path):
    landing = LandingZone(tmp_path / "landing")
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("do not read")
    folder = tmp_path / "landing" / "fred" / DAY.label
    folder.mkdir(parents=True)
    (folder / "x.csv.meta.json").write_text(json.dumps({
        "name": "../../../outside/secret.txt", "format": "fred_csv", "request": "r", "fetched_at": "2024-01-01"}))
    with pytest.raises(SourceError, match=r"fred \[2009-12-01\]: replay: .* not a landing record .*plain file"):
        landing.read("fred", DAY)
    with pytest.raises(SourceError, match="landing: not a plain file or folder name"):
        landing.write(Payload("fred", "../escape.csv", "fred_csv", b"x", "r", DAY))
    assert not (tmp_path / "landing" / "fred" / "escape.csv").exists()


# ------------------------------------------------------------------ point in time around holidays
def test_fred_csv_rows_are_not_dated_on_a_federal_holiday():
    """2009-01-16 (Fri) is published the next business day: Mon 2009-01-19 is Martin Luther
    King Jr. Day, so Tuesday. Presidents' Day and Thanksgiving likewise."""
    body = b"DATE,DGS10\n2009-01-16,2.32\n2009-02-13,2.89\n2009-11-25,3.28\n2009-11-27,3.21\n"
    frame = fred.parse(fred_csv(body))[fred.TABLE].set_index("observation_date")
    assert frame.loc[dt.date(2009, 1, 16), "as_of_date"] == dt.date(2009, 1, 20)
    assert frame.loc[dt.date(2009, 2, 13), "as_of_date"] == dt.date(2009, 2, 17)
    assert frame.loc[dt.date(2009, 11, 25), "as_of_date"] == dt.date(2009, 11, 27)  # Thanksgiving the 26th
    assert frame.loc[dt.date(2009, 11, 27), "as_of_date"] == dt.date(2009, 11, 30)


def test_weekly_batches_due_on_a_holiday_monday_come_on_tuesday():
    """DEXBZUS: the H.10 release of the week's rates comes on Monday, on Tuesday after a Monday
    holiday (Labor Day 2009-09-07)."""
    body = b"DATE,DEXBZUS\n2009-08-31,1.8900\n2009-09-04,1.8750\n2009-09-08,1.8400\n"
    rows = fred.parse(fred_csv(body, series="DEXBZUS", release={"batch_weekday": 0}))[fred.TABLE]
    published = dict(zip(rows["observation_date"], rows["as_of_date"]))
    assert published[dt.date(2009, 8, 31)] == published[dt.date(2009, 9, 4)] == dt.date(2009, 9, 8)
    assert published[dt.date(2009, 9, 8)] == dt.date(2009, 9, 14)


def test_items_that_rolled_off_a_feed_are_kept_when_the_day_is_ingested_again(tmp_path):
    """A feed shows only its latest items: a refetch of the same day lacking the morning's items
    must neither delete them nor be refused as a shrink."""

    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    window = Window(dt.date(2024, 11, 4), dt.date(2024, 11, 5))
    spec = news.spec()

    def feed(first: int, last: int) -> bytes:
        items = "".join(f"<item><title>Item {k}</title><link>https://example.org/{k}</link>"
                        f"<pubDate>Mon, 04 Nov 2024 {k:02d}:00:00 GMT</pubDate></item>" for k in range(first, last))
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>\n'.encode()

    def ingest_feed(body: bytes) -> None:
        payload = dataclasses.replace(feed_payload(body), window=window)
        fetching = dataclasses.replace(spec, fetch=lambda w, ctx: [payload])
        ctx = FetchContext("sample", LandingZone(tmp_path / "landing"), tmp_path, CONFIG_DIR, dt.date(2024, 11, 5))
        ingest(fetching, window, ctx, conn)

    ingest_feed(feed(0, 12))   # the morning: items 0-11
    ingest_feed(feed(8, 20))   # the evening: 0-7 rolled off, 12-19 are new
    titles = sorted(t for (t,) in conn.execute("SELECT title FROM raw.news_items").fetchall())
    assert titles == sorted(f"Item {k}" for k in range(20))
