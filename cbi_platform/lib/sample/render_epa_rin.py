"""EPA's "RIN Price Data" CSV export, rendered from the world's weekly RIN prices.

The bytes match the real Qlik "Export Table" download (see shared/fixtures/epa_rin): a UTF-8
BOM (some exports carry one), the unquoted header, every field double-quoted, M/D/YYYY week
starts, `$0.00` prices, CRLF line endings, the last row ending in CRLF as in the recorded file
(PROVENANCE.md says no final newline; the bytes say otherwise); rows sorted by week, transfer
year, RIN year, D code and QAP service type.

Tie to the world: for each week `w` published by `today` (world.rin_published[w], i.e. the week
start + 10 days) and each D code X in D3..D6 there are rows for the current and previous RIN year
and both QAP service types ("Q-RIN", "Unverified"), and, in a week that spans New Year, for both
transfer years. Prices are scattered a few cents around the world's price, in +/- pairs of whole
cents, so the mean price of the (week, D code) rows is exactly exp(world.rin_log_dX[w]) rounded
to the cent: the planted signal's D4 4-week log momentum can be recomputed from the export.
The scatter is drawn once for the whole world, so a week's rows never change with `today`.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import httpx
import numpy as np

from cbi_platform.lib.sample.world import World

EXPORT_HOST = "www.epa.gov"
EXPORT_PATH = "/system/files/other-files/rin-price-data-export.csv"
HEADER = "Transfer Date by Week,Transfer Year,RIN Year,Fuel (D Code),QAP Service Type,RIN Price"
BOM = "\ufeff"
D_CODES = ("D3", "D4", "D5", "D6")
QAP_TYPES = ("Q-RIN", "Unverified")
MAX_SCATTER_CENTS = 6
_RNG_TAG = 0x45A1  # this renderer's own stream of the world's seed


def target_cents(world: World) -> dict[str, np.ndarray]:
    """Per D code, the weekly mean price in whole cents: round(100 * exp(rin_log_dX))."""
    logs = {"D3": world.rin_log_d3, "D4": world.rin_log_d4, "D5": world.rin_log_d5, "D6": world.rin_log_d6}
    return {code: np.maximum(np.rint(100.0 * np.exp(values)).astype(np.int64), 1) for code, values in logs.items()}


def _row_keys(week_start: dt.date) -> list[tuple[int, int, str]]:
    """(transfer year, RIN year, QAP type) of a week's rows for one D code, in export order."""
    transfer_years = sorted({(week_start + dt.timedelta(days=i)).year for i in range(7)})
    return [(ty, rin_year, qap) for ty in transfer_years for rin_year in (ty - 1, ty) for qap in QAP_TYPES]


def _scatter(rng: np.random.Generator, rows: int, cents: int) -> np.ndarray:
    """Whole-cent offsets summing to zero (+m, -m pairs in random rows); no price below 1 cent."""
    cap = int(min(MAX_SCATTER_CENTS, cents - 1))
    magnitudes = rng.integers(0, cap + 1, size=rows // 2) if cap > 0 else np.zeros(rows // 2, dtype=np.int64)
    offsets = np.concatenate([magnitudes, -magnitudes])
    return offsets[rng.permutation(rows)]


@lru_cache(maxsize=4)
def _lines(world: World) -> tuple[list[str], np.ndarray]:
    """Every week's CSV lines (without line endings) and, per week, where its lines end."""
    rng = np.random.default_rng([world.seed, _RNG_TAG])
    targets = target_cents(world)
    lines: list[str] = []
    ends = np.empty(len(world.week_starts), dtype=np.int64)
    for w, week_start in enumerate(world.week_starts):
        keys = _row_keys(week_start)
        prices = {code: targets[code][w] + _scatter(rng, len(keys), int(targets[code][w])) for code in D_CODES}
        date = f"{week_start.month}/{week_start.day}/{week_start.year}"
        rows = []
        for code in D_CODES:
            for (transfer_year, rin_year, qap), cents in zip(keys, prices[code]):
                rows.append(((transfer_year, rin_year, code, qap),
                             f'"{date}","{transfer_year}","{rin_year}","{code}","{qap}","${cents // 100}.{cents % 100:02d}"'))
        lines.extend(line for _, line in sorted(rows))
        ends[w] = len(lines)
    return lines, ends


def export_csv(world: World, today: dt.date) -> bytes:
    """The export as downloaded on `today`: every week published on or before it."""
    lines, ends = _lines(world)
    published = int(np.searchsorted(np.array(world.rin_published, dtype="datetime64[D]"),
                                     np.datetime64(today, "D"), side="right"))
    rows = lines[: ends[published - 1]] if published else []
    return (BOM + "".join(f"{line}\r\n" for line in [HEADER, *rows])).encode("utf-8")


def handler(world: World, request: httpx.Request, today: dt.date) -> httpx.Response:
    if request.method != "GET" or request.url.path != EXPORT_PATH:
        return httpx.Response(404, content=b"<!DOCTYPE html><html><body><h1>Page Not Found</h1></body></html>",
                              headers={"Content-Type": "text/html; charset=UTF-8"})
    return httpx.Response(
        200,
        content=export_csv(world, today),
        headers={"Content-Type": "text/csv; charset=UTF-8",
                 "Content-Disposition": 'attachment; filename="RIN Price Data.csv"'},
    )


ROUTES = [(EXPORT_HOST, EXPORT_PATH, handler)]
