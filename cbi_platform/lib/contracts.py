"""Listed futures contracts from `config/sources/symbols.yaml`: nominal expiries and the roll
segments that vendor files without instrument ids are searched for rolls in.

A continuous front-month series switches contract once per listed contract, somewhere near
that contract's expiry: on the last trading day, the day after, at first notice, depending on
the vendor and the era. Splitting the calendar at the midpoints between consecutive nominal
expiries gives one segment per contract that holds its roll whatever the convention, so a
detector looks for the strongest roll evidence inside each segment instead of assuming a day.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from cbi_platform.lib.config import SymbolSpec

MONTH_CODES = "FGHJKMNQUVXZ"


def nominal_expiry(spec: SymbolSpec, year: int, month: int) -> dt.date:
    """The configured expiry rule: `expiry_day` of the contract month shifted by `month_offset`
    (calendar day, capped at the 28th; the sample world moves it to the next session)."""
    y, m = year, month + spec.expiry_month_offset
    while m < 1:
        y, m = y - 1, m + 12
    while m > 12:
        y, m = y + 1, m - 12
    return dt.date(y, m, min(spec.expiry_day, 28))


def contract_months(spec: SymbolSpec) -> list[int]:
    return [MONTH_CODES.index(code) + 1 for code in spec.months]


def roll_segments(spec: SymbolSpec, first_year: int, last_year: int) -> pd.DataFrame:
    """One row per listed contract expiring in [first_year, last_year]: `segment_start` and
    `segment_end` (exclusive) are the midpoints to the neighbouring contracts' expiries."""
    expiries = sorted(nominal_expiry(spec, year, month)
                      for year in range(first_year - 1, last_year + 2) for month in contract_months(spec))
    rows = []
    for previous, current, following in zip(expiries, expiries[1:], expiries[2:]):
        if first_year <= current.year <= last_year:
            rows.append((spec.root, current, previous + (current - previous) / 2, current + (following - current) / 2))
    return pd.DataFrame(rows, columns=["root", "nominal_expiry", "segment_start", "segment_end"])
