"""CFTC Commitments of Traders (Disaggregated, futures only) as the CFTC serves them, for every
configured `cftc_code`, from the simulated world:

- the history archives `www.cftc.gov/files/dea/history/fut_disagg_txt_{YYYY}.zip` (member
  `f_year.txt`) and `fut_disagg_txt_hist_2006_2016.zip` (member `F_Disagg06_16.txt`; in the sample
  world it holds every report up to 2016, from 2005 on), laid out like the real file: the full
  191-column header in the real order, every name double-quoted; market names and the unit/code
  text columns at the end quoted; numbers space-padded (positions and changes to 8, percentages and
  trader counts to 7, concentration ratios to 8 characters); codes with their trailing blanks
  (`CBT `, `007 `); `.` for a change with no previous report and for trader counts of 1 to 3
  (the CFTC suppresses them); CRLF line endings; rows grouped by market, newest report first. The
  combined archive names the date column `Report_Date_as_MM_DD_YYYY` (with ISO values), as the
  CFTC's older files do according to several client repositories;
- the public reporting API (Socrata) `publicreporting.cftc.gov/resource/72hh-3qpy.json` with
  `$where` (`report_date_as_yyyy_mm_dd between ... and ... AND cftc_contract_market_code in (...)`),
  `$order`, `$limit` and `$offset`: a JSON array of flat objects, lower-case names, every value a
  string, the date a floating timestamp, absent fields for suppressed values. No recorded Socrata
  response exists: the position field names follow PROVENANCE.md (and agree with client
  repositories); the other names are the lower-cased file headers, an assumption.

Only reports released by `today` are served (release: the Friday after the report Tuesday, or the
next business day, as `cftc.release_date`). The archives hold only the configured markets.

The positions are tied to the world. Per market, open interest follows a seeded, mean-reverting
weekly random walk around a base of `sample.volume` (symbols.yaml) times a bucket ratio (ags 4.5,
energy 2.6, metals 2.2) times a seeded root factor. Managed money holds a gross share of open
interest and its net share follows the root's 12-week (60-session) front-month momentum on the
report Tuesday (`tanh` of the momentum in standard deviations, plus a root bias and persistent
noise); swap dealers, other reportables and non-reportables hold seeded, slowly varying shares;
producers/merchants take the rest of each side. Open interest = every long + every spread = every
short + every spread, exactly, for All, Old and Other; Old + Other = All. Crop-year markets split
Old/Other with a seasonal saw-tooth; the others report Old = All, Other = 0, as the real file does.
Market names are the CFTC's for the codes known from the 2023 file (WTI, 067651, carries its
former name "CRUDE OIL, LIGHT SWEET - NEW YORK MERCANTILE EXCHANGE" for reports before 2022: the
real rename happened between 2021 and 2023, the exact week is not known here); other codes get a
plausible name from symbols.yaml.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache

import httpx
import numpy as np

from cbi_platform.lib import calendar
from cbi_platform.lib.sample.macro import front_close
from cbi_platform.lib.sample.world import World
from cbi_platform.lib.sources import cftc

ARCHIVE_HOST = "www.cftc.gov"
ARCHIVE_PATH = "/files/dea/history/"
SOCRATA_HOST = "publicreporting.cftc.gov"
SOCRATA_PATH = "/resource/72hh-3qpy.json"
COMBINED_ARCHIVE = "fut_disagg_txt_hist_2006_2016.zip"
COMBINED_MEMBER = "F_Disagg06_16.txt"
ANNUAL_MEMBER = "f_year.txt"
FIRST_REPORT = dt.date(2005, 1, 4)
LAST_REPORT = calendar.CALENDAR_END - dt.timedelta(days=14)
MOMENTUM_SESSIONS = 60  # 12 weeks

# The header of the CFTC file, in the real order (fut_disagg_txt_2023.zip, f_year.txt).
COLUMNS = (
    "Market_and_Exchange_Names", "As_of_Date_In_Form_YYMMDD", "Report_Date_as_YYYY-MM-DD",
    "CFTC_Contract_Market_Code", "CFTC_Market_Code", "CFTC_Region_Code", "CFTC_Commodity_Code",
    "Open_Interest_All", "Prod_Merc_Positions_Long_All", "Prod_Merc_Positions_Short_All",
    "Swap_Positions_Long_All", "Swap__Positions_Short_All", "Swap__Positions_Spread_All",
    "M_Money_Positions_Long_All", "M_Money_Positions_Short_All", "M_Money_Positions_Spread_All",
    "Other_Rept_Positions_Long_All", "Other_Rept_Positions_Short_All", "Other_Rept_Positions_Spread_All",
    "Tot_Rept_Positions_Long_All", "Tot_Rept_Positions_Short_All", "NonRept_Positions_Long_All",
    "NonRept_Positions_Short_All", "Open_Interest_Old", "Prod_Merc_Positions_Long_Old",
    "Prod_Merc_Positions_Short_Old", "Swap_Positions_Long_Old", "Swap__Positions_Short_Old",
    "Swap__Positions_Spread_Old", "M_Money_Positions_Long_Old", "M_Money_Positions_Short_Old",
    "M_Money_Positions_Spread_Old", "Other_Rept_Positions_Long_Old", "Other_Rept_Positions_Short_Old",
    "Other_Rept_Positions_Spread_Old", "Tot_Rept_Positions_Long_Old", "Tot_Rept_Positions_Short_Old",
    "NonRept_Positions_Long_Old", "NonRept_Positions_Short_Old", "Open_Interest_Other",
    "Prod_Merc_Positions_Long_Other", "Prod_Merc_Positions_Short_Other", "Swap_Positions_Long_Other",
    "Swap__Positions_Short_Other", "Swap__Positions_Spread_Other", "M_Money_Positions_Long_Other",
    "M_Money_Positions_Short_Other", "M_Money_Positions_Spread_Other", "Other_Rept_Positions_Long_Other",
    "Other_Rept_Positions_Short_Other", "Other_Rept_Positions_Spread_Other", "Tot_Rept_Positions_Long_Other",
    "Tot_Rept_Positions_Short_Other", "NonRept_Positions_Long_Other", "NonRept_Positions_Short_Other",
    "Change_in_Open_Interest_All", "Change_in_Prod_Merc_Long_All", "Change_in_Prod_Merc_Short_All",
    "Change_in_Swap_Long_All", "Change_in_Swap_Short_All", "Change_in_Swap_Spread_All",
    "Change_in_M_Money_Long_All", "Change_in_M_Money_Short_All", "Change_in_M_Money_Spread_All",
    "Change_in_Other_Rept_Long_All", "Change_in_Other_Rept_Short_All", "Change_in_Other_Rept_Spread_All",
    "Change_in_Tot_Rept_Long_All", "Change_in_Tot_Rept_Short_All", "Change_in_NonRept_Long_All",
    "Change_in_NonRept_Short_All", "Pct_of_Open_Interest_All", "Pct_of_OI_Prod_Merc_Long_All",
    "Pct_of_OI_Prod_Merc_Short_All", "Pct_of_OI_Swap_Long_All", "Pct_of_OI_Swap_Short_All",
    "Pct_of_OI_Swap_Spread_All", "Pct_of_OI_M_Money_Long_All", "Pct_of_OI_M_Money_Short_All",
    "Pct_of_OI_M_Money_Spread_All", "Pct_of_OI_Other_Rept_Long_All", "Pct_of_OI_Other_Rept_Short_All",
    "Pct_of_OI_Other_Rept_Spread_All", "Pct_of_OI_Tot_Rept_Long_All", "Pct_of_OI_Tot_Rept_Short_All",
    "Pct_of_OI_NonRept_Long_All", "Pct_of_OI_NonRept_Short_All", "Pct_of_Open_Interest_Old",
    "Pct_of_OI_Prod_Merc_Long_Old", "Pct_of_OI_Prod_Merc_Short_Old", "Pct_of_OI_Swap_Long_Old",
    "Pct_of_OI_Swap_Short_Old", "Pct_of_OI_Swap_Spread_Old", "Pct_of_OI_M_Money_Long_Old",
    "Pct_of_OI_M_Money_Short_Old", "Pct_of_OI_M_Money_Spread_Old", "Pct_of_OI_Other_Rept_Long_Old",
    "Pct_of_OI_Other_Rept_Short_Old", "Pct_of_OI_Other_Rept_Spread_Old", "Pct_of_OI_Tot_Rept_Long_Old",
    "Pct_of_OI_Tot_Rept_Short_Old", "Pct_of_OI_NonRept_Long_Old", "Pct_of_OI_NonRept_Short_Old",
    "Pct_of_Open_Interest_Other", "Pct_of_OI_Prod_Merc_Long_Other", "Pct_of_OI_Prod_Merc_Short_Other",
    "Pct_of_OI_Swap_Long_Other", "Pct_of_OI_Swap_Short_Other", "Pct_of_OI_Swap_Spread_Other",
    "Pct_of_OI_M_Money_Long_Other", "Pct_of_OI_M_Money_Short_Other", "Pct_of_OI_M_Money_Spread_Other",
    "Pct_of_OI_Other_Rept_Long_Other", "Pct_of_OI_Other_Rept_Short_Other",
    "Pct_of_OI_Other_Rept_Spread_Other", "Pct_of_OI_Tot_Rept_Long_Other", "Pct_of_OI_Tot_Rept_Short_Other",
    "Pct_of_OI_NonRept_Long_Other", "Pct_of_OI_NonRept_Short_Other", "Traders_Tot_All",
    "Traders_Prod_Merc_Long_All", "Traders_Prod_Merc_Short_All", "Traders_Swap_Long_All",
    "Traders_Swap_Short_All", "Traders_Swap_Spread_All", "Traders_M_Money_Long_All",
    "Traders_M_Money_Short_All", "Traders_M_Money_Spread_All", "Traders_Other_Rept_Long_All",
    "Traders_Other_Rept_Short_All", "Traders_Other_Rept_Spread_All", "Traders_Tot_Rept_Long_All",
    "Traders_Tot_Rept_Short_All", "Traders_Tot_Old", "Traders_Prod_Merc_Long_Old",
    "Traders_Prod_Merc_Short_Old", "Traders_Swap_Long_Old", "Traders_Swap_Short_Old",
    "Traders_Swap_Spread_Old", "Traders_M_Money_Long_Old", "Traders_M_Money_Short_Old",
    "Traders_M_Money_Spread_Old", "Traders_Other_Rept_Long_Old", "Traders_Other_Rept_Short_Old",
    "Traders_Other_Rept_Spread_Old", "Traders_Tot_Rept_Long_Old", "Traders_Tot_Rept_Short_Old",
    "Traders_Tot_Other", "Traders_Prod_Merc_Long_Other", "Traders_Prod_Merc_Short_Other",
    "Traders_Swap_Long_Other", "Traders_Swap_Short_Other", "Traders_Swap_Spread_Other",
    "Traders_M_Money_Long_Other", "Traders_M_Money_Short_Other", "Traders_M_Money_Spread_Other",
    "Traders_Other_Rept_Long_Other", "Traders_Other_Rept_Short_Other", "Traders_Other_Rept_Spread_Other",
    "Traders_Tot_Rept_Long_Other", "Traders_Tot_Rept_Short_Other", "Conc_Gross_LE_4_TDR_Long_All",
    "Conc_Gross_LE_4_TDR_Short_All", "Conc_Gross_LE_8_TDR_Long_All", "Conc_Gross_LE_8_TDR_Short_All",
    "Conc_Net_LE_4_TDR_Long_All", "Conc_Net_LE_4_TDR_Short_All", "Conc_Net_LE_8_TDR_Long_All",
    "Conc_Net_LE_8_TDR_Short_All", "Conc_Gross_LE_4_TDR_Long_Old", "Conc_Gross_LE_4_TDR_Short_Old",
    "Conc_Gross_LE_8_TDR_Long_Old", "Conc_Gross_LE_8_TDR_Short_Old", "Conc_Net_LE_4_TDR_Long_Old",
    "Conc_Net_LE_4_TDR_Short_Old", "Conc_Net_LE_8_TDR_Long_Old", "Conc_Net_LE_8_TDR_Short_Old",
    "Conc_Gross_LE_4_TDR_Long_Other", "Conc_Gross_LE_4_TDR_Short_Other", "Conc_Gross_LE_8_TDR_Long_Other",
    "Conc_Gross_LE_8_TDR_Short_Other", "Conc_Net_LE_4_TDR_Long_Other", "Conc_Net_LE_4_TDR_Short_Other",
    "Conc_Net_LE_8_TDR_Long_Other", "Conc_Net_LE_8_TDR_Short_Other", "Contract_Units",
    "CFTC_Contract_Market_Code_Quotes", "CFTC_Market_Code_Quotes", "CFTC_Commodity_Code_Quotes",
    "CFTC_SubGroup_Code", "FutOnly_or_Combined",
)
assert len(COLUMNS) == 191
OLD_DATE_COLUMN = "Report_Date_as_MM_DD_YYYY"  # the date column's name in the older files


@dataclass(frozen=True)
class _Market:
    name: str
    market_code: str  # CFTC_Market_Code, padded to 4 (exchange)
    region: str
    commodity_code: str  # padded to 4
    units: str
    subgroup: str


# Markets as in the 2023 file (metadata read from shared/fixtures/cftc_cot).
KNOWN_MARKETS = {
    "007601": _Market('SOYBEAN OIL - CHICAGO BOARD OF TRADE', 'CBT ', '00', '007 ', '(CONTRACTS OF 60,000 POUNDS)', 'A30'),
    "005602": _Market('SOYBEANS - CHICAGO BOARD OF TRADE', 'CBT ', '00', '005 ', '(CONTRACTS OF 5,000 BUSHELS)', 'A30'),
    "026603": _Market('SOYBEAN MEAL - CHICAGO BOARD OF TRADE', 'CBT ', '00', '026 ', '(CONTRACTS OF 100 TONS)', 'A30'),
    "002602": _Market('CORN - CHICAGO BOARD OF TRADE', 'CBT ', '00', '002 ', '(CONTRACTS OF 5,000 BUSHELS)', 'A10'),
    "001602": _Market('WHEAT-SRW - CHICAGO BOARD OF TRADE', 'CBT ', '00', '001 ', '(CONTRACTS OF 5,000 BUSHELS)', 'A10'),
    "001612": _Market('WHEAT-HRW - CHICAGO BOARD OF TRADE', 'CBT ', '00', '001 ', '(CONTRACTS OF 5,000 BUSHELS)', 'A10'),
    "004603": _Market('OATS - CHICAGO BOARD OF TRADE', 'CBT ', '00', '004 ', '(CONTRACTS OF 5,000 BUSHELS)', 'A10'),
    "039601": _Market('ROUGH RICE - CHICAGO BOARD OF TRADE', 'CBT ', '00', '039 ', '(CONTRACTS OF 200,000 POUNDS)', 'A10'),
    "054642": _Market('LEAN HOGS - CHICAGO MERCANTILE EXCHANGE', 'CME ', '00', '054 ', '(CONTRACTS OF 40,000 POUNDS)', 'A20'),
    "057642": _Market('LIVE CATTLE - CHICAGO MERCANTILE EXCHANGE', 'CME ', '00', '057 ', '(CONTRACTS OF 40,000 POUNDS)', 'A20'),
    "061641": _Market('FEEDER CATTLE - CHICAGO MERCANTILE EXCHANGE', 'CME ', '00', '061 ', '(CONTRACTS OF 50,000 POUNDS)', 'A20'),
    "052641": _Market('MILK, Class III - CHICAGO MERCANTILE EXCHANGE', 'CME ', '00', '052 ', '(CONTRACTS OF 200,000 POUNDS)', 'A25'),
    "058644": _Market('LUMBER - CHICAGO MERCANTILE EXCHANGE', 'CME ', '00', '058 ', '(CONTRACTS OF 27,500 BOARD FEET)', 'N30'),
    "067651": _Market('WTI-PHYSICAL - NEW YORK MERCANTILE EXCHANGE', 'NYME', '01', '067 ', '(CONTRACTS OF 1,000 BARRELS)', 'N10'),
    "022651": _Market('NY HARBOR ULSD - NEW YORK MERCANTILE EXCHANGE', 'NYME', '01', '022 ', '(CONTRACTS OF 42,000 U.S. GALLONS)', 'N10'),
    "111659": _Market('GASOLINE RBOB - NEW YORK MERCANTILE EXCHANGE', 'NYME', '01', '111 ', '(CONTRACTS OF 42,000 U.S. GALLONS)', 'N10'),
    "023651": _Market('NAT GAS NYME - NEW YORK MERCANTILE EXCHANGE', 'NYME', '01', '023 ', "(Contracts of 10,000 MMBTU'S)", 'N13'),
    "088691": _Market('GOLD - COMMODITY EXCHANGE INC.', 'CMX ', '01', '088 ', '(CONTRACTS OF 100 TROY OUNCES)', 'N20'),
    "084691": _Market('SILVER - COMMODITY EXCHANGE INC.', 'CMX ', '01', '084 ', '(CONTRACTS OF 5,000 TROY OUNCES)', 'N20'),
    "085692": _Market('COPPER- #1 - COMMODITY EXCHANGE INC.', 'CMX ', '01', '085 ', '(CONTRACTS OF 25,000 POUNDS)', 'N25'),
    "076651": _Market('PLATINUM - NEW YORK MERCANTILE EXCHANGE', 'NYME', '01', '076 ', '(CONTRACTS OF 50 TROY OUNCES)', 'N20'),
    "075651": _Market('PALLADIUM - NEW YORK MERCANTILE EXCHANGE', 'NYME', '01', '075 ', '(CONTRACTS OF 100 TROY OUNCES)', 'N20'),
    "191693": _Market('ALUMINUM MWP - COMMODITY EXCHANGE INC.', 'CMX ', '01', '191 ', '(55,116 US Pounds-25 MT)', 'N25'),
    "192651": _Market('STEEL-HRC - COMMODITY EXCHANGE INC.', 'CMX ', '01', '192 ', '(CONTRACTS OF 20 SHORT TONS)', 'N25'),
}
# Reports before the date carry the former name.
FORMER_NAMES = {"067651": (dt.date(2022, 1, 1), "CRUDE OIL, LIGHT SWEET - NEW YORK MERCANTILE EXCHANGE")}
# Markets with crop years (Old/Other split) and the month their crop year starts.
CROP_YEAR_START = {"007601": 10, "005602": 9, "026603": 10, "002602": 9, "001602": 6, "001612": 6,
                   "004603": 6, "039601": 8, "054642": 12}
CROP_YEAR_EXCHANGES = {"CBOT", "KCBT"}  # unknown codes on these exchanges get a September crop year
EXCHANGES = {
    "CBOT": ("CHICAGO BOARD OF TRADE", "CBT ", "00"),
    "KCBT": ("CHICAGO BOARD OF TRADE", "CBT ", "00"),
    "CME": ("CHICAGO MERCANTILE EXCHANGE", "CME ", "00"),
    "NYMEX": ("NEW YORK MERCANTILE EXCHANGE", "NYME", "01"),
    "COMEX": ("COMMODITY EXCHANGE INC.", "CMX ", "01"),
}
OI_PER_VOLUME = {"ags": 4.5, "energy": 2.6, "metals": 2.2}
# Mean shares of open interest (before a seeded per-root factor and slow weekly noise).
SHARES = {"sw_l": 0.17, "sw_s": 0.05, "sw_sp": 0.03, "mm_gross": 0.32, "mm_sp": 0.08,
          "or_l": 0.08, "or_s": 0.05, "or_sp": 0.05, "nr_l": 0.09, "nr_s": 0.07}
PRODUCER_FLOOR = 0.08  # producers/merchants hold at least this share of each side

# The 16 position slots of each block (All, Old, Other), in the file's order.
SLOTS = ("oi", "pm_l", "pm_s", "sw_l", "sw_s", "sw_sp", "mm_l", "mm_s", "mm_sp",
         "or_l", "or_s", "or_sp", "tr_l", "tr_s", "nr_l", "nr_s")
S = {name: i for i, name in enumerate(SLOTS)}
LONG_SLOTS = ("pm_l", "sw_l", "mm_l", "or_l", "nr_l")
SHORT_SLOTS = ("pm_s", "sw_s", "mm_s", "or_s", "nr_s")
SPREAD_SLOTS = ("sw_sp", "mm_sp", "or_sp")
# Trader counts per category: about k * sqrt(contracts) (fitted by eye to the 2023 file).
TRADER_K = {"pm_l": 0.24, "pm_s": 0.24, "sw_l": 0.06, "sw_s": 0.07, "sw_sp": 0.13, "mm_l": 0.21,
            "mm_s": 0.21, "mm_sp": 0.21, "or_l": 0.20, "or_s": 0.20, "or_sp": 0.24}
TRADER_SLOTS = ("tot", "pm_l", "pm_s", "sw_l", "sw_s", "sw_sp", "mm_l", "mm_s", "mm_sp",
                "or_l", "or_s", "or_sp", "tr_l", "tr_s")


def _check_layout() -> None:
    """The blocks below are laid out by position: make sure the header agrees."""
    suffixes = ("All", "Old", "Other")
    assert COLUMNS[7] == "Open_Interest_All" and COLUMNS[23] == "Open_Interest_Old" and COLUMNS[39] == "Open_Interest_Other"
    assert COLUMNS[55] == "Change_in_Open_Interest_All" and COLUMNS[70] == "Change_in_NonRept_Short_All"
    assert [COLUMNS[71 + 16 * k] for k in range(3)] == [f"Pct_of_Open_Interest_{s}" for s in suffixes]
    assert [COLUMNS[119 + 14 * k] for k in range(3)] == [f"Traders_Tot_{s}" for s in suffixes]
    assert [COLUMNS[161 + 8 * k] for k in range(3)] == [f"Conc_Gross_LE_4_TDR_Long_{s}" for s in suffixes]
    assert COLUMNS[185] == "Contract_Units" and COLUMNS[190] == "FutOnly_or_Combined"


_check_layout()


# ---------------------------------------------------------------------------- markets
def configured_codes(world: World) -> dict[str, str]:
    """code -> root for every configured cftc_code (the first root naming a code)."""
    out: dict[str, str] = {}
    for spec in world.symbols:
        if spec.cftc_code:
            out.setdefault(spec.cftc_code.strip(), spec.root)
    return out


def market_info(world: World, code: str) -> _Market:
    if code in KNOWN_MARKETS:
        return KNOWN_MARKETS[code]
    spec = world.sources.symbol(configured_codes(world)[code])
    exchange, market_code, region = EXCHANGES.get(spec.exchange, (spec.exchange.upper(), spec.exchange[:4].ljust(4), "00"))
    units = spec.units.split("/")[-1].replace("_", " ").upper()
    subgroup = {"ags": "A10", "energy": "N10", "metals": "N20"}.get(spec.bucket, "N30")
    return _Market(f"{spec.name.upper()} - {exchange}", market_code, region, f"{code[:3]} ",
                   f"(CONTRACTS OF {spec.contract_size:,.0f} {units})", subgroup)


def market_name(world: World, code: str, report_date: dt.date) -> str:
    former = FORMER_NAMES.get(code)
    if former and report_date < former[0]:
        return former[1]
    return market_info(world, code).name


def _crop_year_start(world: World, code: str) -> int | None:
    if code in CROP_YEAR_START:
        return CROP_YEAR_START[code]
    if code in KNOWN_MARKETS:
        return None
    spec = world.sources.symbol(configured_codes(world)[code])
    return 9 if spec.exchange in CROP_YEAR_EXCHANGES else None


# ---------------------------------------------------------------------------- positions
@dataclass(frozen=True)
class MarketHistory:
    """Every weekly report of one market in the world (independent of `today`)."""

    code: str
    root: str
    report_dates: list[dt.date]
    releases: list[dt.date]
    momentum_z: np.ndarray  # 12-week front-month log return, in standard deviations
    positions: np.ndarray  # (n, 3, 16) int64: All, Old, Other x SLOTS
    traders: np.ndarray  # (n, 3, 14) int64 x TRADER_SLOTS
    concentration: np.ndarray  # (n, 3, 8) float, one decimal

    @property
    def changes(self) -> np.ndarray:
        """(n, 16) week-on-week change of the All block; row 0 has no previous report."""
        all_block = self.positions[:, 0, :]
        out = np.zeros_like(all_block)
        out[1:] = all_block[1:] - all_block[:-1]
        return out

    @property
    def percent(self) -> np.ndarray:
        """(n, 3, 16) share of the block's open interest, percent, one decimal."""
        oi = self.positions[:, :, :1].astype(float)
        pct = np.where(oi > 0, 100.0 * self.positions / np.where(oi > 0, oi, 1.0), 0.0)
        pct[:, :, 0] = 100.0
        return np.round(pct, 1)


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    shocks = rng.standard_normal(n) * sd
    out = np.empty(n)
    level = rng.standard_normal() * sd / np.sqrt(1 - phi * phi)  # start in the stationary law
    for i in range(n):
        level = phi * level + shocks[i]
        out[i] = level
    return out


@lru_cache(maxsize=128)
def market_history(world: World, code: str) -> MarketHistory:
    root = configured_codes(world)[code]
    spec = world.sources.symbol(root)
    j = world.root_index[root]
    reports = cftc.report_tuesdays(max(FIRST_REPORT, spec.listed), LAST_REPORT)
    n = len(reports)
    rng = np.random.default_rng([world.seed, zlib.crc32(f"cftc:{code}".encode())])

    # 12-week momentum of the front month, known on the report Tuesday's close
    session = np.searchsorted(world.sessions, np.array(reports, dtype="datetime64[D]"), side="right") - 1
    session = np.clip(session, 0, world.n_days - 1)
    close = front_close(world, root)
    back = np.clip(session - MOMENTUM_SESSIONS, 0, None)
    momentum_z = np.log(close[session] / close[back]) / (world.daily_sd[j] * np.sqrt(MOMENTUM_SESSIONS))

    # open interest: a mean-reverting weekly walk around a volume-scaled base
    base = float(spec.sample.get("volume", 1000)) * OI_PER_VOLUME.get(spec.bucket, 3.0) * np.exp(0.2 * rng.standard_normal())
    oi = np.maximum(base * np.exp(_ar1(rng, n, 0.97, 0.035)), 200.0)

    share = {k: v * np.exp(0.25 * rng.standard_normal()) * np.exp(_ar1(rng, n, 0.9, 0.08)) for k, v in SHARES.items()}
    bias = 0.15 * rng.standard_normal()
    net_share = np.clip(0.6 * np.tanh(momentum_z / 1.2) + bias + _ar1(rng, n, 0.85, 0.1), -0.9, 0.9)
    f = {k: oi * share[k] for k in ("sw_l", "sw_s", "sw_sp", "mm_sp", "or_l", "or_s", "or_sp", "nr_l", "nr_s")}
    gross = oi * share["mm_gross"]
    f["mm_l"] = gross * (1 + net_share) / 2
    f["mm_s"] = gross * (1 - net_share) / 2
    directional = oi - (f["sw_sp"] + f["mm_sp"] + f["or_sp"])
    for side in (LONG_SLOTS, SHORT_SLOTS):  # leave producers/merchants their floor on each side
        others = sum(f[k] for k in side[1:])
        scale = np.minimum(1.0, (directional - PRODUCER_FLOOR * oi) / others)
        for k in side[1:]:
            f[k] = f[k] * scale

    block = np.zeros((n, 16), dtype=np.int64)
    block[:, S["oi"]] = np.round(oi)
    for k, values in f.items():
        block[:, S[k]] = np.round(values)
    _close_block(block)
    positions = np.zeros((n, 3, 16), dtype=np.int64)
    positions[:, 0] = block
    start_month = _crop_year_start(world, code)
    if start_month is None:
        positions[:, 1] = block
    else:
        positions[:, 1] = _old_crop(block, reports, start_month, rng)
    positions[:, 2] = positions[:, 0] - positions[:, 1]
    traders = _traders(positions, rng)
    return MarketHistory(code, root, reports, [cftc.release_date(r) for r in reports], momentum_z,
                         positions, traders, _concentration(positions, traders, rng))


def _close_block(block: np.ndarray) -> None:
    """Producers/merchants take the rest of each side; total reportables follow."""
    spreads = sum(block[:, S[k]] for k in SPREAD_SLOTS)
    oi = block[:, S["oi"]]
    block[:, S["pm_l"]] = oi - spreads - sum(block[:, S[k]] for k in LONG_SLOTS[1:])
    block[:, S["pm_s"]] = oi - spreads - sum(block[:, S[k]] for k in SHORT_SLOTS[1:])
    block[:, S["tr_l"]] = oi - block[:, S["nr_l"]]
    block[:, S["tr_s"]] = oi - block[:, S["nr_s"]]


def _old_crop(block: np.ndarray, reports: list[dt.date], start_month: int, rng: np.random.Generator) -> np.ndarray:
    """Positions in the old crop year: a share that falls through the crop year as new-crop
    contracts fill. Old <= All field by field; the same identities hold."""
    phase = np.array([((r - dt.date(r.year if r.month >= start_month else r.year - 1, start_month, 1)).days % 366) / 366
                      for r in reports])
    share = np.clip(0.97 - 0.55 * phase + 0.03 * rng.standard_normal(len(reports)), 0.35, 0.97)
    old = np.zeros_like(block)
    for k in (*LONG_SLOTS, *SHORT_SLOTS[1:], *SPREAD_SLOTS):
        old[:, S[k]] = np.floor(block[:, S[k]] * share)
    spreads = sum(old[:, S[k]] for k in SPREAD_SLOTS)
    old[:, S["oi"]] = spreads + sum(old[:, S[k]] for k in LONG_SLOTS)
    pm_s = old[:, S["oi"]] - spreads - sum(old[:, S[k]] for k in SHORT_SLOTS[1:])
    # rounding can push producers' old shorts just outside [0, all]: move the difference to
    # their old longs, which keeps both sides equal to open interest
    over = np.maximum(pm_s - block[:, S["pm_s"]], 0)
    under = np.maximum(-pm_s, 0)
    old[:, S["pm_s"]] = pm_s - over + under
    old[:, S["pm_l"]] += under - over
    old[:, S["oi"]] += under - over
    old[:, S["tr_l"]] = old[:, S["oi"]] - old[:, S["nr_l"]]
    old[:, S["tr_s"]] = old[:, S["oi"]] - old[:, S["nr_s"]]
    return old


def _traders(positions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = positions.shape[0]
    out = np.zeros((n, 3, 14), dtype=np.int64)
    noise = np.exp(0.08 * rng.standard_normal((n, 3, len(TRADER_K))))
    for i, (slot, k) in enumerate(TRADER_K.items()):
        held = positions[:, :, S[slot]]
        count = np.maximum(1, np.round(k * np.sqrt(held) * noise[:, :, i]))
        out[:, :, TRADER_SLOTS.index(slot)] = np.where(held > 0, count, 0)
    t = {slot: out[:, :, TRADER_SLOTS.index(slot)] for slot in TRADER_K}
    long_side = t["pm_l"] + t["sw_l"] + t["sw_sp"] + t["mm_l"] + t["mm_sp"] + t["or_l"] + t["or_sp"]
    short_side = t["pm_s"] + t["sw_s"] + t["sw_sp"] + t["mm_s"] + t["mm_sp"] + t["or_s"] + t["or_sp"]
    out[:, :, TRADER_SLOTS.index("tr_l")] = np.round(0.83 * long_side)
    out[:, :, TRADER_SLOTS.index("tr_s")] = np.round(0.83 * short_side)
    out[:, :, 0] = np.round(1.2 * np.maximum(long_side, short_side) * 0.83)
    return out


def _concentration(positions: np.ndarray, traders: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Share of open interest held by the largest 4 and 8 traders (gross and net), long and short."""
    n = positions.shape[0]
    out = np.zeros((n, 3, 8))
    for side, slot in ((0, "tr_l"), (1, "tr_s")):
        count = np.maximum(traders[:, :, TRADER_SLOTS.index(slot)], 1)
        gross4 = np.clip(190.0 / np.sqrt(count) * np.exp(0.1 * rng.standard_normal((n, 3))), 2.0, 100.0)
        gross8 = np.minimum(100.0, gross4 * rng.uniform(1.35, 1.7, (n, 3)))
        net4 = gross4 * rng.uniform(0.7, 0.97, (n, 3))
        net8 = np.maximum(net4, gross8 * rng.uniform(0.7, 0.97, (n, 3)))
        out[:, :, side], out[:, :, 2 + side], out[:, :, 4 + side], out[:, :, 6 + side] = gross4, gross8, net4, net8
    out[positions[:, :, S["oi"]] == 0] = 0.0
    return np.round(out, 1)


# ---------------------------------------------------------------------------- selection
def _released(history: MarketHistory, first: dt.date, last: dt.date, today: dt.date) -> np.ndarray:
    """Indices of reports dated in [first, last] and released by today."""
    return np.array([i for i, (r, rel) in enumerate(zip(history.report_dates, history.releases))
                     if first <= r <= last and rel <= today], dtype=np.int64)


_NUMBER_FORMATS = (["%8d"] * 48, ["%8d"] * 16, ["%7.1f"] * 48, ["%s"] * 42, ["%8.1f"] * 24)
_LINE = ",".join(sum(_NUMBER_FORMATS, []))
_FIRST_LINE = ",".join(sum((_NUMBER_FORMATS[0], ["."] * 16, *_NUMBER_FORMATS[2:]), []))  # no previous report


def numeric_fields(history: MarketHistory, rows: np.ndarray) -> list[str]:
    """Columns 7..184 of the selected reports, comma-joined exactly as the file pads them."""
    k = len(rows)
    positions = history.positions[rows].reshape(k, 48).tolist()
    changes = history.changes[rows].tolist()
    percent = history.percent[rows].reshape(k, 48).tolist()
    raw_traders = history.traders[rows].reshape(k, 42)
    shown = np.array([f"{v:7d}" for v in range(int(raw_traders.max(initial=0)) + 1)], dtype=object)
    shown[1:4] = "."  # the CFTC suppresses counts of 1 to 3 traders
    traders = shown[raw_traders].tolist()
    concentration = history.concentration[rows].reshape(k, 24).tolist()
    lines = []
    for pos, i in enumerate(rows):
        if i == 0:
            lines.append(_FIRST_LINE % (*positions[pos], *percent[pos], *traders[pos], *concentration[pos]))
        else:
            lines.append(_LINE % (*positions[pos], *changes[pos], *percent[pos], *traders[pos], *concentration[pos]))
    return lines


# ---------------------------------------------------------------------------- the archives
def _archive_span(name: str) -> tuple[dt.date, dt.date, str, str] | None:
    """(first report date, last report date, member, date column) of an archive name."""
    if name == COMBINED_ARCHIVE:
        return FIRST_REPORT, dt.date(cftc.LAST_COMBINED_YEAR, 12, 31), COMBINED_MEMBER, OLD_DATE_COLUMN
    match = re.fullmatch(r"fut_disagg_txt_(\d{4})\.zip", name)
    if not match:
        return None
    year = int(match.group(1))
    return dt.date(year, 1, 1), dt.date(year, 12, 31), ANNUAL_MEMBER, COLUMNS[2]


def archive_text(world: World, first: dt.date, last: dt.date, today: dt.date, date_column: str = COLUMNS[2]) -> str:
    """The CSV text of an archive covering report dates [first, last] as known on today."""
    header = ",".join(f'"{date_column if c == COLUMNS[2] else c}"' for c in COLUMNS)
    lines = [header]
    for code in sorted(configured_codes(world)):
        history = market_history(world, code)
        rows = _released(history, first, last, today)[::-1]  # newest report first
        if not len(rows):
            continue
        info = market_info(world, code)
        numbers = numeric_fields(history, rows)
        tail = f'"{info.units}","{code}","{info.market_code}","{info.commodity_code}","{info.subgroup}","FutOnly"'
        for pos, i in enumerate(rows):
            report = history.report_dates[i]
            head = (f'"{market_name(world, code, report)}",{report:%y%m%d},{report.isoformat()},{code},'
                    f"{info.market_code},{info.region},{info.commodity_code}")
            lines.append(f"{head},{numbers[pos]},{tail}")
    return "\r\n".join(lines) + "\r\n"


def _last_release(world: World, today: dt.date) -> dt.date:
    """The latest release on or before today (what an archive downloaded today can hold)."""
    day = today
    while True:
        report = day - dt.timedelta(days=(day.weekday() - 1) % 7)  # a Tuesday on or before
        for candidate in (report, report - dt.timedelta(days=7)):
            if cftc.release_date(candidate) <= today:
                return cftc.release_date(candidate)
        day -= dt.timedelta(days=7)


@lru_cache(maxsize=16)
def _archive_cached(world: World, name: str, known: dt.date) -> bytes | None:
    span = _archive_span(name)
    if span is None:
        return None
    first, last, member, date_column = span
    text = archive_text(world, first, last, known, date_column)
    if text.count("\r\n") <= 1:  # header only: the CFTC has no such file
        return None
    buffer = io.BytesIO()
    stamp = min(known, last + dt.timedelta(days=7))
    info = zipfile.ZipInfo(member, date_time=(stamp.year, stamp.month, stamp.day, 15, 16, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, text.encode("latin-1"))
    return buffer.getvalue()


def archive_zip(world: World, name: str, today: dt.date) -> bytes | None:
    """The archive `name` as downloaded on `today`, or None where the CFTC has no such file."""
    return _archive_cached(world, name, _last_release(world, today))


# ---------------------------------------------------------------------------- Socrata
SOCRATA_NAMES = {  # where the API's names are not the lower-cased file headers
    "Report_Date_as_YYYY-MM-DD": "report_date_as_yyyy_mm_dd",
    "Prod_Merc_Positions_Long_All": "prod_merc_positions_long",
    "Prod_Merc_Positions_Short_All": "prod_merc_positions_short",
    "M_Money_Positions_Spread_All": "m_money_positions_spread",
    "Other_Rept_Positions_Long_All": "other_rept_positions_long",
    "Other_Rept_Positions_Short_All": "other_rept_positions_short",
    "Other_Rept_Positions_Spread_All": "other_rept_positions_spread",
    "Tot_Rept_Positions_Short_All": "tot_rept_positions_short",
    "Conc_Gross_LE_4_TDR_Long_All": "conc_gross_le_4_tdr_long",
    "Conc_Gross_LE_4_TDR_Short_All": "conc_gross_le_4_tdr_short",
    "Conc_Gross_LE_8_TDR_Long_All": "conc_gross_le_8_tdr_long",
    "Conc_Gross_LE_8_TDR_Short_All": "conc_gross_le_8_tdr_short",
}
_WHERE = re.compile(
    r"^\s*report_date_as_yyyy_mm_dd\s+between\s+'(\d{4}-\d{2}-\d{2})[^']*'\s+and\s+'(\d{4}-\d{2}-\d{2})[^']*'"
    r"\s+and\s+cftc_contract_market_code\s+in\s*\(([^)]*)\)\s*$",
    re.IGNORECASE,
)


def _number(text: str) -> str:
    """A padded file number as Socrata shows it: no padding, no trailing zero decimals."""
    text = text.strip()
    return text.rstrip("0").rstrip(".") if "." in text and text != "." else text


def socrata_rows(world: World, first: dt.date, last: dt.date, codes: list[str], today: dt.date,
                 descending: bool = False) -> list[dict[str, str]]:
    """API objects for reports dated in [first, last] of the given codes, released by today,
    ordered by report date (descending if asked) then code."""
    return _socrata_rows(world, first, last, tuple(sorted(set(codes))), _last_release(world, today), descending)


@lru_cache(maxsize=32)
def _socrata_rows(world: World, first: dt.date, last: dt.date, codes: tuple[str, ...], today: dt.date,
                  descending: bool) -> list[dict[str, str]]:
    known = configured_codes(world)
    picked: list[tuple[dt.date, str, dict[str, str]]] = []
    names = [SOCRATA_NAMES.get(c, c.lower()) for c in COLUMNS]
    for code in sorted(set(codes) & set(known)):
        history = market_history(world, code)
        rows = _released(history, first, last, today)
        if not len(rows):
            continue
        info = market_info(world, code)
        numbers = numeric_fields(history, rows)
        for pos, i in enumerate(rows):
            report = history.report_dates[i]
            name = market_name(world, code, report)
            values = [name, f"{report:%y%m%d}", f"{report.isoformat()}T00:00:00.000", code, info.market_code.strip(),
                      info.region, info.commodity_code.strip(), *(_number(v) for v in numbers[pos].split(",")),
                      info.units, code, info.market_code.strip(), info.commodity_code.strip(), info.subgroup, "FutOnly"]
            row = {"market_and_exchange_names": name}
            row.update((k, v) for k, v in zip(names, values) if v != ".")  # suppressed values are absent
            iso_year, iso_week, _ = report.isocalendar()
            row["yyyy_report_week_ww"] = f"{iso_year} Report Week {iso_week:02d}"
            row["contract_market_name"] = name.split(" - ")[0]
            picked.append((report, code, row))
    picked.sort(key=lambda item: (item[0], item[1]), reverse=False)
    if descending:
        picked.sort(key=lambda item: item[0], reverse=True)
    return [row for _, _, row in picked]


def socrata_body(rows: list[dict[str, str]]) -> bytes:
    """Socrata's JSON layout: one field per line, commas leading."""
    if not rows:
        return b"[]\n"
    objects = ["{" + "\n,".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in row.items()) + "}" for row in rows]
    return ("[" + "\n,".join(objects) + "]\n").encode("utf-8")


def _socrata_error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps({"code": code, "error": True, "message": message}).encode(),
                          headers={"Content-Type": "application/json;charset=utf-8"})


def _not_found() -> httpx.Response:
    return httpx.Response(404, content=b"<!DOCTYPE html><html><head><title>Page not found</title></head>"
                                      b"<body><h1>Page not found</h1></body></html>",
                          headers={"Content-Type": "text/html; charset=UTF-8"})


# ---------------------------------------------------------------------------- routes
def archive_handler(world: World, request: httpx.Request, today: dt.date) -> httpx.Response:
    name = request.url.path[len(ARCHIVE_PATH):] if request.url.path.startswith(ARCHIVE_PATH) else ""
    body = archive_zip(world, name, today) if request.method == "GET" else None
    if body is None:
        return _not_found()
    return httpx.Response(200, content=body, headers={"Content-Type": "application/x-zip-compressed"})


def socrata_handler(world: World, request: httpx.Request, today: dt.date) -> httpx.Response:
    if request.method != "GET" or request.url.path != SOCRATA_PATH:
        return _socrata_error(404, "not_found", f"Not found: {request.url.path}")
    params = dict(request.url.params.items())
    match = _WHERE.match(params.get("$where", ""))
    if not match:
        return _socrata_error(400, "query.compiler.malformed",
                              "the sample world understands: report_date_as_yyyy_mm_dd between '<date>' and '<date>' "
                              "AND cftc_contract_market_code in ('<code>', ...)")
    try:
        limit = int(params.get("$limit", "1000"))
        offset = int(params.get("$offset", "0"))
    except ValueError:
        return _socrata_error(400, "query.compiler.malformed", "$limit and $offset must be integers")
    first, last = dt.date.fromisoformat(match.group(1)), dt.date.fromisoformat(match.group(2))
    codes = re.findall(r"'([^']*)'", match.group(3))
    descending = "desc" in params.get("$order", "").split(",")[0].lower()
    rows = socrata_rows(world, first, last, codes, today, descending)
    return httpx.Response(200, content=socrata_body(rows[offset: offset + limit]),
                          headers={"Content-Type": "application/json;charset=utf-8"})


# Registered with the sample world's transport (cbi_platform.lib.sample.transport.RENDERERS).
ROUTES = [(ARCHIVE_HOST, ARCHIVE_PATH, archive_handler), (SOCRATA_HOST, SOCRATA_PATH, socrata_handler)]
