"""EPA RIN prices: the "RIN Price Data" export of EPA's EMTS dashboard, weekly, per D code.

EPA publishes RIN prices only on its Qlik dashboard ("RIN Trades and Price Information",
https://www.epa.gov/fuels-registration-reporting-and-compliance-help/rin-trades-and-price-information),
whose "Export Table" button produces a CSV. There is no REST endpoint. So:

- `live` downloads that CSV from `export_url` in config/sources/epa_rin.yaml: an operator points
  it at wherever the export is mirrored (a browser-driven job, an internal file server, ...);
- `files` reads every `epa_rin*.csv` in the files directory (a manual export);
- `sample` runs the live code against the simulated world, which serves the same export.

All three go through the same parser. The export always holds the whole history; the orchestrator
keeps the rows whose `as_of_date` falls in the partition window.

Wire format (a real export is in shared/fixtures/epa_rin): header
`Transfer Date by Week,Transfer Year,RIN Year,Fuel (D Code),QAP Service Type,RIN Price` (not
quoted), every data field double-quoted, week-start dates as M/D/YYYY (Mondays), prices such as
`$1.04`, CRLF line endings (the recorded export ends with one; a missing final newline is fine
too), a UTF-8 BOM in some exports. Each
(week, D code) has several rows: one per RIN (vintage) year, QAP service type and, in a week that
spans New Year, transfer year. Every row is kept.

Publication date: the export carries none. A week's prices are taken as public
`publication_lag_days` after the week starts (config; passed to the parser in `Payload.meta` so
parsing stays pure). The default, 10 days, is the sample world's rule; EPA refreshes the
dashboard about monthly, so live deployments should set ~45 days.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from cbi_platform.lib.config import ConfigError, load_yaml, validate_identifier
from cbi_platform.lib.ingest import SourceSpec, TableSpec
from cbi_platform.lib.sources.base import ParseError, Payload
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.window import Window

SOURCE = "epa_rin"
FORMAT = "epa_rin_csv"
COLUMNS = ["week_start", "d_code", "rin_year", "qap_service_type", "transfer_year", "price", "as_of_date"]
# the table this source fills, declared once (sql/schema creates it; a test checks they agree)
TABLE_SPEC = TableSpec("raw.epa_rin_prices", ("week_start", "d_code", "rin_year", "qap_service_type", "transfer_year"), key_column="d_code")
TABLE, PRIMARY_KEY = TABLE_SPEC.name, TABLE_SPEC.primary_key
HEADER = ["Transfer Date by Week", "Transfer Year", "RIN Year", "Fuel (D Code)", "QAP Service Type", "RIN Price"]
FILES_GLOB = "epa_rin*.csv"
DEFAULT_PUBLICATION_LAG_DAYS = 10

# Renewable fuel categories of the RFS: D3 cellulosic, D4 biomass-based diesel, D5 advanced,
# D6 conventional (renewable fuel), D7 cellulosic diesel.
_D_CODE = re.compile(r"^D[3-7]$")
_PRICE = re.compile(r"^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?$")
_YEAR = re.compile(r"^(19|20)\d{2}$")


@dataclass(frozen=True)
class EpaRinConfig:
    export_url: str
    publication_lag_days: int
    expected_within_days: dict[str, int]  # D code -> longest window in which it must trade


@lru_cache(maxsize=8)
def load_config(config_dir: Path) -> EpaRinConfig:
    path = Path(config_dir) / "sources" / "epa_rin.yaml"
    data = load_yaml(path)
    url = str(data.get("export_url", ""))
    if not url.startswith("https://"):
        raise ConfigError(f"{path}: export_url must be an https URL, got {url!r}")
    lag = int(data.get("publication_lag_days", DEFAULT_PUBLICATION_LAG_DAYS))
    if not 0 <= lag <= 120:
        raise ConfigError(f"{path}: publication_lag_days {lag} outside 0..120")
    expected = {}
    for code, days in (data.get("expected_within_days") or {}).items():
        code = validate_identifier(str(code), "RIN D code")
        if not _D_CODE.match(code):
            raise ConfigError(f"{path}: unknown RIN D code {code!r}")
        expected[code] = int(days)
    return EpaRinConfig(export_url=url, publication_lag_days=lag, expected_within_days=expected)


# ---------------------------------------------------------------------------- fetch
def fetch(window: Window, ctx: FetchContext) -> list[Payload]:
    config = load_config(ctx.config_dir)
    meta = {"publication_lag_days": config.publication_lag_days}
    if ctx.mode == "files":
        paths = sorted(ctx.files_dir.glob(FILES_GLOB))
        if not paths:
            return []  # no export supplied: the table stays empty and the biofuel bucket's readiness check warns
        return [Payload(SOURCE, path.name, FORMAT, path.read_bytes(), str(path), window, dict(meta)) for path in paths]
    with ctx.http(SOURCE, window) as client:
        result = client.get(config.export_url, headers={"Accept": "text/csv"})
    return [Payload(SOURCE, "rin_price_data_export.csv", FORMAT, result.body, f"GET {result.url}", window, meta)]


# ---------------------------------------------------------------------------- parse
def parse(payload: Payload) -> dict[str, pd.DataFrame]:
    if payload.format != FORMAT:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: unknown format {payload.format!r}")
    return {TABLE: parse_export(payload)}


def _fail(payload: Payload, detail: str) -> ParseError:
    return ParseError(SOURCE, payload.window, f"{payload.name}: {detail}")


def _bad_rows(frame: pd.DataFrame, mask: pd.Series, column: str) -> str:
    first = mask[mask].index[0]
    # +2: the header is line 1 and the frame index starts at 0
    return f"bad {column!r} on line {first + 2}: {frame.at[first, column]!r} ({int(mask.sum())} bad rows)"


def parse_export(payload: Payload) -> pd.DataFrame:
    lag = payload.meta.get("publication_lag_days")
    if not isinstance(lag, int) or isinstance(lag, bool) or lag < 0:
        raise _fail(payload, f"payload meta lacks a valid publication_lag_days ({lag!r})")
    body = payload.body
    if not body.strip():
        raise _fail(payload, "empty body")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(payload, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    head = text.lstrip()[:200].lower()
    if head.startswith("<") or "<html" in head:
        raise _fail(payload, f"got HTML instead of the CSV export ({text.lstrip()[:60]!r})")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise _fail(payload, f"not a CSV export ({str(exc).strip()})") from None
    if list(frame.columns) != HEADER:
        raise _fail(payload, f"header {list(frame.columns)}, expected {HEADER}")
    if frame.empty:
        raise _fail(payload, "the export has a header but no rows")
    frame = frame.apply(lambda column: column.str.strip())

    week_start = pd.to_datetime(frame[HEADER[0]], format="%m/%d/%Y", errors="coerce")
    if week_start.isna().any():
        raise _fail(payload, _bad_rows(frame, week_start.isna(), HEADER[0]))
    not_monday = week_start.dt.weekday != 0
    if not_monday.any():
        raise _fail(payload, _bad_rows(frame, not_monday, HEADER[0]) + ": week starts must be Mondays")
    for column in (HEADER[1], HEADER[2]):
        bad = ~frame[column].str.match(_YEAR)
        if bad.any():
            raise _fail(payload, _bad_rows(frame, bad, column))
    bad_code = ~frame[HEADER[3]].str.match(_D_CODE)
    if bad_code.any():
        raise _fail(payload, _bad_rows(frame, bad_code, HEADER[3]) + ": expected D3..D7")
    no_qap = frame[HEADER[4]] == ""
    if no_qap.any():
        raise _fail(payload, _bad_rows(frame, no_qap, HEADER[4]))
    bad_price = ~frame[HEADER[5]].str.match(_PRICE)
    if bad_price.any():
        raise _fail(payload, _bad_rows(frame, bad_price, HEADER[5]))

    week = week_start.dt.date
    out = pd.DataFrame(
        {
            "week_start": week,
            "d_code": frame[HEADER[3]],
            "rin_year": frame[HEADER[2]].astype(int),
            "qap_service_type": frame[HEADER[4]],
            "transfer_year": frame[HEADER[1]].astype(int),
            "price": frame[HEADER[5]].str.replace(r"[$,\s]", "", regex=True).astype(float),
            "as_of_date": week + dt.timedelta(days=lag),
        }
    )
    duplicated = out.duplicated(list(PRIMARY_KEY), keep=False)
    if duplicated.any():
        first = out[duplicated].iloc[0]
        raise _fail(payload, f"{int(duplicated.sum())} rows share a key, e.g. week {first.week_start} "
                             f"{first.d_code} RIN year {first.rin_year} {first.qap_service_type}")
    return out[COLUMNS]


# ---------------------------------------------------------------------------- gaps
def expected_keys(ctx: FetchContext, window: Window) -> list[str]:
    """D codes that must have a price published in a window this long: D3, D4 and D6 trade
    every week, D5 misses weeks now and then (up to five in a row in 2016-2022), D7 rarely
    trades and is not expected (config `expected_within_days`)."""
    days = (window.end - window.start).days
    config = load_config(ctx.config_dir)
    return sorted(code for code, within in config.expected_within_days.items()
                  if window.include_history or days >= within)


def spec() -> SourceSpec:
    """How lib.ingest ingests this source: its fetch and parse, the tables it fills, the keys a window should hold."""
    return SourceSpec(SOURCE, fetch, parse, (TABLE_SPEC,), expected_keys)
