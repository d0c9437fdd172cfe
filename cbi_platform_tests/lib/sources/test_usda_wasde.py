import datetime as dt
import gzip
import json

import httpx
import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib.ingest import parse_window
from cbi_platform.lib.landing import LandingZone
from cbi_platform.lib.sample import render_wasde
from cbi_platform.lib.sample.world import get_world
from cbi_platform.lib.sources import usda_wasde
from cbi_platform.lib.sources.base import ParseError, Payload, RetryConfig
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import CONFIG_DIR, TODAY, shared_file

RELEASE = dt.date(2019, 4, 9)  # WASDE-587, the April 2019 report
WINDOW = Window(RELEASE, RELEASE + dt.timedelta(days=1))
SPEC = usda_wasde.spec()


@pytest.fixture(scope="module")
def config():
    return usda_wasde.load_config(CONFIG_DIR)


@pytest.fixture(scope="module")
def real_bytes() -> bytes:
    return shared_file("fixtures", "usda_wasde", "wasde0419.xml").read_bytes()


def xml_payload(body: bytes, config, release=RELEASE, name="wasde0419.xml") -> Payload:
    return Payload("usda_wasde", name, usda_wasde.XML_FORMAT, body, "GET wasde0419.xml", WINDOW,
                   usda_wasde.xml_meta(config, release))


@pytest.fixture(scope="module")
def real(real_bytes, config) -> pd.DataFrame:
    return usda_wasde.parse(xml_payload(real_bytes, config))[usda_wasde.TABLE]


def cell(frame, **where) -> pd.Series:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        mask &= frame[column] == value
    rows = frame[mask]
    assert len(rows) == 1, f"{len(rows)} rows for {where}"
    return rows.iloc[0]


# ------------------------------------------------------------------------------------ real file
def test_real_us_soybean_balance_april_2019(real):
    us_soy = dict(table_title="U.S. Soybeans and Products Supply and Use (Domestic Measure)", commodity="Soybeans",
                  region="United States", market_year="2018/19")
    april = cell(real, attribute="Ending Stocks", projection_month="Apr", **us_soy)
    assert april["value"] == 895.0 and april["unit"] == "Million Bushels"
    assert april["market_year_status"] == "Proj." and april["sub_report"] == "sr15"
    assert cell(real, attribute="Ending Stocks", projection_month="Mar", **us_soy)["value"] == 900.0
    assert cell(real, attribute="Crushings", projection_month="Apr", **us_soy)["value"] == 2100.0
    assert cell(real, attribute="Production", projection_month="Apr", **us_soy)["value_text"] == "4,544"
    assert cell(real, attribute="Yield Per Harvested Acre", projection_month="Apr", **us_soy)["unit"] == "Bushels"
    assert cell(real, attribute="Area Planted", projection_month="Apr", **us_soy)["unit"] == "Million Acres"
    price = cell(real, attribute="Avg. Farm Price ($/bu)", projection_month="Apr", **us_soy)
    assert (price["value"], price["unit"]) == (8.60, "$/bu")
    estimate = cell(real, attribute="Ending Stocks", **{**us_soy, "market_year": "2017/18"})
    assert (estimate["value"], estimate["market_year_status"], estimate["projection_month"]) == (438.0, "Est.", "")
    assert {april["release_date"], april["as_of_date"]} == {RELEASE}
    assert (april["wasde_number"], april["report_month"]) == (587, dt.date(2019, 4, 1))


def test_real_soybean_oil_and_meal_rows(real):
    us = dict(table_title="U.S. Soybeans and Products Supply and Use (Domestic Measure)", region="United States",
              market_year="2018/19", projection_month="Apr")
    # the US oil block prints "Ending stocks" (lower case): capitalised like every other table
    oil = cell(real, commodity="Soybean Oil", attribute="Ending Stocks", **us)
    assert oil["unit"] == "Million Pounds" and oil["value"] > 0
    assert cell(real, commodity="Soybean Oil", attribute="Avg. Price (c/lb)", **us)["unit"] == "c/lb"
    # a unit split over two header cells ("Thousand Short", " Tons")
    assert cell(real, commodity="Soybean Meal", attribute="Ending Stocks", **us)["unit"] == "Thousand Short Tons"
    world_oil = dict(table_title="World Soybean Oil Supply and Use", commodity="Soybean Oil", market_year="2018/19",
                     projection_month="Apr")
    assert cell(real, region="World", attribute="Production", **world_oil)["value"] == 56.97
    assert cell(real, region="World", attribute="Ending Stocks", **world_oil)["value"] == 3.70
    assert cell(real, region="United States", attribute="Ending Stocks", **world_oil)["value"] == 0.84
    assert cell(real, region="World", attribute="Production", **world_oil)["unit"] == "Million Metric Tons"


def test_bom_single_line_file_parses_with_and_without_bom(real_bytes, real, config):
    assert real_bytes.startswith(b"\xef\xbb\xbf<?xml") and b"\n" not in real_bytes
    without_bom = usda_wasde.parse(xml_payload(real_bytes[3:], config))[usda_wasde.TABLE]
    pd.testing.assert_frame_equal(without_bom, real)


def test_title_typo_and_continuation_pages_join_their_table(real_bytes, real):
    assert b'sub_report_title="World and U.S Supply and Use for Grains  1/"' in real_bytes
    grains = real[real["table_title"] == "World and U.S. Supply and Use for Grains"]
    assert set(grains["sub_report"]) == {"sr08", "sr09"}  # sr09: "..., Continued" (the Foreign block)
    assert set(grains["region"]) == {"World", "United States", "Foreign"}
    world_wheat = cell(grains, sub_report="sr08", region="World", commodity="Wheat", market_year="2018/19",
                       projection_month="Apr", attribute="Ending Stocks")
    assert world_wheat["value"] == 275.61
    # sr18 (2016/17, 2017/18 Est.) and sr19 "(Cont'd.)" (2018/19 Proj. by month) are one table
    wheat = real[real["table_title"] == "World Wheat Supply and Use"]
    assert set(wheat["sub_report"]) == {"sr18", "sr19"}
    assert set(zip(wheat["market_year"], wheat["market_year_status"])) == {("2016/17", ""), ("2017/18", "Est."),
                                                                          ("2018/19", "Proj.")}
    # tables that are not configured (rice, cotton, sugar, livestock, reliability) are left out
    assert not real["table_title"].str.contains("Rice|Cotton|Sugar|Meat|Reliability").any()
    assert usda_wasde.title_key("World and U.S Supply and Use for Grains  1/") == \
        usda_wasde.title_key("World and U.S. Supply and Use for Grains")


def test_real_world_rows_balance_within_rounding(real):
    world = real[real["table_title"].str.startswith("World Soybean") & (real["projection_month"] == "Apr")]
    table = world.pivot_table(index=["commodity", "region"], columns="attribute", values="value")
    residual = (table["Beginning Stocks"] + table["Production"] + table["Imports"] - table["Domestic Total"]
                - table["Exports"] - table["Ending Stocks"])
    assert residual.abs().max() <= 0.025  # USDA rounds each of six printed items to 0.01


def test_primary_key_is_unique_and_columns_match_the_schema(real):
    assert not real.duplicated(list(usda_wasde.PRIMARY_KEY)).any()
    assert list(real.columns) == usda_wasde.COLUMNS
    assert real["value"].isna().sum() == (real["value_text"] == "").sum() > 0  # blank header rows


@pytest.mark.parametrize("text, value", [
    ("1,687", 1687.0), ("106.2 *", 106.2), ("5.10 - 5.20", 5.15), ("1.510-\r\n1.570", 1.54), ("-12", -12.0),
    ("", None), ("NA", None), ("3/", None),
])
def test_cell_values(text, value):
    parsed = usda_wasde.parse_value(text)
    assert parsed == pytest.approx(value) if value is not None else parsed is None


MINIMAL = (b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?><Report Name="wasde"><sr15><Report Name="sr15" '
           b'Report_Month="April 2019" page_title=" WASDE - 587 - 15" sub_report_title="U.S. Soybeans and Products '
           b'Supply and Use (Domestic Measure)  1/"><MATRIX><m9_attribute_group_Collection><m9_attribute_group>'
           b'<attribute9 attribute9="Exports"><m9_year_group market_year9="2018/19 Proj."><m9_month_group '
           b'forecast_month9="Apr"><Cell cell_value9="1,875" /></m9_month_group></m9_year_group></attribute9>'
           b'</m9_attribute_group></m9_attribute_group_Collection></MATRIX></Report></sr15></Report>')


def test_minimal_report_and_an_unmapped_matrix(config):
    frame = usda_wasde.parse(xml_payload(MINIMAL.replace(b"MATRIX", b"matrix2"), config))[usda_wasde.TABLE]
    row = frame.iloc[0]
    assert (row["commodity"], row["attribute"], row["value"], row["projection_month"]) == ("Soybean Oil", "Exports",
                                                                                        1875.0, "Apr")
    with pytest.raises(ParseError, match="matrix9: matrix not mapped"):
        usda_wasde.parse(xml_payload(MINIMAL.replace(b"MATRIX", b"matrix9"), config))


@pytest.mark.parametrize("body, message", [
    (b"", "empty body"),
    (b"\xef\xbb\xbf   ", "empty body"),
    (b"<!DOCTYPE html><html><body>503 Service Unavailable</body></html>", "HTML page instead of WASDE XML"),
    (b'<?xml version="1.0"?><Report Name="wasde"><sr08><Report Name="sr08"', "malformed or truncated XML"),
    (b'<?xml version="1.0"?><rss version="2.0"><channel /></rss>', "not a WASDE report"),
    (b'<?xml version="1.0"?><Report Name="psd"><sr01 /></Report>', "not a WASDE report"),
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><Report Name="wasde">&a;</Report>', "forbidden XML"),
    (b'<?xml version="1.0"?><Report Name="wasde"></Report>', "without sub-reports"),
    (gzip.compress(b'<?xml version="1.0"?><Report Name="wasde"/>'), "got gzip-compressed bytes, not WASDE XML"),
    (b"Service temporarily unavailable, try later", "not XML at all (plain text or binary"),
    (b'<?xml version="1.0"?><Report Name="wasde"><sr01><Report Name="sr01" sub_report_title="U.S. Sugar Supply and '
     b'Use"><matrix1 /></Report></sr01></Report>', "none of the configured WASDE tables"),
])
def test_malformed_xml_names_source_and_partition(body, message, config):
    with pytest.raises(ParseError) as error:
        usda_wasde.parse(xml_payload(body, config))
    assert message in str(error.value)
    assert str(error.value).startswith("usda_wasde [2019-04-09]")


def test_truncated_real_file_is_an_error(real_bytes, config):
    with pytest.raises(ParseError, match="truncated XML"):
        usda_wasde.parse(xml_payload(real_bytes[: len(real_bytes) // 2], config))


def test_xml_payload_must_carry_release_date_and_tables(real_bytes, config):
    bare = Payload("usda_wasde", "x.xml", usda_wasde.XML_FORMAT, real_bytes, "GET", WINDOW, {})
    with pytest.raises(ParseError, match="does not carry its release date"):
        usda_wasde.parse(bare)
    with pytest.raises(ParseError, match="valid table selection"):
        usda_wasde.parse(Payload("usda_wasde", "x.xml", usda_wasde.XML_FORMAT, real_bytes, "GET", WINDOW,
                                 {"release_date": "2019-04-09"}))


# ------------------------------------------------------------------------------------ ESMIS catalogue
def catalogue_payload(body: bytes) -> Payload:
    return Payload("usda_wasde", "catalogue.p0.json", usda_wasde.CATALOGUE_FORMAT, body, "GET", WINDOW, {"page": 0})


def test_real_esmis_catalogue_page():
    body = shared_file("fixtures", "usda_wasde", "esmis_wasde_releases_page.json").read_bytes()
    releases, total_pages = usda_wasde.parse_catalogue(catalogue_payload(body))
    assert total_pages == 1
    assert [(r.release_id, r.release_date) for r in releases] == [
        ("795937", dt.date(2026, 6, 11)), ("795903", dt.date(2026, 5, 12)),
        ("95857", dt.date(1995, 6, 12)), ("96138", dt.date(1975, 6, 11))]
    assert releases[0].xml_url == "https://esmis.nal.usda.gov/sites/default/release-files/795937/wasde0626.xml"
    assert releases[1].xml_url.endswith("/795903/wasde0526v2.xml")  # the corrected repost
    assert releases[2].xml_url is None and releases[3].xml_url is None  # TXT / PDF only
    assert usda_wasde.parse(catalogue_payload(body))[usda_wasde.TABLE].empty


@pytest.mark.parametrize("body, message", [
    (b"", "empty body"),
    (b"<html><body>Access denied</body></html>", "HTML/XML instead of JSON"),
    (b'{"pager": {"total_pages": 1}, "results": [', "malformed JSON"),
    (b'{"results": []}', "not an ESMIS catalogue page"),
    (b'{"pager": {}, "results": []}', "no valid total_pages"),
    (b'{"pager": {"total_pages": 1}, "results": [{"id": "1", "release_datetime": "June 2026"}]}', "bad release_datetime"),
])
def test_malformed_catalogue(body, message):
    with pytest.raises(ParseError, match=message):
        usda_wasde.parse(catalogue_payload(body))


def test_discovery_from_the_real_catalogue_downloads_only_xml_released_in_the_window(tmp_path):
    catalogue = shared_file("fixtures", "usda_wasde", "esmis_wasde_releases_page.json").read_bytes()
    asked = []

    def serve(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.path.endswith("/findByIdentifier/wasde"):
            return httpx.Response(200, content=catalogue)
        return httpx.Response(200, content=b"<Report Name='wasde' />")  # bytes only: discovery is under test

    ctx = FetchContext("live", LandingZone(tmp_path), tmp_path, CONFIG_DIR, dt.date(2026, 7, 1),
                       httpx.MockTransport(serve), RetryConfig(max_attempts=1, base_delay=0.0))
    payloads = usda_wasde.fetch(Window(dt.date(2026, 5, 1), dt.date(2026, 6, 1)), ctx)
    assert asked == ["https://esmis.nal.usda.gov/api/v1/release/findByIdentifier/wasde?page=0",
                     "https://esmis.nal.usda.gov/sites/default/release-files/795903/wasde0526v2.xml"]
    assert [p.format for p in payloads] == [usda_wasde.CATALOGUE_FORMAT, usda_wasde.XML_FORMAT]
    assert payloads[1].meta["release_date"] == "2026-05-12" and payloads[1].name == "2026-05-12_wasde0526v2.xml"


# ------------------------------------------------------------------------------------ sample world
@pytest.fixture(scope="module")
def world():
    return get_world(7, 1.0, CONFIG_DIR)


def sample_ctx(world, tmp_path, today: dt.date) -> tuple[FetchContext, list[str]]:
    asked: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        for host, prefix, handler in render_wasde.ROUTES:
            if request.url.host == host and request.url.path.startswith(prefix):
                return handler(world, request, today)
        return httpx.Response(404)

    ctx = FetchContext("sample", LandingZone(tmp_path), tmp_path, CONFIG_DIR, today, httpx.MockTransport(serve),
                       RetryConfig(max_attempts=3, base_delay=0.0))
    return ctx, asked


def ingest_rows(world, tmp_path, window: Window, today: dt.date = TODAY):
    ctx, asked = sample_ctx(world, tmp_path, today)
    payloads = usda_wasde.fetch(window, ctx)
    return parse_window(SPEC, window, payloads)[usda_wasde.TABLE], payloads, asked


def test_sample_round_trip_matches_the_model(world, tmp_path):
    window = Window(dt.date(2024, 1, 1), dt.date(2024, 4, 1))
    frame, payloads, asked = ingest_rows(world, tmp_path, window)
    releases = [r for r in render_wasde.schedule(world) if window.contains(r.release_date)]
    assert [r.report_month.month for r in releases] == [1, 2, 3]
    # two catalogue pages reach back past January 2024 (newest first, 25 a page), then the three XMLs
    assert sum(p.format == usda_wasde.CATALOGUE_FORMAT for p in payloads) == 2
    assert [p.meta["release_date"] for p in payloads if p.format == usda_wasde.XML_FORMAT] == \
        [r.release_date.isoformat() for r in releases]
    assert sorted(set(frame["as_of_date"])) == [r.release_date for r in releases]
    for release in releases:
        assert 8 <= release.release_date.day <= 12 and release.release_date.weekday() < 5
    march = releases[-1]
    model = render_wasde.model(world)
    printed = model.soybeans.printed(2023, march.index - render_wasde.first_projection(2023))
    row = cell(frame, release_date=march.release_date, commodity="Soybeans", region="United States",
               market_year="2023/24", projection_month="Mar", attribute="Ending Stocks",
               table_title="U.S. Soybeans and Products Supply and Use (Domestic Measure)")
    assert row["value"] == printed.value(printed.ending) and row["market_year_status"] == "Proj."
    assert row["wasde_number"] == march.number and row["report_month"] == dt.date(2024, 3, 1)
    assert set(frame["table_title"]) == set(usda_wasde.expected_keys(_Ctx(), window))


class _Ctx:
    config_dir = CONFIG_DIR


def _this_month(frame: pd.DataFrame) -> pd.Series:
    """Rows of each report's own columns (not last month's projection)."""
    month = frame["report_month"].map(lambda d: d.strftime("%b"))
    return (frame["projection_month"] == "") | (frame["projection_month"] == month)


def _balance(frame: pd.DataFrame, commodity: str, region: str = "United States") -> pd.DataFrame:
    rows = frame[(frame["commodity"] == commodity) & (frame["region"] == region)
                 & frame["table_title"].str.startswith("U.S.")]
    return rows.pivot_table(index=["release_date", "market_year", "projection_month"], columns="attribute",
                            values="value")


def test_sample_balance_sheets_are_internally_consistent(world, tmp_path):
    frame, _, _ = ingest_rows(world, tmp_path, Window(dt.date(2021, 4, 1), dt.date(2021, 7, 1)))  # Apr, May, Jun
    checks = {"Soybeans": "Crushings + Exports + Seed + Residual",
              "Soybean Oil": "`Domestic Disappearance` + Exports", "Soybean Meal": "`Domestic Disappearance` + Exports",
              "Corn": "`Domestic, Total` + Exports", "Wheat": "`Domestic, Total` + Exports"}
    for commodity, uses in checks.items():
        table = _balance(frame, commodity)
        supply = table["Beginning Stocks"] + table["Production"] + table["Imports"]
        assert np.allclose(supply, table["Supply, Total"]), commodity
        assert np.allclose(table.eval(uses), table["Use, Total"]), commodity
        assert np.allclose(table["Supply, Total"] - table["Use, Total"], table["Ending Stocks"]), commodity
        # within one report, a year's beginning stocks are the previous year's ending stocks
        own = _balance(frame[_this_month(frame)], commodity)
        for release, report in own.groupby(level="release_date"):
            report = report.droplevel(["release_date", "projection_month"]).sort_index()
            assert len(report) == 3
            assert (report["Beginning Stocks"].iloc[1:].values == report["Ending Stocks"].iloc[:-1].values).all(), \
                (commodity, release)
    oil = _balance(frame, "Soybean Oil")
    assert np.allclose(oil["Biodiesel"] + oil["Food, Feed & Other Industrial"], oil["Domestic Disappearance"])
    # May starts the new year with one projection column, June compares May and June
    may = frame[(frame["report_month"] == dt.date(2021, 5, 1)) & (frame["market_year"] == "2021/22")]
    june = frame[(frame["report_month"] == dt.date(2021, 6, 1)) & (frame["market_year"] == "2021/22")]
    assert set(may["projection_month"]) == {"May"} and set(june["projection_month"]) == {"May", "Jun"}
    world_tables = frame["table_title"].str.match(r"^World \w+( \w+)? Supply and Use$")
    assert set(frame.loc[world_tables, "commodity"]) == {"Wheat", "Corn", "Soybeans", "Soybean Oil", "Soybean Meal"}
    world_rows = frame[world_tables & frame["attribute"].isin(
        ["Beginning Stocks", "Production", "Imports", "Domestic Total", "Exports", "Ending Stocks"])]
    table = world_rows.pivot_table(index=["release_date", "table_title", "region", "market_year", "projection_month"],
                                   columns="attribute", values="value")
    residual = (table["Beginning Stocks"] + table["Production"] + table["Imports"] - table["Domestic Total"]
                - table["Exports"] - table["Ending Stocks"])
    assert residual.abs().max() < 1e-6
    for _, regions in table.groupby(
            level=["release_date", "table_title", "market_year", "projection_month"]):
        regions = regions.droplevel([0, 1, 3, 4])
        assert np.allclose(regions.loc["World"], regions.loc["United States"] + regions.loc["Total Foreign"])


def test_sample_us_soybean_stocks_move_against_the_soybean_price(world, tmp_path):
    frame, _, _ = ingest_rows(world, tmp_path, Window(dt.date(2016, 1, 1), dt.date(2020, 1, 1)))
    soy = frame[(frame["table_title"] == "U.S. Soybeans and Products Supply and Use (Domestic Measure)")
                & (frame["commodity"] == "Soybeans") & (frame["market_year_status"] == "Proj.")]
    current = soy[soy["projection_month"] == soy["report_month"].map(lambda d: d.strftime("%b"))]
    table = current.pivot_table(index="release_date", columns="attribute", values="value")
    assert len(table) == 48
    market = render_wasde.model(world).market
    log_price = np.log([market.mean_before("ZS", day) for day in table.index])
    stocks_to_use = table["Ending Stocks"] / table["Use, Total"]
    assert np.corrcoef(table["Ending Stocks"], log_price)[0, 1] < -0.7
    assert np.corrcoef(stocks_to_use, log_price)[0, 1] < -0.7
    # last month's column repeats last month's report; this month's column revises it
    projections = soy.pivot_table(index=["report_month", "projection_month"], columns="attribute", values="value")
    revised = 0
    for month in table.index:
        report_month = dt.date(month.year, month.month, 1)
        previous = dt.date(report_month.year - (report_month.month == 1), (report_month.month - 2) % 12 + 1, 1)
        if report_month.month == 5 or previous < dt.date(2016, 1, 1):
            continue  # a new market year, or last month's report is outside the window
        then = projections.loc[(previous, previous.strftime("%b"))]
        assert (projections.loc[(report_month, previous.strftime("%b"))] == then).all()
        revised += projections.loc[(report_month, report_month.strftime("%b")), "Ending Stocks"] != then["Ending Stocks"]
    assert revised > 30


def test_sample_serves_only_what_is_published_by_today(world, tmp_path):
    today = dt.date(2024, 2, 20)
    frame, payloads, _ = ingest_rows(world, tmp_path, Window(dt.date(2024, 1, 1), dt.date(2024, 4, 1)), today)
    assert frame["as_of_date"].max() <= today
    assert set(frame["report_month"]) == {dt.date(2024, 1, 1), dt.date(2024, 2, 1)}
    catalogue = json.loads(render_wasde.catalogue_page(world, today, 0))
    newest = catalogue["results"][0]
    assert dt.date.fromisoformat(newest["release_datetime"][:10]) <= today
    assert catalogue["pager"]["total_results"] == len(render_wasde.published(world, today))
    march = next(r for r in render_wasde.schedule(world) if r.report_month == dt.date(2024, 3, 1))
    future = httpx.Request("GET", march.file_url("xml"))
    assert render_wasde.file_handler(world, future, today).status_code == 404
    assert render_wasde.file_handler(world, future, march.release_date).status_code == 200


def test_sample_xml_has_the_real_wire_quirks_and_is_deterministic(world):
    release = render_wasde.schedule(world)[render_wasde.release_index(2019, 4)]
    body = render_wasde.render_report(world, release)
    assert body.startswith(b"\xef\xbb\xbf<?xml") and b"\n" not in body
    assert b'sub_report_title="World and U.S Supply and Use for Grains  1/"' in body
    assert b"Beginning&#xD;&#xA;Stocks" in body and b'market_year4="2018/19 Proj."' in body
    assert release.number == 587
    render_wasde.model.cache_clear()
    render_wasde.schedule.cache_clear()
    assert render_wasde.render_report(world, render_wasde.schedule(world)[release.index]) == body


def test_expected_keys_need_a_month(config):
    assert usda_wasde.expected_keys(_Ctx(), Window(dt.date(2024, 1, 1), dt.date(2024, 1, 8))) == []
    month = usda_wasde.expected_keys(_Ctx(), Window(dt.date(2024, 1, 1), dt.date(2024, 2, 15)))
    assert month == [t.title for t in config.tables] and len(month) == 9


def test_files_mode_leaves_the_table_empty(tmp_path):
    # WASDE XML files carry no release date: nothing is read in files mode (the no_gaps check warns)
    assert usda_wasde.fetch(WINDOW, FetchContext("files", LandingZone(tmp_path), tmp_path, CONFIG_DIR, TODAY)) == []
