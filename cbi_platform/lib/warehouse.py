"""The DuckDB warehouse: connections, numbered idempotent migrations, atomic partition writes.

DuckDB allows one writing process at a time; Dagster serialises writers with the
`duckdb_writer` pool and every reader that can, opens read-only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from cbi_platform.lib.window import Window

if TYPE_CHECKING:
    import pandas as pd

SCHEMAS = ("raw", "features", "training", "forecasts", "ops")
_TABLE = re.compile(r"^(raw|features|training|forecasts|ops)\.[a-z][a-z0-9_]{0,62}$")
_COLUMN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class WarehouseError(RuntimeError):
    pass


MOTHERDUCK_PREFIXES = ("md:", "motherduck:")


def on_local_disk(path: str | Path) -> bool:
    """A warehouse file on this machine's disk: not `:memory:`, not a MotherDuck database (`md:name`),
    which has no file to create a directory for or to check for."""
    text = str(path)
    return text != ":memory:" and not text.startswith(MOTHERDUCK_PREFIXES)


def check_location(path: str) -> str:
    """A warehouse location fit for settings and resource config, which the Dagster UI shows: a
    MotherDuck token belongs in MOTHERDUCK_TOKEN (DuckDB reads it from the environment), never in
    the connection string."""
    if "token=" in path.lower():
        raise WarehouseError("the warehouse location must not carry a token (md:...?motherduck_token=...): "
                             "set MOTHERDUCK_TOKEN in the environment instead")
    return path


def connect(path: str | Path, read_only: bool = False, wait_seconds: float = 600) -> duckdb.DuckDBPyConnection:
    """Open the warehouse. DuckDB lets one process write at a time; another process holding the
    file lock is waited for (backoff up to 5 s a try, `wait_seconds` in all) rather than failed on.
    The wait is long because on Dask nothing but this lock orders the writers of a DuckDB file
    (defs/executors.py), and a feature step can hold it for minutes."""
    if on_local_disk(path) and not read_only:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    delay, deadline = 0.2, time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


@contextmanager
def connection(path: str | Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = connect(path, read_only=read_only)
    try:
        yield conn
    finally:
        conn.close()


def checked_table(name: str) -> str:
    if not _TABLE.match(name):
        raise WarehouseError(f"not a warehouse table name: {name!r}")
    return name


def checked_column(name: str) -> str:
    if not _COLUMN.match(name):
        raise WarehouseError(f"not a column name: {name!r}")
    return name


def migration_files(sql_dir: Path) -> list[Path]:
    files = sorted((Path(sql_dir) / "schema").glob("[0-9][0-9][0-9]_*.sql"))
    versions = [f.name[:3] for f in files]
    if len(set(versions)) != len(versions):
        raise WarehouseError(f"duplicate migration numbers in {sql_dir}/schema: {versions}")
    return files


def apply_migrations(conn: duckdb.DuckDBPyConnection, sql_dir: Path) -> list[str]:
    """Apply `sql/schema/NNN_*.sql` in order, once each. Returns the names applied now.

    A migration that was applied with different content is an error: migrations are append-only.
    """
    conn.execute("CREATE SCHEMA IF NOT EXISTS ops")
    conn.execute(
        """CREATE TABLE IF NOT EXISTS ops.schema_migrations (
               version VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, checksum VARCHAR NOT NULL,
               applied_at TIMESTAMP NOT NULL)"""
    )
    applied = {row[0]: row[1] for row in conn.execute("SELECT version, checksum FROM ops.schema_migrations").fetchall()}
    done = []
    for path in migration_files(sql_dir):
        version, text = path.name[:3], path.read_text()
        checksum = hashlib.sha256(text.encode()).hexdigest()
        if version in applied:
            if applied[version] != checksum:
                raise WarehouseError(f"migration {path.name} changed after it was applied; add a new numbered file instead")
            continue
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute(text)
            conn.execute(
                "INSERT INTO ops.schema_migrations VALUES (?, ?, ?, ?)",
                [version, path.name, checksum, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)],
            )
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        done.append(path.name)
    return done


def table_columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = checked_table(table).split(".")
    rows = conn.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name],
    ).fetchall()
    if not rows:
        raise WarehouseError(f"table {table} does not exist; run the migrations")
    return [r[0] for r in rows]


def _insert(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, columns: list[str]) -> None:
    """Insert from the frame registered as `_incoming` (see `_delete_and_insert`)."""
    if not len(frame):
        return
    present = ", ".join(c for c in columns if c in frame.columns)
    conn.execute(f"INSERT INTO {table} ({present}) SELECT {present} FROM _incoming")


def _register_incoming(conn: duckdb.DuckDBPyConnection, frame: pd.DataFrame, columns: list[str]) -> bool:
    # through Arrow: DuckDB scans Arrow columns natively, while pandas object columns (strings,
    # datetime.date) are converted value by value (5x slower on a year of hourly bars)
    if not len(frame):
        return False
    import pyarrow as pa

    present = [c for c in columns if c in frame.columns]
    conn.register("_incoming", pa.Table.from_pandas(frame[present], preserve_index=False))
    return True


def _checked_frame_columns(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> list[str]:
    columns = table_columns(conn, table)
    unknown = set(frame.columns) - set(columns)
    if unknown:
        raise WarehouseError(f"{table}: frame has columns the table lacks: {sorted(unknown)}")
    return columns


def _delete_and_insert(conn, table: str, frame: pd.DataFrame, columns: list[str], delete_sql: str, params: Sequence) -> int:
    """Registered before the transaction and unregistered after it ends: unregistering inside an
    aborted transaction fails and would mask the real error (a NOT NULL violation, say)."""
    registered = _register_incoming(conn, frame, columns)
    try:
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute(delete_sql, list(params))
            _insert(conn, table, frame, columns)
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
    finally:
        if registered:
            conn.unregister("_incoming")
    return len(frame)


def replace_window(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame,
    window: Window,
    date_column: str = "as_of_date",
) -> int:
    """Delete the window's rows and insert `frame`, in one transaction. Returns rows inserted.

    Re-running the same window with the same data leaves the table unchanged (idempotent); a
    failure anywhere rolls back, so the table never holds half a partition.
    """
    columns = _checked_frame_columns(conn, table, frame)
    date_column = checked_column(date_column)
    if len(frame):
        outside = int((~window.contains_all(frame[date_column])).sum())
        if outside:
            raise WarehouseError(f"{table}: {outside} rows fall outside window {window.label} on {date_column}")
    where, params = window_predicate(window, date_column)
    return _delete_and_insert(conn, table, frame, columns, f"DELETE FROM {table} WHERE {where}", params)


def window_predicate(window: Window, date_column: str = "as_of_date") -> tuple[str, list]:
    """The rows a window owns: [start, end) on `date_column`, or everything before `end` for the
    first partition (it carries the history)."""
    date_column = checked_column(date_column)
    if window.include_history:
        return f"{date_column} < ?", [window.end]
    return f"{date_column} >= ? AND {date_column} < ?", [window.start, window.end]


def replace_rows(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, where: str = "TRUE", params: Sequence = ()) -> int:
    """Replace the rows matching `where` (a fixed clause with `?` parameters) in one transaction."""
    columns = _checked_frame_columns(conn, checked_table(table), frame)
    return _delete_and_insert(conn, table, frame, columns, f"DELETE FROM {table} WHERE {where}", params)


def upsert(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, key: Sequence[str]) -> int:
    """Insert rows, replacing those with the same key, in one transaction."""
    columns = _checked_frame_columns(conn, checked_table(table), frame)
    matches = " AND ".join(f"t.{checked_column(c)} = k.{c}" for c in key)
    conn.register("_keys", frame[list(key)])
    try:
        return _delete_and_insert(conn, table, frame, columns,
                                  f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM _keys k WHERE {matches})", [])
    finally:
        conn.unregister("_keys")
