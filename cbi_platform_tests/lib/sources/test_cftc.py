import csv
import datetime as dt
import io
import json
import zipfile

import httpx
import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib.landing import LandingZone
from cbi_platform.lib.sample import render_cftc
from cbi_platform.lib.sample.world import get_world
from cbi_platform.lib.sources import cftc
from cbi_platform.lib.sources.base import ParseError, Payload, RetryConfig, SourceError
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import CONFIG_DIR, TODAY, shared_file

YEAR_2023 = Window(dt.date(2023, 1, 1), dt.date(2024, 1, 1))
MARKETS = cftc.markets(CONFIG_DIR)


def fixture_zip() -> bytes:
    return shared_file("fixtures", "cftc_cot", "fut_disagg_txt_2023.zip").read_bytes()


def fixture_text() -> bytes:
    with zipfile.ZipFile(io.BytesIO(fixture_zip())) as archive:
        return archive.read("f_year.txt")


def make_zip(text: bytes, member: str = "f_year.txt") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, text)
    return buffer.getvalue()


def parsed(body: bytes, fmt: str = cftc.ZIP_FORMAT, window: Window = YEAR_2023, meta=None) -> pd.DataFrame:
    payload = Payload("cftc", "fut_disagg_txt_2023.zip" if fmt == cftc.ZIP_FORMAT else "72hh-3qpy.p0.json", fmt, body,
                      "GET test", window, {"markets": MARKETS} if meta is None else meta)
    return cftc.parse(payload)[cftc.TABLE]


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return parsed(fixture_zip())


@pytest.fixture(scope="module")
def world():
    return get_world(7, 1.0, CONFIG_DIR)


def cftc_transport(world, today: dt.date) -> httpx.MockTransport:
    """The renderer's routes (what the sample world's transport serves), plus a log of requests."""
    log: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        log.append(request)
        for host, prefix, handler in render_cftc.ROUTES:
            if request.url.host == host and request.url.path.startswith(prefix):
                return handler(world, request, today)
        return httpx.Response(404, content=b"<html>not found</html>")

    transport = httpx.MockTransport(handle)
    transport.log = log
    return transport


def sample_ctx(world, tmp_path, today: dt.date = TODAY, mode: str = "sample") -> FetchContext:
    return FetchContext(mode, LandingZone(tmp_path / "landing"), tmp_path / "files", CONFIG_DIR, today,
                        cftc_transport(world, today), RetryConfig(max_attempts=2, base_delay=0.0))


def fetched(window: Window, ctx: FetchContext) -> pd.DataFrame:
    frames = [cftc.parse(p)[cftc.TABLE] for p in cftc.fetch(window, ctx)]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cftc.COLUMNS)


# ---------------------------------------------------------------------------- the real 2023 file
def test_real_soybean_oil_report_of_2023_10_10(real):
    row = real[(real.cftc_contract_market_code == "007601") & (real.report_date == dt.date(2023, 10, 10))]
    assert len(row) == 1
    row = row.iloc[0]
    # values read from f_year.txt: "SOYBEAN OIL - CHICAGO BOARD OF TRADE",231010,2023-10-10,007601,CBT ,00,007 ,  416271, ...
    assert row.market_and_exchange_name == "SOYBEAN OIL - CHICAGO BOARD OF TRADE"
    assert row.root == "ZL"
    assert row.as_of_date == dt.date(2023, 10, 13)  # the Friday after
    assert (row.open_interest_all, row.managed_money_long, row.managed_money_short, row.managed_money_spread) == (
        416271, 61194, 33733, 67396)
    assert (row.prod_merc_long, row.prod_merc_short) == (92270, 231321)
    assert (row.swap_long, row.swap_short, row.swap_spread) == (100408, 7973, 7166)
    assert (row.other_rept_long, row.other_rept_short, row.other_rept_spread) == (33324, 21120, 23342)
    assert (row.nonrept_long, row.nonrept_short) == (31171, 24220)
    assert list(real.columns) == cftc.COLUMNS


def test_real_file_row_count_and_markets_for_the_configured_codes(real):
    assert len(MARKETS) == 24
    assert len(real) == 969  # 22 markets x 41 weeks, oats 35, lumber 32 (thin markets skip weeks)
    counts = real.groupby("cftc_contract_market_code").size()
    assert set(counts.index) == set(MARKETS)
    assert counts["004603"] == 35 and counts["058644"] == 32
    assert (counts.drop(["004603", "058644"]) == 41).all()
    assert real.report_date.min() == dt.date(2023, 1, 3) and real.report_date.max() == dt.date(2023, 10, 10)
    assert set(real.root) == set(MARKETS.values())
    # codes keep their leading zeros and lose the file's padding
    assert real.cftc_contract_market_code.str.fullmatch(r"\d{6}").all()
    assert not real.duplicated(list(cftc.PRIMARY_KEY)).any()
    # every real row balances: longs + spreads = shorts + spreads = open interest
    assert cftc.balance_violations(real).empty


def test_wti_is_found_by_code_whatever_its_name(real):
    wti = real[real.root == "CL"]
    assert len(wti) == 41 and set(wti.cftc_contract_market_code) == {"067651"}
    assert set(wti.market_and_exchange_name) == {"WTI-PHYSICAL - NEW YORK MERCANTILE EXCHANGE"}
    oct10 = wti[wti.report_date == dt.date(2023, 10, 10)].iloc[0]
    assert (oct10.open_interest_all, oct10.managed_money_long, oct10.managed_money_short) == (1753314, 281221, 26677)
    # the same rows under WTI's 2021 name are still CL; ICE's WTI (another code) never is
    lines = fixture_text().split(b"\r\n")
    renamed = [line.replace(b'"WTI-PHYSICAL - NEW YORK MERCANTILE EXCHANGE"',
                            b'"CRUDE OIL, LIGHT SWEET - NEW YORK MERCANTILE EXCHANGE"')
               for line in lines if b",067651," in line]
    ice = [line for line in lines if line.startswith(b'"CRUDE OIL, LIGHT SWEET-WTI - ICE FUTURES EUROPE"')]
    assert renamed and ice
    frame = parsed(make_zip(b"\r\n".join([lines[0], *renamed, *ice, b""])))
    assert len(frame) == 41 and set(frame.root) == {"CL"} and set(frame.cftc_contract_market_code) == {"067651"}
    assert set(frame.market_and_exchange_name) == {"CRUDE OIL, LIGHT SWEET - NEW YORK MERCANTILE EXCHANGE"}


def test_a_window_keeps_only_reports_released_in_it():
    # releases of 2023-10-03 and 2023-10-10: Fridays 10-06 and 10-13
    both = parsed(fixture_zip(), window=Window(dt.date(2023, 10, 1), dt.date(2023, 10, 14)))
    assert set(both.report_date) == {dt.date(2023, 10, 3), dt.date(2023, 10, 10)}
    assert len(both) == 48
    before_release = parsed(fixture_zip(), window=Window(dt.date(2023, 10, 7), dt.date(2023, 10, 13)))
    assert before_release.empty  # the 10-10 report is not public before Friday 10-13
    friday = parsed(fixture_zip(), window=Window(dt.date(2023, 10, 13), dt.date(2023, 10, 14)))
    assert set(friday.report_date) == {dt.date(2023, 10, 10)} and set(friday.as_of_date) == {dt.date(2023, 10, 13)}


# ---------------------------------------------------------------------------- release calendar
@pytest.mark.parametrize(
    "report, release",
    [
        (dt.date(2023, 10, 10), dt.date(2023, 10, 13)),  # an ordinary week
        (dt.date(2023, 11, 7), dt.date(2023, 11, 13)),  # Veterans Day observed on Friday 11-10
        (dt.date(2020, 6, 30), dt.date(2020, 7, 6)),  # Independence Day observed on Friday 07-03
        (dt.date(2020, 12, 22), dt.date(2020, 12, 28)),  # Christmas on a Friday
        (dt.date(2026, 6, 16), dt.date(2026, 6, 22)),  # Juneteenth on a Friday
        (dt.date(2023, 7, 4), dt.date(2023, 7, 7)),  # a Tuesday holiday does not move the Friday
    ],
)
def test_release_is_the_friday_after_or_the_next_business_day(report, release):
    assert cftc.release_date(report) == release


def test_release_days_in_a_window():
    assert cftc.releases_in(Window(dt.date(2026, 6, 15), dt.date(2026, 6, 29))) == [dt.date(2026, 6, 22), dt.date(2026, 6, 26)]
    assert cftc.releases_in(Window(dt.date(2026, 6, 19), dt.date(2026, 6, 20))) == []  # Juneteenth


def test_release_instant_is_half_past_three_new_york_time():
    assert cftc.release_datetime_utc(dt.date(2023, 10, 10)) == dt.datetime(2023, 10, 13, 19, 30)  # EDT
    assert cftc.release_datetime_utc(dt.date(2023, 12, 5)) == dt.datetime(2023, 12, 8, 20, 30)  # EST


def test_parsed_holiday_week_is_released_the_next_business_day():
    lines = fixture_text().split(b"\r\n")
    row = next(line for line in lines if b",007601," in line)
    holiday_week = row.replace(b",231010,2023-10-10,", b",200630,2020-06-30,")
    frame = parsed(make_zip(b"\r\n".join([lines[0], holiday_week, b""])), window=Window(dt.date(2020, 7, 6), dt.date(2020, 7, 7)))
    assert frame[["report_date", "as_of_date"]].values.tolist() == [[dt.date(2020, 6, 30), dt.date(2020, 7, 6)]]
    assert parsed(make_zip(b"\r\n".join([lines[0], holiday_week, b""])),
                  window=Window(dt.date(2020, 7, 3), dt.date(2020, 7, 6))).empty


# ---------------------------------------------------------------------------- column variants
def _small_csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = [",".join(f'"{h}"' for h in header)]
    out += [",".join(row) for row in rows]
    return ("\r\n".join(out) + "\r\n").encode()


POSITION_HEADER = ["Open_Interest_All", "Prod_Merc_Positions_Long_All", "Prod_Merc_Positions_Short_All",
                   "Swap_Positions_Long_All", "Swap__Positions_Short_All", "Swap__Positions_Spread_All",
                   "M_Money_Positions_Long_All", "M_Money_Positions_Short_All", "M_Money_Positions_Spread_All",
                   "Other_Rept_Positions_Long_All", "Other_Rept_Positions_Short_All", "Other_Rept_Positions_Spread_All",
                   "NonRept_Positions_Long_All", "NonRept_Positions_Short_All"]
POSITIONS = ["  1000", "  400", "  400", "  100", "  50", "  20", "  200", "  150", "  30", "  100", "  100", "  50",
             "  100", "  200"]


@pytest.mark.parametrize(
    "date_column, value",
    [("Report_Date_as_YYYY-MM-DD", "2012-06-05"), ("Report_Date_as_MM_DD_YYYY", "2012-06-05"),
     ("Report_Date_as_MM_DD_YYYY", "06/05/2012"), ("As_of_Date_In_Form_YYMMDD", "120605")],
)
def test_older_headers_and_date_styles_parse_alike(date_column, value):
    header = ["Market_and_Exchange_Names", date_column, "CFTC_Contract_Market_Code", *POSITION_HEADER]
    body = make_zip(_small_csv(header, [['"SOYBEAN OIL - CHICAGO BOARD OF TRADE"', value, "7601 ", *POSITIONS]]),
                    member="F_Disagg06_16.txt")
    frame = parsed(body, window=Window(dt.date(2012, 1, 1), dt.date(2013, 1, 1)))
    assert len(frame) == 1
    row = frame.iloc[0]
    assert (row.cftc_contract_market_code, row.root, row.report_date, row.as_of_date) == (
        "007601", "ZL", dt.date(2012, 6, 5), dt.date(2012, 6, 8))
    assert row.open_interest_all == 1000 and row.swap_spread == 20 and row.nonrept_short == 200
    assert cftc.balance_violations(frame).empty


# ---------------------------------------------------------------------------- Socrata JSON
def socrata_object(**overrides) -> dict:
    """One object in the documented 72hh-3qpy format (hand-written: no recorded response exists)."""
    row = {
        "market_and_exchange_names": "SOYBEAN OIL - CHICAGO BOARD OF TRADE",
        "report_date_as_yyyy_mm_dd": "2023-10-10T00:00:00.000",
        "yyyy_report_week_ww": "2023 Report Week 41",
        "cftc_contract_market_code": "007601",
        "open_interest_all": "416271",
        "prod_merc_positions_long": "92270",
        "prod_merc_positions_short": "231321",
        "swap_positions_long_all": "100408",
        "swap__positions_short_all": "7973",
        "swap__positions_spread_all": "7166",
        "m_money_positions_long_all": "61194",
        "m_money_positions_short_all": "33733",
        "m_money_positions_spread": "67396",
        "other_rept_positions_long": "33324",
        "other_rept_positions_short": "21120",
        "other_rept_positions_spread": "23342",
        "tot_rept_positions_long_all": "385100",
        "tot_rept_positions_short": "392051",
        "nonrept_positions_long_all": "31171",
        "nonrept_positions_short_all": "24220",
        "futonly_or_combined": "FutOnly",
    }
    row.update(overrides)
    return {k: v for k, v in row.items() if v is not None}


def test_socrata_json_gives_the_same_row_as_the_file(real):
    other = socrata_object(market_and_exchange_names="CRUDE OIL, LIGHT SWEET-WTI - ICE FUTURES EUROPE",
                           cftc_contract_market_code="06765T")
    frame = parsed(json.dumps([socrata_object(), other]).encode(), fmt=cftc.SOCRATA_FORMAT)
    assert len(frame) == 1  # the unconfigured code is not selected
    expected = real[(real.cftc_contract_market_code == "007601") & (real.report_date == dt.date(2023, 10, 10))]
    pd.testing.assert_frame_equal(frame, expected.reset_index(drop=True))


def test_socrata_empty_page_is_no_rows():
    assert parsed(b"[]\n", fmt=cftc.SOCRATA_FORMAT).empty


# ---------------------------------------------------------------------------- malformed input
def _replace_in_fixture(old: bytes, new: bytes, count: int = 1) -> bytes:
    return make_zip(fixture_text().replace(old, new, count))


def _corrupt(body: bytes) -> bytes:
    middle = len(body) // 2
    return body[:middle] + bytes(b ^ 0xFF for b in body[middle:middle + 64]) + body[middle + 64:]


@pytest.mark.parametrize(
    "make_body, message",
    [
        (lambda: b"", "empty body"),
        (lambda: b"<!DOCTYPE html><html><body>The page cannot be found</body></html>", "got HTML instead of a zip"),
        (lambda: b"just some bytes", "not a zip archive"),
        (lambda: fixture_zip()[: len(fixture_zip()) // 2], "truncated or corrupt zip"),
        (lambda: _corrupt(fixture_zip()), "truncated or corrupt zip"),
        (lambda: make_zip(fixture_text(), member="annual.txt"), "zip holds no f_year.txt"),
        (lambda: make_zip(b"<html><body>maintenance</body></html>"), "holds HTML"),
        (lambda: _replace_in_fixture(b'"M_Money_Positions_Short_All"', b'"Managed_Short"'), "missing required columns"),
        (lambda: _replace_in_fixture(b"007601,CBT ,00,007 ,  416271", b"007601,CBT ,00,007 ,  41x271"),
         "non-numeric '  41x271' in open_interest for 007601 report 2023-10-10"),
        (lambda: _replace_in_fixture(b"007601,CBT ,00,007 ,  416271", b"007601,CBT ,00,007 ,  -16271"), "negative"),
        (lambda: _replace_in_fixture(b",231010,2023-10-10,007601,", b",231010,2023-13-10,007601,"), "bad report date"),
        (lambda: make_zip(b""), "f_year.txt is empty"),
    ],
)
def test_malformed_archives_fail_with_source_and_partition(make_body, message):
    with pytest.raises(ParseError) as error:
        parsed(make_body())
    assert message in str(error.value)
    assert str(error.value).startswith("cftc [2023-01-01_2023-12-31]")


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "empty body"),
        (b"<html><body>503 Service Unavailable</body></html>", "got HTML/XML instead of JSON"),
        (b'[{"cftc_contract_market_code":"007601"', "malformed JSON"),
        (b'{"rows": []}', "expected a JSON array of objects"),
        (b'["007601"]', "expected a JSON array of objects"),
        (json.dumps([socrata_object(), socrata_object(m_money_positions_long_all=None,
                                                      report_date_as_yyyy_mm_dd="2023-10-03T00:00:00.000")]).encode(),
         "missing m_money_positions_long for 007601 report 2023-10-03"),
        (json.dumps([socrata_object(m_money_positions_long_all="n/a")]).encode(), "non-numeric 'n/a'"),
        (json.dumps([socrata_object(swap__positions_short_all=None, swap__positions_spread_all=None)]).encode(),
         "missing required columns ['swap_positions_short', 'swap_positions_spread']"),
        (json.dumps([socrata_object(report_date_as_yyyy_mm_dd="last tuesday")]).encode(), "bad report date"),
    ],
)
def test_malformed_socrata_pages_fail_clearly(body, message):
    with pytest.raises(ParseError, match="cftc") as error:
        parsed(body, fmt=cftc.SOCRATA_FORMAT)
    assert message in str(error.value)


def test_socrata_error_document_is_a_source_error():
    body = json.dumps({"code": "query.compiler.malformed", "error": True, "message": "Could not parse SoQL query"}).encode()
    with pytest.raises(SourceError, match="query.compiler.malformed: Could not parse SoQL query"):
        parsed(body, fmt=cftc.SOCRATA_FORMAT)


def test_payload_must_name_its_markets_and_format():
    with pytest.raises(ParseError, match="does not name its markets"):
        parsed(fixture_zip(), meta={})
    with pytest.raises(ParseError, match="unknown format"):
        parsed(fixture_zip(), fmt="cftc_xls")


# ---------------------------------------------------------------------------- fetch planning
def test_archives_and_socrata_split_by_year():
    today = dt.date(2026, 11, 20)
    early_january = Window(dt.date(2023, 1, 2), dt.date(2023, 1, 9))  # releases the 2022-12-27 report
    assert cftc.archive_names(early_january, today) == ["fut_disagg_txt_2022.zip", "fut_disagg_txt_2023.zip"]
    assert cftc.socrata_span(early_january, today) is None
    assert cftc.archive_names(Window(dt.date(2012, 3, 1), dt.date(2018, 3, 1)), today) == [
        cftc.COMBINED_ZIP, "fut_disagg_txt_2017.zip", "fut_disagg_txt_2018.zip"]
    this_year = Window(dt.date(2026, 10, 1), dt.date(2026, 12, 1))
    assert cftc.archive_names(this_year, today) == []
    assert cftc.socrata_span(this_year, today) == (dt.date(2026, 9, 21), today)
    history = Window(dt.date(2016, 1, 4), dt.date(2016, 1, 5), include_history=True)
    assert cftc.archive_names(history, today)[0] == cftc.COMBINED_ZIP
    where = cftc.socrata_where(dt.date(2026, 1, 1), dt.date(2026, 2, 1), ["007601", "067651"])
    assert where == ("report_date_as_yyyy_mm_dd between '2026-01-01T00:00:00.000' and '2026-02-01T00:00:00.000' "
                     "AND cftc_contract_market_code in ('007601','067651')")
    with pytest.raises(ValueError):
        cftc.socrata_where(dt.date(2026, 1, 1), dt.date(2026, 2, 1), ["0076') OR (1=1"])


def test_expected_keys_need_a_week_with_a_release(tmp_path, world):
    ctx = sample_ctx(world, tmp_path)
    week = Window(dt.date(2023, 10, 9), dt.date(2023, 10, 16))  # Friday 10-13 releases
    keys = cftc.expected_keys(ctx, week)
    assert "ZL" in keys and "CL" in keys and len(keys) == 24
    assert cftc.expected_keys(ctx, Window(dt.date(2023, 10, 13), dt.date(2023, 10, 14))) == []  # shorter than 7 days
    assert "LBR" not in cftc.expected_keys(ctx, Window(dt.date(2021, 10, 11), dt.date(2021, 10, 18)))  # listed 2022
    history = cftc.expected_keys(ctx, Window(dt.date(2016, 1, 4), dt.date(2016, 1, 5), include_history=True))
    assert len(history) == 23 and "LBR" not in history


# ---------------------------------------------------------------------------- the sample world
def test_sample_archive_has_the_real_layout(world):
    body = render_cftc.archive_zip(world, "fut_disagg_txt_2023.zip", TODAY)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.namelist() == ["f_year.txt"]
        text = archive.read("f_year.txt")
    real = fixture_text()
    assert text.split(b"\r\n")[0] == real.split(b"\r\n")[0]  # the 191 quoted names, in order
    assert text.endswith(b"\r\n") and b"\n" not in text.replace(b"\r\n", b"")
    line = next(x for x in text.split(b"\r\n")[1:] if b",007601," in x).decode()
    assert line.startswith('"SOYBEAN OIL - CHICAGO BOARD OF TRADE",231226,2023-12-26,007601,CBT ,00,007 ,')
    assert line.endswith(',"(CONTRACTS OF 60,000 POUNDS)","007601","CBT ","007 ","A30","FutOnly"')
    fields = line.split(",")
    assert len(fields) == 191 + 1  # the comma inside "(CONTRACTS OF 60,000 POUNDS)"
    assert all(len(f) == 8 for f in fields[7:55])  # positions padded to 8 like the real file
    frame = parsed(body)
    dates = frame[frame.root == "ZL"].report_date
    assert len(dates) == 52 and dates.min() == dt.date(2023, 1, 3)
    # rows grouped by market, newest report first
    rows = list(csv.reader(io.StringIO(text.decode())))[1:]
    assert all(len(row) == 191 for row in rows)
    codes = [row[3] for row in rows]
    assert codes == sorted(codes)
    zl = [row[2] for row in rows if row[3] == "007601"]
    assert zl == sorted(zl, reverse=True)
    assert cftc.balance_violations(frame).empty
    assert len(frame) == 52 * 23 + 52  # every configured code, LBR included (listed 2022)


def test_sample_combined_archive_uses_the_older_date_header(world):
    body = render_cftc.archive_zip(world, cftc.COMBINED_ZIP, TODAY)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.namelist() == ["F_Disagg06_16.txt"]
        header = archive.read("F_Disagg06_16.txt").split(b"\r\n")[0]
    assert b'"Report_Date_as_MM_DD_YYYY"' in header and b"YYYY-MM-DD" not in header
    frame = parsed(body, window=Window(dt.date(2005, 1, 1), dt.date(2017, 1, 1)))
    assert frame.report_date.min() == dt.date(2005, 1, 4) and frame.report_date.max() == dt.date(2016, 12, 27)
    wti = frame[frame.root == "CL"]
    assert set(wti.market_and_exchange_name) == {"CRUDE OIL, LIGHT SWEET - NEW YORK MERCANTILE EXCHANGE"}
    assert render_cftc.archive_zip(world, "fut_disagg_txt_2031.zip", TODAY) is None


def test_sample_positions_balance_in_every_block_and_follow_momentum(world):
    s = render_cftc.S
    for code in MARKETS:
        history = render_cftc.market_history(world, code)
        positions = history.positions
        assert (positions >= 0).all(), code
        for block in range(3):  # All, Old, Other
            p = positions[:, block]
            spreads = sum(p[:, s[k]] for k in render_cftc.SPREAD_SLOTS)
            assert (sum(p[:, s[k]] for k in render_cftc.LONG_SLOTS) + spreads == p[:, s["oi"]]).all(), code
            assert (sum(p[:, s[k]] for k in render_cftc.SHORT_SLOTS) + spreads == p[:, s["oi"]]).all(), code
            assert (p[:, s["tr_l"]] + p[:, s["nr_l"]] == p[:, s["oi"]]).all(), code
        assert (positions[:, 1] + positions[:, 2] == positions[:, 0]).all(), code
        net = (positions[:, 0, s["mm_l"]] - positions[:, 0, s["mm_s"]]) / positions[:, 0, s["oi"]]
        assert np.corrcoef(net, history.momentum_z)[0, 1] > 0.6, code
        # open interest scales with the contract's typical volume
        volume = world.sources.symbol(history.root).sample["volume"]
        assert 1.0 < positions[:, 0, s["oi"]].mean() / volume < 10.0, code
    # non-crop-year markets report Old = All, as the real file does
    cl = render_cftc.market_history(world, "067651").positions
    assert (cl[:, 2] == 0).all()


def test_sample_round_trip_through_both_formats_gives_the_same_rows(world, tmp_path):
    window = Window(dt.date(2026, 10, 1), dt.date(2026, 11, 1))
    this_year = sample_ctx(world, tmp_path / "a", today=dt.date(2026, 11, 20))  # 2026 from Socrata
    next_year = sample_ctx(world, tmp_path / "b", today=dt.date(2027, 2, 1))  # 2026 from the archive
    via_socrata = fetched(window, this_year)
    via_archive = fetched(window, next_year)
    assert {r.url.host for r in this_year.transport.log} == {"publicreporting.cftc.gov"}
    assert [r.url.path for r in next_year.transport.log] == ["/files/dea/history/fut_disagg_txt_2026.zip"]
    assert len(via_socrata) == 24 * 5  # releases 10-02, 10-09, 10-16, 10-23, 10-30
    pd.testing.assert_frame_equal(via_socrata, via_archive)
    assert set(via_socrata.as_of_date) == {dt.date(2026, 10, d) for d in (2, 9, 16, 23, 30)}


def test_sample_window_holds_only_reports_released_in_it(world, tmp_path):
    ctx = sample_ctx(world, tmp_path)
    # Friday 2026-06-19 is Juneteenth: the 06-16 report is released on Monday 06-22
    assert fetched(Window(dt.date(2026, 6, 19), dt.date(2026, 6, 20)), ctx).empty
    monday = fetched(Window(dt.date(2026, 6, 22), dt.date(2026, 6, 23)), ctx)
    assert set(monday.report_date) == {dt.date(2026, 6, 16)} and len(monday) == 24
    # nothing is served before its release: on Thursday the week's report does not exist yet
    thursday = sample_ctx(world, tmp_path / "thu", today=dt.date(2026, 11, 19))
    latest = fetched(Window(dt.date(2026, 11, 1), dt.date(2026, 11, 20)), thursday)
    assert latest.report_date.max() == dt.date(2026, 11, 10)
    assert fetched(Window(dt.date(2026, 11, 1), dt.date(2026, 11, 21)), ctx).report_date.max() == dt.date(2026, 11, 17)


def test_socrata_paging_until_a_short_page(world, tmp_path, monkeypatch):
    window = Window(dt.date(2026, 1, 1), dt.date(2026, 7, 1))
    whole = fetched(window, sample_ctx(world, tmp_path / "whole"))
    monkeypatch.setattr(cftc, "PAGE_LIMIT", 100)
    ctx = sample_ctx(world, tmp_path / "paged")
    payloads = [p for p in cftc.fetch(window, ctx) if p.format == cftc.SOCRATA_FORMAT]
    rows = sum(len(json.loads(p.body)) for p in payloads)
    assert len(payloads) == rows // 100 + 1 and rows >= 24 * 25
    offsets = [dict(r.url.params)["$offset"] for r in ctx.transport.log if r.url.host == render_cftc.SOCRATA_HOST]
    assert offsets == [str(100 * i) for i in range(len(payloads))]
    ordered = lambda frame: frame.sort_values(list(cftc.PRIMARY_KEY)).reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(ordered(fetched(window, sample_ctx(world, tmp_path / "again"))), ordered(whole))
    paged = pd.concat([cftc.parse(p)[cftc.TABLE] for p in payloads], ignore_index=True)
    pd.testing.assert_frame_equal(ordered(paged), ordered(whole[whole.report_date >= dt.date(2026, 1, 1)]))


def test_live_socrata_sends_the_app_token_only_when_set(tmp_path, monkeypatch):
    seen: list[httpx.Request] = []

    def handle(request):
        seen.append(request)
        return httpx.Response(200, content=b"[]\n", headers={"Content-Type": "application/json"})

    ctx = FetchContext("live", LandingZone(tmp_path), tmp_path, CONFIG_DIR, TODAY, httpx.MockTransport(handle),
                       RetryConfig(max_attempts=1, base_delay=0.0))
    window = Window(dt.date(2026, 11, 16), dt.date(2026, 11, 21))
    monkeypatch.delenv(cftc.TOKEN_ENV, raising=False)
    assert len(cftc.fetch(window, ctx)) == 1  # no token: still works (lower rate limit)
    assert "X-App-Token" not in seen[-1].headers
    monkeypatch.setenv(cftc.TOKEN_ENV, "my-app-token")
    cftc.fetch(window, ctx)
    assert seen[-1].headers["X-App-Token"] == "my-app-token"
    assert seen[-1].url.host == "publicreporting.cftc.gov" and seen[-1].url.path == "/resource/72hh-3qpy.json"
    params = dict(seen[-1].url.params)
    assert params["$where"].startswith("report_date_as_yyyy_mm_dd between '2026-11-06T00:00:00.000' and '2026-11-20")
    assert params["$order"] == "report_date_as_yyyy_mm_dd,cftc_contract_market_code"


def test_html_instead_of_an_archive_fails_the_partition(tmp_path):
    def handle(request):
        return httpx.Response(200, content=b"<!DOCTYPE html><html><body>Site maintenance</body></html>",
                              headers={"Content-Type": "text/html"})

    ctx = FetchContext("live", LandingZone(tmp_path), tmp_path, CONFIG_DIR, TODAY, httpx.MockTransport(handle),
                       RetryConfig(max_attempts=1, base_delay=0.0))
    payloads = cftc.fetch(Window(dt.date(2023, 10, 9), dt.date(2023, 10, 16)), ctx)
    assert [p.name for p in payloads] == ["fut_disagg_txt_2023.zip"]
    with pytest.raises(ParseError, match=r"cftc \[2023-10-09_2023-10-15\]: fut_disagg_txt_2023.zip: got HTML"):
        cftc.parse(payloads[0])


def test_files_mode_reads_downloaded_archives(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "fut_disagg_txt_2023.zip").write_bytes(fixture_zip())
    ctx = FetchContext("files", LandingZone(tmp_path / "landing"), files, CONFIG_DIR, TODAY)
    frame = fetched(Window(dt.date(2023, 10, 13), dt.date(2023, 10, 14)), ctx)
    assert len(frame) == 24 and set(frame.report_date) == {dt.date(2023, 10, 10)}
    # no archive supplied: an empty table, not an error (its no_gaps check warns)
    assert cftc.fetch(YEAR_2023, FetchContext("files", LandingZone(tmp_path), tmp_path / "none", CONFIG_DIR, TODAY)) == []


def test_ingest_writes_the_window_into_the_warehouse(world, tmp_path, conn):
    from cbi_platform.lib.ingest import ingest

    spec = cftc.spec()
    ctx = sample_ctx(world, tmp_path)
    window = Window(dt.date(2026, 3, 2), dt.date(2026, 3, 9))
    report = ingest(spec, window, ctx, conn)
    assert report.rows == {cftc.TABLE: 24} and report.gaps == []
    again = ingest(spec, window, ctx, conn)  # idempotent
    assert again.rows == {cftc.TABLE: 24}
    rows = conn.execute("SELECT root, report_date, as_of_date, open_interest_all FROM raw.cftc_cot ORDER BY root").fetchall()
    assert len(rows) == 24 and {r[1] for r in rows} == {dt.date(2026, 3, 3)} and {r[2] for r in rows} == {dt.date(2026, 3, 6)}
    assert [p.name for p in LandingZone(tmp_path / "landing").read("cftc", window)] == [
        "72hh-3qpy.2026-02-20_2026-03-08.p0.json"]


def test_codes_without_a_known_market_get_a_plausible_name():
    from dataclasses import replace
    from types import SimpleNamespace

    from cbi_platform.lib.config import load_sources

    corn = replace(load_sources(CONFIG_DIR).symbol("ZC"), root="XC", cftc_code="99960A")
    stub = SimpleNamespace(symbols=(corn,), sources=SimpleNamespace(symbol=lambda root: corn))
    info = render_cftc.market_info(stub, "99960A")
    assert info.name == "CORN - CHICAGO BOARD OF TRADE" and info.market_code == "CBT " and info.commodity_code == "999 "
    assert info.units == "(CONTRACTS OF 5,000 BU)"
    assert render_cftc.market_name(stub, "99960A", dt.date(2020, 1, 7)) == info.name


def test_the_sample_world_transport_serves_cftc_once_registered(world, tmp_path, monkeypatch):
    from cbi_platform.lib.sample import transport

    if "render_cftc" not in transport.RENDERERS:
        monkeypatch.setattr(transport, "RENDERERS", (*transport.RENDERERS, "render_cftc"))
    served = transport.SampleWorldTransport(world, TODAY)
    ctx = FetchContext("sample", LandingZone(tmp_path), tmp_path, CONFIG_DIR, TODAY, served, RetryConfig(max_attempts=1))
    frame = fetched(Window(dt.date(2025, 12, 29), dt.date(2026, 1, 12)), ctx)  # the 2025 archive and Socrata
    assert set(frame.report_date) == {dt.date(2025, 12, 30), dt.date(2026, 1, 6)} and len(frame) == 48
    assert served.requests == ["GET www.cftc.gov/files/dea/history/fut_disagg_txt_2025.zip",
                               "GET publicreporting.cftc.gov/resource/72hh-3qpy.json"]
