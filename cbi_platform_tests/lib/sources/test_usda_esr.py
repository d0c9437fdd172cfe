import datetime as dt
import json

import httpx
import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib.calendar import federal_holidays, is_business_day
from cbi_platform.lib.config import load_yaml
from cbi_platform.lib.landing import LandingZone
from cbi_platform.lib.sample import render_usda_esr
from cbi_platform.lib.sample.world import get_world
from cbi_platform.lib.sources import usda_esr
from cbi_platform.lib.sources.base import MissingCredential, ParseError, Payload, RetryConfig, SourceError
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import CONFIG_DIR, shared_file

WINDOW = Window(dt.date(2020, 8, 13), dt.date(2020, 8, 14))
SNAPSHOT = {"snapshot_date": "2020-08-13"}
# the documented example row (shared/fixtures/PROVENANCE.md, usda_esr): no recorded exports payload exists
DOCUMENTED_ROW = {"commodityCode": 801, "countryCode": 5700, "weeklyExports": 13506, "accumulatedExports": 13506,
                  "outstandingSales": 352846, "grossNewSales": 224335, "currentMYNetSales": 25376,
                  "currentMYTotalCommitment": 366352, "nextMYOutstandingSales": 0, "nextMYNetSales": 0,
                  "unitId": 1, "weekEndingDate": "2020-08-06T00:00:00"}


def fixture_bytes(name: str) -> bytes:
    return shared_file("fixtures", "usda_esr", name).read_bytes()


def payload(body: bytes, fmt: str = "esr_exports", name: str = "exports_801_MY2020.json", meta=None) -> Payload:
    if meta is None:
        meta = {"commodity_code": 801, "market_year": 2020} if fmt == "esr_exports" else SNAPSHOT
    return Payload("usda_esr", name, fmt, body, "GET https://api.fas.usda.gov/api/esr/...", WINDOW, meta)


def exports(rows) -> pd.DataFrame:
    return usda_esr.parse(payload(json.dumps(rows).encode()))[usda_esr.EXPORTS_TABLE]


@pytest.fixture(scope="module")
def world():
    return get_world(7, 1.0, CONFIG_DIR)


def make_ctx(world, tmp_path, today: dt.date, mode: str = "sample") -> FetchContext:
    transport = httpx.MockTransport(lambda request: render_usda_esr.handler(world, request, today))
    return FetchContext(mode, LandingZone(tmp_path), tmp_path, CONFIG_DIR, today, transport,
                        RetryConfig(max_attempts=3, base_delay=0.0))


def parse_all(payloads) -> dict[str, pd.DataFrame]:
    frames: dict[str, list[pd.DataFrame]] = {}
    for item in payloads:
        for table, frame in usda_esr.parse(item).items():
            frames.setdefault(table, []).append(frame)
    return {table: pd.concat(parts, ignore_index=True) for table, parts in frames.items()}


# ---------------------------------------------------------------------------- real reference lists
def test_real_commodities_fixture():
    frame = usda_esr.parse(payload(fixture_bytes("esr_commodities.json"), "esr_commodities"))[usda_esr.COMMODITIES_TABLE]
    assert list(frame.columns) == usda_esr.COMMODITIES_COLUMNS
    assert len(frame) == 44
    by_code = frame.set_index("commodity_code")
    assert by_code.loc[902, "commodity_name"] == "Soybean Oil"
    assert by_code.loc[901, "commodity_name"] == "Soybean cake & meal"
    assert by_code.loc[401, "commodity_name"] == "Corn" and by_code.loc[107, "commodity_name"] == "All Wheat"
    assert by_code.loc[1404, "unit_id"] == 2  # cotton in running bales
    assert set(frame.as_of_date) == {dt.date(2020, 8, 13)}


def test_real_countries_fixture_is_trimmed_and_keeps_null_genc():
    body = fixture_bytes("esr_countries.json")
    assert b'"countryName": "CHINA   "' in body  # padded on the wire
    frame = usda_esr.parse(payload(body, "esr_countries"))[usda_esr.COUNTRIES_TABLE]
    assert list(frame.columns) == usda_esr.COUNTRIES_COLUMNS
    assert len(frame) == 211
    china = frame.set_index("country_code").loc[5700]
    assert (china.country_name, china.country_description, china.region_id, china.genc_code) == (
        "CHINA", "CHINA, PEOPLES REPUBLIC OF", 7, "CHN")
    korea = frame.set_index("country_code").loc[5800]
    assert korea.genc_code is None and korea.country_description == "KOREA, REPUBLIC OF"
    assert frame.set_index("country_code").loc[2, "country_name"] == "UNKNOWN"
    assert frame.genc_code.isna().sum() == 50
    assert not frame.country_name.str.endswith(" ").any() and not frame.country_description.str.endswith(" ").any()


def test_real_units_fixture():
    frame = usda_esr.parse(payload(fixture_bytes("esr_unitsOfMeasure.json"), "esr_units"))[usda_esr.UNITS_TABLE]
    assert frame.set_index("unit_id").unit_name.to_dict() == {
        1: "Metric Tons", 2: "Running Bales", 3: "Pieces", 4: "NUMBER", 5: "Pounds"}


def test_compact_wire_json_parses_like_the_pretty_fixture():
    pretty = fixture_bytes("esr_countries.json")
    compact = json.dumps(json.loads(pretty), separators=(",", ":")).encode()
    pd.testing.assert_frame_equal(usda_esr.parse(payload(compact, "esr_countries"))[usda_esr.COUNTRIES_TABLE],
                                  usda_esr.parse(payload(pretty, "esr_countries"))[usda_esr.COUNTRIES_TABLE])


def test_config_codes_exist_in_the_real_reference_lists():
    config = usda_esr.load_config(CONFIG_DIR)
    names = {c["commodityCode"]: c["commodityName"] for c in json.loads(fixture_bytes("esr_commodities.json"))}
    for code, (name, _) in config.commodities.items():
        assert names[code] == name
    assert set(config.commodities) == {801, 901, 902, 401, 107}
    countries = {c["countryCode"]: c["countryName"].strip() for c in json.loads(fixture_bytes("esr_countries.json"))}
    assert countries[config.china_country_code] == "CHINA"


def test_sample_reference_constants_are_the_real_values():
    commodities = {c["commodityCode"]: c for c in json.loads(fixture_bytes("esr_commodities.json"))}
    countries = {c["countryCode"]: c for c in json.loads(fixture_bytes("esr_countries.json"))}
    units = {u["unitId"]: u for u in json.loads(fixture_bytes("esr_unitsOfMeasure.json"))}
    for code, name, unit in render_usda_esr.COMMODITIES:
        assert commodities[code] == {"commodityCode": code, "commodityName": name, "unitId": unit}
    for code, name, description, region, genc in render_usda_esr.COUNTRIES:
        assert countries[code] == {"countryCode": code, "countryName": name, "countryDescription": description,
                                   "regionId": region, "gencCode": genc}
    assert [units[u] for u, _ in render_usda_esr.UNITS] == [{"unitId": u, "unitNames": n} for u, n in render_usda_esr.UNITS]
    served = {c for profile in render_usda_esr.PROFILES.values() for c, _ in profile.destinations}
    assert served <= {c for c, *_ in render_usda_esr.COUNTRIES}
    assert {5700, 2010, 5880, 4210, 4280, 4700, 2} <= served  # China, Mexico, Japan, EU members, unknown


def test_sample_world_uses_the_configured_norm_and_marketing_years():
    config = usda_esr.load_config(CONFIG_DIR)
    assert render_usda_esr.CHINA_SOYBEAN_NORM == config.china_norm
    assert config.china_soybean_commodity == render_usda_esr.SOYBEANS and config.china_country_code == render_usda_esr.CHINA
    assert {code: p.market_year_start_month for code, p in render_usda_esr.PROFILES.items()} == {
        code: month for code, (_, month) in config.commodities.items()}
    raw = load_yaml(CONFIG_DIR / "sources" / "usda_esr.yaml")["china_soybean_net_sales"]
    assert raw["scale_t"] == 200000


def test_seasonal_norm_is_big_in_autumn_small_in_spring():
    norm = usda_esr.load_config(CONFIG_DIR).china_norm
    peak = norm.tons(dt.date(2021, 10, 28))
    assert peak == pytest.approx(1_350_000, rel=0.01)
    assert norm.tons(dt.date(2021, 9, 2)) > 500_000 and norm.tons(dt.date(2021, 12, 30)) > 400_000
    assert norm.tons(dt.date(2022, 4, 7)) < 160_000 and norm.tons(dt.date(2022, 7, 7)) < 170_000
    weekly = [norm.tons(dt.date(2021, 9, 2) + dt.timedelta(days=7 * i)) for i in range(104)]
    assert max(abs(b - a) for a, b in zip(weekly, weekly[1:])) < 0.15 * (max(weekly) - min(weekly))  # smooth: no jump at the year's turn
    assert norm.surprise(peak + 2 * norm.scale_t, dt.date(2021, 10, 28)) == pytest.approx(2.0)


# ---------------------------------------------------------------------------- calendar
@pytest.mark.parametrize("week_ending, released", [
    (dt.date(2020, 8, 6), dt.date(2020, 8, 13)),     # ordinary week: Thursday + 7
    (dt.date(2024, 8, 29), dt.date(2024, 9, 6)),     # Labor Day Monday: Friday
    (dt.date(2024, 11, 21), dt.date(2024, 11, 29)),  # Thanksgiving Thursday: Friday
    (dt.date(2024, 12, 19), dt.date(2024, 12, 27)),  # Christmas Wednesday: Friday
    (dt.date(2025, 7, 3), dt.date(2025, 7, 11)),     # July 4 on the Friday after the week: Friday
    (dt.date(2021, 10, 7), dt.date(2021, 10, 15)),   # Columbus Day Monday
])
def test_release_date(week_ending, released):
    assert usda_esr.release_date(week_ending) == released


def test_marketing_year_rules():
    # marketYear labels the year the marketing year ends in; a week belongs to the year of its first day
    assert usda_esr.week_market_year(dt.date(2023, 9, 7), 9) == 2024  # Sep 1..7: first week of 2023/24
    assert usda_esr.week_market_year(dt.date(2023, 8, 31), 9) == 2023
    assert usda_esr.week_market_year(dt.date(2025, 10, 2), 10) == 2025  # meal: Sep 26..Oct 2 closes 2024/25
    assert usda_esr.week_market_year(dt.date(2025, 10, 9), 10) == 2026
    assert usda_esr.week_market_year(dt.date(2024, 6, 13), 6) == 2025
    assert usda_esr.market_year_start(2025, 9) == dt.date(2024, 9, 1)
    assert usda_esr.market_years_for(Window(dt.date(2024, 3, 1), dt.date(2024, 4, 1)), 9, 2005) == [2024]
    assert usda_esr.market_years_for(Window(dt.date(2024, 9, 1), dt.date(2024, 9, 20)), 9, 2005) == [2024, 2025]
    assert usda_esr.market_years_for(Window(dt.date(2024, 9, 2), dt.date(2024, 9, 3)), 9, 2005) == []
    history = usda_esr.market_years_for(Window(dt.date(2016, 1, 4), dt.date(2016, 1, 5), True), 9, 2005)
    assert history == list(range(2005, 2017))


def test_expected_keys(world, tmp_path):
    ctx = make_ctx(world, tmp_path, dt.date(2025, 1, 1))
    codes = ["801", "901", "902", "401", "107"]
    assert usda_esr.expected_keys(ctx, Window(dt.date(2024, 3, 7), dt.date(2024, 3, 8))) == []  # too short
    assert usda_esr.expected_keys(ctx, Window(dt.date(2024, 3, 4), dt.date(2024, 3, 11))) == codes
    # Thursday Sep 5 is in the window but Labor Day moved that report to Friday Sep 6
    assert usda_esr.expected_keys(ctx, Window(dt.date(2024, 8, 30), dt.date(2024, 9, 6))) == []
    assert usda_esr.expected_keys(ctx, Window(dt.date(2024, 3, 4), dt.date(2024, 3, 5), True)) == codes


# ---------------------------------------------------------------------------- exports format
def test_documented_row_parses():
    frame = exports([DOCUMENTED_ROW, {**DOCUMENTED_ROW, "countryCode": 2, "currentMYNetSales": -12500,
                                      "grossNewSales": 0, "outstandingSales": 1000.0}])
    assert list(frame.columns) == usda_esr.EXPORTS_COLUMNS
    china = frame.iloc[0]
    assert (china.commodity_code, china.market_year, china.country_code, china.week_ending, china.as_of_date) == (
        801, 2020, 5700, dt.date(2020, 8, 6), dt.date(2020, 8, 13))
    assert china.weekly_exports == 13506 and china.outstanding_sales == 352846
    assert china.current_my_total_commitment == 366352 and china.unit_id == 1
    assert frame.iloc[1].current_my_net_sales == -12500  # net cancellations are negative
    assert exports([]).empty


@pytest.mark.parametrize("body, message", [
    (b"", "empty body"),
    (b"<html><body><h1>503 Service Unavailable</h1></body></html>", "HTML/XML instead of JSON"),
    (b'[{"commodityCode":801,', "malformed JSON"),
    (b'{"error":{"code":"API_KEY_INVALID","message":"An invalid api_key was supplied."}}', "expected a JSON array"),
    (b"[1, 2]", "element 0 is int"),
    (json.dumps([{k: v for k, v in DOCUMENTED_ROW.items() if k != "outstandingSales"}]).encode(), "missing outstandingSales"),
    (json.dumps([{**DOCUMENTED_ROW, "weeklyExports": "13,506"}]).encode(), "weeklyExports is '13,506'"),
    (json.dumps([{**DOCUMENTED_ROW, "weekEndingDate": "08/06/2020"}]).encode(), "bad weekEndingDate"),
    (json.dumps([{**DOCUMENTED_ROW, "weekEndingDate": None}]).encode(), "weekEndingDate is None"),
    (json.dumps([{**DOCUMENTED_ROW, "commodityCode": 901}]).encode(), "requested 801"),
    (json.dumps([{**DOCUMENTED_ROW, "countryCode": "5700"}]).encode(), "countryCode is '5700'"),
    (json.dumps([DOCUMENTED_ROW, DOCUMENTED_ROW]).encode(), "repeat a (country, week)"),
])
def test_malformed_exports_raise_parse_error_naming_source_and_partition(body, message):
    with pytest.raises(ParseError) as error:
        usda_esr.parse(payload(body))
    assert str(error.value).startswith("usda_esr [2020-08-13]: exports_801_MY2020.json")
    assert message in str(error.value)


@pytest.mark.parametrize("fmt, body, meta, message", [
    ("esr_countries", b"[]", SNAPSHOT, "empty reference list"),
    ("esr_countries", fixture_bytes("esr_countries.json"), {}, "snapshot_date"),
    ("esr_commodities", b'[{"commodityCode":801,"commodityName":"Soybeans","unitId":1},'
                        b'{"commodityCode":801,"commodityName":"Soybeans","unitId":1}]', SNAPSHOT, "more than once"),
    ("esr_units", b'[{"unitId":1,"unitNames":null}]', SNAPSHOT, "unitNames is None"),
    ("esr_exports", json.dumps([DOCUMENTED_ROW]).encode(), {}, "commodity_code and market_year"),
    ("esr_regions", b"[]", SNAPSHOT, "unknown format"),
])
def test_malformed_reference_and_meta(fmt, body, meta, message):
    with pytest.raises(ParseError, match=message):
        usda_esr.parse(payload(body, fmt, meta=meta))


# ---------------------------------------------------------------------------- fetch
def test_live_fetch_without_key_names_the_variable(monkeypatch, world, tmp_path):
    monkeypatch.delenv("USDA_FAS_API_KEY", raising=False)
    requests = []

    def refuse(request):
        requests.append(request)
        return httpx.Response(500)

    ctx = FetchContext("live", LandingZone(tmp_path), tmp_path, CONFIG_DIR, dt.date(2024, 3, 8),
                       httpx.MockTransport(refuse), RetryConfig(max_attempts=1, base_delay=0.0))
    with pytest.raises(MissingCredential) as error:
        usda_esr.fetch(Window(dt.date(2024, 3, 7), dt.date(2024, 3, 8)), ctx)
    assert "USDA_FAS_API_KEY" in str(error.value) and str(error.value).startswith("usda_esr [2024-03-07]")
    assert requests == []


def test_live_fetch_sends_the_key_in_the_header_and_never_records_it(monkeypatch, world, tmp_path):
    monkeypatch.setenv("USDA_FAS_API_KEY", "live-secret-key-123")
    seen = []

    def answer(request):
        seen.append(request.headers.get("X-Api-Key"))
        return render_usda_esr.handler(world, request, dt.date(2024, 3, 8))

    ctx = FetchContext("live", LandingZone(tmp_path), tmp_path, CONFIG_DIR, dt.date(2024, 3, 8),
                       httpx.MockTransport(answer), RetryConfig(max_attempts=1, base_delay=0.0))
    payloads = usda_esr.fetch(Window(dt.date(2024, 3, 7), dt.date(2024, 3, 8)), ctx)
    assert set(seen) == {"live-secret-key-123"}
    assert all("live-secret-key-123" not in p.request and "live-secret-key-123" not in json.dumps(p.meta) for p in payloads)


def test_sample_rejects_a_request_without_key(world, tmp_path):
    ctx = make_ctx(world, tmp_path, dt.date(2024, 1, 1))
    with ctx.http("usda_esr", WINDOW) as client, pytest.raises(SourceError, match="HTTP 403"):
        client.get("https://api.fas.usda.gov/api/esr/countries")


def test_files_mode_fetches_nothing(world, tmp_path):
    assert usda_esr.fetch(WINDOW, make_ctx(world, tmp_path, dt.date(2024, 1, 1), mode="files")) == []


def test_fetch_requests_references_and_the_marketing_years_released_in_the_window(world, tmp_path):
    window = Window(dt.date(2024, 9, 1), dt.date(2024, 9, 20))
    payloads = usda_esr.fetch(window, make_ctx(world, tmp_path, dt.date(2024, 9, 30)))
    base = "GET https://api.fas.usda.gov/api/esr"
    assert [p.request for p in payloads[:3]] == [f"{base}/commodities", f"{base}/countries", f"{base}/unitsOfMeasure"]
    assert [p.meta for p in payloads[:3]] == [{"snapshot_date": "2024-09-19"}] * 3
    years = {(p.meta["commodity_code"], p.meta["market_year"]) for p in payloads[3:]}
    assert years == {(801, 2024), (801, 2025), (401, 2024), (401, 2025), (901, 2024), (902, 2024), (107, 2025)}
    assert f"{base}/exports/commodityCode/801/allCountries/marketYear/2025" in [p.request for p in payloads]
    # reference snapshots are never dated after today
    later = usda_esr.fetch(Window(dt.date(2024, 9, 1), dt.date(2024, 10, 1)), make_ctx(world, tmp_path, dt.date(2024, 9, 10)))
    assert later[0].meta == {"snapshot_date": "2024-09-10"}


# ---------------------------------------------------------------------------- sample world
@pytest.fixture(scope="module")
def autumn(world, tmp_path_factory):
    """Everything fetched for October-December 2021 as known on 2022-01-31."""
    window = Window(dt.date(2021, 10, 1), dt.date(2022, 1, 1))
    payloads = usda_esr.fetch(window, make_ctx(world, tmp_path_factory.mktemp("esr"), dt.date(2022, 1, 31)))
    return window, payloads, parse_all(payloads)


def test_sample_reference_tables_round_trip(autumn):
    _, _, frames = autumn
    countries = frames[usda_esr.COUNTRIES_TABLE].set_index("country_code")
    assert countries.loc[5700, "country_name"] == "CHINA" and countries.loc[5800, "genc_code"] is None
    assert frames[usda_esr.COMMODITIES_TABLE].set_index("commodity_code").loc[902, "commodity_name"] == "Soybean Oil"
    assert set(frames[usda_esr.UNITS_TABLE].as_of_date) == {dt.date(2021, 12, 31)}


def test_sample_reference_responses_are_compact_json(world):
    response = render_usda_esr.handler(world, httpx.Request("GET", "https://api.fas.usda.gov/api/esr/countries",
                                                            headers={"X-Api-Key": "k"}), dt.date(2024, 1, 1))
    assert response.content.startswith(b'[{"countryCode":2,"countryName":"UNKNOWN",')
    assert (b'"countryName":"CHINA   ","countryDescription":"CHINA, PEOPLES REPUBLIC OF     ",'
            b'"regionId":7,"gencCode":"CHN"') in response.content
    assert b"\n" not in response.content and b": " not in response.content


def test_sample_china_soybean_surprise_is_recovered(world, autumn):
    window, _, frames = autumn
    sales = frames[usda_esr.EXPORTS_TABLE]
    china = sales[(sales.commodity_code == 801) & (sales.country_code == 5700)].set_index("week_ending")
    norm = usda_esr.load_config(CONFIG_DIR).china_norm
    checked = 0
    for w, week_ending in enumerate(world.china_week_ending):
        published = world.china_published[w]
        if not window.start <= published < window.end:
            continue
        row = china.loc[week_ending]
        surprise = norm.surprise(row.current_my_net_sales, week_ending)
        assert surprise == pytest.approx(world.china_surprise[w], abs=0.5 / norm.scale_t + 1e-12)
        # released on the world's date, or the next business day in a week with a federal holiday
        holiday_week = any(week_ending + dt.timedelta(days=i) in federal_holidays() for i in range(1, 8))
        expected = published
        if holiday_week:
            expected += dt.timedelta(days=1)
            while not is_business_day(expected):
                expected += dt.timedelta(days=1)
        assert row.as_of_date == expected
        checked += 1
    assert checked == 13
    # Columbus Day (Oct 11) and Thanksgiving (Nov 25) moved two to Friday; Christmas (Fri Dec 24)
    # moved one to Friday Dec 31, New Year's Day observed, so to Monday Jan 3
    assert {dt.date(2021, 10, 15), dt.date(2021, 11, 26), dt.date(2022, 1, 3)} <= set(china.as_of_date)
    assert china.loc[dt.date(2021, 12, 23), "as_of_date"] == dt.date(2022, 1, 3)
    assert china.market_year.unique().tolist() == [2022]


def test_sample_every_china_soybean_week_recovers_the_world(world):
    norm = usda_esr.load_config(CONFIG_DIR).china_norm
    book = render_usda_esr.commodity_book(world, 801)
    j = book.countries.index(5700)
    surprise = np.array([norm.surprise(float(net), week)
                         for net, week in zip(book.figures["currentMYNetSales"][:, j], book.weeks)])
    assert book.weeks == list(world.china_week_ending)
    assert np.abs(surprise - world.china_surprise).max() <= 0.5 / norm.scale_t + 1e-12
    # the norm is the weekly mean: the surprise has no seasonal pattern left
    months = np.array([week.month for week in book.weeks])
    assert max(abs(surprise[months == m].mean()) for m in range(1, 13)) < 0.3


def test_sample_marketing_year_accounting_is_consistent(world, tmp_path):
    today = dt.date(2026, 11, 20)
    frames = []
    for year in (2021, 2022):
        request = httpx.Request("GET", f"https://api.fas.usda.gov/api/esr/exports/commodityCode/901/allCountries/marketYear/{year}",
                                headers={"X-Api-Key": "k"})
        body = render_usda_esr.handler(world, request, today).content
        frames.append(usda_esr.parse(payload(body, meta={"commodity_code": 901, "market_year": year}))[usda_esr.EXPORTS_TABLE])
    sales = pd.concat(frames, ignore_index=True).sort_values(["country_code", "week_ending"])
    assert sales.country_code.nunique() == 13 and len(sales) == 13 * sales.week_ending.nunique()
    for _, rows in sales.groupby("country_code"):
        for _, my in rows.groupby("market_year"):
            assert (my.accumulated_exports == my.weekly_exports.cumsum()).all()
            change = my.outstanding_sales.diff().iloc[1:]
            assert (change == (my.current_my_net_sales - my.weekly_exports).iloc[1:]).all()
        assert (rows.current_my_total_commitment == rows.accumulated_exports + rows.outstanding_sales).all()
        assert (rows.outstanding_sales >= 0).all() and (rows.gross_new_sales >= rows.current_my_net_sales).all()
        # at the turn of the year unshipped and next-year sales carry into the new year's outstanding sales
        old, new = rows[rows.market_year == 2021], rows[rows.market_year == 2022]
        first = new.iloc[0]
        carried = old.outstanding_sales.iloc[-1] + old.next_my_outstanding_sales.iloc[-1]
        assert first.outstanding_sales == carried + first.current_my_net_sales - first.weekly_exports
        assert first.accumulated_exports == first.weekly_exports
    # soybean meal's year turns on October 1: the week ending 2021-09-30 closes 2020/21
    assert sales[sales.market_year == 2022].week_ending.min() == dt.date(2021, 10, 7)
    assert sales[sales.market_year == 2021].week_ending.max() == dt.date(2021, 9, 30)
    assert (sales.current_my_net_sales < 0).any()  # cancellations happen


def test_window_holds_only_what_was_released_in_it(world, tmp_path):
    from cbi_platform.lib.ingest import parse_window

    window = Window(dt.date(2021, 11, 22), dt.date(2021, 11, 29))  # Thanksgiving week
    spec = usda_esr.spec()
    frames = parse_window(spec, window, usda_esr.fetch(window, make_ctx(world, tmp_path, dt.date(2022, 6, 1))))
    sales = frames[usda_esr.EXPORTS_TABLE]
    assert set(sales.week_ending) == {dt.date(2021, 11, 18)}
    assert set(sales.as_of_date) == {dt.date(2021, 11, 26)}  # Friday after Thanksgiving
    assert sorted(sales.commodity_code.unique()) == [107, 401, 801, 901, 902]
    assert set(frames[usda_esr.COUNTRIES_TABLE].as_of_date) == {dt.date(2021, 11, 28)}


def test_sample_serves_only_weeks_released_by_today(world):
    def weeks(today):
        rows = render_usda_esr.exports_rows(world, 801, 2022, today)
        return sorted({row["weekEndingDate"] for row in rows})

    assert weeks(dt.date(2021, 11, 25))[-1] == "2021-11-11T00:00:00"  # Thanksgiving: that week's report waits
    assert weeks(dt.date(2021, 11, 26))[-1] == "2021-11-18T00:00:00"
    assert weeks(dt.date(2021, 9, 1)) == []
    assert weeks(dt.date(2021, 9, 16))[0] == "2021-09-09T00:00:00"  # Sep 3..9: the first week of 2021/22
    assert render_usda_esr.exports_rows(world, 1404, 2022, dt.date(2022, 6, 1)) == []


def test_sample_is_deterministic(world, tmp_path):
    window = Window(dt.date(2022, 3, 7), dt.date(2022, 3, 14))
    first = [p.body for p in usda_esr.fetch(window, make_ctx(world, tmp_path, dt.date(2023, 1, 1)))]
    render_usda_esr.commodity_book.cache_clear()
    second = [p.body for p in usda_esr.fetch(window, make_ctx(world, tmp_path, dt.date(2023, 1, 1)))]
    assert first == second
    # a week's figures do not change as later weeks are released
    early = render_usda_esr.exports_rows(world, 401, 2022, dt.date(2022, 3, 10))
    late = render_usda_esr.exports_rows(world, 401, 2022, dt.date(2022, 12, 1))
    assert late[: len(early)] == early and len(late) > len(early)


def test_parsed_frames_fit_the_tables(conn, autumn):
    from cbi_platform.lib import warehouse

    window, _, frames = autumn
    columns = {usda_esr.EXPORTS_TABLE: usda_esr.EXPORTS_COLUMNS, usda_esr.COMMODITIES_TABLE: usda_esr.COMMODITIES_COLUMNS,
               usda_esr.COUNTRIES_TABLE: usda_esr.COUNTRIES_COLUMNS, usda_esr.UNITS_TABLE: usda_esr.UNITS_COLUMNS}
    for table, expected in columns.items():
        assert warehouse.table_columns(conn, table) == [*expected, "ingested_at"]
        frame = frames[table]
        frame = frame[frame.as_of_date.map(window.contains)]
        assert len(frame)
        assert warehouse.replace_window(conn, table, frame.assign(ingested_at=pd.Timestamp("2022-01-31")), window) == len(frame)
    (net,) = conn.execute("SELECT sum(current_my_net_sales) FROM raw.usda_export_sales "
                          "WHERE commodity_code = 801 AND country_code = 5700").fetchone()
    assert net > 5_000_000  # China books most of its soybeans in the autumn
