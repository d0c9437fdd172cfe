"""USDA FAS Export Sales Reporting (ESR) OpenData API: weekly export sales by destination.

Endpoints (https://api.fas.usda.gov, key in the `X-Api-Key` header, env USDA_FAS_API_KEY):
- `GET /api/esr/exports/commodityCode/{code}/allCountries/marketYear/{YYYY}`: a JSON array, one
  object per destination country per week of that marketing year;
- `GET /api/esr/commodities`, `/api/esr/countries`, `/api/esr/unitsOfMeasure`: reference lists
  (real responses in shared/fixtures/usda_esr; names are space-padded and trimmed here).

No recorded exports response exists: the parser implements the documented format (field names
from the FAS OpenData swagger and client code): `commodityCode`, `countryCode`, `weeklyExports`,
`accumulatedExports`, `outstandingSales`, `grossNewSales`, `currentMYNetSales`,
`currentMYTotalCommitment`, `nextMYOutstandingSales`, `nextMYNetSales`, `unitId`, and
`weekEndingDate` as a local timestamp without zone (`2020-08-06T00:00:00`). Numbers are JSON
numbers and can be negative (net cancellations). Rows do not carry the marketing year: it is
taken from the request.

Assumptions, documented where no recorded payload settles them:
- `marketYear` is the calendar year in which the marketing year *ends* (2025 = 2024/25), and a
  week belongs to the marketing year that contains its first day (the Friday): the first week of
  a new year reports accumulated exports equal to its weekly exports. Around the boundary the
  fetch asks for both candidate years, so a different convention loses nothing.
- Release (as_of_date): the report comes out on the Thursday after the week ends (week ending
  Thursday + 7 days). When a US federal holiday falls between the end of the week and that
  Thursday, FAS publishes on Friday instead ("If the preceding Friday or Monday is a national
  holiday ... the weekly summary is published Friday"; "Friday during weeks that include a
  holiday", fas.usda.gov and apps.fas.usda.gov/export-sales): the release moves to the next
  business day. Holidays come from pandas' USFederalHolidayCalendar. Government shutdowns,
  which delayed reports by weeks (2013, 2019), are not modelled.

Reference lists are fetched once per window and stored as a snapshot dated the window's last
day (not after today); their primary keys include as_of_date.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from cbi_platform.lib.calendar import federal_holidays, is_business_day
from cbi_platform.lib.config import ConfigError, load_yaml
from cbi_platform.lib.ingest import SourceSpec, TableSpec
from cbi_platform.lib.sources.base import ParseError, Payload, decode_json
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.window import Window

SOURCE = "usda_esr"
KEY_ENV = "USDA_FAS_API_KEY"
# the tables this source fills, declared once (sql/schema creates them; a test checks they agree)
EXPORTS = TableSpec("raw.usda_export_sales", ("commodity_code", "market_year", "country_code", "week_ending"),
                    key_column="commodity_code")
COMMODITIES = TableSpec("raw.usda_esr_commodities", ("commodity_code", "as_of_date"))
COUNTRIES = TableSpec("raw.usda_esr_countries", ("country_code", "as_of_date"))
UNITS = TableSpec("raw.usda_esr_units", ("unit_id", "as_of_date"))
EXPORTS_TABLE, COMMODITIES_TABLE, COUNTRIES_TABLE, UNITS_TABLE = (t.name for t in (EXPORTS, COMMODITIES, COUNTRIES, UNITS))
EXPORTS_COLUMNS = ["commodity_code", "market_year", "country_code", "week_ending", "weekly_exports",
                   "accumulated_exports", "outstanding_sales", "gross_new_sales", "current_my_net_sales",
                   "current_my_total_commitment", "next_my_outstanding_sales", "next_my_net_sales",
                   "unit_id", "as_of_date"]
COMMODITIES_COLUMNS = ["commodity_code", "commodity_name", "unit_id", "as_of_date"]
COUNTRIES_COLUMNS = ["country_code", "country_name", "country_description", "region_id", "genc_code", "as_of_date"]
UNITS_COLUMNS = ["unit_id", "unit_name", "as_of_date"]

# wire field -> column, in the order the API sends them
EXPORT_FIGURES = {
    "weeklyExports": "weekly_exports",
    "accumulatedExports": "accumulated_exports",
    "outstandingSales": "outstanding_sales",
    "grossNewSales": "gross_new_sales",
    "currentMYNetSales": "current_my_net_sales",
    "currentMYTotalCommitment": "current_my_total_commitment",
    "nextMYOutstandingSales": "next_my_outstanding_sales",
    "nextMYNetSales": "next_my_net_sales",
}
REFERENCE_ENDPOINTS = {  # format -> (path, payload name)
    "esr_commodities": ("/commodities", "esr_commodities.json"),
    "esr_countries": ("/countries", "esr_countries.json"),
    "esr_units": ("/unitsOfMeasure", "esr_unitsOfMeasure.json"),
}
_THURSDAY = 3


# ---------------------------------------------------------------------------- config
@dataclass(frozen=True)
class SeasonalNorm:
    """The seasonal norm of weekly China soybean net sales (metric tons), a smooth yearly cycle:

        norm(d) = base_t + amplitude_t * ((1 + cos(2*pi*(t - peak_day)/365.2425)) / 2) ** power

    with t = days from 2000-01-01 to the week-ending date d. With the configured values it is
    about 0.6 Mt a week in September, peaks near 1.35 Mt in late October, is still ~0.45 Mt at
    the end of December and ~0.15 Mt from March to July. The China export-sales surprise of a
    week is (currentMYNetSales - norm) / scale_t.
    """

    base_t: float
    amplitude_t: float
    peak_day: float
    power: float
    scale_t: float

    def tons(self, week_ending: dt.date) -> float:
        t = (week_ending - dt.date(2000, 1, 1)).days
        cycle = (1.0 + math.cos(2.0 * math.pi * (t - self.peak_day) / 365.2425)) / 2.0
        return self.base_t + self.amplitude_t * cycle**self.power

    def surprise(self, net_sales_t: float, week_ending: dt.date) -> float:
        return (net_sales_t - self.tons(week_ending)) / self.scale_t


@dataclass(frozen=True)
class EsrConfig:
    api_base: str
    history_start_market_year: int
    commodities: dict[int, tuple[str, int]]  # code -> (name, marketing-year start month)
    china_country_code: int
    china_soybean_commodity: int
    china_norm: SeasonalNorm

    def start_month(self, code: int) -> int:
        return self.commodities[code][1]


@lru_cache(maxsize=8)
def load_config(config_dir: Path) -> EsrConfig:
    path = Path(config_dir) / "sources" / "usda_esr.yaml"
    data = load_yaml(path)
    api_base = str(data.get("api_base", "")).rstrip("/")
    if not api_base.startswith("https://"):
        raise ConfigError(f"{path}: api_base must be an https URL, got {api_base!r}")
    commodities = {}
    for code, spec in (data.get("commodities") or {}).items():
        try:
            code, month = int(code), int(spec["market_year_start_month"])
        except (TypeError, ValueError, KeyError) as exc:
            raise ConfigError(f"{path}: commodity {code!r} needs an integer code and market_year_start_month") from exc
        if not 1 <= month <= 12:
            raise ConfigError(f"{path}: commodity {code}: market_year_start_month {month} outside 1..12")
        commodities[code] = (str(spec.get("name", code)), month)
    if not commodities:
        raise ConfigError(f"{path}: no commodities configured")
    china = data.get("china_soybean_net_sales") or {}
    try:
        norm = SeasonalNorm(float(china["base_t"]), float(china["amplitude_t"]), float(china["peak_day"]),
                            float(china["power"]), float(china["scale_t"]))
        china_commodity = int(china["commodity_code"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: china_soybean_net_sales needs commodity_code, base_t, amplitude_t, "
                          f"peak_day, power and scale_t") from exc
    if norm.scale_t <= 0:
        raise ConfigError(f"{path}: china_soybean_net_sales.scale_t must be positive")
    return EsrConfig(
        api_base=api_base,
        history_start_market_year=int(data.get("history_start_market_year", 2005)),
        commodities=commodities,
        china_country_code=int(data.get("china_country_code", 5700)),
        china_soybean_commodity=china_commodity,
        china_norm=norm,
    )


# ---------------------------------------------------------------------------- calendar
def release_date(week_ending: dt.date) -> dt.date:
    """When FAS publishes the week: the Thursday after the week ends (7 days after a Thursday
    week end), or the next business day if a federal holiday falls in between."""
    thursday = week_ending + dt.timedelta(days=(_THURSDAY - week_ending.weekday()) % 7)
    release = thursday + dt.timedelta(days=7)
    holidays = federal_holidays()
    if any(thursday + dt.timedelta(days=i) in holidays for i in range(1, 8)):
        release += dt.timedelta(days=1)
        while not is_business_day(release):
            release += dt.timedelta(days=1)
    return release


def market_year_label(day: dt.date, start_month: int) -> int:
    """The API's marketYear of the marketing year containing `day`: the year it ends in."""
    start_year = day.year if day.month >= start_month else day.year - 1
    return start_year + 1 if start_month > 1 else start_year


def market_year_start(label: int, start_month: int) -> dt.date:
    return dt.date(label - 1 if start_month > 1 else label, start_month, 1)


def week_market_year(week_ending: dt.date, start_month: int) -> int:
    """A week (Friday..Thursday) belongs to the marketing year containing its first day."""
    return market_year_label(week_ending - dt.timedelta(days=6), start_month)


def weeks_released_in(window: Window) -> list[dt.date]:
    """Week-ending Thursdays whose report is released in [window.start, window.end)."""
    first = window.start - dt.timedelta(days=21)
    first += dt.timedelta(days=(_THURSDAY - first.weekday()) % 7)
    weeks = []
    week = first
    while week < window.end:
        if window.start <= release_date(week) < window.end:
            weeks.append(week)
        week += dt.timedelta(days=7)
    return weeks


def market_years_for(window: Window, start_month: int, history_start: int) -> list[int]:
    """Marketing years to request for a window: those of the weeks released in it (both
    candidates for a week straddling the boundary), and every earlier one from `history_start`
    when the window carries history."""
    weeks = weeks_released_in(window)
    years = {week_market_year(w, start_month) for w in weeks} | {market_year_label(w, start_month) for w in weeks}
    if window.include_history:
        last = max(years) if years else week_market_year(window.last_day, start_month)
        years |= set(range(history_start, last + 1))
    return sorted(years)


# ---------------------------------------------------------------------------- fetch
def fetch(window: Window, ctx: FetchContext) -> list[Payload]:
    """Reference lists once per window, then each configured commodity's marketing years whose
    weeks are released in the window. ESR has no `files` mode (the API is public and keyed):
    there it fetches nothing, and the gap report shows it."""
    if ctx.mode == "files":
        return []
    config = load_config(ctx.config_dir)
    key = ctx.secret(SOURCE, window, KEY_ENV)
    headers = {"X-Api-Key": key, "Accept": "application/json"}
    snapshot = min(window.last_day, ctx.today).isoformat()
    payloads = []
    with ctx.http(SOURCE, window, secrets=[key]) as client:
        for fmt, (path, name) in REFERENCE_ENDPOINTS.items():
            result = client.get(f"{config.api_base}{path}", headers=headers)
            payloads.append(Payload(SOURCE, name, fmt, result.body, f"GET {result.url}", window,
                                    {"snapshot_date": snapshot}))
        for code, (_, start_month) in config.commodities.items():
            for year in market_years_for(window, start_month, config.history_start_market_year):
                url = f"{config.api_base}/exports/commodityCode/{code}/allCountries/marketYear/{year}"
                result = client.get(url, headers=headers)
                payloads.append(Payload(SOURCE, f"exports_{code}_MY{year}.json", "esr_exports", result.body,
                                        f"GET {result.url}", window, {"commodity_code": code, "market_year": year}))
    return payloads


# ---------------------------------------------------------------------------- parse
def parse(payload: Payload) -> dict[str, pd.DataFrame]:
    if payload.format == "esr_exports":
        return {EXPORTS_TABLE: parse_exports(payload)}
    if payload.format == "esr_commodities":
        return {COMMODITIES_TABLE: parse_commodities(payload)}
    if payload.format == "esr_countries":
        return {COUNTRIES_TABLE: parse_countries(payload)}
    if payload.format == "esr_units":
        return {UNITS_TABLE: parse_units(payload)}
    raise ParseError(SOURCE, payload.window, f"{payload.name}: unknown format {payload.format!r}")


def _fail(payload: Payload, detail: str) -> ParseError:
    return ParseError(SOURCE, payload.window, f"{payload.name}: {detail}")


def _load_array(payload: Payload) -> list[dict]:
    document = decode_json(payload.body, SOURCE, payload.window, payload.name)
    if isinstance(document, dict):
        # the gateway answers errors with an object; show its gist, never the request headers
        raise _fail(payload, f"expected a JSON array, got an object {json.dumps(document)[:160]}")
    if not isinstance(document, list):
        raise _fail(payload, f"expected a JSON array, got {type(document).__name__}")
    for i, item in enumerate(document):
        if not isinstance(item, dict):
            raise _fail(payload, f"element {i} is {type(item).__name__}, expected an object")
    return document


def _integer(payload: Payload, item: dict, field: str, i: int) -> int:
    value = item.get(field)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        raise _fail(payload, f"element {i}: {field} is {value!r}, expected an integer")
    return int(value)


def _number(payload: Payload, item: dict, field: str, i: int) -> float:
    if field not in item:
        raise _fail(payload, f"element {i}: missing {field}")
    value = item[field]
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(payload, f"element {i}: {field} is {value!r}, expected a number")
    return float(value)


def _text(payload: Payload, item: dict, field: str, i: int, nullable: bool = False) -> str | None:
    value = item.get(field)
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(payload, f"element {i}: {field} is {value!r}, expected text")
    return value.strip()


def _week_ending(payload: Payload, value, i: int) -> dt.date:
    if not isinstance(value, str):
        raise _fail(payload, f"element {i}: weekEndingDate is {value!r}, expected a timestamp")
    try:
        return dt.datetime.fromisoformat(value).date()
    except ValueError:
        raise _fail(payload, f"element {i}: bad weekEndingDate {value!r}") from None


def parse_exports(payload: Payload) -> pd.DataFrame:
    code, year = payload.meta.get("commodity_code"), payload.meta.get("market_year")
    if not isinstance(code, int) or not isinstance(year, int):
        raise _fail(payload, "payload meta does not name its commodity_code and market_year")
    items = _load_array(payload)
    if not items:  # a marketing year with nothing reported yet
        return pd.DataFrame(columns=EXPORTS_COLUMNS)
    rows = []
    for i, item in enumerate(items):
        if _integer(payload, item, "commodityCode", i) != code:
            raise _fail(payload, f"element {i}: commodityCode {item['commodityCode']}, requested {code}")
        week = _week_ending(payload, item.get("weekEndingDate"), i)
        row = {
            "commodity_code": code,
            "market_year": year,
            "country_code": _integer(payload, item, "countryCode", i),
            "week_ending": week,
            **{column: _number(payload, item, field, i) for field, column in EXPORT_FIGURES.items()},
            "unit_id": _integer(payload, item, "unitId", i),
            "as_of_date": release_date(week),
        }
        rows.append(row)
    frame = pd.DataFrame(rows, columns=EXPORTS_COLUMNS)
    duplicated = frame.duplicated(list(EXPORTS.primary_key), keep=False)
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise _fail(payload, f"{int(duplicated.sum())} rows repeat a (country, week), e.g. country "
                             f"{first.country_code} week {first.week_ending}")
    return frame


def _snapshot_date(payload: Payload) -> dt.date:
    value = payload.meta.get("snapshot_date")
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _fail(payload, f"payload meta lacks a valid snapshot_date ({value!r})") from None


def _reference(payload: Payload, columns: list[str], key: str, build) -> pd.DataFrame:
    as_of = _snapshot_date(payload)
    items = _load_array(payload)
    if not items:
        raise _fail(payload, "empty reference list")
    frame = pd.DataFrame([build(item, i) for i, item in enumerate(items)])
    frame["as_of_date"] = as_of
    repeated = frame[key].duplicated()
    if repeated.any():
        raise _fail(payload, f"{key} {frame.loc[repeated, key].iloc[0]} appears more than once")
    return frame[columns]


def parse_commodities(payload: Payload) -> pd.DataFrame:
    return _reference(payload, COMMODITIES_COLUMNS, "commodity_code", lambda item, i: {
        "commodity_code": _integer(payload, item, "commodityCode", i),
        "commodity_name": _text(payload, item, "commodityName", i),
        "unit_id": _integer(payload, item, "unitId", i),
    })


def parse_countries(payload: Payload) -> pd.DataFrame:
    return _reference(payload, COUNTRIES_COLUMNS, "country_code", lambda item, i: {
        "country_code": _integer(payload, item, "countryCode", i),
        "country_name": _text(payload, item, "countryName", i),
        "country_description": _text(payload, item, "countryDescription", i),
        "region_id": _integer(payload, item, "regionId", i),
        "genc_code": _text(payload, item, "gencCode", i, nullable=True),
    })


def parse_units(payload: Payload) -> pd.DataFrame:
    return _reference(payload, UNITS_COLUMNS, "unit_id", lambda item, i: {
        "unit_id": _integer(payload, item, "unitId", i),
        "unit_name": _text(payload, item, "unitNames", i),
    })


# ---------------------------------------------------------------------------- gaps
def expected_keys(ctx: FetchContext, window: Window) -> list[str]:
    """Commodity codes that must publish export-sales rows: in a window of at least 7 days that
    holds a release date (a Thursday, or the Friday it moves to in a holiday week)."""
    config = load_config(ctx.config_dir)
    long_enough = (window.end - window.start).days >= 7 and bool(weeks_released_in(window))
    if window.include_history or long_enough:
        return [str(code) for code in config.commodities]
    return []


def spec() -> SourceSpec:
    """How lib.ingest ingests this source: its fetch and parse, the tables it fills, the keys a window should hold."""
    return SourceSpec(SOURCE, fetch, parse, (EXPORTS, COMMODITIES, COUNTRIES, UNITS), expected_keys)
