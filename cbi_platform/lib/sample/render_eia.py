"""EIA open-data API v2 of the simulated world: `GET https://api.eia.gov/v2/<route>/data/`.

Served routes and series (weekly from the first Friday of 2005, monthly from January 2005; a
value appears once its release date, `cbi_platform.lib.sources.eia.release_date` with the module
rules, is on or before `today`):
- petroleum/stoc/wstk (weekly): WCESTUS1 crude oil stocks excluding SPR, WDISTUS1 distillate
  stocks, WGTSTUS1 total gasoline stocks (thousand barrels);
- petroleum/pnp/wiup (weekly): WCRRIUS2 refiner net input of crude oil (thousand b/d),
  WPULEUS3 refinery utilisation (%);
- petroleum/sum/snd (monthly): biodiesel and renewable diesel net production (thousand b/d);
- petroleum/pnp/feedbiofuel (monthly): soybean oil inputs to biofuels (million pounds), with
  product/process/duoarea facets.

Wire format: the v2 envelope (`response` with total, dateFormat, frequency, data, description;
`request` echoing command and params; apiVersion), rows with period, duoarea, area-name,
product, product-name, process, process-name, series, series-description, value, units.
`total` is a string, weekly values are strings and monthly values numbers (the API does both),
withheld values are null. Facets filter (`facets[<facet>][]`, repeatable), `start`/`end`
bound the period, `sort[0][direction]`, `offset` and `length` (at most 5000, with the API's
warning) page. Errors: 403 without api_key, 400 for an unknown frequency or data column, 404 for
an unknown route, as `{"error": "...", "code": N}`.

Ties to the world's latent state (deterministic, `np.random.default_rng([seed, SALT, ...])`):
- Crude stocks = 330 million bbl x seasonal (+/-3.5%, peak mid-May) x exp(-0.15 x CL trend) x
  AR(1) noise, where the CL trend is the log of the 13-week mean front-month close
  (`macro.front_close`) relative to CL's reference price: stocks are drawn down when oil is
  dear. Distillate stocks (peak late October) tie to HO, gasoline stocks (peak mid-February)
  to RB, in the same way.
- Refinery utilisation: 88% + 5 points of summer seasonality - 6 points x the world's smoothed
  stress state (`world.stress_smooth`) + AR(1) noise; refiner crude input = a capacity growing
  from 17.0 to 18.3 million b/d x utilisation.
- Biodiesel and renewable diesel production follow adoption curves (biodiesel ramps up
  2007-2011 and eases after 2024, renewable diesel takes off around 2021), each scaled by
  exp(0.35 x the month's mean D4 RIN log price, `world.rin_log_d4`, weeks by
  `world.week_starts`); soybean oil used as feedstock = their combined volume x 7.5 lb/gal x a
  soybean-oil share drifting from 55% to 40%. So all three rise over the years and with RINs.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from dataclasses import dataclass
from functools import lru_cache

import httpx
import numpy as np

from cbi_platform.lib import calendar
from cbi_platform.lib.sample.macro import front_close
from cbi_platform.lib.sample.world import World
from cbi_platform.lib.sources.eia import MONTHLY_RULE, WEEKLY_RULE, release_date

SALT = 0xE1A2
HOST = "api.eia.gov"
PATH_PREFIX = "/v2/"
MAX_LENGTH = 5000
API_VERSION = "2.1.8"
FIRST_DAY = dt.date(2005, 1, 1)


@dataclass(frozen=True)
class ServedSeries:
    series_id: str
    route: str
    frequency: str
    description: str
    units: str
    facets: dict  # duoarea, area-name, product, product-name, process, process-name


_US = {"duoarea": "NUS", "area-name": "U.S."}
SERIES = {s.series_id: s for s in [
    ServedSeries("WCESTUS1", "petroleum/stoc/wstk", "weekly", "U.S. Ending Stocks excluding SPR of Crude Oil (Thousand Barrels)",
                 "MBBL", {**_US, "product": "EPC0", "product-name": "Crude Oil", "process": "SAX",
                          "process-name": "Ending Stocks Excluding SPR"}),
    ServedSeries("WDISTUS1", "petroleum/stoc/wstk", "weekly", "U.S. Ending Stocks of Distillate Fuel Oil (Thousand Barrels)",
                 "MBBL", {**_US, "product": "EPD0", "product-name": "Distillate Fuel Oil", "process": "SAE",
                          "process-name": "Ending Stocks"}),
    ServedSeries("WGTSTUS1", "petroleum/stoc/wstk", "weekly", "U.S. Ending Stocks of Total Gasoline (Thousand Barrels)",
                 "MBBL", {**_US, "product": "EPM0", "product-name": "Total Gasoline", "process": "SAE",
                          "process-name": "Ending Stocks"}),
    ServedSeries("WCRRIUS2", "petroleum/pnp/wiup", "weekly",
                 "U.S. Refiner Net Input of Crude Oil (Thousand Barrels per Day)", "MBBL/D",
                 {**_US, "product": "EPC0", "product-name": "Crude Oil", "process": "YIY",
                  "process-name": "Refiner Net Input"}),
    ServedSeries("WPULEUS3", "petroleum/pnp/wiup", "weekly",
                 "U.S. Percent Utilization of Refinery Operable Capacity (Percent)", "%",
                 {**_US, "product": "EPXXX2", "product-name": "Refinery Operable Capacity", "process": "YUP",
                  "process-name": "Percent Utilization"}),
    ServedSeries("M_EPOORDB_YNP_NUS_MBBLD", "petroleum/sum/snd", "monthly",
                 "U.S. Biodiesel Net Production (Thousand Barrels per Day)", "MBBL/D",
                 {**_US, "product": "EPOORDB", "product-name": "Biodiesel", "process": "YNP",
                  "process-name": "Renewable Fuels Plant Net Production"}),
    ServedSeries("M_EPOORDO_YNP_NUS_MBBLD", "petroleum/sum/snd", "monthly",
                 "U.S. Renewable Diesel Fuel Net Production (Thousand Barrels per Day)", "MBBL/D",
                 {**_US, "product": "EPOORDO", "product-name": "Renewable Diesel Fuel", "process": "YNP",
                  "process-name": "Renewable Fuels Plant Net Production"}),
    ServedSeries("M_EPOOBDSO_YIFBP_NUS_MMLB", "petroleum/pnp/feedbiofuel", "monthly",
                 "U.S. Soybean Oil Inputs to Biofuels Production (Million Pounds)", "MMLB",
                 {**_US, "product": "EPOOBDSO", "product-name": "Soybean Oil", "process": "YIFBP",
                  "process-name": "Feedstock Inputs to Biodiesel Production"}),
]}
ROUTE_DESCRIPTIONS = {
    "petroleum/stoc/wstk": "Weekly stocks of crude oil and petroleum products",
    "petroleum/pnp/wiup": "Weekly refinery inputs and utilization",
    "petroleum/sum/snd": "Monthly supply and disposition",
    "petroleum/pnp/feedbiofuel": "Feedstocks consumed for production of biofuels",
}
ROUTE_FREQUENCIES = {"petroleum/stoc/wstk": "weekly", "petroleum/pnp/wiup": "weekly",
                     "petroleum/sum/snd": "monthly", "petroleum/pnp/feedbiofuel": "monthly"}
FACETS = ("series", "duoarea", "product", "process")


# ============================================================================ values
def _rng(world: World, *keys) -> np.random.Generator:
    parts = [zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in keys]
    return np.random.default_rng([world.seed, SALT, *parts])


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    shocks = rng.standard_normal(n) * sd
    out = np.empty(n)
    level = 0.0
    for i in range(n):
        level = phi * level + shocks[i]
        out[i] = level
    return out


def weeks() -> list[dt.date]:
    """Week-ending Fridays from the first Friday of 2005 to the end of the world."""
    first = FIRST_DAY + dt.timedelta(days=(4 - FIRST_DAY.weekday()) % 7)
    return [first + dt.timedelta(days=7 * i) for i in range((calendar.CALENDAR_END - first).days // 7 + 1)]


def months() -> list[dt.date]:
    return [dt.date(y, m, 1) for y in range(FIRST_DAY.year, calendar.CALENDAR_END.year + 1) for m in range(1, 13)]


def _seasonal(days: list[dt.date], amplitude: float, peak_day_of_year: int) -> np.ndarray:
    doy = np.array([d.timetuple().tm_yday for d in days], dtype=float)
    return amplitude * np.cos(2 * np.pi * (doy - peak_day_of_year) / 365.25)


def price_trend(world: World, root: str, days: list[dt.date], sessions: int = 65) -> np.ndarray:
    """Log of the mean front-month close over the `sessions` before each day (inclusive),
    relative to the root's reference price."""
    closes = front_close(world, root)
    cumulative = np.concatenate([[0.0], np.cumsum(closes)])
    end = np.searchsorted(world.sessions, np.array(days, dtype="datetime64[D]"), side="right")
    end = np.clip(end, 1, len(closes))
    start = np.clip(end - sessions, 0, None)
    mean = (cumulative[end] - cumulative[start]) / (end - start)
    reference = float(world.symbols[world.root_index[root]].sample["price"])
    return np.log(mean / reference)


def _stress_at(world: World, days: list[dt.date]) -> np.ndarray:
    index = np.searchsorted(world.sessions, np.array(days, dtype="datetime64[D]"), side="right") - 1
    return world.stress_smooth[np.clip(index, 0, None)]


def _years(days: list[dt.date]) -> np.ndarray:
    return np.array([d.year + (d.timetuple().tm_yday - 1) / 365.25 for d in days])


def _logistic(t: np.ndarray, midpoint: float, width: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(t - midpoint) / width))


def _monthly_rin(world: World, periods: list[dt.date]) -> np.ndarray:
    """Mean D4 RIN log price over the weeks starting in each month."""
    starts = np.array(world.week_starts, dtype="datetime64[D]")
    out = np.empty(len(periods))
    for i, month in enumerate(periods):
        following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        lo = np.searchsorted(starts, np.datetime64(month, "D"), side="left")
        hi = np.searchsorted(starts, np.datetime64(following, "D"), side="left")
        out[i] = world.rin_log_d4[lo:hi].mean() if hi > lo else world.rin_log_d4[min(lo, len(starts) - 1)]
    return out


@lru_cache(maxsize=8)
def series_values(world: World) -> dict[str, tuple[list[dt.date], np.ndarray]]:
    """Every served series: (periods, values), NaN where a value is withheld."""
    fridays, firsts = weeks(), months()
    out: dict[str, tuple[list[dt.date], np.ndarray]] = {}
    n = len(fridays)
    stocks = {"WCESTUS1": ("CL", 330_000, 0.035, 130), "WDISTUS1": ("HO", 125_000, 0.07, 300),
              "WGTSTUS1": ("RB", 215_000, 0.04, 45)}
    for series_id, (root, base, amplitude, peak) in stocks.items():
        noise = _ar1(_rng(world, series_id), n, 0.9, 0.012)
        level = base * np.exp(_seasonal(fridays, amplitude, peak) - 0.15 * price_trend(world, root, fridays) + noise)
        out[series_id] = (fridays, np.round(level))
    utilisation = 88.0 + _seasonal(fridays, 5.0, 200) - 6.0 * _stress_at(world, fridays)
    utilisation = np.clip(utilisation + _ar1(_rng(world, "WPULEUS3"), n, 0.7, 1.0), 65.0, 97.0)
    capacity = 17_000 + 1_300 * np.clip((_years(fridays) - 2005) / 25, 0, 1)
    out["WPULEUS3"] = (fridays, np.round(utilisation, 1))
    out["WCRRIUS2"] = (fridays, np.round(capacity * utilisation / 100.0 * 0.97))

    t = _years(firsts)
    rin = _monthly_rin(world, firsts)
    monthly = _rng(world, "biofuels")
    biodiesel_trend = 2 + 110 * _logistic(t, 2009.0, 1.0) - 40 * _logistic(t, 2024.5, 0.8)
    renewable_trend = 1 + 260 * _logistic(t, 2022.0, 1.2)
    biodiesel = biodiesel_trend * np.exp(0.35 * rin + monthly.normal(0, 0.05, len(t)))
    renewable = renewable_trend * np.exp(0.35 * rin + monthly.normal(0, 0.05, len(t)))
    days_in_month = np.array([(dt.date(m.year + m.month // 12, m.month % 12 + 1, 1) - m).days for m in firsts])
    soy_share = np.clip(0.55 - 0.15 * (t - 2005) / 20 + monthly.normal(0, 0.02, len(t)), 0.2, 0.7)
    soybean_oil = (biodiesel + renewable) * days_in_month * 1000 * 42 * 7.5 / 1e6 * soy_share
    withheld = monthly.random(len(t)) < 0.02  # EIA withholds a cell now and then
    out["M_EPOORDB_YNP_NUS_MBBLD"] = (firsts, np.round(biodiesel, 1))
    out["M_EPOORDO_YNP_NUS_MBBLD"] = (firsts, np.round(renewable, 1))
    out["M_EPOOBDSO_YIFBP_NUS_MMLB"] = (firsts, np.where(withheld, np.nan, np.round(soybean_oil)))
    return out


@lru_cache(maxsize=8)
def _release_dates(frequency: str, periods: tuple[dt.date, ...]) -> np.ndarray:
    rule = WEEKLY_RULE if frequency == "weekly" else MONTHLY_RULE
    return np.array([release_date(p, frequency, rule) for p in periods], dtype="datetime64[D]")


# ============================================================================ HTTP
def _error(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps({"error": message, "code": status}).encode(),
                          headers={"Content-Type": "application/json"})


def _period_text(period: dt.date, frequency: str) -> str:
    return period.isoformat() if frequency == "weekly" else period.strftime("%Y-%m")


def _bound(text: str | None, frequency: str) -> str | None:
    if not text:
        return None
    return text[:10] if frequency == "weekly" else text[:7]


def handler(world: World, request: httpx.Request, today: dt.date) -> httpx.Response:
    path = request.url.path
    if not path.startswith(PATH_PREFIX) or not path.rstrip("/").endswith("/data"):
        return _error(404, f"Route {path} not found")
    route = path[len(PATH_PREFIX):].rstrip("/")[: -len("/data")]
    params = request.url.params
    if not params.get("api_key"):
        return _error(403, "No api_key was supplied.  Please register for one at https://www.eia.gov/opendata/register.php")
    if route not in ROUTE_FREQUENCIES:
        return _error(404, f"Route {route} not found")
    frequency = params.get("frequency", ROUTE_FREQUENCIES[route])
    if frequency != ROUTE_FREQUENCIES[route]:
        return _error(400, f"Invalid frequency '{frequency}' provided. The frequency must be one of the following: "
                           f"{ROUTE_FREQUENCIES[route]}")
    columns = [v for k, v in params.multi_items() if k.startswith("data[")]
    if columns and set(columns) != {"value"}:
        return _error(400, f"Invalid data '{columns}' provided. The only valid data is 'value'.")
    try:
        offset = int(params.get("offset", "0"))
        length = int(params.get("length", str(MAX_LENGTH)))
    except ValueError:
        return _error(400, "offset and length must be integers")
    warnings = []
    if length > MAX_LENGTH:
        warnings.append({"warning": "Incomplete return", "description": "The API can only return 5000 rows in JSON "
                         "format.  Please consider constraining your request with facet, start, or end, or using "
                         "offset to paginate results."})
        length = MAX_LENGTH
    facet_filters = {f: set(params.get_list(f"facets[{f}][]")) for f in FACETS if params.get_list(f"facets[{f}][]")}
    start, end = _bound(params.get("start"), frequency), _bound(params.get("end"), frequency)
    values = series_values(world)
    rows = []
    for series in SERIES.values():
        if series.route != route:
            continue
        attributes = {**series.facets, "series": series.series_id}
        if any(attributes.get(f) not in allowed for f, allowed in facet_filters.items()):
            continue
        periods, data = values[series.series_id]
        released = _release_dates(frequency, tuple(periods)) <= np.datetime64(today, "D")
        for period, value, public in zip(periods, data, released):
            text = _period_text(period, frequency)
            if not public or (start and text < start) or (end and text > end):
                continue
            if np.isnan(value):
                shown = None
            elif frequency == "weekly":
                shown = f"{value:g}" if value != int(value) else str(int(value))
            else:
                shown = float(value)
            rows.append({"period": text, **series.facets, "series": series.series_id,
                         "series-description": series.description, "value": shown, "units": series.units})
    descending = params.get("sort[0][direction]") == "desc"
    rows.sort(key=lambda r: (r["period"], r["series"]), reverse=descending)
    response = {"total": str(len(rows)), "dateFormat": "YYYY-MM-DD" if frequency == "weekly" else "YYYY-MM",
                "frequency": frequency, "data": rows[offset:offset + length], "description": ROUTE_DESCRIPTIONS[route]}
    if warnings:
        response = {"warnings": warnings, **response}
    echoed = {k: v for k, v in params.multi_items() if k != "api_key"}
    document = {"response": response, "request": {"command": f"/v2/{route}/data/", "params": echoed},
                "apiVersion": API_VERSION, "ExcelAddInVersion": "2.1.0"}
    return httpx.Response(200, content=json.dumps(document, separators=(",", ":")).encode(),
                          headers={"Content-Type": "application/json"})


ROUTES = [(HOST, PATH_PREFIX, handler)]
