import datetime as dt

import httpx
import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib.config import load_yaml
from cbi_platform.lib.landing import LandingZone
from cbi_platform.lib.sample import render_epa_rin
from cbi_platform.lib.sample.world import get_world
from cbi_platform.lib.sources import epa_rin
from cbi_platform.lib.sources.base import ParseError, Payload, RetryConfig, SourceError
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import CONFIG_DIR, shared_file

WINDOW = Window(dt.date(2022, 12, 1), dt.date(2022, 12, 2))
HEADER = b"Transfer Date by Week,Transfer Year,RIN Year,Fuel (D Code),QAP Service Type,RIN Price"


def real_export() -> bytes:
    return shared_file("fixtures", "epa_rin", "epa_rin_price_data_export_2016-12_to_2022-11.csv").read_bytes()


def parsed(body: bytes, lag: int = 10) -> pd.DataFrame:
    payload = Payload("epa_rin", "rin.csv", epa_rin.FORMAT, body, "GET export", WINDOW, {"publication_lag_days": lag})
    return epa_rin.parse(payload)[epa_rin.TABLE]


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return parsed(real_export())


@pytest.fixture(scope="module")
def world():
    return get_world(7, 1.0, CONFIG_DIR)


def sample_ctx(world, tmp_path, today: dt.date, mode: str = "sample") -> FetchContext:
    transport = httpx.MockTransport(lambda request: render_epa_rin.handler(world, request, today))
    return FetchContext(mode, LandingZone(tmp_path), tmp_path, CONFIG_DIR, today, transport,
                        RetryConfig(max_attempts=3, base_delay=0.0))


# ---------------------------------------------------------------------------- real export
def test_real_export_keeps_every_row_with_real_values(real):
    assert len(real) == 3557
    assert list(real.columns) == epa_rin.COLUMNS
    first = real.iloc[0]
    # the first row of the file: "12/26/2016","2017","2016","D6","Unverified","$0.84"
    assert (first.week_start, first.transfer_year, first.rin_year, first.d_code, first.qap_service_type) == (
        dt.date(2016, 12, 26), 2017, 2016, "D6", "Unverified")
    assert first.price == pytest.approx(0.84)
    d4 = real[(real.week_start == dt.date(2017, 1, 2)) & (real.d_code == "D4") & (real.rin_year == 2016)
              & (real.qap_service_type == "Q-RIN")]
    assert d4.price.tolist() == pytest.approx([1.04])
    assert set(real.d_code) == {"D3", "D4", "D5", "D6"}
    assert real.week_start.min() == dt.date(2016, 12, 26) and real.week_start.max() == dt.date(2022, 11, 21)
    assert real.week_start.nunique() == 309


def test_real_weekly_mean_price_per_d_code(real):
    week = real[(real.week_start == dt.date(2022, 11, 21)) & (real.d_code == "D6")]
    # $1.78, $1.68, $1.61, $1.69 (RIN years 2019..2022, all Unverified)
    assert sorted(week.price) == pytest.approx([1.61, 1.68, 1.69, 1.78])
    assert week.price.mean() == pytest.approx(1.69)
    assert real[(real.week_start == dt.date(2019, 6, 3)) & (real.d_code == "D6")].price.mean() == pytest.approx(0.49 / 3)


def test_year_end_week_rows_differ_by_transfer_year(real):
    # the week of 12/31/2018 has rows for transfer years 2018 and 2019 with the same RIN year,
    # D code and QAP type: transfer_year belongs in the primary key
    week = real[(real.week_start == dt.date(2018, 12, 31)) & (real.d_code == "D4") & (real.rin_year == 2018)
                & (real.qap_service_type == "Q-RIN")]
    assert week.set_index("transfer_year").price.to_dict() == pytest.approx({2018: 0.43, 2019: 0.42})
    assert not real.duplicated(list(epa_rin.PRIMARY_KEY)).any()


def test_as_of_date_is_week_start_plus_configured_lag(real):
    assert (real.as_of_date == real.week_start + dt.timedelta(days=10)).all()
    late = parsed(real_export(), lag=45)
    assert late.as_of_date.iloc[0] == dt.date(2017, 2, 9)


def test_bom_and_line_endings_do_not_change_the_rows(real):
    body = real_export()
    # the recorded export has no BOM and ends with CRLF (PROVENANCE.md says no final newline)
    assert not body.startswith(b"\xef\xbb\xbf") and body.endswith(b'"$1.69"\r\n')
    pd.testing.assert_frame_equal(parsed(b"\xef\xbb\xbf" + body), real)
    pd.testing.assert_frame_equal(parsed(body.rstrip(b"\r\n")), real)
    pd.testing.assert_frame_equal(parsed(body.replace(b"\r\n", b"\n")), real)


def test_d7_rows_are_accepted():
    body = HEADER + b'\r\n"3/6/2023","2023","2023","D7","Q-RIN","$2.05"\r\n"3/6/2023","2023","2023","D4","Q-RIN","$1,234.50"'
    frame = parsed(body)
    assert frame.d_code.tolist() == ["D7", "D4"]
    assert frame.price.tolist() == pytest.approx([2.05, 1234.5])


@pytest.mark.parametrize("body, message", [
    (b"", "empty body"),
    (b"\r\n  ", "empty body"),
    (b"<!DOCTYPE html><html><body>Access Denied</body></html>", "HTML instead of the CSV"),
    (b"\xef\xbb\xbf<html><head><title>Qlik Sense</title></head></html>", "HTML instead of the CSV"),
    (b"Week,Fuel,Price\r\n\"1/2/2017\",\"D4\",\"$1.04\"", "header"),
    (HEADER, "no rows"),
    (HEADER + b'\r\n"2017-01-02","2017","2016","D4","Q-RIN","$1.04"', "Transfer Date by Week"),
    (HEADER + b'\r\n"1/3/2017","2017","2016","D4","Q-RIN","$1.04"', "Mondays"),
    (HEADER + b'\r\n"1/2/2017","2017","2016","D4","Q-RIN","1.04 USD"', "RIN Price"),
    (HEADER + b'\r\n"1/2/2017","2017","2016","D4","Q-RIN",""', "RIN Price"),
    (HEADER + b'\r\n"1/2/2017","2017","2016","D9","Q-RIN","$1.04"', "D3..D7"),
    (HEADER + b'\r\n"1/2/2017","17","2016","D4","Q-RIN","$1.04"', "Transfer Year"),
    (HEADER + b'\r\n"1/2/2017","2017","2016","D4","Q-RIN","$1.04"\r\n"1/9/2017","2017","2016","D4","Q-R', "not a CSV"),
    (HEADER + b'\r\n"1/2/2017","2017","2016","D4","Q-RIN","$1.04"\r\n"1/9/2017","2017"', "RIN Year"),
    (HEADER + b'\r\n"1/2/2017","2017","2016","D4","Q-RIN","$1.04"\r\n"1/2/2017","2017","2016","D4","Q-RIN","$1.05"', "share a key"),
    (b"\xff\xfeT\x00r\x00", "not UTF-8"),
])
def test_malformed_exports_raise_parse_error_naming_source_and_partition(body, message):
    with pytest.raises(ParseError) as error:
        parsed(body)
    assert str(error.value).startswith("epa_rin [2022-12-01]: rin.csv")
    assert message in str(error.value)


def test_parse_needs_the_publication_lag_in_meta():
    payload = Payload("epa_rin", "rin.csv", epa_rin.FORMAT, real_export(), "GET export", WINDOW, {})
    with pytest.raises(ParseError, match="publication_lag_days"):
        epa_rin.parse(payload)


# ---------------------------------------------------------------------------- config and gaps
def test_config_and_sample_route_agree():
    config = epa_rin.load_config(CONFIG_DIR)
    assert config.publication_lag_days == 10
    assert config.export_url == f"https://{render_epa_rin.EXPORT_HOST}{render_epa_rin.EXPORT_PATH}"
    assert render_epa_rin.ROUTES[0][:2] == (render_epa_rin.EXPORT_HOST, render_epa_rin.EXPORT_PATH)
    assert load_yaml(CONFIG_DIR / "sources" / "epa_rin.yaml")["publication_lag_days"] == 10


def test_expected_keys_by_window_length(tmp_path, world):
    ctx = sample_ctx(world, tmp_path, dt.date(2024, 1, 1))
    assert epa_rin.expected_keys(ctx, Window(dt.date(2023, 1, 2), dt.date(2023, 1, 3))) == []
    assert epa_rin.expected_keys(ctx, Window(dt.date(2023, 1, 2), dt.date(2023, 1, 9))) == ["D3", "D4", "D6"]
    assert epa_rin.expected_keys(ctx, Window(dt.date(2023, 1, 2), dt.date(2023, 3, 1))) == ["D3", "D4", "D5", "D6"]
    assert epa_rin.expected_keys(ctx, Window(dt.date(2023, 1, 2), dt.date(2023, 1, 3), True)) == ["D3", "D4", "D5", "D6"]


# ---------------------------------------------------------------------------- sample world
def test_sample_export_has_the_real_wire_format(world):
    body = render_epa_rin.export_csv(world, dt.date(2020, 3, 1))
    assert body.startswith(b"\xef\xbb\xbf" + HEADER + b"\r\n\"1/3/2005\",\"2005\",\"2004\",\"D3\",\"Q-RIN\",\"$")
    assert body.endswith(b'"\r\n') and b"\n" not in body.replace(b"\r\n", b"")
    lines = body.decode("utf-8-sig").removesuffix("\r\n").split("\r\n")
    assert all(line.count('"') == 12 and line.count(",") == 5 for line in lines[1:])
    # a week that spans New Year has rows for both transfer years, as the real export does
    assert any(line.startswith('"12/30/2019","2020","2019"') for line in lines)
    assert any(line.startswith('"12/30/2019","2019","2018"') for line in lines)


def test_sample_round_trip_mean_price_equals_world_price(world, tmp_path):
    today = dt.date(2024, 6, 30)
    ctx = sample_ctx(world, tmp_path, today)
    payloads = epa_rin.fetch(Window(dt.date(2024, 6, 1), dt.date(2024, 7, 1)), ctx)
    assert [p.request for p in payloads] == ["GET https://www.epa.gov/system/files/other-files/rin-price-data-export.csv"]
    frame = epa_rin.parse(payloads[0])[epa_rin.TABLE]
    published = [w for w, p in enumerate(world.rin_published) if p <= today]
    assert frame.week_start.nunique() == len(published)
    assert frame.week_start.max() == world.week_starts[published[-1]]
    assert (frame.as_of_date <= today).all()
    assert set(frame.as_of_date) == {world.rin_published[w] for w in published}
    means = frame.groupby(["week_start", "d_code"]).price.mean().unstack()
    logs = {"D3": world.rin_log_d3, "D4": world.rin_log_d4, "D5": world.rin_log_d5, "D6": world.rin_log_d6}
    for code, values in logs.items():
        expected = np.round(np.exp(values[published]), 2)
        assert np.abs(means[code].to_numpy() - expected).max() < 1e-9, code
    # prices really are scattered, not all equal to the mean
    assert frame.groupby(["week_start", "d_code"]).price.nunique().mean() > 2
    assert set(frame.qap_service_type) == {"Q-RIN", "Unverified"}
    # the planted signal's input: D4 4-week log momentum as published, recomputed from the export
    d4 = np.log(means["D4"].to_numpy())
    momentum = d4[4:] - d4[:-4]
    truth = world.rin_log_d4[published][4:] - world.rin_log_d4[published][:-4]
    assert np.corrcoef(momentum, truth)[0, 1] > 0.999


def test_sample_serves_only_weeks_published_by_today(world, tmp_path):
    week = 800
    start = world.week_starts[week]
    published = world.rin_published[week]
    assert published == start + dt.timedelta(days=10)
    before = epa_rin.parse(epa_rin.fetch(WINDOW, sample_ctx(world, tmp_path, published - dt.timedelta(days=1)))[0])[epa_rin.TABLE]
    on_day = epa_rin.parse(epa_rin.fetch(WINDOW, sample_ctx(world, tmp_path, published))[0])[epa_rin.TABLE]
    assert before.week_start.max() == start - dt.timedelta(days=7)
    assert on_day.week_start.max() == start
    # history does not change as days pass
    pd.testing.assert_frame_equal(on_day[on_day.week_start < start].reset_index(drop=True), before)


def test_window_holds_only_what_was_published_in_it(world, tmp_path):
    from cbi_platform.lib.ingest import parse_window

    today = dt.date(2024, 6, 30)
    window = Window(dt.date(2024, 6, 10), dt.date(2024, 6, 17))
    spec = epa_rin.spec()
    frame = parse_window(spec, window, epa_rin.fetch(window, sample_ctx(world, tmp_path, today)))[epa_rin.TABLE]
    weeks = [ws for ws, pub in zip(world.week_starts, world.rin_published) if window.contains(pub)]
    assert weeks == [dt.date(2024, 6, 3)]
    assert set(frame.week_start) == set(weeks) and set(frame.as_of_date) == {dt.date(2024, 6, 13)}
    assert sorted(frame.d_code.unique()) == ["D3", "D4", "D5", "D6"]


def test_sample_export_is_deterministic(world):
    today = dt.date(2023, 5, 5)
    first = render_epa_rin.export_csv(world, today)
    render_epa_rin._lines.cache_clear()
    assert render_epa_rin.export_csv(world, today) == first
    other = get_world(8, 1.0, CONFIG_DIR)
    assert render_epa_rin.export_csv(other, today) != first


def test_sample_unknown_path_is_a_404_source_error(world, tmp_path):
    ctx = sample_ctx(world, tmp_path, dt.date(2024, 1, 1))
    with ctx.http("epa_rin", WINDOW) as client, pytest.raises(SourceError, match="HTTP 404"):
        client.get("https://www.epa.gov/system/files/other-files/missing.csv")


def test_files_mode_reads_every_matching_export(world, tmp_path):
    ctx = sample_ctx(world, tmp_path, dt.date(2024, 1, 1), mode="files")
    assert epa_rin.fetch(WINDOW, ctx) == []  # no export supplied: an empty table, not an error
    (tmp_path / "epa_rin_2016_2022.csv").write_bytes(real_export())
    (tmp_path / "other.csv").write_bytes(b"ignored")
    payloads = epa_rin.fetch(WINDOW, ctx)
    assert [p.name for p in payloads] == ["epa_rin_2016_2022.csv"]
    assert payloads[0].meta == {"publication_lag_days": 10}
    assert len(epa_rin.parse(payloads[0])[epa_rin.TABLE]) == 3557


def test_parsed_frame_fits_the_table(conn, real):
    from cbi_platform.lib import warehouse

    columns = warehouse.table_columns(conn, epa_rin.TABLE)
    assert columns == [*epa_rin.COLUMNS, "ingested_at"]
    window = Window(dt.date(2016, 12, 1), dt.date(2023, 1, 1))
    inserted = warehouse.replace_window(conn, epa_rin.TABLE, real.assign(ingested_at=pd.Timestamp("2024-01-01")), window)
    assert inserted == 3557
    assert conn.execute("SELECT round(avg(price), 4) FROM raw.epa_rin_prices WHERE week_start = DATE '2022-11-21' "
                        "AND d_code = 'D6'").fetchone()[0] == pytest.approx(1.69)
