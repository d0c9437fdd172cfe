import datetime as dt
import json
import math

import pandas as pd
import pytest

from cbi_platform.lib.sources import fred
from cbi_platform.lib.sources.base import ParseError, Payload, SourceError
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import shared_file

WINDOW = Window(dt.date(2024, 10, 30), dt.date(2024, 10, 31))


def payload(body: bytes, name="GDP.p0.json", fmt="fred_json", meta=None) -> Payload:
    return Payload("fred", name, fmt, body, "GET /fred/series/observations", WINDOW,
                   {"series_id": "GDP"} if meta is None else meta)


def parsed(body: bytes, **kwargs) -> pd.DataFrame:
    return fred.parse(payload(body, **kwargs))[fred.TABLE]


def test_plain_observations_real_values_and_missing_marker():
    frame = parsed(shared_file("fixtures", "fred", "series_observations_GDP.json").read_bytes())
    assert len(frame) == 315
    row = frame.set_index("observation_date").loc[dt.date(1947, 1, 1)]
    assert row["value"] == pytest.approx(243.164)
    assert frame.set_index("observation_date").loc[dt.date(2024, 7, 1), "value"] == pytest.approx(29349.924)
    # "." is FRED's missing marker: NULL, never 0 or NaN-as-number
    missing = frame[frame["value"].isna()]
    assert len(missing) == 4 and dt.date(1946, 1, 1) in set(missing["observation_date"])
    # a plain request reports every row as known on the request day
    assert set(frame["as_of_date"]) == {dt.date(2024, 10, 30)}
    assert (frame["vintage_source"] == "alfred").all()


def test_alfred_vintages_are_kept_row_by_row():
    frame = parsed(shared_file("fixtures", "fred", "series_observations_GDP_alfred_all_vintages.json").read_bytes())
    assert len(frame) == 3199
    assert frame["value"].isna().sum() == 245
    assert frame["observation_date"].nunique() == 315
    q2 = frame[frame["observation_date"] == dt.date(2024, 4, 1)].sort_values("realtime_start")
    assert list(q2["realtime_start"]) == [dt.date(2024, 7, 25), dt.date(2024, 8, 29), dt.date(2024, 9, 26)]
    assert list(q2["value"]) == pytest.approx([28629.153, 28652.337, 29016.714])
    assert list(q2["as_of_date"]) == list(q2["realtime_start"])
    # the current vintage's realtime_end 9999-12-31 survives parsing
    assert q2["realtime_end"].iloc[-1] == dt.date(9999, 12, 31)
    # 1946 quarters: values in the early vintages, "." later
    q1946 = frame[frame["observation_date"] == dt.date(1946, 1, 1)].sort_values("realtime_start")
    assert q1946["value"].iloc[0] == pytest.approx(199.7) and math.isnan(q1946["value"].iloc[-1])


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "empty body"),
        (b"   \n", "empty body"),
        (b"<html><body>502 Bad Gateway</body></html>", "HTML/XML instead of JSON"),
        (b'{"realtime_start":"2024-10-30","observations":[{"date":"2024-01-01"', "malformed JSON"),
        (b"[1, 2, 3]", "expected a JSON object"),
        (b'{"count": 1}', "no 'observations' list"),
        (b'{"observations":[{"date":"2024-01-01","realtime_start":"2024-01-02","realtime_end":"9999-12-31","value":"12,5"}]}', "bad observation"),  # noqa: E501 (wire format)
        (b'{"observations":[{"date":"2024-13-01","realtime_start":"2024-01-02","realtime_end":"9999-12-31","value":"1"}]}', "bad observation"),  # noqa: E501 (wire format)
    ],
)
def test_malformed_payloads_fail_with_source_and_partition(body, message):
    with pytest.raises(ParseError) as error:
        parsed(body)
    assert message in str(error.value)
    assert str(error.value).startswith("fred [2024-10-30]")


def test_fred_error_document_is_a_source_error():
    body = json.dumps({"error_code": 400, "error_message": "Bad Request.  The series does not exist."}).encode()
    with pytest.raises(SourceError, match="FRED error 400: Bad Request.  The series does not exist."):
        parsed(body)


def test_payload_without_series_id_is_rejected():
    with pytest.raises(ParseError, match="does not name its series"):
        fred.parse(payload(b'{"observations": []}', meta={}))


def test_csv_current_header_empty_missing():
    body = shared_file("real", "VIXCLS_1990-2009.csv").read_bytes()
    frame = fred.parse(payload(body, name="VIXCLS.csv", fmt="fred_csv",
                               meta={"series_id": "VIXCLS", "frequency": "d", "release": {"lag_days": 1}}))[fred.TABLE]
    assert len(frame) == 5218
    by_date = frame.set_index("observation_date")
    assert by_date.loc[dt.date(2008, 10, 22), "value"] == pytest.approx(69.65)
    assert frame["value"].isna().sum() == 177
    # no vintages in a CSV: publication estimated from the release rule (next weekday)
    assert by_date.loc[dt.date(2008, 10, 24), "as_of_date"] == dt.date(2008, 10, 27)
    assert (frame["vintage_source"] == "estimated").all()


def test_csv_legacy_header_dot_missing():
    body = shared_file("real", "DGS10_1990-2009_legacy_format.csv").read_bytes()
    frame = fred.parse(payload(body, name="DGS10.csv", fmt="fred_csv", meta={"series_id": "DGS10"}))[fred.TABLE]
    by_date = frame.set_index("observation_date")
    assert by_date.loc[dt.date(2009, 12, 31), "value"] == pytest.approx(3.85)
    assert math.isnan(by_date.loc[dt.date(1990, 1, 1), "value"])
    assert frame["value"].isna().sum() == 215


@pytest.mark.parametrize("body, message", [
    (b"", "empty file"),
    (b"date,value\n2024-01-01,1\n", "expected a FRED CSV header"),
    (b"DATE,DGS10\n2024-01-01,abc\n", "bad row"),
])
def test_malformed_csv(body, message):
    with pytest.raises(ParseError, match=message):
        fred.parse(payload(body, name="DGS10.csv", fmt="fred_csv", meta={"series_id": "DGS10"}))


def test_csv_for_another_series_is_rejected():
    with pytest.raises(ParseError, match="holds DGS10, expected VIXCLS"):
        fred.parse(payload(b"DATE,DGS10\n2024-01-02,4.0\n", name="VIXCLS.csv", fmt="fred_csv", meta={"series_id": "VIXCLS"}))


def test_series_metadata_snapshot():
    body = json.dumps({"seriess": [{"id": "DGS10", "title": "Market Yield on U.S. Treasury Securities at 10-Year",
                                    "observation_start": "1962-01-02", "observation_end": "2024-10-29",
                                    "frequency_short": "D", "units": "Percent", "seasonal_adjustment_short": "NSA",
                                    "last_updated": "2024-10-30 15:17:02-05"}]}).encode()
    frame = fred.parse(payload(body, name="DGS10.series.json", fmt="fred_series_json",
                               meta={"series_id": "DGS10", "snapshot_date": "2024-10-30"}))[fred.SERIES_TABLE]
    row = frame.iloc[0]
    assert (row["series_id"], row["frequency"], row["as_of_date"]) == ("DGS10", "D", dt.date(2024, 10, 30))
    assert row["observation_start"] == dt.date(1962, 1, 2)
    with pytest.raises(ParseError, match="no 'seriess' list"):
        fred.parse(payload(b'{"seriess": []}', name="x.series.json", fmt="fred_series_json", meta={"snapshot_date": "2024-10-30"}))
