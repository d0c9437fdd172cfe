"""FRED and ALFRED (api.stlouisfed.org): observations with every vintage, and series metadata.

httpx rather than `fredapi`: fredapi parses XML straight into pandas (no raw bytes for the
landing zone), has no retry or Retry-After handling, and its errors carry the request URL with
the API key. Here every request goes through the shared client (retries, redaction) and the
exact response bytes are kept.

Vintage windows: FRED clips each row's real-time period to the one requested, so a value first
published before the window would look new. We request from the day *before* the window and
keep rows whose realtime_start falls inside it: exactly the values published or revised in
the window. The first partition asks for the whole history (realtime_start 1776-07-04).
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd

from cbi_platform.lib.config import SeriesSpec, load_sources
from cbi_platform.lib.ingest import SourceSpec, TableSpec
from cbi_platform.lib.release import period_end, release_date
from cbi_platform.lib.sources.base import ParseError, Payload, SourceError, decode_json_object
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.window import Window

SOURCE = "fred"
API = "https://api.stlouisfed.org/fred"
KEY_ENV = "FRED_API_KEY"
ALFRED_BEGINNING = "1776-07-04"
HISTORY_OBSERVATION_START = dt.date(2000, 1, 1)
PAGE_LIMIT = 100000
# the tables this source fills, declared once (sql/schema creates them; a test checks they agree)
OBSERVATIONS = TableSpec("raw.fred_observations", ("series_id", "observation_date", "realtime_start"), key_column="series_id")
SERIES = TableSpec("raw.fred_series", ("series_id", "as_of_date"))
TABLE, SERIES_TABLE = OBSERVATIONS.name, SERIES.name
SERIES_COLUMNS = ["series_id", "title", "frequency", "units", "seasonal_adjustment", "observation_start",
                  "observation_end", "last_updated", "as_of_date"]
COLUMNS = ["series_id", "observation_date", "realtime_start", "realtime_end", "value", "vintage_source", "as_of_date"]


def _series(ctx: FetchContext) -> tuple[SeriesSpec, ...]:
    return load_sources(ctx.config_dir).series


def fetch(window: Window, ctx: FetchContext) -> list[Payload]:
    if ctx.mode == "files":
        return _fetch_files(window, ctx)
    key = ctx.secret(SOURCE, window, KEY_ENV)
    lookback = load_sources(ctx.config_dir).observation_lookback_days
    payloads = []
    with ctx.http(SOURCE, window, secrets=[key]) as client:
        for spec in _series(ctx):
            if window.include_history:
                realtime_start, observation_start = ALFRED_BEGINNING, HISTORY_OBSERVATION_START
            else:
                realtime_start = (window.start - dt.timedelta(days=1)).isoformat()
                observation_start = window.start - dt.timedelta(days=int(lookback.get(spec.frequency, 800)))
            params = {
                "series_id": spec.series_id,
                "api_key": key,
                "file_type": "json",
                "realtime_start": realtime_start,
                "realtime_end": window.last_day.isoformat(),
                "observation_start": observation_start.isoformat(),
                "limit": str(PAGE_LIMIT),
            }
            offset, page = 0, 0
            while True:
                result = client.get(f"{API}/series/observations", params={**params, "offset": str(offset)})
                payloads.append(
                    Payload(SOURCE, f"{spec.series_id}.p{page}.json", "fred_json", result.body, result.url, window,
                            {"series_id": spec.series_id})
                )
                count = _count(result.body, spec.series_id, window)
                offset += PAGE_LIMIT
                page += 1
                if offset >= count:
                    break
            # metadata (title, units, last update) as seen when this window is ingested
            meta = client.get(f"{API}/series", params={"series_id": spec.series_id, "api_key": key, "file_type": "json"})
            snapshot = min(window.last_day, ctx.today).isoformat()
            payloads.append(Payload(SOURCE, f"{spec.series_id}.series.json", "fred_series_json", meta.body, meta.url,
                                    window, {"series_id": spec.series_id, "snapshot_date": snapshot}))
    return payloads


def _load_json(payload_body: bytes, source: str, window, what: str) -> dict:
    document = decode_json_object(payload_body, source, window, what)
    if "error_code" in document:
        raise SourceError(source, window, f"{what}: FRED error {document.get('error_code')}: {document.get('error_message')}")
    return document


def _count(body: bytes, series_id: str, window: Window) -> int:
    document = _load_json(body, SOURCE, window, series_id)
    try:
        return int(document["count"])
    except (KeyError, TypeError, ValueError):
        raise ParseError(SOURCE, window, f"{series_id}: response has no valid 'count'") from None


def parse(payload: Payload) -> dict[str, pd.DataFrame]:
    if payload.format == "fred_json":
        return {TABLE: parse_observations(payload)}
    if payload.format == "fred_csv":
        return {TABLE: parse_csv(payload)}
    if payload.format == "fred_series_json":
        return {SERIES_TABLE: parse_series_metadata(payload)}
    raise ParseError(SOURCE, payload.window, f"{payload.name}: unknown format {payload.format!r}")


def parse_observations(payload: Payload) -> pd.DataFrame:
    series_id = payload.meta.get("series_id")
    if not series_id:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: payload does not name its series")
    document = _load_json(payload.body, SOURCE, payload.window, payload.name)
    observations = document.get("observations")
    if not isinstance(observations, list):
        raise ParseError(SOURCE, payload.window, f"{payload.name}: no 'observations' list")
    if not observations:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.DataFrame(observations)
    missing = {"date", "realtime_start", "realtime_end", "value"} - set(frame.columns)
    if missing:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: observations lack {sorted(missing)}")
    try:
        out = pd.DataFrame(
            {
                "series_id": series_id,
                "observation_date": pd.to_datetime(frame["date"], format="%Y-%m-%d").dt.date,
                "realtime_start": pd.to_datetime(frame["realtime_start"], format="%Y-%m-%d").dt.date,
                "realtime_end": pd.to_datetime(frame["realtime_end"], format="%Y-%m-%d", errors="coerce").dt.date,
                # "." is FRED's missing marker; anything else that is not a number is an error
                "value": pd.to_numeric(frame["value"].where(frame["value"] != ".", None), errors="raise"),
            }
        )
    except (ValueError, TypeError) as exc:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: bad observation ({exc})") from None
    # 9999-12-31 does not fit pandas timestamps: coerce gives NaT, which means "still current"
    out["realtime_end"] = out["realtime_end"].where(out["realtime_end"].notna(), dt.date(9999, 12, 31))
    out["vintage_source"] = "alfred"
    out["as_of_date"] = out["realtime_start"]
    return out[COLUMNS]


def parse_series_metadata(payload: Payload) -> pd.DataFrame:
    document = _load_json(payload.body, SOURCE, payload.window, payload.name)
    rows = document.get("seriess")
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict) or "id" not in rows[0]:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: no 'seriess' list with series ids")
    snapshot = payload.meta.get("snapshot_date")
    if not snapshot:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: payload carries no snapshot date")
    frame = pd.DataFrame(rows)
    dates = {c: pd.to_datetime(frame.get(c), format="%Y-%m-%d", errors="coerce").dt.date for c in ("observation_start", "observation_end")}
    return pd.DataFrame(
        {
            "series_id": frame["id"].astype(str),
            "title": frame.get("title"),
            "frequency": frame.get("frequency_short"),
            "units": frame.get("units"),
            "seasonal_adjustment": frame.get("seasonal_adjustment_short"),
            "observation_start": dates["observation_start"],
            "observation_end": dates["observation_end"],
            "last_updated": frame.get("last_updated"),
            "as_of_date": dt.date.fromisoformat(snapshot),
        }
    )[SERIES_COLUMNS]


# ---------------------------------------------------------------------------- files mode
def _fetch_files(window: Window, ctx: FetchContext) -> list[Payload]:
    payloads = []
    for spec in _series(ctx):
        # `<ID>.csv`, or a history split across `<ID>_*.csv` files (overlapping days must agree)
        for path in sorted(ctx.files_dir.rglob(f"{spec.series_id}_*.csv")) + sorted(ctx.files_dir.rglob(f"{spec.series_id}.csv")):
            payloads.append(Payload(SOURCE, path.name, "fred_csv", path.read_bytes(), str(path), window,
                                    {"series_id": spec.series_id, "frequency": spec.frequency, "release": spec.release}))
    if not payloads:
        raise SourceError(SOURCE, window, f"files mode: no <SERIES_ID>.csv or <SERIES_ID>_*.csv for any configured "
                                          f"series in {ctx.files_dir}")
    return payloads


def parse_csv(payload: Payload) -> pd.DataFrame:
    """A FRED CSV download, either header style: `DATE,<ID>` with "." for missing (before 2024)
    or `observation_date,<ID>` with empty fields. A CSV has no vintages: the publication date is
    estimated from the series' release rule (vintage_source='estimated')."""
    try:
        text = payload.body.decode("utf-8-sig", errors="strict") if payload.body else ""
    except UnicodeDecodeError as exc:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise ParseError(SOURCE, payload.window, f"{payload.name}: empty file")
    if not text.endswith("\n"):
        # FRED ends every line: a last line without one was cut, perhaps mid-value (4.4 of 4.48)
        raise ParseError(SOURCE, payload.window, f"{payload.name}: truncated (the last line has no line end: "
                                                 f"{text[-30:]!r})")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: not a CSV ({exc})") from None
    if frame.shape[1] != 2 or frame.columns[0] not in {"DATE", "observation_date"}:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: expected a FRED CSV header, got {list(frame.columns)}")
    series_id = frame.columns[1]
    raw = frame[series_id].str.strip()
    try:
        values = pd.to_numeric(raw.where(~raw.isin([".", ""]), None), errors="raise")
        dates = pd.to_datetime(frame[frame.columns[0]], format="%Y-%m-%d").dt.date
    except (ValueError, TypeError) as exc:
        raise ParseError(SOURCE, payload.window, f"{payload.name}: bad row ({exc})") from None
    if payload.meta.get("series_id") not in (None, series_id):
        raise ParseError(SOURCE, payload.window, f"{payload.name}: holds {series_id}, expected {payload.meta['series_id']}")
    frequency = payload.meta.get("frequency", "d")
    rule = payload.meta.get("release", {"lag_days": 1})
    published = [release_date(period_end(d, frequency), rule) for d in dates]
    return pd.DataFrame(
        {
            "series_id": series_id,
            "observation_date": dates,
            "realtime_start": published,
            "realtime_end": dt.date(9999, 12, 31),
            "value": values.astype(float),
            "vintage_source": "estimated",
            "as_of_date": published,
        }
    )[COLUMNS]


def expected_keys(ctx: FetchContext, window: Window) -> list[str]:
    """Series that must publish at least one vintage in a window this long (a daily series
    every weekday, a weekly one every 7 days, ...): a miss is a gap worth a warning."""
    days = (window.end - window.start).days
    weekdays = sum(1 for d in window.days() if d.weekday() < 5)
    need = {"d": 5 if weekdays >= 5 else 10**9, "w": 14, "m": 62, "q": 185}
    return [s.series_id for s in _series(ctx) if window.include_history or days >= need[s.frequency]]


def spec() -> SourceSpec:
    """How lib.ingest ingests this source: its fetch and parse, the tables it fills, the keys a window should hold."""
    return SourceSpec(SOURCE, fetch, parse, (OBSERVATIONS, SERIES), expected_keys)
