"""Feature views: SQL files under `sql/features/`, run in order inside the warehouse.

Each file creates its tables with `CREATE OR REPLACE TABLE` (a snapshot per materialisation,
so training reads a stable table). Column documentation is the trailing `-- comment` of each
select-list line; the Dagster assets publish it as the table schema.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

# a select-list line: `expr AS name, -- doc` or `name, -- doc`
_COLUMN_DOC = re.compile(r"^\s*(?:.*\bAS\s+|SELECT\s+|[a-z_][a-z0-9_]*\.)?([a-z_][a-z0-9_]*)\s*,?\s*--\s*(.+?)\s*$", re.IGNORECASE)


def sql_path(sql_dir: Path, name: str) -> Path:
    matches = sorted((Path(sql_dir) / "features").glob(f"[0-9][0-9][0-9]_{name}.sql"))
    if len(matches) != 1:
        raise FileNotFoundError(f"expected one sql/features/NNN_{name}.sql, found {[m.name for m in matches]}")
    return matches[0]


def config_tables(config_dir: Path) -> dict[str, pd.DataFrame]:
    """Lookup tables the SQL joins to, written from config/ on every run (features.config_*)."""
    from cbi_platform.lib.config import load_sources
    from cbi_platform.lib.sources import usda_esr

    sources = load_sources(Path(config_dir))
    norm = usda_esr.load_config(Path(config_dir)).china_norm
    thursdays = pd.date_range("2004-01-01", "2031-12-31", freq="W-THU").date
    return {
        "features.config_china_norm": pd.DataFrame(
            {"week_ending": thursdays, "norm_t": [norm.tons(d) for d in thursdays], "scale_t": norm.scale_t}),
        "features.config_fred_series": pd.DataFrame(
            [(s.series_id, s.category, s.frequency) for s in sources.series], columns=["series_id", "category", "frequency"]),
        "features.config_symbols": pd.DataFrame(
            [(s.root, s.bucket, s.exchange, s.session, s.contract_size, s.units, s.tick_size, len(s.months))
             for s in sources.symbols],
            columns=["root", "bucket", "exchange", "session", "contract_size", "units", "tick_size", "contracts_per_year"]),
        "features.config_roll_segments": _roll_segments(sources.symbols).copy(),
    }


@functools.lru_cache(maxsize=4)
def _roll_segments(symbols: tuple) -> pd.DataFrame:
    from cbi_platform.lib.contracts import roll_segments

    # the longest vendor histories start in 1959; the sample world ends in 2030
    return pd.concat([roll_segments(spec, ROLL_SEGMENT_YEARS[0], ROLL_SEGMENT_YEARS[1]) for spec in symbols],
                     ignore_index=True)


ROLL_SEGMENT_YEARS = (1950, 2040)


def run_sql(conn: duckdb.DuckDBPyConnection, sql_dir: Path, name: str, config_dir: Path | None = None) -> None:
    """Run `sql/features/NNN_<name>.sql` (after the shared macros and the config lookup tables)
    in one transaction."""
    macros = sql_path(sql_dir, "macros").read_text()
    text = sql_path(sql_dir, name).read_text()
    lookups = config_tables(Path(config_dir) if config_dir else Path(sql_dir).parent / "config")
    # one thread: parallel aggregation sums floats in a varying order, and features must come
    # out bit-identical from the same inputs (model versions are fingerprints of them)
    threads = conn.execute("SELECT current_setting('threads')").fetchone()[0]
    conn.execute("SET threads = 1")
    try:
        _run(conn, macros, lookups, text)
    finally:
        conn.execute(f"SET threads = {int(threads)}")


def _run(conn: duckdb.DuckDBPyConnection, macros: str, lookups: dict[str, pd.DataFrame], text: str) -> None:
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(macros)
        for table, frame in lookups.items():
            conn.register("_lookup", frame)
            conn.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _lookup")
            conn.unregister("_lookup")
        conn.execute(text)
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise


def column_docs(sql_dir: Path) -> dict[str, str]:
    """Column -> its end-of-line comment in sql/features/*.sql. One dictionary for every view:
    the matrix and the bucket views inherit their columns from earlier views, and their
    descriptions with them."""
    docs = {}
    for path in sorted(Path(sql_dir, "features").glob("*.sql")):
        for line in path.read_text().splitlines():
            match = _COLUMN_DOC.match(line)
            if match and not line.lstrip().startswith("--"):
                docs.setdefault(match.group(1), match.group(2))
    return docs


def table_schema(conn: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    schema, name = table.split(".")
    return conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).df()


FEATURE_ORDER = ("futures_returns", "macro_pit", "core_macro_fx", "bucket_inputs", "zl_daily_matrix")


@dataclass(frozen=True)
class Bucket:
    name: str
    description: str
    features: tuple[str, ...]  # its own columns of features.bucket_inputs, added to every core column


@functools.lru_cache(maxsize=8)
def load_buckets(config_dir: Path) -> dict[str, Bucket]:
    """config/buckets.yaml, validated: the one place the Big 8 (names, descriptions, features) are read."""
    from cbi_platform.lib.config import ConfigError, load_yaml, validate_identifier

    path = Path(config_dir) / "buckets.yaml"
    buckets = {}
    for name, spec in load_yaml(path)["buckets"].items():
        if not spec.get("description") or not spec.get("features"):
            raise ConfigError(f"{path}: bucket {name} needs a description and a list of features")
        buckets[validate_identifier(name, "bucket")] = Bucket(
            name, str(spec["description"]), tuple(validate_identifier(c, "feature") for c in spec["features"]))
    return buckets


def build_bucket_view(conn: duckdb.DuckDBPyConnection, config_dir: Path, bucket: str) -> list[str]:
    """features.bucket_<name> = every core column + the bucket's columns of bucket_inputs
    (config/buckets.yaml). Returns the bucket's own columns."""
    columns = list(load_buckets(Path(config_dir))[bucket].features)
    available = {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'features' AND table_name = 'bucket_inputs'").fetchall()}
    core = {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'features' AND table_name = 'core_macro_fx'").fetchall()}
    missing = [c for c in columns if c not in available]
    if missing:
        raise ValueError(f"config/buckets.yaml: bucket {bucket} lists features bucket_inputs lacks: {missing}")
    overlapping = [c for c in columns if c in core]
    if overlapping:
        raise ValueError(f"config/buckets.yaml: bucket {bucket} repeats core features: {overlapping}")
    selected = ", ".join(f"i.{c}" for c in columns)
    conn.execute(f"CREATE OR REPLACE TABLE features.bucket_{bucket} AS SELECT c.*, {selected} "
                 "FROM features.core_macro_fx c JOIN features.bucket_inputs i USING (trade_date) ORDER BY trade_date")
    return columns


def raw_tables(conn: duckdb.DuckDBPyConnection) -> list[str]:
    return [f"raw.{r[0]}" for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' ORDER BY 1").fetchall()]


def definition_fingerprint(sql_dir: Path, config_dir: Path) -> str:
    """Hash of everything that defines the feature tables' columns: the feature SQL, the raw
    schema migrations and the config. A column schema may change only when this does."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted([*Path(sql_dir).glob("features/*.sql"), *Path(sql_dir).glob("schema/*.sql"),
                        *Path(config_dir).rglob("*.yaml")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def point_in_time_sample_days(conn: duckdb.DuckDBPyConnection, table: str = "zl_daily_matrix",
                              rows_back: tuple[int, ...] = (21, 252)) -> list:
    """The trading days the point-in-time check recomputes: a month and a year before the
    latest row (recent rows are where revisions and late publications bite)."""
    days = [r[0] for r in conn.execute(f"SELECT trade_date FROM features.{table} ORDER BY trade_date DESC LIMIT ?",
                                       [max(rows_back) + 1]).fetchall()]
    return [days[k] for k in rows_back if k < len(days)]


def point_in_time_mismatches(conn: duckdb.DuckDBPyConnection, sql_dir: Path, days: list, table: str = "zl_daily_matrix",
                             atol: float = 1e-9, config_dir: Path | None = None) -> dict[str, list[str]]:
    """Recompute the features from raw data truncated to `as_of_date <= D` and compare them
    with the full-history row at D. Returns {D: [columns that differ]} (empty: point-in-time
    correct). Targets are excluded: at D their future is, rightly, unknown."""
    from cbi_platform.lib import warehouse

    full = conn.execute(f"SELECT * FROM features.{table}").df().set_index("trade_date")
    mismatches: dict[str, list[str]] = {}
    for day in days:
        with warehouse.connection(":memory:") as scratch:
            warehouse.apply_migrations(scratch, sql_dir)
            for raw in raw_tables(conn):
                frame = conn.execute(f"SELECT * FROM {raw} WHERE as_of_date <= ?", [day]).df()
                scratch.register("_truncated", frame)
                scratch.execute(f"INSERT INTO {raw} SELECT * FROM _truncated")
                scratch.unregister("_truncated")
            for name in FEATURE_ORDER:
                run_sql(scratch, sql_dir, name, config_dir)
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
