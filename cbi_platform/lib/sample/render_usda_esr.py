"""USDA FAS ESR OpenData API (api.fas.usda.gov/api/esr), rendered from the simulated world.

Serves, as compact JSON like the live API:
- `/api/esr/commodities`, `/api/esr/countries`, `/api/esr/unitsOfMeasure`: the shapes of the real
  responses in shared/fixtures/usda_esr, space padding included (countryName to 8 characters,
  countryDescription to 30, gencCode null where FAS has none), restricted to the commodities
  and destinations the world trades. The values below are copied from those real responses;
- `/api/esr/exports/commodityCode/{code}/allCountries/marketYear/{YYYY}`: one object per
  destination per week of that marketing year, for weeks whose report is released by `today`
  (`usda_esr.release_date`). No recorded response of this endpoint exists: rows follow the
  documented format (see cbi_platform/lib/sources/usda_esr.py).

Every week from the world's first week (2005) on, for five commodities (soybeans 801, soybean
meal 901, soybean oil 902, corn 401, all wheat 107) and 10-13 destinations each, with consistent
marketing-year accounting per destination:
- outstandingSales[w] = outstandingSales[w-1] + currentMYNetSales[w] - weeklyExports[w];
- accumulatedExports is the running sum of weeklyExports within the marketing year;
- currentMYTotalCommitment = accumulatedExports + outstandingSales;
- in the last 13 weeks of a marketing year buyers also book next year's sales
  (nextMYNetSales, nextMYOutstandingSales); at the turn of the year those and any unshipped
  outstanding sales carry into the new year's outstandingSales, as FAS carries them over;
- grossNewSales = max(net sales, 0) + cancellations; net sales never cancel more than is
  outstanding; shipments take a seasonal share of outstanding sales above a working reserve.
The year of the simulation before 2005 (from the marketing year's start) runs without noise
to give the first rows realistic balances; it is not served.

Tie to the world: China (5700) soybean (801) currentMYNetSales for the week ending
`world.china_week_ending[w]` is round(norm(week ending) + scale_t * world.china_surprise[w]),
with the seasonal norm and scale of config/sources/usda_esr.yaml (`CHINA_SOYBEAN_NORM` here; a
test keeps them equal), so (net sales - norm) / scale_t recovers the planted surprise to within
0.5 t / scale_t. The report is released on world.china_published[w] (week ending + 7 days),
or on the next business day in a week with a federal holiday.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache

import httpx
import numpy as np

from cbi_platform.lib.sample.world import World
from cbi_platform.lib.sources.usda_esr import (
    SeasonalNorm,
    market_year_start,
    release_date,
    week_market_year,
)

API_HOST = "api.fas.usda.gov"
API_PREFIX = "/api/esr/"
_EXPORTS_PATH = re.compile(r"^/api/esr/exports/commodityCode/(\d+)/allCountries/marketYear/(\d{4})$")
_RNG_TAG = 0xE5A
METRIC_TONS = 1

# --- reference data, copied from the real responses (shared/fixtures/usda_esr) -------------------
COMMODITIES = (  # commodityCode, commodityName, unitId
    (101, "Wheat - HRW", 1), (102, "Wheat - SRW", 1), (103, "Wheat - HRS", 1), (104, "Wheat - White", 1),
    (105, "Wheat - Durum", 1), (106, "Wheat - Mixed", 1), (107, "All Wheat", 1), (401, "Corn", 1),
    (801, "Soybeans", 1), (901, "Soybean cake & meal", 1), (902, "Soybean Oil", 1),
)
UNITS = ((1, "Metric Tons"), (2, "Running Bales"), (3, "Pieces"), (4, "NUMBER"), (5, "Pounds"))
COUNTRIES = (  # countryCode, countryName, countryDescription, regionId, gencCode
    (2, "UNKNOWN", "UNKNOWN", 99, "AX1"),
    (1220, "CANADA  ", "CANADA                         ", 11, "CAN"),
    (2010, "MEXICO  ", "MEXICO                         ", 11, "MEX"),
    (2050, "GUATMAL ", "GUATEMALA                      ", 11, "GTM"),
    (2150, "HONDURA ", "HONDURAS                       ", 11, "HND"),
    (2410, "JAMAICA ", "JAMAICA                        ", 11, "JAM"),
    (2470, "DOM REP ", "DOMINICAN REPUBLIC             ", 11, "DOM"),
    (3010, "COLOMB  ", "COLOMBIA                       ", 11, "COL"),
    (3310, "ECUADOR ", "ECUADOR                        ", 11, "ECU"),
    (3330, "PERU    ", "PERU                           ", 11, "PER"),
    (4210, "NETHLDS ", "NETHERLANDS                    ", 1, "NLD"),
    (4280, "GERMANY ", "GERMANY                        ", 1, "DEU"),
    (4700, "SPAIN   ", "SPAIN                          ", 1, "ESP"),
    (4750, "ITALY   ", "ITALY                          ", 1, "ITA"),
    (5330, "INDIA   ", "INDIA                          ", 8, "IND"),
    (5350, "PAKISTN ", "PAKISTAN                       ", 9, "PAK"),
    (5380, "BANGLADH", "BANGLADESH                     ", 9, "BGD"),
    (5490, "THAILND ", "THAILAND                       ", 9, "THA"),
    (5520, "VIETNAM ", "VIETNAM                        ", 9, "VNM"),
    (5600, "INDNSIA ", "INDONESIA                      ", 9, "IDN"),
    (5650, "PHIL    ", "PHILIPPINES                    ", 9, "PHL"),
    (5700, "CHINA   ", "CHINA, PEOPLES REPUBLIC OF     ", 7, "CHN"),
    (5800, "KOR REP ", "KOREA, REPUBLIC OF             ", 9, None),
    (5830, "TAIWAN  ", "TAIWAN                         ", 6, "TWN"),
    (5880, "JAPAN   ", "JAPAN                          ", 5, "JPN"),
    (7140, "MOROCCO ", "MOROCCO                        ", 10, "MAR"),
    (7290, "EGYPT   ", "EGYPT                          ", 10, "EGY"),
    (7530, "NIGERIA ", "NIGERIA                        ", 10, "NGA"),
)

# --- the world's export business ------------------------------------------------------------------
CHINA = 5700
UNKNOWN = 2
SOYBEANS = 801
# must equal config/sources/usda_esr.yaml china_soybean_net_sales (tested)
CHINA_SOYBEAN_NORM = SeasonalNorm(base_t=150_000, amplitude_t=1_200_000, peak_day=298, power=4, scale_t=200_000)
CHINA_SOYBEAN_RESERVE_T = 1_000_000  # outstanding sales China keeps booked ahead of shipment
NEXT_YEAR_WEEKS_DAYS = 91  # buyers book next year's sales in the last 13 weeks of a year
NEXT_YEAR_SHARE = 0.35


@dataclass(frozen=True)
class CommodityProfile:
    market_year_start_month: int
    mean_weekly_t: float  # net sales a week to every destination but China soybeans
    seasonal_amplitude: float  # relative swing of weekly sales over the year
    peak_day: float  # days after 2000-01-01 (mod a year) of the seasonal peak
    destinations: tuple[tuple[int, float], ...]  # (countryCode, share of mean_weekly_t)


PROFILES = {
    SOYBEANS: CommodityProfile(9, 500_000, 0.5, 298, (
        (CHINA, 0.0), (2010, 0.22), (5880, 0.08), (4210, 0.06), (4280, 0.07), (4700, 0.05), (5600, 0.09),
        (5830, 0.07), (7290, 0.08), (5520, 0.05), (5380, 0.04), (5490, 0.04), (5350, 0.05), (UNKNOWN, 0.10))),
    901: CommodityProfile(10, 250_000, 0.2, 300, (
        (5650, 0.16), (2010, 0.14), (3010, 0.10), (1220, 0.06), (5520, 0.08), (3310, 0.06), (2050, 0.05),
        (2470, 0.05), (7140, 0.05), (5880, 0.04), (2150, 0.03), (3330, 0.04), (UNKNOWN, 0.14))),
    902: CommodityProfile(10, 15_000, 0.3, 30, (
        (2010, 0.20), (3010, 0.15), (2470, 0.12), (2050, 0.10), (5800, 0.08), (3330, 0.08), (5330, 0.07),
        (7140, 0.05), (2410, 0.05), (CHINA, 0.02), (UNKNOWN, 0.08))),
    401: CommodityProfile(9, 1_050_000, 0.35, 350, (
        (2010, 0.30), (5880, 0.17), (CHINA, 0.08), (3010, 0.07), (5800, 0.06), (5830, 0.04), (2050, 0.04),
        (1220, 0.03), (2150, 0.02), (UNKNOWN, 0.19))),
    107: CommodityProfile(6, 420_000, 0.3, 190, (
        (2010, 0.16), (5650, 0.12), (5880, 0.10), (5800, 0.08), (CHINA, 0.06), (5830, 0.05), (7530, 0.07),
        (5600, 0.05), (5490, 0.04), (3010, 0.05), (4750, 0.03), (UNKNOWN, 0.19))),
}
FIGURES = ("weeklyExports", "accumulatedExports", "outstandingSales", "grossNewSales", "currentMYNetSales",
           "currentMYTotalCommitment", "nextMYOutstandingSales", "nextMYNetSales")


def _cycle(week_ending: dt.date, peak_day: float) -> float:
    t = (week_ending - dt.date(2000, 1, 1)).days
    return math.cos(2.0 * math.pi * (t - peak_day) / 365.2425)


@dataclass(frozen=True)
class CommodityBook:
    """Every served week of one commodity: figures[field] has shape (weeks, destinations)."""

    code: int
    weeks: list[dt.date]
    market_years: np.ndarray
    released: np.ndarray  # datetime64[D] release date per week
    countries: tuple[int, ...]
    figures: dict[str, np.ndarray]


def _first_week_of_market_year(start: dt.date) -> dt.date:
    """The first Thursday week end whose week (Friday..Thursday) starts inside the year."""
    first_friday = start + dt.timedelta(days=(4 - start.weekday()) % 7)
    return first_friday + dt.timedelta(days=6)


def _simulate(world: World, code: int) -> CommodityBook:
    profile = PROFILES[code]
    month = profile.market_year_start_month
    served = list(world.china_week_ending)
    first_label = week_market_year(served[0], month)
    burn_in = []
    week = _first_week_of_market_year(market_year_start(first_label, month))
    while week < served[0]:
        burn_in.append(week)
        week += dt.timedelta(days=7)
    weeks = burn_in + served
    surprise = np.concatenate([np.zeros(len(burn_in)), world.china_surprise[: len(served)]])
    noisy = np.concatenate([np.zeros(len(burn_in)), np.ones(len(served))])

    countries = tuple(country for country, _ in profile.destinations)
    shares = np.array([share for _, share in profile.destinations])
    n_weeks, n_dest = len(weeks), len(countries)
    rng = np.random.default_rng([world.seed, _RNG_TAG, code])
    sales_noise = rng.standard_normal((n_weeks, n_dest))
    next_noise = rng.standard_normal((n_weeks, n_dest))
    cancel_noise = np.abs(rng.standard_normal((n_weeks, n_dest)))
    noise_sd = np.where(np.array(countries) == UNKNOWN, 0.9, 0.5)  # switches make "unknown" erratic
    china_soy = [j for j, c in enumerate(countries) if code == SOYBEANS and c == CHINA]
    reserve = 2.0 * shares * profile.mean_weekly_t
    reserve[china_soy] = CHINA_SOYBEAN_RESERVE_T

    labels = np.array([week_market_year(w, month) for w in weeks])
    figures = {name: np.zeros((n_weeks, n_dest), dtype=np.int64) for name in FIGURES}
    outstanding = np.rint(reserve * 1.5).astype(np.int64)
    accumulated = np.zeros(n_dest, dtype=np.int64)
    next_outstanding = np.zeros(n_dest, dtype=np.int64)
    for i, week in enumerate(weeks):
        if i and labels[i] != labels[i - 1]:  # a new marketing year: carry commitments over
            outstanding = outstanding + next_outstanding
            next_outstanding = np.zeros(n_dest, dtype=np.int64)
            accumulated = np.zeros(n_dest, dtype=np.int64)
        level = shares * profile.mean_weekly_t * (1.0 + profile.seasonal_amplitude * _cycle(week, profile.peak_day))
        net_raw = level * (1.0 + noise_sd * sales_noise[i] * noisy[i])
        for j in china_soy:
            level[j] = CHINA_SOYBEAN_NORM.tons(week)
            net_raw[j] = level[j] + CHINA_SOYBEAN_NORM.scale_t * surprise[i]
        net = np.maximum(np.rint(net_raw).astype(np.int64), -outstanding)  # cannot cancel more than is open
        gross = np.maximum(net, 0) + np.rint(0.08 * level * cancel_noise[i] * noisy[i]).astype(np.int64)
        ship_share = 0.10 + 0.10 * (1.0 + _cycle(week, profile.peak_day + 45)) / 2.0
        planned = np.rint(ship_share * np.maximum(outstanding + net - reserve, 0.0)).astype(np.int64)
        exports = np.clip(planned, 0, np.maximum(outstanding + net, 0))
        outstanding = outstanding + net - exports
        accumulated = accumulated + exports
        days_left = (market_year_start(int(labels[i]) + 1, month) - week).days
        if days_left <= NEXT_YEAR_WEEKS_DAYS:
            next_net = np.rint(NEXT_YEAR_SHARE * level * np.maximum(1.0 + 0.5 * next_noise[i] * noisy[i], 0.0))
            next_net = next_net.astype(np.int64)
        else:
            next_net = np.zeros(n_dest, dtype=np.int64)
        next_outstanding = next_outstanding + next_net
        row = {"weeklyExports": exports, "accumulatedExports": accumulated, "outstandingSales": outstanding,
               "grossNewSales": gross, "currentMYNetSales": net,
               "currentMYTotalCommitment": accumulated + outstanding,
               "nextMYOutstandingSales": next_outstanding, "nextMYNetSales": next_net}
        for name, values in row.items():
            figures[name][i] = values
    keep = slice(len(burn_in), None)
    released = np.array([release_date(w) for w in served], dtype="datetime64[D]")
    return CommodityBook(code, served, labels[keep], released, countries,
                         {name: values[keep] for name, values in figures.items()})


@lru_cache(maxsize=16)
def commodity_book(world: World, code: int) -> CommodityBook:
    return _simulate(world, code)


def exports_rows(world: World, code: int, market_year: int, today: dt.date) -> list[dict]:
    """The API's rows for one commodity and marketing year, as known on `today`."""
    if code not in PROFILES:
        return []
    book = commodity_book(world, code)
    selected = np.flatnonzero((book.market_years == market_year) & (book.released <= np.datetime64(today, "D")))
    rows = []
    for i in selected:
        stamp = f"{book.weeks[i].isoformat()}T00:00:00"
        for j, country in enumerate(book.countries):
            row = {"commodityCode": code, "countryCode": country}
            row.update({name: int(book.figures[name][i, j]) for name in FIGURES})
            row.update({"unitId": METRIC_TONS, "weekEndingDate": stamp})
            rows.append(row)
    return rows


def _json(status: int, document) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(document, separators=(",", ":")).encode(),
                          headers={"Content-Type": "application/json; charset=utf-8"})


def handler(world: World, request: httpx.Request, today: dt.date) -> httpx.Response:
    if not request.headers.get("X-Api-Key", "").strip():
        # modelled on an API gateway's refusal; no recorded error response of this API exists
        return _json(403, {"error": {"code": "API_KEY_MISSING", "message": "No api_key was supplied."}})
    path = request.url.path
    if request.method != "GET":
        return _json(405, {"message": "The requested resource does not support this method."})
    if path == "/api/esr/commodities":
        return _json(200, [{"commodityCode": c, "commodityName": n, "unitId": u} for c, n, u in COMMODITIES])
    if path == "/api/esr/countries":
        return _json(200, [{"countryCode": c, "countryName": n, "countryDescription": d, "regionId": r, "gencCode": g}
                           for c, n, d, r, g in COUNTRIES])
    if path == "/api/esr/unitsOfMeasure":
        return _json(200, [{"unitId": u, "unitNames": n} for u, n in UNITS])
    match = _EXPORTS_PATH.match(path)
    if match:
        return _json(200, exports_rows(world, int(match.group(1)), int(match.group(2)), today))
    return _json(404, {"message": f"No HTTP resource was found that matches the request URI '{request.url}'."})


ROUTES = [(API_HOST, API_PREFIX, handler)]
