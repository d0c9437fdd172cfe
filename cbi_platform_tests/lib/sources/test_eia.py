"""EIA API v2. No recorded EIA payload exists in the fixtures: the parser is tested on payloads
written by hand in the documented format, and end to end against the sample world."""

import datetime as dt
import json
import math

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml

from cbi_platform.lib.ingest import parse_window
from cbi_platform.lib.landing import LandingZone
from cbi_platform.lib.sample import render_eia
from cbi_platform.lib.sample.world import get_world
from cbi_platform.lib.sources import eia
from cbi_platform.lib.sources.base import MissingCredential, ParseError, Payload, RetryConfig, SourceError
from cbi_platform.lib.sources.context import SAMPLE_KEY, FetchContext
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import CONFIG_DIR, TODAY

WINDOW = Window(dt.date(2024, 1, 1), dt.date(2024, 2, 1))
SPEC = eia.spec()
WEEKLY_META = {"series_id": "WCESTUS1", "frequency": "weekly", "release": eia.WEEKLY_RULE, "by_series_facet": True,
               "description": "U.S. Ending Stocks excluding SPR of Crude Oil (Thousand Barrels)", "units": "MBBL"}
MONTHLY_META = {"series_id": "M_EPOOBDSO_YIFBP_NUS_MMLB", "frequency": "monthly", "release": {"lag_days": 60},
                "by_series_facet": False, "description": "U.S. Soybean Oil Inputs to Biofuels Production (Million Pounds)",
                "units": "MMLB"}


def weekly_row(period: str, value) -> dict:
    return {"period": period, "duoarea": "NUS", "area-name": "U.S.", "product": "EPC0", "product-name": "Crude Oil",
            "process": "SAX", "process-name": "Ending Stocks Excluding SPR", "series": "WCESTUS1",
            "series-description": "U.S. Ending Stocks excluding SPR of Crude Oil (Thousand Barrels)", "value": value,
            "units": "MBBL"}


def document(rows: list[dict], total=None, frequency="weekly") -> bytes:
    return json.dumps({
        "response": {"total": str(len(rows)) if total is None else total,
                     "dateFormat": "YYYY-MM-DD" if frequency == "weekly" else "YYYY-MM", "frequency": frequency,
                     "data": rows, "description": "Weekly stocks"},
        "request": {"command": "/v2/petroleum/stoc/wstk/data/", "params": {"frequency": frequency}},
        "apiVersion": "2.1.8",
    }).encode()


def payload(body: bytes, meta=None, name="WCESTUS1.p0.json") -> Payload:
    return Payload("eia", name, eia.FORMAT, body, "GET petroleum/stoc/wstk", WINDOW, WEEKLY_META if meta is None else meta)


def parsed(body: bytes, meta=None) -> pd.DataFrame:
    return eia.parse(payload(body, meta))[eia.TABLE]


# ------------------------------------------------------------------------------------ parser
def test_weekly_payload_string_numbers_nulls_and_release_dates():
    body = document([weekly_row("2024-01-05", "432,390"), weekly_row("2024-01-12", 419_000),
                     weekly_row("2024-01-19", None), weekly_row("2024-08-30", "420123.5")])
    frame = parsed(body)
    assert list(frame.columns) == eia.COLUMNS
    assert list(frame["period"]) == [dt.date(2024, 1, 5), dt.date(2024, 1, 12), dt.date(2024, 1, 19),
                                     dt.date(2024, 8, 30)]
    assert frame["value"].iloc[0] == 432390.0 and frame["value"].iloc[1] == 419000.0
    assert math.isnan(frame["value"].iloc[2]) and frame["value"].iloc[3] == 420123.5
    assert set(frame["units"]) == {"MBBL"} and set(frame["frequency"]) == {"weekly"}
    # released the Wednesday after the week ending Friday; Martin Luther King Day (Mon 15 Jan)
    # and Labor Day (Mon 2 Sep) push the report to Thursday
    assert list(frame["as_of_date"]) == [dt.date(2024, 1, 10), dt.date(2024, 1, 18), dt.date(2024, 1, 24),
                                         dt.date(2024, 9, 5)]


def test_monthly_payload_periods_and_lag():
    rows = [{"period": "2024-01", "duoarea": "NUS", "product": "EPOOBDSO", "process": "YIFBP",
             "series": "M_EPOOBDSO_YIFBP_NUS_MMLB", "value": 1224, "units": "MMLB"},
            {"period": "2024-02", "duoarea": "NUS", "product": "EPOOBDSO", "process": "YIFBP", "value": "W",
             "units": "MMLB"}]
    frame = parsed(document(rows, total=2, frequency="monthly"), MONTHLY_META)
    assert list(frame["period"]) == [dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    assert frame["value"].iloc[0] == 1224.0 and math.isnan(frame["value"].iloc[1])  # "W": withheld
    # month end + 60 days, moved to a weekday: 31 Jan + 60 = Sun 31 Mar -> Mon 1 Apr
    assert list(frame["as_of_date"]) == [dt.date(2024, 4, 1), dt.date(2024, 4, 29)]
    assert frame["description"].iloc[0] == MONTHLY_META["description"]  # rows without one take config's


@pytest.mark.parametrize("week_ending, released", [
    (dt.date(2024, 3, 1), dt.date(2024, 3, 6)),  # an ordinary week: +5 days
    (dt.date(2019, 7, 5), dt.date(2019, 7, 10)),  # July 4 was the Thursday before: no shift
    (dt.date(2018, 6, 29), dt.date(2018, 7, 5)),  # July 4 on the Wednesday itself
    (dt.date(2024, 5, 24), dt.date(2024, 5, 30)),  # Memorial Day
    (dt.date(2024, 11, 22), dt.date(2024, 11, 27)),  # Thanksgiving comes after the Wednesday
])
def test_weekly_release_rule(week_ending, released):
    assert eia.weekly_release_date(week_ending) == released


@pytest.mark.parametrize("body, message", [
    (b"", "empty body"),
    (b"<html><body>504 Gateway Time-out</body></html>", "HTML/XML instead of JSON"),
    (b'{"response": {"total": "2", "data": [{"period": "2024-01-05", "value": "1"}', "malformed JSON"),
    (b"[]", "expected a JSON object"),
    (b'{"response": {"total": 0}}', "no response.data list"),
    (document([weekly_row("2024-01", "1")]), "bad weekly period"),
    (document([weekly_row("2024-01-05", "lots")]), "is not a number"),
    (document([weekly_row("2024-01-05", True)]), "is not a number"),
    (document([{"period": "2024-01-05"}]), "data row without period/value"),
    (document([{**weekly_row("2024-01-05", "1"), "series": "WDISTUS1"}]), "expected WCESTUS1"),
    (document([weekly_row("2024-01-05", "1")], frequency="monthly"), "monthly data, expected weekly"),
])
def test_malformed_payloads_name_source_and_partition(body, message):
    with pytest.raises(ParseError) as error:
        parsed(body)
    assert message in str(error.value)
    assert str(error.value).startswith("eia [2024-01-01_2024-01-31]")


def test_error_document_is_a_source_error():
    with pytest.raises(SourceError) as error:
        parsed(json.dumps({"error": "Invalid frequency 'daily' provided.", "code": 400}).encode())
    assert type(error.value) is SourceError and "EIA error 400: Invalid frequency" in str(error.value)


def test_payload_without_series_meta_is_rejected():
    with pytest.raises(ParseError, match="does not name its series"):
        parsed(document([]), meta={})


# ------------------------------------------------------------------------------------ fetch
def small_config(tmp_path, page_length: int) -> object:
    """A config directory with one weekly series and a tiny page length, to exercise paging."""
    data = yaml.safe_load((CONFIG_DIR / "sources" / "eia.yaml").read_text())
    data["page_length"] = page_length
    data["series"] = {"WCESTUS1": data["series"]["WCESTUS1"]}
    (tmp_path / "cfg" / "sources").mkdir(parents=True)
    (tmp_path / "cfg" / "sources" / "eia.yaml").write_text(yaml.safe_dump(data))
    return tmp_path / "cfg"


def test_paging_until_total_with_the_documented_request(tmp_path, monkeypatch):
    monkeypatch.setenv("EIA_API_KEY", "live-key-123456")
    rows = [weekly_row(f"2023-12-{d:02d}", str(400_000 + d)) for d in (22, 29)]
    rows += [weekly_row(f"2024-01-{d:02d}", 400_000 + d) for d in (5, 12, 19)]
    asked: list[httpx.URL] = []

    def serve(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        offset, length = int(request.url.params["offset"]), int(request.url.params["length"])
        return httpx.Response(200, content=document(rows[offset:offset + length], total=len(rows)))

    ctx = FetchContext("live", LandingZone(tmp_path), tmp_path, small_config(tmp_path, 2), TODAY,
                       httpx.MockTransport(serve), RetryConfig(max_attempts=1, base_delay=0.0))
    payloads = eia.fetch(WINDOW, ctx)
    assert [int(u.params["offset"]) for u in asked] == [0, 2, 4] and [p.name for p in payloads] == [
        "WCESTUS1.p0.json", "WCESTUS1.p1.json", "WCESTUS1.p2.json"]
    first = asked[0]
    assert (first.host, first.path) == ("api.eia.gov", "/v2/petroleum/stoc/wstk/data/")
    assert first.params["api_key"] == "live-key-123456" and first.params["frequency"] == "weekly"
    assert first.params["data[0]"] == "value" and first.params.get_list("facets[series][]") == ["WCESTUS1"]
    assert first.params["sort[0][column]"] == "period" and first.params["sort[0][direction]"] == "asc"
    # periods released in the window start up to a week before it
    assert (first.params["start"], first.params["end"]) == ("2023-12-25", "2024-01-31")
    for p in payloads:  # the key never reaches the landing zone
        assert "live-key-123456" not in p.request and "api_key=***" in p.request
    frame = parse_window(SPEC, WINDOW, payloads)[eia.TABLE]
    # 22 Dec is released 28 Dec (Christmas on the Monday), before the window; 29 Dec on 4 Jan (New Year)
    assert list(frame["period"]) == [dt.date(2023, 12, 29), dt.date(2024, 1, 5), dt.date(2024, 1, 12),
                                     dt.date(2024, 1, 19)]
    assert list(frame["value"]) == [400_029.0, 400_005.0, 400_012.0, 400_019.0]


def test_live_fetch_without_key_fails_before_any_request(tmp_path, monkeypatch):
    monkeypatch.delenv("EIA_API_KEY", raising=False)
    asked = []
    ctx = FetchContext("live", LandingZone(tmp_path), tmp_path, CONFIG_DIR, TODAY,
                       httpx.MockTransport(lambda r: asked.append(r) or httpx.Response(500)))
    with pytest.raises(MissingCredential) as error:
        eia.fetch(WINDOW, ctx)
    assert "EIA_API_KEY" in str(error.value) and str(error.value).startswith("eia [2024-01-01_2024-01-31]")
    assert asked == []


def test_files_mode_leaves_the_table_empty(tmp_path):
    # the API is the only input: nothing to read, nothing to fail on (the no_gaps check warns)
    assert eia.fetch(WINDOW, FetchContext("files", LandingZone(tmp_path), tmp_path, CONFIG_DIR, TODAY)) == []


def test_config_identifiers_and_expected_keys():
    config = eia.load_config(CONFIG_DIR)
    by_id = {s.series_id: s for s in config.series}
    assert {s.series_id for s in config.series if s.identifier == "sure"} == {
        "WCESTUS1", "WDISTUS1", "WGTSTUS1", "WCRRIUS2", "WPULEUS3"}
    assert by_id["WCESTUS1"].route == "petroleum/stoc/wstk" and by_id["WPULEUS3"].route == "petroleum/pnp/wiup"
    assert by_id["M_EPOOBDSO_YIFBP_NUS_MMLB"].facets == {"product": "EPOOBDSO", "process": "YIFBP", "duoarea": "NUS"}
    ctx = type("Ctx", (), {"config_dir": CONFIG_DIR})()
    assert eia.expected_keys(ctx, Window(dt.date(2024, 1, 1), dt.date(2024, 1, 8))) == []
    assert set(eia.expected_keys(ctx, Window(dt.date(2024, 1, 1), dt.date(2024, 1, 22)))) == {
        s.series_id for s in config.series if s.frequency == "weekly"}
    assert len(eia.expected_keys(ctx, Window(dt.date(2024, 1, 1), dt.date(2024, 3, 5)))) == 8


# ------------------------------------------------------------------------------------ sample world
@pytest.fixture(scope="module")
def world():
    return get_world(7, 1.0, CONFIG_DIR)


def sample_ctx(world, tmp_path, today=TODAY) -> FetchContext:
    transport = httpx.MockTransport(lambda r: render_eia.handler(world, r, today))
    return FetchContext("sample", LandingZone(tmp_path), tmp_path, CONFIG_DIR, today, transport,
                        RetryConfig(max_attempts=3, base_delay=0.0))


def test_sample_round_trip_weekly_and_monthly(world, tmp_path):
    window = Window(dt.date(2024, 1, 1), dt.date(2024, 4, 1))
    payloads = eia.fetch(window, sample_ctx(world, tmp_path))
    assert all(SAMPLE_KEY not in p.request for p in payloads)
    frame = parse_window(SPEC, window, payloads)[eia.TABLE]
    assert set(frame["series_id"]) == {s.series_id for s in eia.load_config(CONFIG_DIR).series}
    assert frame["as_of_date"].map(window.contains).all()
    weekly = frame[frame["frequency"] == "weekly"]
    lag = (pd.to_datetime(weekly["as_of_date"]) - pd.to_datetime(weekly["period"])).dt.days
    shifted = set(weekly.loc[lag == 6, "period"])
    assert set(lag) == {5, 6} and shifted == {dt.date(2023, 12, 29), dt.date(2024, 1, 12), dt.date(2024, 2, 16)}
    assert (pd.to_datetime(weekly["period"]).dt.weekday == 4).all()
    assert (weekly.groupby("series_id").size() == 13).all()
    monthly = frame[frame["frequency"] == "monthly"]
    assert sorted(set(monthly["period"])) == [dt.date(2023, 10, 1), dt.date(2023, 11, 1), dt.date(2023, 12, 1)]
    # the values are the world's
    values = render_eia.series_values(world)
    periods, crude = values["WCESTUS1"]
    served = weekly[weekly["series_id"] == "WCESTUS1"].set_index("period")["value"]
    expected = pd.Series(crude, index=periods).reindex(served.index)
    assert (served == expected).all()
    soy = monthly[monthly["series_id"] == "M_EPOOBDSO_YIFBP_NUS_MMLB"].iloc[0]
    assert soy["units"] == "MMLB" and soy["description"].startswith("U.S. Soybean Oil Inputs")


def test_sample_serves_only_released_values(world, tmp_path):
    today = dt.date(2024, 2, 20)
    window = Window(dt.date(2024, 1, 1), dt.date(2024, 4, 1))
    frame = parse_window(SPEC, window, eia.fetch(window, sample_ctx(world, tmp_path, today)))[eia.TABLE]
    assert frame["as_of_date"].max() <= today
    weekly = frame[frame["frequency"] == "weekly"]
    assert weekly["period"].max() == dt.date(2024, 2, 9)  # released 14 Feb; the 16 Feb week comes out 22 Feb
    # monthly: November 2023 (out 29 Jan) is public, December 2023 (out 1 Mar) is not yet
    assert set(frame.loc[frame["frequency"] == "monthly", "period"]) == {dt.date(2023, 10, 1), dt.date(2023, 11, 1)}


def test_sample_ties_to_the_world(world):
    values = render_eia.series_values(world)
    fridays, crude = values["WCESTUS1"]
    trend = render_eia.price_trend(world, "CL", fridays)
    seasonal = render_eia._seasonal(fridays, 0.035, 130)
    assert np.corrcoef(np.log(crude) - seasonal, trend)[0, 1] < -0.5
    for series_id, root in (("WDISTUS1", "HO"), ("WGTSTUS1", "RB")):
        days, stocks = values[series_id]
        assert np.corrcoef(np.log(stocks), render_eia.price_trend(world, root, days))[0, 1] < -0.3
    # crude stocks are seasonal: spring above autumn on average
    months = np.array([d.month for d in fridays])
    assert np.mean(np.log(crude)[np.isin(months, [4, 5, 6])]) > np.mean(np.log(crude)[np.isin(months, [9, 10, 11])])
    utilisation = values["WPULEUS3"][1]
    assert utilisation[months == 7].mean() > utilisation[months == 1].mean() + 5
    firsts = values["M_EPOORDB_YNP_NUS_MBBLD"][0]
    years = np.array([d.year for d in firsts])
    rin = render_eia._monthly_rin(world, firsts)
    for series_id in ("M_EPOORDB_YNP_NUS_MBBLD", "M_EPOORDO_YNP_NUS_MBBLD", "M_EPOOBDSO_YIFBP_NUS_MMLB"):
        series = values[series_id][1]
        early, late = series[(years >= 2006) & (years <= 2008)], series[(years >= 2022) & (years <= 2024)]
        assert np.nanmean(late) > 2 * np.nanmean(early), series_id
    renewable = values["M_EPOORDO_YNP_NUS_MBBLD"][1]
    recent = years >= 2023  # the adoption curve is flat there: what moves is the RIN level
    assert np.corrcoef(np.log(renewable[recent]), rin[recent])[0, 1] > 0.5
    assert np.isnan(values["M_EPOOBDSO_YIFBP_NUS_MMLB"][1]).any()  # some withheld months


def test_sample_wire_format_and_determinism(world):
    url = ("https://api.eia.gov/v2/petroleum/pnp/feedbiofuel/data/?api_key=k&frequency=monthly&data[0]=value"
           "&facets[product][]=EPOOBDSO&facets[duoarea][]=NUS&start=2022-01&end=2022-12"
           "&sort[0][column]=period&sort[0][direction]=desc&offset=0&length=9000")
    first = render_eia.handler(world, httpx.Request("GET", url), TODAY)
    document_ = first.json()
    response = document_["response"]
    assert response["total"] == "12" and response["frequency"] == "monthly" and len(response["data"]) == 12
    assert response["warnings"][0]["warning"] == "Incomplete return"  # length above 5000
    assert [r["period"] for r in response["data"]][:2] == ["2022-12", "2022-11"]
    row = response["data"][0]
    assert row["series"] == "M_EPOOBDSO_YIFBP_NUS_MMLB" and row["units"] == "MMLB" and row["product"] == "EPOOBDSO"
    assert "api_key" not in document_["request"]["params"]
    weekly = render_eia.handler(world, httpx.Request(
        "GET", "https://api.eia.gov/v2/petroleum/stoc/wstk/data/?api_key=k&frequency=weekly&data[0]=value"
               "&facets[series][]=WGTSTUS1&start=2024-01-01&end=2024-01-31"), TODAY).json()
    assert all(isinstance(r["value"], str) for r in weekly["response"]["data"])
    render_eia.series_values.cache_clear()
    assert render_eia.handler(world, httpx.Request("GET", url), TODAY).content == first.content


@pytest.mark.parametrize("url, status, message", [
    ("https://api.eia.gov/v2/petroleum/stoc/wstk/data/?frequency=weekly", 403, "No api_key"),
    ("https://api.eia.gov/v2/petroleum/stoc/wstk/data/?api_key=k&frequency=monthly", 400, "Invalid frequency"),
    ("https://api.eia.gov/v2/petroleum/xyz/data/?api_key=k", 404, "not found"),
])
def test_sample_errors_use_the_documented_shape(world, url, status, message):
    response = render_eia.handler(world, httpx.Request("GET", url), TODAY)
    assert response.status_code == status and message in response.json()["error"]
    assert response.json()["code"] == status
