"""Ingestion, source-agnostic: fetch (by mode) -> land -> parse everything -> write atomically.

Nothing is written unless every payload of the window parsed: a bad payload fails the whole
partition with an error naming source, partition and payload. Each target table is replaced
for the window in its own transaction; re-running a window leaves the tables unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from cbi_platform.lib import warehouse
from cbi_platform.lib.sources.base import ParseError, Payload, SourceError, Window
from cbi_platform.lib.sources.context import FetchContext


@dataclass(frozen=True)
class TableSpec:
    name: str  # warehouse table, e.g. "raw.fred_observations"
    primary_key: tuple[str, ...]
    key_column: str | None = None  # the column gaps are reported on (series_id, symbol, ...)
    # Two payloads of one window holding the same key: "later_wins" (an API's revision or a
    # refetch) or "error" unless the rows are identical (user files that overlap: a history
    # split across several exports may repeat days, but must not disagree on them).
    duplicates: str = "later_wins"


@dataclass(frozen=True)
class SourceSpec:
    """How to ingest one source: its fetch and parse functions and the tables it fills."""

    name: str
    fetch: Callable[[Window, FetchContext], list[Payload]]
    parse: Callable[[Payload], dict[str, pd.DataFrame]]
    tables: tuple[TableSpec, ...]
    expected_keys: Callable[[FetchContext, Window], Sequence[str]] = lambda ctx, window: ()


@dataclass
class IngestReport:
    source: str
    window: Window
    payloads: int
    payload_bytes: int
    rows: dict[str, int]
    keys: dict[str, dict[str, int]]  # table -> key -> rows
    gaps: list[str] = field(default_factory=list)  # expected keys that returned nothing
    requests: list[str] = field(default_factory=list)


def collect_payloads(spec: SourceSpec, window: Window, ctx: FetchContext) -> list[Payload]:
    """Fetch by mode; every fetched payload is landed before anything parses it."""
    if ctx.mode == "replay":
        return ctx.landing.read(spec.name, window)
    payloads = spec.fetch(window, ctx)
    if ctx.mode in ("sample", "live"):
        for payload in payloads:
            ctx.landing.write(payload)
    return payloads


def parse_window(spec: SourceSpec, window: Window, payloads: list[Payload]) -> dict[str, pd.DataFrame]:
    """Parse every payload, keep rows published in the window, de-duplicate on the primary key
    (a later fetch of the same row wins)."""
    parts: dict[str, list[pd.DataFrame]] = {t.name: [] for t in spec.tables}
    for payload in payloads:
        try:
            parsed = spec.parse(payload)
        except SourceError as exc:
            raise ParseError(spec.name, window, exc.detail) from None
        for table, frame in parsed.items():
            if table not in parts:
                raise ParseError(spec.name, window, f"{payload.name}: parser produced unknown table {table}")
            if len(frame):
                parts[table].append(frame.assign(_payload=payload.name))
    frames = {}
    for table in spec.tables:
        chunks = parts[table.name]
        if not chunks:
            frames[table.name] = pd.DataFrame()
            continue
        frame = pd.concat(chunks, ignore_index=True)
        frame = frame[window.contains_all(frame["as_of_date"]).to_numpy()]
        if table.duplicates == "error":
            _refuse_conflicting_duplicates(spec.name, window, table, frame)
        frame = frame.drop_duplicates(list(table.primary_key), keep="last").drop(columns="_payload")
        frames[table.name] = frame.reset_index(drop=True)
    return frames


def _refuse_conflicting_duplicates(source: str, window: Window, table: TableSpec, frame: pd.DataFrame) -> None:
    """Rows repeated across payloads are fine when identical; a key whose rows differ is an error
    naming the key, the payloads and the differing values."""
    key = list(table.primary_key)
    distinct = frame.drop_duplicates([c for c in frame.columns if c != "_payload"])
    conflicts = distinct[distinct.duplicated(key, keep=False)]
    if conflicts.empty:
        return
    examples = []
    for values, rows in list(conflicts.groupby(key, sort=True))[:3]:
        differing = [c for c in rows.columns if c not in (*key, "_payload") and rows[c].astype(str).nunique() > 1]
        shown = "; ".join(f"{p}: " + ", ".join(f"{c}={r[c]}" for c in differing) for p, (_, r) in zip(rows["_payload"], rows.iterrows()))
        examples.append(f"{dict(zip(key, values if isinstance(values, tuple) else (values,)))} ({shown})")
    count = conflicts[key].drop_duplicates().shape[0]
    raise ParseError(source, window, f"{table.name}: {count} key(s) with conflicting rows in overlapping payloads, e.g. "
                                     + " | ".join(examples))


def write_window(conn: duckdb.DuckDBPyConnection, spec: SourceSpec, window: Window,
                 frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    ingested_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rows = {}
    for table in spec.tables:
        frame = frames.get(table.name, pd.DataFrame())
        if len(frame):
            frame = frame.assign(ingested_at=ingested_at)
        rows[table.name] = warehouse.replace_window(conn, table.name, frame, window)
    return rows


def ingest(spec: SourceSpec, window: Window, ctx: FetchContext, conn: duckdb.DuckDBPyConnection) -> IngestReport:
    clipped = window.clipped(ctx.today)
    if clipped is None:
        raise SourceError(spec.name, window, f"window lies after today ({ctx.today}): nothing can be published yet")
    payloads = collect_payloads(spec, window, ctx)
    frames = parse_window(spec, window, payloads)
    rows = write_window(conn, spec, window, frames)
    keys: dict[str, dict[str, int]] = {}
    present: set[str] = set()
    for table in spec.tables:
        frame = frames.get(table.name, pd.DataFrame())
        if table.key_column and len(frame):
            counts = frame[table.key_column].astype(str).value_counts().sort_index()
            keys[table.name] = {k: int(v) for k, v in counts.items()}
            present |= set(counts.index)
    gaps = sorted(set(spec.expected_keys(ctx, clipped)) - present)
    return IngestReport(
        source=spec.name,
        window=window,
        payloads=len(payloads),
        payload_bytes=sum(len(p.body) for p in payloads),
        rows=rows,
        keys=keys,
        gaps=gaps,
        requests=[p.request for p in payloads][:20],
    )
