"""WASDE of the simulated world: the ESMIS catalogue JSON and one WASDE XML per month.

What is served (only releases published on or before `today`):
- `GET https://esmis.nal.usda.gov/api/v1/release/findByIdentifier/wasde?page=N`: the catalogue,
  newest first, 25 a page, in the shape of the recorded ESMIS page (`filters`, `pager` with
  current_page/items_per_page/total_pages/total_results, `results` with id, files, title,
  release_datetime "YYYY-MM-DDT12:00:00+0000" (ESMIS labels the 12:00 ET release "+0000"), ...).
- `GET https://esmis.nal.usda.gov/sites/default/release-files/<id>/wasdeMMYY.xml`: the report,
  in the real file's structure: UTF-8 with a BOM, one line, `<Report Name="wasde">` with `<srNN>`
  pages, matrix / attribute / year / month groups whose element and attribute names carry
  per-matrix numeric suffixes, "\\r\\n" inside labels, thousands separators in US tables, unit
  header cells, filler cells and the real title typo "World and U.S Supply and Use for Grains".
  The PDF/TXT/XLS files listed in the catalogue are not rendered (404).

Schedule: one release a month from January 2005, on a weekday between the 8th and the 12th that
is not a federal holiday (drawn with the seed), at 12:00 ET. WASDE number 587 is April 2019,
consecutive before and after. A new market year is first projected in May; a report shows the
year before last (final), last year ("Est.") and the current year ("Proj."), the latter with
last month's and this month's projection side by side (from June; May shows only "May").

Pages rendered: sr08 (world and US wheat and coarse grains; no rice or total-grains rows),
sr11 (US wheat; not the by-class table), sr12 (US feed grains and corn), sr15 (US soybeans,
soybean oil, soybean meal), sr18/sr19 (world wheat), sr22/sr23 (world corn), sr28/sr29/sr30
(world soybeans, soybean meal, soybean oil), each with the regions World, United States, Total
Foreign, Argentina/Brazil/China (wheat: European Union/Russia/China); "World" also holds an
unlisted rest of the world.

Ties to the world's latent state (all deterministic: `np.random.default_rng([seed, SALT, ...])`):
- Stocks-to-use is set by price: for every balance sheet, ending stocks / total use =
  `su_base * exp(-beta * (log P - log P_ref))` (clipped), where P is the mean front-month close
  (`macro.front_close`) over the 5 sessions before the release and P_ref the root's reference
  price in symbols.yaml: ZS for soybeans (US beta 2.2), ZL for soybean oil, ZM for meal, ZC for
  corn and feed grains, ZW for wheat (foreign regions beta 1.0). So US soybean ending stocks and
  stocks-to-use fall when ZS is high and rise when it is low, release after release.
- Supply: area (trend plus a yearly draw) times yield (trend times a yearly weather shock that
  the projections discover gradually: none in May, all of it from November), plus imports.
  Beginning stocks are last year's ending stocks *in the same report*.
- Use = supply / (1 + stocks-to-use), split into the table's categories by trend shares. US
  soybean oil used for biodiesel rises over the years and with the published D4 RIN price
  (`world.rin_log_d4`, latest week published before the release). US soybean oil and meal
  production are the soybean crush times 11.7 lb/bu and 23.6 short tons per thousand bushels;
  foreign oil and meal production are each region's soybean crush times 0.19 and 0.79.
- Average farm prices are the marketing-year mean of the front-month futures close up to the
  release (ZS/ZC/ZW in $/bu, ZL in c/lb, ZM in $/short ton).
- Revisions: every report re-draws the projection noise (shrinking as the year matures) and
  re-reads prices, so projections move month to month; a year is frozen once it becomes the
  oldest column (24 months after its first projection).

Printed numbers are internally consistent: each balance sheet is rounded to its printed
precision and the residual category ("Residual", "Feed and Residual", "Food, Feed & Other
Industrial", "Domestic Disappearance", "Domestic Total") absorbs rounding, so beginning stocks +
production + imports = total supply, supply - total use = ending stocks, and this year's
beginning stocks = last year's ending stocks hold exactly. World rows are sums of region rows;
the US rows of world tables are the US tables converted to metric tons (sub-items of a world
row may differ from the US table by a rounding unit). The sr08 world "Total Use" is supply minus
ending stocks (WASDE adjusts world use for the imports/exports imbalance).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import lru_cache
from xml.sax.saxutils import escape

import httpx
import numpy as np

from cbi_platform.lib import calendar
from cbi_platform.lib.calendar import federal_holidays
from cbi_platform.lib.sample.macro import front_close
from cbi_platform.lib.sample.world import World

SALT = 0x3A5DE  # this renderer's own random stream
HOST = "esmis.nal.usda.gov"
CATALOGUE_PATH = "/api/v1/release/findByIdentifier/"
FILES_PATH = "/sites/default/release-files/"
PAGE_SIZE = 25
FIRST_RELEASE_MONTH = (2005, 1)
FIRST_MODEL_YEAR = 2000  # balance-sheet chains start here with steady-state stocks
FINAL_STAGE = 24  # months after its first projection (May) at which a market year is frozen
NUMBER_APRIL_2019 = 587
BOM = "\ufeff"
TITLE = "World Agricultural Supply and Demand Estimates"

# unit conversions to million metric tons
BUSHEL_SOY_WHEAT = 0.0272155  # million bushels -> MMT
BUSHEL_CORN = 0.0254
MILLION_POUNDS = 0.000453592
THOUSAND_SHORT_TONS = 0.000907185


# ============================================================================ schedule
@dataclass(frozen=True)
class SimulatedRelease:
    index: int  # months since January 2005
    report_month: dt.date
    release_date: dt.date
    esmis_id: str
    number: int

    @property
    def file_name(self) -> str:
        return f"wasde{self.report_month.month:02d}{self.report_month.year % 100:02d}.xml"

    def file_url(self, extension: str) -> str:
        return f"https://{HOST}{FILES_PATH}{self.esmis_id}/{self.file_name[:-4]}.{extension}"


@lru_cache(maxsize=4)
def schedule(world: World) -> tuple[SimulatedRelease, ...]:
    """One release a month, January 2005 to the end of the world's calendar."""
    holidays = federal_holidays()
    releases = []
    year, month = FIRST_RELEASE_MONTH
    index = 0
    april_2019 = (2019 - year) * 12 + (4 - month)
    while dt.date(year, month, 1) <= calendar.CALENDAR_END:
        candidates = [dt.date(year, month, d) for d in range(8, 13)]
        candidates = [d for d in candidates if d.weekday() < 5 and d not in holidays]
        rng = np.random.default_rng([world.seed, SALT, year, month])
        day = candidates[int(rng.integers(len(candidates)))]
        releases.append(SimulatedRelease(index, dt.date(year, month, 1), day, str(700000 + 37 * index),
                                NUMBER_APRIL_2019 + index - april_2019))
        index += 1
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(releases)


def release_index(year: int, month: int) -> int:
    return (year - FIRST_RELEASE_MONTH[0]) * 12 + (month - FIRST_RELEASE_MONTH[1])


def first_projection(market_year: int) -> int:
    """Release index of the May report that first projects a market year."""
    return release_index(market_year, 5)


def projected_year(index: int) -> int:
    year, month = FIRST_RELEASE_MONTH[0] + index // 12, index % 12 + 1
    return year if month >= 5 else year - 1


# ============================================================================ world state
class Market:
    """Prices and RINs as known before a release."""

    def __init__(self, world: World):
        self.world = world
        self.sessions = world.sessions
        self.releases = schedule(world)
        self._rin_published = np.array(world.rin_published, dtype="datetime64[D]")

    def release_day(self, index: int) -> dt.date:
        return self.releases[min(max(index, 0), len(self.releases) - 1)].release_date

    def reference(self, root: str) -> float:
        return float(self.world.symbols[self.world.root_index[root]].sample["price"])

    def mean_before(self, root: str, day: dt.date, sessions: int = 5) -> float:
        closes = front_close(self.world, root)
        end = int(np.searchsorted(self.sessions, np.datetime64(day, "D"), side="left"))
        end = max(end, 1)
        return float(closes[max(0, end - sessions):end].mean())

    def mean_between(self, root: str, start: dt.date, end: dt.date) -> float:
        closes = front_close(self.world, root)
        lo = int(np.searchsorted(self.sessions, np.datetime64(start, "D"), side="left"))
        hi = int(np.searchsorted(self.sessions, np.datetime64(end, "D"), side="left"))
        if hi <= lo:
            return self.mean_before(root, end)
        return float(closes[lo:hi].mean())

    def log_deviation(self, root: str, index: int) -> float:
        return float(np.log(self.mean_before(root, self.release_day(index)) / self.reference(root)))

    def rin_log_d4(self, index: int) -> float:
        week = int(np.searchsorted(self._rin_published, np.datetime64(self.release_day(index), "D"), side="left")) - 1
        return float(self.world.rin_log_d4[max(week, 0)])

    def rng(self, *keys) -> np.random.Generator:
        parts = [zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in keys]
        return np.random.default_rng([self.world.seed, SALT, *parts])


# ============================================================================ balance sheets
@dataclass
class Flows:
    """A balance sheet as the model sees it (floats, printed units)."""

    beginning: float
    production: float
    imports: float
    uses: dict[str, float]  # a partition of total use, in print order
    ending: float
    extra: dict[str, float] = field(default_factory=dict)  # area, yield, price, sub-items


@dataclass
class Printed:
    """A balance sheet as printed: balance items as integers in units of the last decimal."""

    decimals: int
    beginning: int
    production: int
    imports: int
    uses: dict[str, int]
    ending: int
    extra: dict[str, float]

    @property
    def supply(self) -> int:
        return self.beginning + self.production + self.imports

    @property
    def use_total(self) -> int:
        return sum(self.uses.values())

    def value(self, units: int) -> float:
        return units / 10**self.decimals


class Sheet(ABC):
    """One balance sheet over market years and report stages, printed consistently."""

    decimals = 0
    residual = ""

    def __init__(self, market: Market, code: str):
        self.market = market
        self.code = code
        self._floats: dict[tuple[int, int], Flows] = {}
        self._printed: dict[tuple[int, int], Printed] = {}

    def floats(self, year: int, stage: int) -> Flows:
        key = (year, min(stage, FINAL_STAGE))
        if key not in self._floats:
            self._floats[key] = self.compute(*key)
        return self._floats[key]

    @abstractmethod
    def compute(self, year: int, stage: int) -> Flows:
        """The balance sheet's flows for a market year as known at a report stage."""

    def previous_ending(self, year: int, stage: int) -> float:
        if year <= FIRST_MODEL_YEAR:
            return self.steady_stocks(year)
        return self.floats(year - 1, stage + 12).ending

    @abstractmethod
    def steady_stocks(self, year: int) -> float:
        """Ending stocks of the year before the modelled history starts."""

    def printed(self, year: int, stage: int) -> Printed:
        key = (year, min(stage, FINAL_STAGE))
        if key in self._printed:
            return self._printed[key]
        flows = self.floats(*key)
        scale = 10**self.decimals
        if year <= FIRST_MODEL_YEAR:
            beginning = round(flows.beginning * scale)
        else:
            beginning = self.printed(year - 1, key[1] + 12).ending
        production, imports = round(flows.production * scale), round(flows.imports * scale)
        ending = round(flows.ending * scale)
        uses = {k: round(v * scale) for k, v in flows.uses.items() if k != self.residual}
        uses[self.residual] = beginning + production + imports - ending - sum(uses.values())
        uses = {k: uses[k] for k in flows.uses}
        self._printed[key] = Printed(self.decimals, beginning, production, imports, uses, ending, dict(flows.extra))
        return self._printed[key]


def _stocks_to_use(market: Market, root: str, index: int, base: float, beta: float, noise: float,
                   low: float, high: float) -> float:
    return float(np.clip(base * np.exp(-beta * market.log_deviation(root, index) + noise), low, high))


def _split(total: float, shares: dict[str, float]) -> dict[str, float]:
    scale = sum(shares.values())
    return {k: total * v / scale for k, v in shares.items()}


@dataclass(frozen=True)
class CropParams:
    root: str
    area0: float  # million acres planted in 2005
    area_growth: float  # log per year
    harvested: float  # harvested / planted
    yield0: float  # per acre, 2005 trend
    yield_growth: float  # per year
    yield_sd: float  # weather shock (log)
    imports0: float
    imports_growth: float
    su_base: float
    beta: float
    su_range: tuple[float, float]
    shares: dict[str, float]
    residual: str
    price_scale: float  # futures quote -> printed farm price
    price_start_month: int  # first month of the marketing year


class UsCropSheet(Sheet):
    """US soybeans, corn, wheat: area x yield, price-driven stocks-to-use."""

    def __init__(self, market: Market, code: str, params: CropParams):
        super().__init__(market, code)
        self.p = params
        self.residual = params.residual

    def steady_stocks(self, year: int) -> float:
        p = self.p
        production = p.area0 * p.harvested * p.yield0 * np.exp(p.area_growth * (year - 2005))
        return production * p.su_base

    def farm_price(self, year: int, index: int) -> float:
        p = self.p
        start = dt.date(year, p.price_start_month, 1)
        day = self.market.release_day(index)
        if day <= start:
            quote = self.market.mean_before(p.root, day)
        else:
            quote = self.market.mean_between(p.root, start, min(day, dt.date(year + 1, p.price_start_month, 1)))
        return quote * p.price_scale

    def compute(self, year: int, stage: int) -> Flows:
        p, market = self.p, self.market
        index = first_projection(year) + stage
        yearly = market.rng(self.code, year)
        shock, area_noise, import_noise = yearly.normal(0, p.yield_sd), yearly.normal(0, 0.03), yearly.normal(0, 0.1)
        share_noise = yearly.normal(0, 0.04, size=len(p.shares))
        monthly = market.rng(self.code, year, stage)
        revision = monthly.normal(0, 0.015) * max(0.0, 1 - stage / 10)
        su_noise = monthly.normal(0, 0.06) * max(0.25, 1 - stage / 18)
        t = year - 2005
        planted = p.area0 * np.exp(p.area_growth * t + area_noise)
        harvested = planted * p.harvested
        crop_yield = (p.yield0 + p.yield_growth * t) * np.exp(shock * min(1.0, stage / 6) + revision)
        production = harvested * crop_yield
        imports = p.imports0 * np.exp(p.imports_growth * t + import_noise)
        beginning = self.previous_ending(year, stage)
        supply = beginning + production + imports
        su = _stocks_to_use(market, p.root, index, p.su_base, p.beta, su_noise, *p.su_range)
        use = supply / (1 + su)
        shares = {k: v * np.exp(n) for (k, v), n in zip(p.shares.items(), share_noise)}
        extra = {"area_planted": planted, "area_harvested": harvested, "yield": crop_yield,
                 "price": self.farm_price(year, index)}
        return Flows(beginning, production, imports, _split(use, shares), supply - use, extra)


class UsProductSheet(Sheet):
    """US soybean oil / meal: production = soybean crush x extraction rate."""

    def __init__(self, market: Market, code: str, soybeans: UsCropSheet, extraction: float, imports0: float,
                 root: str, su_base: float, beta: float, su_range: tuple[float, float], export_share: float,
                 residual: str, biodiesel: bool, price_start_month: int):
        super().__init__(market, code)
        self.soybeans, self.extraction, self.imports0 = soybeans, extraction, imports0
        self.root, self.su_base, self.beta, self.su_range = root, su_base, beta, su_range
        self.export_share, self.residual, self.biodiesel = export_share, residual, biodiesel
        self.price_start_month = price_start_month

    def steady_stocks(self, year: int) -> float:
        return self.soybeans.steady_stocks(year) / self.soybeans.p.su_base * 0.5 * self.extraction * self.su_base

    def compute(self, year: int, stage: int) -> Flows:
        market = self.market
        index = first_projection(year) + stage
        crush = self.soybeans.floats(year, stage).uses["Crushings"]
        production = crush * self.extraction
        yearly = market.rng(self.code, year)
        imports = self.imports0 * np.exp(0.02 * (year - 2005) + yearly.normal(0, 0.15))
        monthly = market.rng(self.code, year, stage)
        su_noise = monthly.normal(0, 0.05) * max(0.25, 1 - stage / 18)
        beginning = self.previous_ending(year, stage)
        supply = beginning + production + imports
        su = _stocks_to_use(market, self.root, index, self.su_base, self.beta, su_noise, *self.su_range)
        use = supply / (1 + su)
        exports = use * self.export_share * np.exp(yearly.normal(0, 0.1))
        domestic = use - exports
        if self.biodiesel:
            # biofuel demand: a rising trend plus the published D4 RIN level at the release
            share = np.clip(0.12 + 0.016 * (year - 2005) + 0.3 * market.rin_log_d4(index) + monthly.normal(0, 0.01),
                            0.03, 0.8)
            uses = {"Biodiesel": domestic * share, self.residual: domestic * (1 - share), "Exports": exports}
        else:
            uses = {self.residual: domestic, "Exports": exports}
        day = market.release_day(index)
        start = dt.date(year, self.price_start_month, 1)
        price = market.mean_before(self.root, day) if day <= start else market.mean_between(self.root, start, day)
        return Flows(beginning, production, imports, uses, supply - use, {"price": price})


class ScaledSheet(Sheet):
    """Another sheet in other units (US feed grains from corn; US rows of world tables)."""

    def __init__(self, market: Market, code: str, base: Sheet, factor: float, decimals: int,
                 groups: dict[str, tuple[str, ...]], residual: str, extras: dict[str, tuple[str, float]]):
        super().__init__(market, code)
        self.base, self.factor, self.decimals = base, factor, decimals
        self.groups, self.residual, self.extras = groups, residual, extras

    def steady_stocks(self, year: int) -> float:
        return self.base.floats(year, FINAL_STAGE).beginning * self.factor

    def compute(self, year: int, stage: int) -> Flows:
        base = self.base.floats(year, stage)
        f = self.factor
        uses = {name: sum(base.uses[k] for k in members) * f for name, members in self.groups.items()}
        extra = {}
        for name, (source, factor) in self.extras.items():
            value = base.uses.get(source, base.extra.get(source))
            extra[name] = value * factor
        return Flows(self.previous_ending(year, stage) if year > FIRST_MODEL_YEAR else base.beginning * f,
                     base.production * f, base.imports * f, uses, base.ending * f, extra)


@dataclass(frozen=True)
class RegionParams:
    root: str
    production0: float  # MMT in 2005 (ignored when production comes from a crush)
    production_growth: float
    imports0: float
    imports_growth: float
    su_base: float
    export_share: float
    sub_share: float  # crush or feed share of domestic use (0: no sub-item)
    beta: float = 1.0


class RegionSheet(Sheet):
    """A foreign region of a world table (million metric tons)."""

    decimals = 2
    residual = "Domestic Total"

    def __init__(self, market: Market, code: str, params: RegionParams, sub_item: str | None,
                 crush_from: tuple["RegionSheet", float] | None = None):
        super().__init__(market, code)
        self.p, self.sub_item, self.crush_from = params, sub_item, crush_from

    def steady_stocks(self, year: int) -> float:
        p = self.p
        if self.crush_from:
            sheet, rate = self.crush_from
            return sheet.steady_stocks(year) / sheet.p.su_base * 0.6 * rate * p.su_base
        return (p.production0 + p.imports0) * p.su_base

    def compute(self, year: int, stage: int) -> Flows:
        p, market = self.p, self.market
        index = first_projection(year) + stage
        yearly = market.rng(self.code, year)
        monthly = market.rng(self.code, year, stage)
        shock = yearly.normal(0, 0.05)
        t = year - 2005
        if self.crush_from:
            sheet, rate = self.crush_from
            production = sheet.floats(year, stage).extra["Domestic Crush"] * rate
        else:
            revision = monthly.normal(0, 0.012) * max(0.0, 1 - stage / 10)
            production = p.production0 * np.exp(p.production_growth * t + shock * min(1.0, stage / 6) + revision)
        imports = p.imports0 * np.exp(p.imports_growth * t + yearly.normal(0, 0.08))
        beginning = self.previous_ending(year, stage)
        supply = beginning + production + imports
        su = _stocks_to_use(market, p.root, index, p.su_base, p.beta, monthly.normal(0, 0.05), p.su_base / 4,
                            p.su_base * 4)
        use = supply / (1 + su)
        exports = use * p.export_share * np.exp(yearly.normal(0, 0.08))
        extra = {self.sub_item: (use - exports) * p.sub_share} if self.sub_item else {}
        return Flows(beginning, production, imports, {"Domestic Total": use - exports, "Exports": exports},
                     supply - use, extra)


class SumSheet(Sheet):
    """World coarse grains for sr08: the world corn regions scaled up to all coarse grains."""

    decimals = 2
    residual = "Domestic Total"

    def __init__(self, market: Market, code: str, parts: list[Sheet], factor: float):
        super().__init__(market, code)
        self.parts, self.factor = parts, factor

    def steady_stocks(self, year: int) -> float:
        return sum(p.floats(year, FINAL_STAGE).beginning for p in self.parts) * self.factor

    def compute(self, year: int, stage: int) -> Flows:
        flows = [p.floats(year, stage) for p in self.parts]
        f = self.factor
        uses = {"Domestic Total": sum(x.uses["Domestic Total"] for x in flows) * f,
                "Exports": sum(x.uses["Exports"] for x in flows) * f}
        return Flows(self.previous_ending(year, stage), sum(x.production for x in flows) * f,
                     sum(x.imports for x in flows) * f, uses, sum(x.ending for x in flows) * f)


# ----------------------------------------------------------------------------- the model
SOYBEANS = CropParams("ZS", 72.0, 0.009, 0.985, 42.0, 0.42, 0.07, 5.0, 0.04, 0.09, 2.2, (0.03, 0.40),
                      {"Crushings": 0.50, "Exports": 0.44, "Seed": 0.03, "Residual": 0.03}, "Residual", 0.0096, 9)
CORN = CropParams("ZC", 81.0, 0.006, 0.91, 148.0, 1.9, 0.08, 12.0, 0.03, 0.13, 2.0, (0.05, 0.30),
                  {"Feed and Residual": 0.40, "Food, Seed & Industrial": 0.40, "Exports": 0.20},
                  "Feed and Residual", 0.0094, 9)
WHEAT = CropParams("ZW", 57.0, -0.006, 0.84, 42.0, 0.35, 0.06, 80.0, 0.02, 0.45, 1.5, (0.20, 0.90),
                   {"Food": 0.42, "Seed": 0.035, "Feed and Residual": 0.09, "Exports": 0.455},
                   "Feed and Residual", 0.0092, 6)

WORLD_REGIONS = {
    # commodity -> {region label: (params, sub-item)}; production of oil and meal comes from crush
    "soybeans": {
        "Argentina": RegionParams("ZS", 40.0, 0.012, 0.5, 0.06, 0.45, 0.22, 0.90),
        "Brazil": RegionParams("ZS", 53.0, 0.045, 0.3, 0.02, 0.15, 0.55, 0.85),
        "China": RegionParams("ZS", 16.0, 0.005, 26.0, 0.07, 0.15, 0.002, 0.82),
        "Others": RegionParams("ZS", 30.0, 0.02, 35.0, 0.02, 0.12, 0.10, 0.75),
    },
    "oil": {
        "Argentina": RegionParams("ZL", 0.0, 0.0, 0.05, 0.0, 0.08, 0.75, 0.0),
        "Brazil": RegionParams("ZL", 0.0, 0.0, 0.05, 0.0, 0.08, 0.20, 0.0),
        "China": RegionParams("ZL", 0.0, 0.0, 1.5, 0.0, 0.10, 0.01, 0.0),
        "Others": RegionParams("ZL", 0.0, 0.0, 7.0, 0.02, 0.06, 0.10, 0.0),
    },
    "meal": {
        "Argentina": RegionParams("ZM", 0.0, 0.0, 0.01, 0.0, 0.06, 0.85, 0.0),
        "Brazil": RegionParams("ZM", 0.0, 0.0, 0.05, 0.0, 0.06, 0.50, 0.0),
        "China": RegionParams("ZM", 0.0, 0.0, 0.1, 0.0, 0.02, 0.01, 0.0),
        "Others": RegionParams("ZM", 0.0, 0.0, 40.0, 0.02, 0.05, 0.05, 0.0),
    },
    "wheat": {
        "European Union": RegionParams("ZW", 125.0, 0.008, 6.0, 0.0, 0.12, 0.20, 0.40),
        "Russia": RegionParams("ZW", 47.0, 0.03, 1.0, 0.0, 0.15, 0.35, 0.35),
        "China": RegionParams("ZW", 97.0, 0.012, 1.0, 0.02, 0.60, 0.01, 0.12),
        "Others": RegionParams("ZW", 330.0, 0.008, 90.0, 0.02, 0.25, 0.12, 0.15),
    },
    "corn": {
        "Argentina": RegionParams("ZC", 15.0, 0.05, 0.01, 0.0, 0.10, 0.60, 0.75),
        "Brazil": RegionParams("ZC", 35.0, 0.05, 1.0, 0.0, 0.12, 0.25, 0.80),
        "China": RegionParams("ZC", 139.0, 0.03, 0.1, 0.10, 0.50, 0.001, 0.70),
        "Others": RegionParams("ZC", 290.0, 0.015, 60.0, 0.03, 0.15, 0.10, 0.60),
    },
}
EXTRACTION_OIL, EXTRACTION_MEAL = 0.19, 0.79


class WasdeModel:
    def __init__(self, world: World):
        market = Market(world)
        self.market = market
        self.soybeans = UsCropSheet(market, "us_soybeans", SOYBEANS)
        self.corn = UsCropSheet(market, "us_corn", CORN)
        self.wheat = UsCropSheet(market, "us_wheat", WHEAT)
        self.oil = UsProductSheet(market, "us_oil", self.soybeans, 11.7, 250.0, "ZL", 0.10, 1.5, (0.03, 0.35), 0.12,
                                  "Food, Feed & other Industrial", True, 10)
        self.meal = UsProductSheet(market, "us_meal", self.soybeans, 23.6, 250.0, "ZM", 0.012, 1.0, (0.005, 0.04),
                                   0.27, "Domestic Disappearance", False, 10)
        self.feed_grains = ScaledSheet(market, "us_feed_grains", self.corn, BUSHEL_CORN * 1.07, 2,
                                       {"Feed and Residual": ("Feed and Residual",),
                                        "Food, Seed & Industrial": ("Food, Seed & Industrial",),
                                        "Exports": ("Exports",)}, "Feed and Residual",
                                       {"area_planted": ("area_planted", 1.18), "area_harvested": ("area_harvested", 1.16)})
        domestic_soy = ("Crushings", "Seed", "Residual")
        us_rows = {
            "soybeans": ScaledSheet(market, "w_us_soybeans", self.soybeans, BUSHEL_SOY_WHEAT, 2,
                                    {"Domestic Total": domestic_soy, "Exports": ("Exports",)}, "Domestic Total",
                                    {"Domestic Crush": ("Crushings", BUSHEL_SOY_WHEAT)}),
            "oil": ScaledSheet(market, "w_us_oil", self.oil, MILLION_POUNDS, 2,
                               {"Domestic Total": ("Biodiesel", "Food, Feed & other Industrial"), "Exports": ("Exports",)},
                               "Domestic Total", {}),
            "meal": ScaledSheet(market, "w_us_meal", self.meal, THOUSAND_SHORT_TONS, 2,
                                {"Domestic Total": ("Domestic Disappearance",), "Exports": ("Exports",)},
                                "Domestic Total", {}),
            "wheat": ScaledSheet(market, "w_us_wheat", self.wheat, BUSHEL_SOY_WHEAT, 2,
                                 {"Domestic Total": ("Food", "Seed", "Feed and Residual"), "Exports": ("Exports",)},
                                 "Domestic Total", {"Domestic Feed": ("Feed and Residual", BUSHEL_SOY_WHEAT)}),
            "corn": ScaledSheet(market, "w_us_corn", self.corn, BUSHEL_CORN, 2,
                                {"Domestic Total": ("Feed and Residual", "Food, Seed & Industrial"),
                                 "Exports": ("Exports",)},
                                "Domestic Total", {"Domestic Feed": ("Feed and Residual", BUSHEL_CORN)}),
        }
        sub_items = {"soybeans": "Domestic Crush", "wheat": "Domestic Feed", "corn": "Domestic Feed"}
        self.world: dict[str, dict[str, Sheet]] = {}
        for commodity in ("soybeans", "wheat", "corn", "oil", "meal"):
            regions: dict[str, Sheet] = {"United States": us_rows[commodity]}
            for name, params in WORLD_REGIONS[commodity].items():
                code = f"w_{commodity}_{name}"
                if commodity in ("oil", "meal"):
                    rate = EXTRACTION_OIL if commodity == "oil" else EXTRACTION_MEAL
                    regions[name] = RegionSheet(market, code, params, None, (self.world["soybeans"][name], rate))
                else:
                    regions[name] = RegionSheet(market, code, params, sub_items[commodity])
            self.world[commodity] = regions
        self.world_coarse_grains = SumSheet(market, "w_coarse", list(self.world["corn"].values()), 1.14)


@lru_cache(maxsize=4)
def model(world: World) -> WasdeModel:
    return WasdeModel(world)


# ============================================================================ XML
def _attrs(attributes: dict[str, str]) -> str:
    return "".join(f' {k}="{escape(v, {chr(34): "&quot;", chr(13): "&#xD;", chr(10): "&#xA;"})}"'
                   for k, v in attributes.items())


def el(tag: str, attributes: dict[str, str] | None = None, *children: str) -> str:
    if not children:
        return f"<{tag}{_attrs(attributes or {})} />"
    return f"<{tag}{_attrs(attributes or {})}>{''.join(children)}</{tag}>"


def _us_number(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


@dataclass(frozen=True)
class Column:
    year: int
    stage: int
    year_label: str  # as printed in US tables: "2017/18 Est."
    month: int | None  # the report month of a projection column


def _year_text(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def columns(index: int) -> list[Column]:
    """The year columns of report `index`: final, estimate, last and this month's projection."""
    year = projected_year(index)
    stage = index - first_projection(year)
    month = index % 12 + 1
    out = [Column(year - 2, stage + 24, _year_text(year - 2), None),
           Column(year - 1, stage + 12, f"{_year_text(year - 1)} Est.", None)]
    if stage > 0:
        out.append(Column(year, stage - 1, f"{_year_text(year)} Proj.", (month - 2) % 12 + 1))
    out.append(Column(year, stage, f"{_year_text(year)} Proj.", month))
    return out


def _month_label(month: int | None, full: bool) -> str:
    if month is None:
        return ""
    return dt.date(2000, month, 1).strftime("%B" if full else "%b")


def _us_rows(sheet: Sheet, printed: Printed, layout: list[tuple[str, str]]) -> dict[str, str]:
    """Row label -> printed text for one column of a US table."""
    d = printed.decimals
    values: dict[str, str] = {}
    for label, item in layout:
        kind, _, key = item.partition(":")
        if kind == "bal":
            units = {"beginning": printed.beginning, "production": printed.production, "imports": printed.imports,
                     "supply": printed.supply, "use": printed.use_total, "ending": printed.ending}[key]
            values[label] = _us_number(printed.value(units), d)
        elif kind == "use":
            values[label] = _us_number(printed.value(printed.uses[key]), d)
        elif kind == "sum":
            values[label] = _us_number(printed.value(sum(printed.uses[k] for k in key.split("+"))), d)
        else:  # extra:<name>:<decimals>
            name, _, decimals = key.partition(":")
            values[label] = _us_number(printed.extra[name], int(decimals))
    return values


SOY_LAYOUT = [("Area Planted", "extra:area_planted:1"), ("Area Harvested", "extra:area_harvested:1"),
              ("Yield per Harvested Acre", "extra:yield:1"), ("Beginning Stocks", "bal:beginning"),
              ("Production", "bal:production"), ("Imports", "bal:imports"), ("    Supply, Total", "bal:supply"),
              ("Crushings", "use:Crushings"), ("Exports", "use:Exports"), ("Seed", "use:Seed"),
              ("Residual", "use:Residual"), ("    Use, Total", "bal:use"), ("Ending Stocks", "bal:ending"),
              ("Avg. Farm Price ($/bu)  2/", "extra:price:2")]
OIL_LAYOUT = [("Beginning Stocks", "bal:beginning"), ("Production 4/", "bal:production"), ("Imports", "bal:imports"),
              ("    Supply, Total", "bal:supply"),
              ("Domestic Disappearance", "sum:Biodiesel+Food, Feed & other Industrial"),
              ("     Biodiesel 3/", "use:Biodiesel"),
              ("     Food, Feed & other Industrial", "use:Food, Feed & other Industrial"),
              ("Exports", "use:Exports"), ("     Use, Total", "bal:use"), ("Ending stocks", "bal:ending"),
              ("Avg. Price (c/lb)  2/", "extra:price:2")]
MEAL_LAYOUT = [("Beginning Stocks", "bal:beginning"), ("Production 4/", "bal:production"), ("Imports", "bal:imports"),
               ("    Supply, Total", "bal:supply"), ("Domestic Disappearance", "use:Domestic Disappearance"),
               ("Exports", "use:Exports"), ("    Use, Total", "bal:use"), ("Ending Stocks", "bal:ending"),
               ("Avg. Price ($/s.t.)  2/", "extra:price:2")]
CORN_LAYOUT = [("Area Planted", "extra:area_planted:1"), ("Area Harvested", "extra:area_harvested:1"),
               ("Yield per Harvested Acre", "extra:yield:1"), ("Beginning Stocks", "bal:beginning"),
               ("Production", "bal:production"), ("Imports", "bal:imports"), ("    Supply, Total", "bal:supply"),
               ("Feed and Residual", "use:Feed and Residual"),
               ("Food, Seed & Industrial 2/", "use:Food, Seed & Industrial"),
               ("   Ethanol & by-products 3/", "extra:ethanol:0"),
               ("    Domestic, Total", "sum:Feed and Residual+Food, Seed & Industrial"), ("Exports", "use:Exports"),
               ("    Use, Total", "bal:use"), ("Ending Stocks", "bal:ending"), ("Avg. Farm Price ($/bu)  4/", "extra:price:2")]
FEED_GRAIN_LAYOUT = [("Area Planted", "extra:area_planted:1"), ("Area Harvested ", "extra:area_harvested:1"),
                     ("Yield per Harvested Acre", "extra:yield:2"), ("Beginning Stocks", "bal:beginning"),
                     ("Production", "bal:production"), ("Imports", "bal:imports"), ("    Supply, Total", "bal:supply"),
                     ("Feed and Residual", "use:Feed and Residual"),
                     ("Food, Seed & Industrial", "use:Food, Seed & Industrial"),
                     ("    Domestic, Total", "sum:Feed and Residual+Food, Seed & Industrial"),
                     ("Exports", "use:Exports"), ("    Use, Total", "bal:use"), ("Ending Stocks", "bal:ending")]
WHEAT_LAYOUT = [("Area Planted", "extra:area_planted:1"), ("Area Harvested ", "extra:area_harvested:1"),
                ("Yield per Harvested Acre", "extra:yield:1"), ("Beginning Stocks", "bal:beginning"),
                ("Production", "bal:production"), ("Imports", "bal:imports"), ("  Supply, Total", "bal:supply"),
                ("Food", "use:Food"), ("Seed", "use:Seed"), ("Feed and Residual", "use:Feed and Residual"),
                ("  Domestic, Total", "sum:Food+Seed+Feed and Residual"), ("Exports", "use:Exports"),
                ("  Use, Total", "bal:use"), ("Ending Stocks", "bal:ending"), ("Avg. Farm Price ($/bu)  2/", "extra:price:2")]


def _printed_with_derived(sheet: Sheet, year: int, stage: int) -> Printed:
    printed = sheet.printed(year, stage)
    if sheet.code == "us_corn":  # ethanol is a share of FSI (a printed sub-item, not part of the identity)
        ethanol_share = min(0.88, 0.45 + 0.03 * (year - 2005))
        printed.extra["ethanol"] = round(printed.value(printed.uses["Food, Seed & Industrial"]) * ethanol_share)
    if sheet.code == "us_feed_grains":
        printed.extra["yield"] = printed.value(printed.production) / printed.extra["area_harvested"]
    return printed


def us_matrix(n: int, suffix: int, sheet: Sheet, layout, cols: list[Column], units: list[list[str]],
              full_month_names: bool) -> str:
    """A US table block (matrixN) in the real nesting: attribute groups, each with unit header
    fillers and the row, each row with year groups and month groups holding the cells."""
    printed = [_us_rows(sheet, _printed_with_derived(sheet, c.year, c.stage), layout) for c in cols]

    def year_groups(cell_attr: str, values: list[str]) -> str:
        groups = [el(f"m{n}_year_group", {f"market_year{suffix}": c.year_label},
                     el(f"m{n}_month_group_Collection", None,
                        el(f"m{n}_month_group", {f"forecast_month{suffix}": _month_label(c.month, full_month_names)},
                           el("Cell", {cell_attr: v}))))
                  for c, v in zip(cols, values)]
        return el(f"m{n}_year_group_Collection", None, *groups)

    groups = []
    for label, _ in layout:
        parts = []
        for i, pieces in enumerate(units, start=1):
            # unit header cells: the label pieces sit in consecutive columns, the rest are blank
            values = [pieces[j] if j < len(pieces) else "" for j in range(len(cols))]
            parts.append(el(f"m{n}_filler{i}", {f"m{n}_filler{i}": "Filler"}, year_groups(f"m1_unit_descr{i}", values)))
        parts.append(el(f"attribute{suffix}", {f"attribute{suffix}": label},
                        year_groups(f"cell_value{suffix}", [p[label] for p in printed])))
        groups.append(el(f"m{n}_attribute_group", None, *parts))
    filler = el(f"FormatFiller{n + 5}", None, year_groups(f"Textbox{n}", ["filler"] * len(cols)))
    return el(f"matrix{n}", None, el(f"m{n}_attribute_group_Collection", None, *groups), filler)


WORLD_ROWS = {
    "soybeans": [("Beginning\r\nStocks", "beginning"), ("Production", "production"), ("Imports", "imports"),
                 ("Domestic\r\nCrush", "extra:Domestic Crush"), ("Domestic\r\nTotal", "use:Domestic Total"),
                 ("Exports", "use:Exports"), ("Ending\r\nStocks", "ending")],
    "oil": [("Beginning\r\nStocks", "beginning"), ("Production", "production"), ("Imports", "imports"),
            ("Domestic\r\nTotal", "use:Domestic Total"), ("Exports", "use:Exports"), ("Ending\r\nStocks", "ending")],
    "grains": [("Beginning\r\nStocks", "beginning"), ("Production", "production"), ("Imports", "imports"),
               ("Domestic\r\nFeed", "extra:Domestic Feed"), ("Domestic\r\nTotal 2/", "use:Domestic Total"),
               ("Exports", "use:Exports"), ("Ending\r\nStocks", "ending")],
}
REGION_LABELS = {"World": "World  2/", "United States": "United States", "Total Foreign": "Total Foreign"}


def world_rows(regions: dict[str, Sheet], year: int, stage: int, layout) -> list[tuple[str, dict[str, str]]]:
    """(region label, {row label: text}) for a world table: World and Total Foreign are sums of
    the regions (in printed units), so their identities hold exactly."""
    printed = {name: sheet.printed(year, stage) for name, sheet in regions.items()}
    scale = 100

    def items(p: Printed) -> dict[str, int]:
        out = {"beginning": p.beginning, "production": p.production, "imports": p.imports, "ending": p.ending}
        out.update({f"use:{k}": v for k, v in p.uses.items()})
        out.update({f"extra:{k}": round(v * scale) for k, v in p.extra.items()})
        return out

    per_region = {name: items(p) for name, p in printed.items()}
    world = {k: sum(r[k] for r in per_region.values()) for k in per_region["United States"]}
    foreign = {k: world[k] - per_region["United States"][k] for k in world}
    ordered = [("World", world), ("United States", per_region["United States"]), ("Total Foreign", foreign)]
    ordered += [(name, values) for name, values in per_region.items() if name not in ("United States", "Others")]
    return [(REGION_LABELS.get(name, f"        {name}"),
             {label: f"{values[key] / scale:.2f}" for label, key in layout}) for name, values in ordered]


def world_matrix(tag: int, header_suffix: int, suffix: int, group: str, column: Column,
                 rows_by_month: list[tuple[str, list[tuple[str, dict[str, str]]]]]) -> str:
    """A world table block: one market year (the matrix header), regions, optionally months."""
    regions: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for month, rows in rows_by_month:
        for region, values in rows:
            regions.setdefault(region, []).append((month, values))
    has_months = column.month is not None
    region_groups = []
    for region, months in regions.items():
        if has_months:
            month_groups = [el(f"m1_month_group{group}", {f"forecast_month{suffix}": month},
                               el(f"m1_attribute_group{group}_Collection", None,
                                  *[el(f"m1_attribute_group{group}", {f"attribute{suffix}": label},
                                       el("Cell", {f"cell_value{suffix}": text})) for label, text in values.items()]),
                               el("m1_value_group_Collection", None, el("m1_value_group", None,
                                  el("Cell", {"FormatFiller12": "filler"}))))
                            for month, values in months]
            body = el(f"m1_month_group{group}_Collection", None, *month_groups)
        else:
            values = months[0][1]
            body = el(f"m1_attribute_group{group}_Collection", None,
                      *[el(f"m1_attribute_group{group}", {f"attribute{suffix}": label},
                           el("Cell", {f"cell_value{suffix}": text})) for label, text in values.items()])
        region_groups.append(el(f"m1_region_group{group}", {f"region{suffix}": region}, body))
    year_label = column.year_label
    return el(f"matrix{tag}", {f"region_header{header_suffix}": year_label},
              el(f"m1_region_group{group}_Collection", None, *region_groups),
              el(f"FormatFiller{tag + 2}", None, el("Cell", {})))


def _sub_report(number: int, release: SimulatedRelease, title: str, body: list[str], subtitle: str | None = None,
                footer: str = "") -> str:
    attributes = {"Name": f"sr{number:02d}", "Report_Month": release.report_month.strftime("%B %Y"),
                  "page_title": f" WASDE - {release.number} - {number}", "sub_report_title": title}
    if subtitle:
        attributes["sub_report_subtitle"] = subtitle
    attributes["sub_report_footer"] = footer or "Note:  Totals may not add due to rounding."
    return el(f"sr{number:02d}", None, el("Report", attributes, *body))


def _world_pages(release: SimulatedRelease, regions: dict[str, Sheet], layout, title: str, pages: tuple[int, ...]) -> list[str]:
    cols = columns(release.index)
    estimate_and_final = [c for c in cols if c.month is None]
    projection = [c for c in cols if c.month is not None]
    proj_column = Column(projection[-1].year, projection[-1].stage, projection[-1].year_label, projection[-1].month)
    proj_rows = [(_month_label(c.month, False), world_rows(regions, c.year, c.stage, layout)) for c in projection]
    first = [world_matrix(4 + i, 4 + i, 4 + i, "2", c, [("", world_rows(regions, c.year, c.stage, layout))])
             for i, c in enumerate(estimate_and_final)]
    last = world_matrix(6, 6, 6, "3", proj_column, proj_rows)
    subtitle = "(Million Metric Tons)"
    if len(pages) == 1:
        return [_sub_report(pages[0], release, f"{title}  1/", first + [last], subtitle)]
    return [_sub_report(pages[0], release, f"{title}  1/", first, subtitle),
            _sub_report(pages[1], release, f"{title}  1/  (Cont'd.)", [last], subtitle)]


def _grains_summary(release: SimulatedRelease, m: WasdeModel) -> str:
    """sr08: World (matrix1) and United States (matrix2) wheat and coarse grains."""
    cols = columns(release.index)

    def rows(kind: str, c: Column) -> dict[str, str]:
        if kind == "world_wheat":
            world = dict(world_rows(m.world["wheat"], c.year, c.stage, WORLD_ROWS["grains"]))["World  2/"]
            b, p, i, e = (float(world[k]) for k in ("Beginning\r\nStocks", "Production", "Imports", "Ending\r\nStocks"))
            supply, trade, use = b + p, float(world["Exports"]), b + p - e
        elif kind == "world_coarse":
            q = m.world_coarse_grains.printed(c.year, c.stage)
            b, p, e = q.value(q.beginning), q.value(q.production), q.value(q.ending)
            supply, trade, use = b + p, q.value(q.uses["Exports"]), b + p - e
        else:
            q = (m.world["wheat"]["United States"] if kind == "us_wheat" else m.feed_grains).printed(c.year, c.stage)
            p, e = q.value(q.production), q.value(q.ending)
            supply, trade = q.value(q.supply), q.value(q.uses["Exports"])
            use = q.value(q.use_total - q.uses["Exports"])
        return {"Output": f"{p:.2f}", "Total\r\nSupply": f"{supply:.2f}", "Trade 2/": f"{trade:.2f}",
                "Total\r\nUse 3/": f"{use:.2f}", "Ending\r\nStocks": f"{e:.2f}"}

    def year_label(c: Column) -> str:
        status = " (Est.) " if "Est." in c.year_label else " (Proj.) " if "Proj." in c.year_label else ""
        return f"{_year_text(c.year)}{status}"

    def matrix(n: int, region: str, kinds: list[tuple[str, str]]) -> str:
        groups = []
        for commodity, kind in kinds:
            for c in cols:
                values = rows(kind, c)
                if n == 1:  # the world block nests the label one level deeper (s3/s4), as in the real file
                    attribute_groups = [el("m1_attribute_group", None,
                                           el("s3", {"attribute1": label}, el("s4", None, el("Cell", {"cell_value1": v}))))
                                        for label, v in values.items()]
                else:
                    attribute_groups = [el("m2_attribute_group", {"attribute2": label},
                                           el("s3", None, el("Cell", {"cell_value2": v})))
                                        for label, v in values.items()]
                groups.append(el(f"m{n}_commodity_group", {f"commodity{n}": commodity},
                                 el(f"m{n}_year_group_Collection", None,
                                    el(f"m{n}_year_group", {f"market_year{n}": year_label(c)},
                                       el(f"m{n}_month_group_Collection", None,
                                          el(f"m{n}_month_group", {f"forecast_month{n}": _month_label(c.month, False)},
                                             el(f"m{n}_attribute_group_Collection", None, *attribute_groups)))))))
        return el(f"matrix{n}", {f"commodity_header{n}": region}, el(f"m{n}_commodity_group_Collection", None, *groups))

    body = [matrix(1, "World", [("Wheat", "world_wheat"), ("Coarse Grains 5/", "world_coarse")]),
            matrix(2, "United States", [("Wheat", "us_wheat"), ("Coarse Grains 5/", "us_feed")])]
    # the real title's typo ("U.S" without the period) is kept on purpose
    return _sub_report(8, release, "World and U.S Supply and Use for Grains  1/", body, "Million Metric Tons",
                       "1/ Aggregate of local marketing years.  2/ Based on export estimate.")


def render_report(world: World, release: SimulatedRelease) -> bytes:
    """The WASDE XML of one release: BOM, declaration and the whole report on one line."""
    m = model(world)
    cols = columns(release.index)
    pages = [
        _grains_summary(release, m),
        _sub_report(11, release, "U.S. Wheat Supply and Use  1/",
                    [us_matrix(1, 1, m.wheat, WHEAT_LAYOUT, cols, [["Million Acres"], ["Bushels"], ["Million Bushels"]], False)],
                    footer="Note:  Totals may not add due to rounding.  1/ Marketing year beginning June 1."),
        _sub_report(12, release, "U.S. Feed Grain and Corn Supply and Use  1/",
                    [us_matrix(1, 1, m.feed_grains, FEED_GRAIN_LAYOUT, cols,
                               [["Million Acres"], ["Metric Tons"], ["Million Metric Tons"]], False),
                     us_matrix(2, 2, m.corn, CORN_LAYOUT, cols, [["Million Acres"], ["Bushels"], ["Million Bushels"]],
                               True)]),
        _sub_report(15, release, "U.S. Soybeans and Products Supply and Use (Domestic Measure)  1/",
                    [us_matrix(1, 4, m.soybeans, SOY_LAYOUT, cols, [["Million Acres"], ["Bushels"], ["Million Bushels"]],
                               False),
                     us_matrix(2, 5, m.oil, OIL_LAYOUT, cols, [["Million Pounds"]], True),
                     us_matrix(3, 6, m.meal, MEAL_LAYOUT, cols, [["Thousand Short", " Tons"]], True)]),
    ]
    pages += _world_pages(release, m.world["wheat"], WORLD_ROWS["grains"], "World Wheat Supply and Use", (18, 19))
    pages += _world_pages(release, m.world["corn"], WORLD_ROWS["grains"], "World Corn Supply and Use", (22, 23))
    pages += _world_pages(release, m.world["soybeans"], WORLD_ROWS["soybeans"], "World Soybean Supply and Use", (28,))
    pages += _world_pages(release, m.world["meal"], WORLD_ROWS["oil"], "World Soybean Meal Supply and Use", (29,))
    pages += _world_pages(release, m.world["oil"], WORLD_ROWS["oil"], "World Soybean Oil Supply and Use", (30,))
    document = BOM + '<?xml version="1.0" encoding="utf-8"?>' + el("Report", {"Name": "wasde"}, *pages)
    return document.encode("utf-8")


# ============================================================================ HTTP
def _not_found() -> httpx.Response:
    return httpx.Response(404, content=b"<!DOCTYPE html><html><head><title>Page not found | ESMIS</title></head>"
                                       b"<body><h1>Page not found</h1></body></html>",
                          headers={"Content-Type": "text/html; charset=UTF-8"})


def published(world: World, today: dt.date) -> list[SimulatedRelease]:
    """Releases out by `today`, newest first (the catalogue's order)."""
    return sorted((r for r in schedule(world) if r.release_date <= today), key=lambda r: r.index, reverse=True)


def catalogue_page(world: World, today: dt.date, page: int) -> bytes:
    releases = published(world, today)
    total_pages = max(1, -(-len(releases) // PAGE_SIZE))
    results = [{
        "id": r.esmis_id,
        "files": [r.file_url(ext) for ext in ("pdf", "txt", "xls", "xml")],
        "title": TITLE,
        "release_datetime": f"{r.release_date.isoformat()}T12:00:00+0000",
        "identifier": ["wasde"],
        "agency_acronym": "WAOB",
        "bibliographic_citation": "",
        "description": "",
        "equipment_software": "",
        "temporal_coverage": "",
    } for r in releases[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]]
    document = {"filters": [], "pager": {"current_page": page, "items_per_page": PAGE_SIZE, "total_pages": total_pages,
                                         "total_results": len(releases)},
                "results": results}
    return json.dumps(document, indent=1).encode()


def catalogue_handler(world: World, request: httpx.Request, today: dt.date) -> httpx.Response:
    if request.url.path.rstrip("/") != CATALOGUE_PATH + "wasde":
        return _not_found()
    page_text = request.url.params.get("page", "0")
    if not page_text.isdigit():
        return httpx.Response(400, content=b'{"message":"page must be a non-negative integer"}',
                              headers={"Content-Type": "application/json"})
    return httpx.Response(200, content=catalogue_page(world, today, int(page_text)),
                          headers={"Content-Type": "application/json"})


_FILE = re.compile(r"^/sites/default/release-files/(\d+)/(wasde\d{4})\.xml$")


def file_handler(world: World, request: httpx.Request, today: dt.date) -> httpx.Response:
    match = _FILE.match(request.url.path)
    if not match:
        return _not_found()  # PDF, TXT and XLS are listed but not rendered by the sample world
    release = next((r for r in published(world, today) if r.esmis_id == match.group(1)), None)
    if release is None or release.file_name != f"{match.group(2)}.xml":
        return _not_found()
    return httpx.Response(200, content=render_report(world, release), headers={"Content-Type": "application/xml"})


ROUTES = [
    (HOST, CATALOGUE_PATH, catalogue_handler),
    (HOST, FILES_PATH, file_handler),
]
