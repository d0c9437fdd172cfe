"""CFTC Commitments of Traders, Disaggregated report, futures only: weekly positions by trader
category for the physical commodities in config/sources/symbols.yaml (field `cftc_code`).

Two wire formats, one parser (dispatch on `payload.format`):

- `cftc_zip`: the history archive `https://www.cftc.gov/files/dea/history/fut_disagg_txt_{YYYY}.zip`
  (member `f_year.txt`; 2017 on) and `fut_disagg_txt_hist_2006_2016.zip` (member
  `F_Disagg06_16.txt`; the CFTC publishes 2006-2016 as one archive, so every year up to 2016 is one
  request). CSV, CRLF, 191 columns, quoted market names that contain commas, space-padded numbers,
  codes with trailing blanks, double-underscore names (`Swap__Positions_Short_All`). Older files
  name the report date column `Report_Date_as_MM_DD_YYYY`; both names are accepted.
- `cftc_socrata_json`: the public reporting API (Socrata), dataset 72hh-3qpy, for the current
  year: a JSON array of flat objects, lower-case names, every value a string, the report date a
  floating timestamp, some names without the `_all` suffix (`prod_merc_positions_long`,
  `m_money_positions_spread`, `other_rept_positions_short`, ...). No recorded Socrata response
  exists in the fixtures: this follows the documented format (see PROVENANCE.md, cftc_cot).

Column names are matched after canonicalisation (lower case, `-` and runs of `_` folded to one
`_`, a trailing `_all` dropped), so `Swap__Positions_Short_All` and `swap__positions_short_all`
are the same column, as are `Prod_Merc_Positions_Long_All` and `prod_merc_positions_long`.

Markets are selected by CFTC contract market code, never by name: names change over the years
(NYMEX WTI, 067651, was "CRUDE OIL, LIGHT SWEET - NEW YORK MERCANTILE EXCHANGE" in 2021 and is
"WTI-PHYSICAL - NEW YORK MERCANTILE EXCHANGE" in 2023). The fetch records the configured
code -> root map in the payload's meta, so parsing (and replay) selects the same markets.

Dates: `report_date` is the Tuesday the positions are as of; `as_of_date` is the release, the
Friday after at 15:30 ET, or the next business day when that Friday is a US federal holiday
(pandas' USFederalHolidayCalendar). A partition holds the reports *released* in its window.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
import zlib
from pathlib import Path

import pandas as pd

from cbi_platform.lib.calendar import is_business_day
from cbi_platform.lib.config import ConfigError, load_sources
from cbi_platform.lib.ingest import SourceSpec, TableSpec
from cbi_platform.lib.sources.base import ParseError, Payload, SourceError, decode_json
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.sources.limits import decompressed_limit
from cbi_platform.lib.window import Window

SOURCE = "cftc"
# the table this source fills, declared once (sql/schema creates it; a test checks they agree)
TABLE_SPEC = TableSpec("raw.cftc_cot", ("cftc_contract_market_code", "report_date"), key_column="root")
TABLE, PRIMARY_KEY = TABLE_SPEC.name, TABLE_SPEC.primary_key

HISTORY_URL = "https://www.cftc.gov/files/dea/history"
ANNUAL_ZIP = "fut_disagg_txt_{year}.zip"
COMBINED_ZIP = "fut_disagg_txt_hist_2006_2016.zip"
LAST_COMBINED_YEAR = 2016  # years up to this one are only in the combined 2006-2016 archive
SOCRATA_URL = "https://publicreporting.cftc.gov/resource/72hh-3qpy.json"
TOKEN_ENV = "CFTC_APP_TOKEN"
PAGE_LIMIT = 5000
MAX_PAGES = 200
HISTORY_START = dt.date(2005, 1, 1)  # first report date asked for by an include_history window
# a report is released at most this many days after its report date (Tuesday -> Friday, plus a
# holiday shift): windows look back this far for reports that are released inside them
MAX_RELEASE_LAG = dt.timedelta(days=10)
RELEASE_TIME_ET = dt.time(15, 30)

ZIP_FORMAT = "cftc_zip"
SOCRATA_FORMAT = "cftc_socrata_json"

# Output columns (documented in sql/schema/004_cftc_cot.sql). Positions are the "All" figures
# (old and other crop years together), in contracts.
POSITION_COLUMNS = {
    # our column            canonical wire name (see _canon)
    "open_interest_all": "open_interest",
    "prod_merc_long": "prod_merc_positions_long",
    "prod_merc_short": "prod_merc_positions_short",
    "swap_long": "swap_positions_long",
    "swap_short": "swap_positions_short",
    "swap_spread": "swap_positions_spread",
    "managed_money_long": "m_money_positions_long",
    "managed_money_short": "m_money_positions_short",
    "managed_money_spread": "m_money_positions_spread",
    "other_rept_long": "other_rept_positions_long",
    "other_rept_short": "other_rept_positions_short",
    "other_rept_spread": "other_rept_positions_spread",
    "nonrept_long": "nonrept_positions_long",
    "nonrept_short": "nonrept_positions_short",
}
COLUMNS = ["cftc_contract_market_code", "report_date", "as_of_date", "market_and_exchange_name", "root",
           *POSITION_COLUMNS]
LONG_SIDE = ["prod_merc_long", "swap_long", "managed_money_long", "other_rept_long", "nonrept_long"]
SHORT_SIDE = ["prod_merc_short", "swap_short", "managed_money_short", "other_rept_short", "nonrept_short"]
SPREADS = ["swap_spread", "managed_money_spread", "other_rept_spread"]

_NAME = "market_and_exchange_names"
_CODE = "cftc_contract_market_code"
_DATE_COLUMNS = ("report_date_as_yyyy_mm_dd", "report_date_as_mm_dd_yyyy", "as_of_date_in_form_yymmdd")
_WANTED = {_NAME, _CODE, *_DATE_COLUMNS, *POSITION_COLUMNS.values()}
_CODE_PATTERN = re.compile(r"^[0-9A-Z]{6}$")
_MEMBER = re.compile(r"^(f_year|f_disagg\d\d_\d\d)\.txt$", re.IGNORECASE)
_INTEGER = re.compile(r"^-?\d+(\.0*)?$")


# ---------------------------------------------------------------------------- calendar
def release_date(report_date: dt.date) -> dt.date:
    """When a report becomes public: the Friday after its report date (15:30 ET); when that
    Friday is a US federal holiday, the next business day."""
    day = report_date + dt.timedelta(days=(4 - report_date.weekday()) % 7 or 7)
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def release_datetime_utc(report_date: dt.date) -> dt.datetime:
    """The release instant (15:30 America/New_York) as naive UTC."""
    from zoneinfo import ZoneInfo

    local = dt.datetime.combine(release_date(report_date), RELEASE_TIME_ET, tzinfo=ZoneInfo("America/New_York"))
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def releases_in(window: Window) -> list[dt.date]:
    """Release days inside the window (for `publication_expected` and schedules)."""
    first = HISTORY_START if window.include_history else window.start - MAX_RELEASE_LAG
    return [r for r in (release_date(t) for t in report_tuesdays(first, window.last_day)) if window.contains(r)]


def report_tuesdays(first: dt.date, last: dt.date) -> list[dt.date]:
    """Weekly report dates (Tuesdays) in [first, last]."""
    start = first + dt.timedelta(days=(1 - first.weekday()) % 7)
    return [start + dt.timedelta(days=7 * i) for i in range(max(0, (last - start).days // 7 + 1))]


# ---------------------------------------------------------------------------- config
def markets(config_dir: Path) -> dict[str, str]:
    """Configured CFTC contract market code -> futures root (the first root naming a code)."""
    out: dict[str, str] = {}
    for spec in load_sources(Path(config_dir)).symbols:
        if not spec.cftc_code:
            continue
        code = spec.cftc_code.strip()
        if not _CODE_PATTERN.match(code):
            raise ConfigError(f"symbol {spec.root}: invalid cftc_code {spec.cftc_code!r} (six digits or capitals)")
        out.setdefault(code, spec.root)
    return out


def expected_keys(ctx: FetchContext, window: Window) -> list[str]:
    """Roots that must have a report in a window of at least 7 days that contains a release day
    (or in the history window). Markets are expected from the first report after `listed`.
    Thin real markets (oats, lumber) skip weeks when too few traders report; their gaps are
    warnings, as every gap is."""
    if not window.include_history and (window.end - window.start).days < 7:
        return []
    first = HISTORY_START if window.include_history else window.start - MAX_RELEASE_LAG
    reports = [t for t in report_tuesdays(first, window.last_day) if window.contains(release_date(t))]
    if not reports:
        return []
    code_roots = set(markets(ctx.config_dir).values())
    return sorted(s.root for s in load_sources(ctx.config_dir).symbols
                  if s.root in code_roots and s.listed <= reports[-1])


# ---------------------------------------------------------------------------- fetch
def archive_names(window: Window, today: dt.date) -> list[str]:
    """History archives holding every report released in the window from years before today's:
    one per year touched, all years up to 2016 being the one combined archive."""
    first = HISTORY_START if window.include_history else window.start - MAX_RELEASE_LAG
    last = min(window.last_day, today)
    names: list[str] = []
    for year in range(first.year, min(last.year, today.year - 1) + 1):
        name = COMBINED_ZIP if year <= LAST_COMBINED_YEAR else ANNUAL_ZIP.format(year=year)
        if name not in names:
            names.append(name)
    return names


def socrata_span(window: Window, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """Report dates of the current year that can be released in the window (Socrata's part)."""
    year_start = dt.date(today.year, 1, 1)
    first = year_start if window.include_history else max(year_start, window.start - MAX_RELEASE_LAG)
    last = min(window.last_day, today)
    return (first, last) if first <= last else None


def socrata_where(first: dt.date, last: dt.date, codes: list[str]) -> str:
    for code in codes:  # codes are validated by markets(); this guards what goes into SoQL
        if not _CODE_PATTERN.match(code):
            raise ValueError(f"invalid CFTC code {code!r}")
    quoted = ",".join(f"'{code}'" for code in codes)
    return (f"report_date_as_yyyy_mm_dd between '{first.isoformat()}T00:00:00.000' and "
            f"'{last.isoformat()}T00:00:00.000' AND cftc_contract_market_code in ({quoted})")


def fetch(window: Window, ctx: FetchContext) -> list[Payload]:
    """Payloads holding every report released in the window, for the configured codes: the
    history archive(s) for years before today's, the Socrata API for today's year."""
    code_roots = markets(ctx.config_dir)
    if ctx.mode == "files":
        return _fetch_files(window, ctx, code_roots)
    meta = {"markets": code_roots}
    # the app token only raises Socrata's rate limit: without it requests still work
    token = os.environ.get(TOKEN_ENV, "").strip() if ctx.mode == "live" else ""
    headers = {"Accept": "application/json", **({"X-App-Token": token} if token else {})}
    payloads: list[Payload] = []
    archives = archive_names(window, ctx.today)
    span = socrata_span(window, ctx.today)
    if not archives and span is None:
        return payloads
    with ctx.http(SOURCE, window, secrets=[token]) as client:
        for name in archives:
            result = client.get(f"{HISTORY_URL}/{name}")
            payloads.append(Payload(SOURCE, name, ZIP_FORMAT, result.body, f"GET {result.url}", window,
                                    {**meta, "archive": name}))
        if span is not None and code_roots:
            params = {
                "$where": socrata_where(span[0], span[1], sorted(code_roots)),
                "$order": "report_date_as_yyyy_mm_dd,cftc_contract_market_code",
                "$limit": str(PAGE_LIMIT),
            }
            for page in range(MAX_PAGES):
                result = client.get(SOCRATA_URL, params={**params, "$offset": str(page * PAGE_LIMIT)}, headers=headers)
                name = f"72hh-3qpy.{span[0]}_{span[1]}.p{page}.json"
                payloads.append(Payload(SOURCE, name, SOCRATA_FORMAT, result.body, f"GET {result.url}", window,
                                        {**meta, "page": page}))
                if _socrata_rows(result.body, name, window) < PAGE_LIMIT:
                    break
            else:
                raise SourceError(SOURCE, window, f"Socrata paging did not end after {MAX_PAGES} pages")
    return payloads


def _fetch_files(window: Window, ctx: FetchContext, code_roots: dict[str, str]) -> list[Payload]:
    """files mode: CFTC history archives saved as downloaded (fut_disagg_txt_*.zip)."""
    paths = sorted(ctx.files_dir.glob("fut_disagg_txt_*.zip"))
    if not paths:
        return []  # no archive supplied: the table stays empty and its no_gaps check warns
    return [Payload(SOURCE, p.name, ZIP_FORMAT, p.read_bytes(), str(p), window, {"markets": code_roots, "archive": p.name})
            for p in paths]


# ---------------------------------------------------------------------------- parse
def parse(payload: Payload) -> dict[str, pd.DataFrame]:
    if payload.format == ZIP_FORMAT:
        frame = _read_zip(payload)
    elif payload.format == SOCRATA_FORMAT:
        frame = _read_socrata(payload)
    else:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: unknown format {payload.format!r}")
    return {TABLE: _normalise(frame, payload)}


def _canon(name: str) -> str:
    text = re.sub(r"_+", "_", str(name).strip().strip('"').lower().replace("-", "_"))
    return text[: -len("_all")] if text.endswith("_all") else text


def _fail(payload: Payload, detail: str) -> ParseError:
    return ParseError(SOURCE, payload.window, f"{payload.name}: {detail}")


def _looks_like_html(body: bytes) -> bool:
    head = body.lstrip()[:100].lower()
    return head.startswith(b"<") or b"<html" in head or b"<!doctype" in head


def _read_zip(payload: Payload) -> pd.DataFrame:
    body = payload.body
    if not body.strip():
        raise _fail(payload, "empty body")
    if _looks_like_html(body):
        raise _fail(payload, f"got HTML instead of a zip archive ({body.lstrip()[:60]!r})")
    if not body.startswith(b"PK"):
        raise _fail(payload, f"not a zip archive (starts with {body[:16]!r})")
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            members = [m for m in archive.namelist() if _MEMBER.match(m.rsplit("/", 1)[-1])]
            if len(members) != 1:
                raise _fail(payload, f"zip holds no f_year.txt (members: {archive.namelist()[:10]})")
            raw = _read_member(payload, archive, members[0], decompressed_limit(payload.meta))
    # zipfile raises NotImplementedError for a compression method it does not support
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError) as exc:
        raise _fail(payload, f"truncated or corrupt zip ({type(exc).__name__}: {exc})") from None
    return _read_text(payload, raw, members[0])


def _read_member(payload: Payload, archive: zipfile.ZipFile, member: str, limit: int) -> bytes:
    """A zip member read in blocks up to `limit` bytes: a 1 MiB archive can hold gigabytes (and
    the size its header declares may lie)."""
    chunks, total = [], 0
    with archive.open(member) as handle:
        while block := handle.read(1 << 20):
            total += len(block)
            if total > limit:
                raise _fail(payload, f"{member}: more than {limit:,} bytes once decompressed "
                                     "(config/sources/limits.yaml max_decompressed_bytes)")
            chunks.append(block)
    return b"".join(chunks)


def _read_text(payload: Payload, raw: bytes, member: str) -> pd.DataFrame:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if not text.strip():
        raise _fail(payload, f"{member} is empty")
    if _looks_like_html(text[:200].encode("latin-1", "replace")):
        raise _fail(payload, f"{member} holds HTML, not the CFTC CSV")
    wanted = lambda column: _canon(column) in _WANTED or _canon(column).startswith("report_date_as_")  # noqa: E731
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, usecols=wanted)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise _fail(payload, f"{member}: not the CFTC CSV layout ({str(exc).strip()[:200]})") from None
    return _canonical_columns(frame)


def _canonical_columns(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.columns = [_canon(c) for c in frame.columns]
    return frame.loc[:, ~frame.columns.duplicated()]


def _load_json(body: bytes, name: str, window: Window | None) -> list:
    document = decode_json(body, SOURCE, window, name)
    if isinstance(document, dict) and (document.get("error") or "errorCode" in document or "code" in document):
        raise SourceError(SOURCE, window, f"{name}: Socrata error {document.get('code') or document.get('errorCode')}: "
                                          f"{document.get('message')}")
    if not isinstance(document, list) or not all(isinstance(row, dict) for row in document):
        raise ParseError(SOURCE, window, f"{name}: expected a JSON array of objects")
    return document


def _socrata_rows(body: bytes, name: str, window: Window) -> int:
    return len(_load_json(body, name, window))


def _read_socrata(payload: Payload) -> pd.DataFrame:
    rows = _load_json(payload.body, payload.name, payload.window)
    if not rows:
        return pd.DataFrame(columns=sorted(_WANTED))
    frame = pd.DataFrame.from_records(rows)
    frame = frame.astype(object).where(frame.notna(), None)
    frame = frame.apply(lambda col: col.map(lambda v: None if v is None else str(v)))
    return _canonical_columns(frame)


def _parse_report_date(value: str) -> dt.date:
    value = value.strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}", value):  # ISO, or a Socrata floating timestamp
        return dt.date.fromisoformat(value[:10])
    if re.match(r"^\d{1,2}/\d{1,2}/\d{4}$", value):
        return dt.datetime.strptime(value, "%m/%d/%Y").date()
    if re.match(r"^\d{6}$", value):  # As_of_Date_In_Form_YYMMDD
        return dt.datetime.strptime(value, "%y%m%d").date()
    raise ValueError(value)


def _normalise(frame: pd.DataFrame, payload: Payload) -> pd.DataFrame:
    code_roots = payload.meta.get("markets")
    if not isinstance(code_roots, dict) or not code_roots:
        raise _fail(payload, "payload does not name its markets (meta 'markets': code -> root)")
    date_column = next((c for c in _DATE_COLUMNS if c in frame.columns),
                       next((c for c in frame.columns if c.startswith("report_date_as_")), None))
    missing = [c for c in (_NAME, _CODE, *POSITION_COLUMNS.values()) if c not in frame.columns]
    if date_column is None:
        missing.append("report date (Report_Date_as_YYYY-MM-DD or As_of_Date_In_Form_YYMMDD)")
    if missing:
        raise _fail(payload, f"missing required columns {missing}")
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)

    code = frame[_CODE].fillna("").astype(str).str.strip()
    # a code that lost its leading zeros (a spreadsheet round trip) is padded back
    code = code.where(~code.str.fullmatch(r"\d{1,5}"), code.str.zfill(6))
    frame = frame[code.isin(code_roots)].assign(**{_CODE: code[code.isin(code_roots)]})
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)

    raw_dates = frame[date_column].fillna("").astype(str)
    parsed: dict[str, dt.date] = {}
    for value in raw_dates.unique():
        try:
            parsed[value] = _parse_report_date(value)
        except ValueError:
            raise _fail(payload, f"bad report date {value!r} in column {date_column}") from None
    report_date = raw_dates.map(parsed)

    out = pd.DataFrame({
        "cftc_contract_market_code": frame[_CODE],
        "report_date": report_date,
        "market_and_exchange_name": frame[_NAME].fillna("").astype(str).str.strip(),
    })
    for column, wire in POSITION_COLUMNS.items():
        values = frame[wire]
        text = values.fillna("").astype(str).str.strip()
        bad = ~text.str.match(_INTEGER)
        if bad.any():
            where = bad[bad].index[0]
            what = "missing" if text[where] == "" else f"non-numeric {values[where]!r} in"
            raise _fail(payload, f"{what} {wire} for {frame.at[where, _CODE]} report {report_date[where]} "
                                 f"({int(bad.sum())} bad rows)")
        numbers = pd.to_numeric(text).astype("int64")
        if (numbers < 0).any():
            where = numbers[numbers < 0].index[0]
            raise _fail(payload, f"negative {wire} {numbers[where]} for {frame.at[where, _CODE]} report {report_date[where]}")
        out[column] = numbers
    if (out["market_and_exchange_name"] == "").any():
        raise _fail(payload, "a row has no market name")
    releases = {d: release_date(d) for d in out["report_date"].unique()}
    out["as_of_date"] = out["report_date"].map(releases)
    out["root"] = out["cftc_contract_market_code"].map(code_roots)
    out = out[out["as_of_date"].map(payload.window.contains)]
    out = out.drop_duplicates(list(PRIMARY_KEY), keep="last")
    return out.sort_values(list(PRIMARY_KEY), kind="stable").reset_index(drop=True)[COLUMNS]


def balance_violations(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose categories do not add up: open interest = every long + every spread = every
    short + every spread (non-reportables included). Holds exactly in every real CFTC row."""
    spreads = frame[SPREADS].sum(axis=1)
    longs = frame[LONG_SIDE].sum(axis=1) + spreads
    shorts = frame[SHORT_SIDE].sum(axis=1) + spreads
    bad = (longs != frame["open_interest_all"]) | (shorts != frame["open_interest_all"])
    return frame[bad]


def spec() -> SourceSpec:
    """How lib.ingest ingests this source: its fetch and parse, the tables it fills, the keys a window should hold."""
    return SourceSpec(SOURCE, fetch, parse, (TABLE_SPEC,), expected_keys)
