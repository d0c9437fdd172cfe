"""EIA open-data API v2 (api.eia.gov/v2): weekly petroleum and monthly biofuel series.

Request, one series at a time (config/sources/eia.yaml lists them, their routes and facets):

    GET https://api.eia.gov/v2/<route>/data/?api_key=...&frequency=weekly&data[0]=value
        &facets[series][]=WCESTUS1&start=YYYY-MM-DD&end=YYYY-MM-DD
        &sort[0][column]=period&sort[0][direction]=asc&offset=N&length=5000

Response: `{"response": {"total": N, "dateFormat": ..., "frequency": ..., "data": [{"period",
"series", "series-description", "value", "units", ...}]}, "request": {...}, "apiVersion": ...}`.
`total` and `value` may arrive as numbers or as strings, `value` may be null (withheld); an
error comes as `{"error": ..., "code": ...}`. Pages of `length` rows are requested with
`offset` until `total` is reached. The key is a query parameter: it comes from `ctx.secret`
and the shared client redacts `api_key=` from every URL it logs or reports. No recorded EIA
payload exists in the fixtures: this implements the documented format.

Dates: `period` is the date the value describes (weekly: the week ending Friday; monthly:
"YYYY-MM", stored as the month's first day). `as_of_date` is the release date:
- weekly (Weekly Petroleum Status Report): the Wednesday after the week ending Friday
  (period + 5 days), one day later when a federal holiday falls on the Monday..Wednesday before
  it (the pandas US federal holiday calendar);
- monthly (Petroleum Supply Monthly / Monthly Biofuels Capacity and Feedstocks Update): the
  period's last day plus a configured lag, moved to the next weekday.
The API serves the latest revision of each value, so a value revised after its first release
carries its first release date: a small look-ahead the API does not let us avoid.

A window asks for the periods whose release can fall in it: from the window start minus the
release lag (and the whole history from `history_start` for a history partition).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd

from cbi_platform.lib.calendar import federal_holidays
from cbi_platform.lib.config import ConfigError, load_yaml, validate_identifier
from cbi_platform.lib.ingest import SourceSpec, TableSpec
from cbi_platform.lib.release import next_business_day_on_or_after
from cbi_platform.lib.sources.base import ParseError, Payload, SourceError, decode_json_object
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.window import Window

SOURCE = "eia"
FORMAT = "eia_v2_json"
KEY_ENV = "EIA_API_KEY"
COLUMNS = ["series_id", "period", "frequency", "value", "units", "description", "as_of_date"]
# the table this source fills, declared once (sql/schema creates it; a test checks they agree)
TABLE_SPEC = TableSpec("raw.eia_series", ("series_id", "period"), key_column="series_id")
TABLE, PRIMARY_KEY = TABLE_SPEC.name, TABLE_SPEC.primary_key
FREQUENCIES = ("weekly", "monthly")
# The simulated EIA publishes on these rules; config/sources/eia.yaml states the same numbers.
WEEKLY_RULE = {"lag_days": 5, "holiday_shift_days": 1}
MONTHLY_RULE = {"lag_days": 60}
MAX_PAGES = 1000
_NULL_TEXT = {"", "NA", "W", "--", "(NA)", "(W)"}  # EIA's not-available / withheld markers


# ------------------------------------------------------------------------------------ config
@dataclass(frozen=True)
class EiaSeries:
    series_id: str
    route: str
    frequency: str
    bucket: str
    description: str
    units: str
    facets: dict[str, str] = field(default_factory=dict, hash=False)  # request facets
    identifier: str = "assumed"  # "sure" or "assumed": how certain the route/series codes are

    @property
    def by_series_facet(self) -> bool:
        return self.facets == {"series": self.series_id}


@dataclass(frozen=True)
class EiaConfig:
    api: str
    page_length: int
    history_start: dt.date
    release: dict[str, dict] = field(hash=False)
    series: tuple[EiaSeries, ...] = ()


def load_config(config_dir) -> EiaConfig:
    data = load_yaml(config_dir / "sources" / "eia.yaml")
    series = []
    for series_id, raw in data["series"].items():
        series_id = validate_identifier(str(series_id), "EIA series id")
        frequency = str(raw["frequency"])
        if frequency not in FREQUENCIES:
            raise ConfigError(f"EIA series {series_id}: unknown frequency {frequency!r}")
        route = str(raw["route"])
        if not all(part and part.replace("-", "").isalnum() for part in route.split("/")):
            raise ConfigError(f"EIA series {series_id}: invalid route {route!r}")
        facets = {str(k): validate_identifier(str(v), f"EIA facet {k}")
                  for k, v in (raw.get("facets") or {"series": series_id}).items()}
        series.append(EiaSeries(series_id, route, frequency, str(raw["bucket"]), str(raw["description"]),
                                str(raw["units"]), facets, str(raw.get("identifier", "assumed"))))
    release = {"weekly": dict(WEEKLY_RULE), "monthly": dict(MONTHLY_RULE)}
    for frequency, rule in (data.get("release") or {}).items():
        release[str(frequency)].update(rule)
    return EiaConfig(str(data["api"]).rstrip("/"), int(data.get("page_length", 5000)),
                     dt.date.fromisoformat(str(data["history_start"])), release, tuple(series))


# ------------------------------------------------------------------------------------ release dates
def weekly_release_date(week_ending: dt.date, rule: dict = WEEKLY_RULE) -> dt.date:
    """The Weekly Petroleum Status Report for a week ending Friday comes out on the following
    Wednesday, a day later when a federal holiday falls on that Monday..Wednesday."""
    release = week_ending + dt.timedelta(days=int(rule.get("lag_days", 5)))
    holidays = federal_holidays()
    if any(release - dt.timedelta(days=d) in holidays for d in range(0, 3)):
        release += dt.timedelta(days=int(rule.get("holiday_shift_days", 1)))
    return release


def month_end(month_start: dt.date) -> dt.date:
    following = dt.date(month_start.year + month_start.month // 12, month_start.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def monthly_release_date(month_start: dt.date, rule: dict = MONTHLY_RULE) -> dt.date:
    return next_business_day_on_or_after(month_end(month_start) + dt.timedelta(days=int(rule.get("lag_days", 60))))


def release_date(period: dt.date, frequency: str, rule: dict) -> dt.date:
    return weekly_release_date(period, rule) if frequency == "weekly" else monthly_release_date(period, rule)


def _max_lag(frequency: str, rule: dict) -> dt.timedelta:
    """Longest time from the start of a period to its release."""
    if frequency == "weekly":
        return dt.timedelta(days=int(rule.get("lag_days", 5)) + int(rule.get("holiday_shift_days", 1)) + 1)
    return dt.timedelta(days=31 + int(rule.get("lag_days", 60)) + 3)


def request_range(series: EiaSeries, window: Window, config: EiaConfig) -> tuple[str, str]:
    """start/end parameters: every period whose release can fall in the window."""
    rule = config.release[series.frequency]
    first = config.history_start if window.include_history else window.start - _max_lag(series.frequency, rule)
    last = window.last_day
    if series.frequency == "weekly":
        return first.isoformat(), last.isoformat()
    return first.strftime("%Y-%m"), last.strftime("%Y-%m")


# ------------------------------------------------------------------------------------ fetch
def _series(ctx: FetchContext) -> tuple[EiaSeries, ...]:
    return load_config(ctx.config_dir).series


def fetch(window: Window, ctx: FetchContext) -> list[Payload]:
    if ctx.mode == "files":
        return []  # the EIA API is the only input: in files mode the table stays empty (its no_gaps check warns)
    config = load_config(ctx.config_dir)
    key = ctx.secret(SOURCE, window, KEY_ENV)
    payloads = []
    with ctx.http(SOURCE, window, secrets=[key]) as client:
        for series in config.series:
            start, end = request_range(series, window, config)
            params = {"api_key": key, "frequency": series.frequency, "data[0]": "value"}
            params.update({f"facets[{facet}][]": value for facet, value in series.facets.items()})
            params.update({"start": start, "end": end, "sort[0][column]": "period", "sort[0][direction]": "asc"})
            meta = {"series_id": series.series_id, "frequency": series.frequency,
                    "release": config.release[series.frequency], "by_series_facet": series.by_series_facet,
                    "description": series.description, "units": series.units}
            offset, page = 0, 0
            while True:
                result = client.get(f"{config.api}/{series.route}/data/",
                                    params={**params, "offset": str(offset), "length": str(config.page_length)})
                payload = Payload(SOURCE, f"{series.series_id}.p{page}.json", FORMAT, result.body, result.url, window,
                                  meta)
                payloads.append(payload)
                total, rows = _page_size(payload)
                offset += config.page_length
                page += 1
                if offset >= total or rows == 0:
                    break
                if page >= MAX_PAGES:
                    raise SourceError(SOURCE, window, f"{series.series_id}: more than {MAX_PAGES} pages")
    return payloads


# ------------------------------------------------------------------------------------ parse
def _document(payload: Payload) -> dict:
    document = decode_json_object(payload.body, SOURCE, payload.window, payload.name)
    if "error" in document:
        error = document["error"]
        if isinstance(error, dict):  # {"error": {"code": "...", "message": "..."}} also occurs
            error = f"{error.get('code', '')} {error.get('message', '')}".strip()
        raise SourceError(SOURCE, payload.window, f"{payload.name}: EIA error {document.get('code', '')}: {error}")
    response = document.get("response")
    if not isinstance(response, dict) or not isinstance(response.get("data"), list):
        raise ParseError(SOURCE, payload.window, f"{payload.name}: no response.data list")
    return response


def _page_size(payload: Payload) -> tuple[int, int]:
    response = _document(payload)
    try:
        total = int(response["total"])
    except (KeyError, TypeError, ValueError):
        raise ParseError(SOURCE, payload.window, f"{payload.name}: response has no valid 'total'") from None
    return total, len(response["data"])


def _number(value, payload: Payload, period: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool):
        raise ParseError(SOURCE, payload.window, f"{payload.name}: {period}: value {value!r} is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if text.upper() in _NULL_TEXT:
            return math.nan
        try:
            return float(text)
        except ValueError:
            pass
    raise ParseError(SOURCE, payload.window, f"{payload.name}: {period}: value {value!r} is not a number")


def _period(text, frequency: str, payload: Payload) -> dt.date:
    try:
        if frequency == "weekly":
            if not isinstance(text, str) or len(text) != 10:
                raise ValueError
            return dt.date.fromisoformat(text)
        if not isinstance(text, str) or len(text) != 7:
            raise ValueError
        return dt.date.fromisoformat(f"{text}-01")
    except ValueError:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: bad {frequency} period {text!r}") from None


def parse(payload: Payload) -> dict[str, pd.DataFrame]:
    if payload.format != FORMAT:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: unknown format {payload.format!r}")
    return {TABLE: parse_series(payload)}


def parse_series(payload: Payload) -> pd.DataFrame:
    series_id, frequency, rule = (payload.meta.get(k) for k in ("series_id", "frequency", "release"))
    if not series_id or frequency not in FREQUENCIES or not isinstance(rule, dict):
        raise ParseError(SOURCE, payload.window, f"{payload.name}: payload does not name its series, frequency and release rule")
    response = _document(payload)
    if response.get("frequency") not in (None, frequency):
        raise ParseError(SOURCE, payload.window,
                         f"{payload.name}: {response.get('frequency')} data, expected {frequency}")
    rows = []
    for item in response["data"]:
        if not isinstance(item, dict) or "period" not in item or "value" not in item:
            raise ParseError(SOURCE, payload.window, f"{payload.name}: data row without period/value")
        if payload.meta.get("by_series_facet", True) and item.get("series", series_id) != series_id:
            raise ParseError(SOURCE, payload.window,
                             f"{payload.name}: row of series {item.get('series')!r}, expected {series_id}")
        period = _period(item["period"], frequency, payload)
        rows.append((series_id, period, frequency, _number(item["value"], payload, str(item["period"])),
                     str(item.get("units") or payload.meta.get("units") or ""),
                     str(item.get("series-description") or payload.meta.get("description") or ""),
                     release_date(period, frequency, rule)))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["value"] = frame["value"].astype(float)
    return frame


def expected_keys(ctx: FetchContext, window: Window) -> list[str]:
    """Series that must publish in a window this long: weekly ones every week (14 days leaves
    room for a holiday shift at a window edge), monthly ones within 62 days."""
    days = (window.end - window.start).days
    need = {"weekly": 14, "monthly": 62}
    return [s.series_id for s in _series(ctx) if window.include_history or days >= need[s.frequency]]


def spec() -> SourceSpec:
    """How lib.ingest ingests this source: its fetch and parse, the tables it fills, the keys a window should hold."""
    return SourceSpec(SOURCE, fetch, parse, (TABLE_SPEC,), expected_keys)
