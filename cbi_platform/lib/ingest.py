"""Ingestion, source-agnostic: fetch (by mode) -> land -> parse everything -> write atomically.

Nothing is written unless every payload of the window parsed: a bad payload fails the whole
partition with an error naming source, partition and payload. Each target table is replaced
for the window in its own transaction; re-running a window leaves the tables unchanged. A
write that would shrink a window already holding rows (a truncated export cut at a line end
looks complete to its parser) is refused unless the run says a shrink is expected.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from cbi_platform.lib import warehouse
from cbi_platform.lib.sources.base import ParseError, Payload, SourceError
from cbi_platform.lib.sources.context import FetchContext
from cbi_platform.lib.sources.limits import DECOMPRESSED_LIMIT_META, SourceLimits, limits_for
from cbi_platform.lib.window import Window


class ShrinkRefused(SourceError):
    """A re-ingest would leave a window with fewer rows than it holds: refused, nothing written."""


@dataclass(frozen=True)
class TableSpec:
    name: str  # warehouse table, e.g. "raw.fred_observations"
    primary_key: tuple[str, ...]
    key_column: str | None = None  # the column gaps are reported on (series_id, symbol, ...)
    # Two payloads of one window holding the same key: "later_wins" (an API's revision or a
    # refetch) or "error" unless the rows are identical (user files that overlap: a history
    # split across several exports may repeat days, but must not disagree on them).
    duplicates: str = "later_wins"
    # A feed shows only its latest items: an item missing from a refetch has rolled off, it was
    # not withdrawn. Such a table is upserted on its key: the window's rows the new payloads
    # lack are kept (re-ingesting a day later cannot delete the items that left the feed).
    rows_roll_off: bool = False


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


def parse_window(spec: SourceSpec, window: Window, payloads: list[Payload],
                 limits: SourceLimits = SourceLimits()) -> dict[str, pd.DataFrame]:
    """Parse every payload, keep rows published in the window, de-duplicate on the primary key
    (a later fetch of the same row wins). The source's limits (config/sources/limits.yaml) go
    with each payload to its parser (decompressed bytes) and bound the rows it may yield."""
    parts: dict[str, list[pd.DataFrame]] = {t.name: [] for t in spec.tables}
    max_rows = limits.max_rows
    for payload in payloads:
        payload = dataclasses.replace(payload, meta={**payload.meta, DECOMPRESSED_LIMIT_META: limits.max_decompressed_bytes})
        try:
            parsed = spec.parse(payload)
        except SourceError as exc:
            raise ParseError(spec.name, window, exc.detail) from None
        rows = sum(len(frame) for frame in parsed.values())
        if rows > max_rows:
            raise ParseError(spec.name, window, f"{payload.name}: {rows:,} rows, above the source's limit of "
                                                f"{max_rows:,} (config/sources/limits.yaml max_rows)")
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


def window_counts(conn: duckdb.DuckDBPyConnection, table: TableSpec, window: Window) -> dict[str, int]:
    """Rows the window holds now, per key (or in all, under "*")."""
    where, params = warehouse.window_predicate(window)
    key = warehouse.checked_column(table.key_column) if table.key_column else "'*'"
    name = warehouse.checked_table(table.name)
    return {str(k): int(n) for k, n in conn.execute(
        f"SELECT CAST({key} AS VARCHAR), count(*) FROM {name} WHERE {where} GROUP BY 1", params).fetchall()}


def refuse_shrink(source: str, conn: duckdb.DuckDBPyConnection, table: TableSpec, window: Window,
                  frame: pd.DataFrame) -> None:
    """A window that holds rows may grow or stay; fewer rows for a key it holds, or none at all,
    is what a truncated payload looks like once parsed."""
    before = window_counts(conn, table, window)
    if not before:
        return
    if table.key_column and len(frame):
        after = {str(k): int(n) for k, n in frame[table.key_column].astype(str).value_counts().items()}
    else:
        after = {"*": len(frame)} if len(frame) else {}
    shrunk = {k: (n, after.get(k, 0)) for k, n in before.items() if after.get(k, 0) < n}
    if shrunk:
        shown = ", ".join(f"{k}: {old} -> {new}" for k, (old, new) in sorted(shrunk.items())[:10])
        raise ShrinkRefused(source, window, f"{table.name}: the new payloads would shrink the window "
                                            f"({sum(before.values())} -> {len(frame)} rows; {shown}). A truncated export "
                                            "or a partial response looks like this; nothing was written. Re-run with "
                                            "allow_shrink if fewer rows are expected.")


def write_window(conn: duckdb.DuckDBPyConnection, spec: SourceSpec, window: Window,
                 frames: dict[str, pd.DataFrame], allow_shrink: bool = False) -> dict[str, int]:
    """Every table checked first (no shrink), then each replaced in its own transaction; a
    database error comes out naming the source, partition and table."""
    if not allow_shrink:
        for table in spec.tables:
            if not table.rows_roll_off:  # rows of those are only added or updated (upsert): no shrink
                refuse_shrink(spec.name, conn, table, window, frames.get(table.name, pd.DataFrame()))
    ingested_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rows = {}
    for table in spec.tables:
        frame = frames.get(table.name, pd.DataFrame())
        if len(frame):
            frame = frame.assign(ingested_at=ingested_at)
        try:
            if table.rows_roll_off and not allow_shrink:
                rows[table.name] = warehouse.upsert(conn, table.name, frame, table.primary_key) if len(frame) else 0
            else:
                rows[table.name] = warehouse.replace_window(conn, table.name, frame, window)
        except duckdb.Error as exc:
            raise SourceError(spec.name, window, f"{table.name}: the write failed, nothing of it kept: "
                                                 f"{type(exc).__name__}: {exc}") from exc
    return rows


def ingest(spec: SourceSpec, window: Window, ctx: FetchContext, conn: duckdb.DuckDBPyConnection,
           allow_shrink: bool = False) -> IngestReport:
    clipped = window.clipped(ctx.today)
    if clipped is None:
        raise SourceError(spec.name, window, f"window lies after today ({ctx.today}): nothing can be published yet")
    payloads = collect_payloads(spec, window, ctx)
    frames = parse_window(spec, window, payloads, limits_for(ctx.config_dir, spec.name))
    rows = write_window(conn, spec, window, frames, allow_shrink)
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
