"""Feature views: SQL files under `sql/features/`, run in order inside the warehouse.

Each file creates its tables with `CREATE OR REPLACE TABLE` (a snapshot per materialisation,
so training reads a stable table). Column documentation is the trailing `-- comment` of each
select-list line; the Dagster assets publish it as the table schema.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

# a select-list line: `expr AS name, -- doc` or `name, -- doc`
_COLUMN_DOC = re.compile(r"^\s*(?:.*\bAS\s+)?([a-z_][a-z0-9_]*)\s*,?\s*--\s*(.+?)\s*$", re.IGNORECASE)


def sql_path(sql_dir: Path, name: str) -> Path:
    matches = sorted((Path(sql_dir) / "features").glob(f"[0-9][0-9][0-9]_{name}.sql"))
    if len(matches) != 1:
        raise FileNotFoundError(f"expected one sql/features/NNN_{name}.sql, found {[m.name for m in matches]}")
    return matches[0]


def run_sql(conn: duckdb.DuckDBPyConnection, sql_dir: Path, name: str) -> None:
    """Run `sql/features/NNN_<name>.sql` (after the shared macros) in one transaction."""
    macros = sql_path(sql_dir, "macros").read_text()
    text = sql_path(sql_dir, name).read_text()
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(macros)
        conn.execute(text)
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise


def column_docs(sql_dir: Path, name: str) -> dict[str, str]:
    docs = {}
    for line in sql_path(sql_dir, name).read_text().splitlines():
        match = _COLUMN_DOC.match(line)
        if match and not line.lstrip().startswith("--"):
            docs[match.group(1)] = match.group(2)
    return docs


def table_schema(conn: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    schema, name = table.split(".")
    return conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).df()


RAW_TABLES = ("raw.fred_observations", "raw.futures_ohlcv_1d")
FEATURE_ORDER = ("futures_returns", "macro_pit", "core_macro_fx", "zl_daily_matrix")


def point_in_time_mismatches(conn: duckdb.DuckDBPyConnection, sql_dir: Path, days: list, table: str = "zl_daily_matrix",
                             atol: float = 1e-9) -> dict[str, list[str]]:
    """Recompute the features from raw data truncated to `as_of_date <= D` and compare them
    with the full-history row at D. Returns {D: [columns that differ]} (empty: point-in-time
    correct). Targets are excluded: at D their future is, rightly, unknown."""
    from cbi_platform.lib import warehouse

    full = conn.execute(f"SELECT * FROM features.{table}").df().set_index("trade_date")
    mismatches: dict[str, list[str]] = {}
    for day in days:
        with warehouse.connection(":memory:") as scratch:
            warehouse.apply_migrations(scratch, sql_dir)
            for raw in RAW_TABLES:
                frame = conn.execute(f"SELECT * FROM {raw} WHERE as_of_date <= ?", [day]).df()
                scratch.register("_truncated", frame)
                scratch.execute(f"INSERT INTO {raw} SELECT * FROM _truncated")
                scratch.unregister("_truncated")
            for name in FEATURE_ORDER:
                run_sql(scratch, sql_dir, name)
                if name == table:
                    break
            truncated = scratch.execute(f"SELECT * FROM features.{table}").df().set_index("trade_date")
        key = pd.Timestamp(day)
        if key not in truncated.index or key not in full.index:
            mismatches[str(day)] = ["<row missing>"]
            continue
        columns = [c for c in full.columns if not c.startswith("target")]
        left, right = full.loc[key, columns], truncated.loc[key, columns]
        differing = []
        for column in columns:
            a, b = left[column], right[column]
            if pd.isna(a) and pd.isna(b):
                continue
            if pd.isna(a) != pd.isna(b) or (isinstance(a, float) and abs(a - b) > atol) or (not isinstance(a, float) and a != b):
                differing.append(column)
        if differing:
            mismatches[str(day)] = differing
    return mismatches
