"""Data-quality checks as plain functions over the warehouse. Each returns a `CheckOutcome`;
the Dagster layer turns outcomes into asset check results (blocking where downstream must not
run on bad data). Every check here can fail: cbi_platform_tests/lib/test_quality.py feeds each
one data that makes it fail."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from cbi_platform.lib.warehouse import checked_column, checked_table, window_predicate
from cbi_platform.lib.window import Window

if TYPE_CHECKING:  # heavy imports stay out of definition load
    import duckdb
    import pandas as pd


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    description: str
    severity: str = "ERROR"  # ERROR blocks downstream (for blocking checks); WARN informs
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """One asset check, declared once: its name, what it asserts, whether it blocks downstream
    assets, and how it is evaluated on what the asset built (`subject`: whatever the asset hands
    its checks, e.g. the connection and the window it wrote)."""

    name: str
    description: str
    evaluate: Callable[[Any], CheckOutcome]
    blocking: bool = True

    def on(self, view: Callable[[Any], Any]) -> "Check":
        """The same check evaluated on `view(subject)` (a check on a connection, for an asset whose
        checks look at more)."""
        return replace(self, evaluate=lambda subject: self.evaluate(view(subject)))

    @classmethod
    def reported(cls, name: str, description: str, blocking: bool = True) -> "Check":
        """A check whose outcome a pipeline step computes together with others (the subject is
        the mapping of those outcomes by name)."""
        return cls(name, description, lambda outcomes: outcomes[name], blocking)


class UndeclaredCheck(RuntimeError):
    pass


def evaluate(checks: Iterable[Check], subject: Any) -> list[CheckOutcome]:
    """Every check's outcome on `subject`, in declaration order; an outcome under another name
    than its check's is a programming error, not a result."""
    outcomes = []
    for check in checks:
        outcome = check.evaluate(subject)
        if outcome.name != check.name:
            raise UndeclaredCheck(f"check {check.name} returned an outcome named {outcome.name}")
        outcomes.append(outcome)
    return outcomes


def by_name(outcomes: Iterable[CheckOutcome], checks: Sequence[Check]) -> Mapping[str, CheckOutcome]:
    """Outcomes a step computed together, keyed for `Check.reported`: exactly the declared ones."""
    keyed = {o.name: o for o in outcomes}
    declared = [c.name for c in checks]
    if sorted(keyed) != sorted(declared):
        raise UndeclaredCheck(f"outcomes {sorted(keyed)} do not match the declared checks {sorted(declared)}")
    return keyed


def _window_clause(window: Window | None, column: str = "as_of_date") -> tuple[str, list]:
    return ("TRUE", []) if window is None else window_predicate(window, column)


def primary_key_unique(conn: duckdb.DuckDBPyConnection, table: str, key: Sequence[str], window: Window | None = None) -> CheckOutcome:
    table = checked_table(table)
    cols = ", ".join(checked_column(c) for c in key)
    where, params = _window_clause(window)
    dupes = conn.execute(
        f"SELECT count(*) FROM (SELECT {cols} FROM {table} WHERE {where} GROUP BY {cols} HAVING count(*) > 1)", params
    ).fetchone()[0]
    return CheckOutcome("primary_key_unique", dupes == 0, f"no duplicate ({cols}) rows", metadata={"duplicate_keys": int(dupes)})


def no_future_as_of(conn: duckdb.DuckDBPyConnection, table: str, today: dt.date) -> CheckOutcome:
    table = checked_table(table)
    count, latest = conn.execute(f"SELECT count(*) FILTER (as_of_date > ?), max(as_of_date) FROM {table}", [today]).fetchone()
    return CheckOutcome(
        "no_future_as_of", count == 0, f"no row published after today ({today})",
        metadata={"rows_from_the_future": int(count), "latest_as_of_date": str(latest)},
    )


def rows_present(conn: duckdb.DuckDBPyConnection, table: str, window: Window, expected: bool,
                 user_files: bool = False) -> CheckOutcome:
    """Rows exist for the window whenever the source should have published in it. In files mode the
    user's exports decide what exists (a source without files, a history that ends in the past):
    an empty window then warns instead of blocking."""
    table = checked_table(table)
    where, params = _window_clause(window)
    count = conn.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()[0]
    passed = count > 0 or not expected
    return CheckOutcome("rows_present", passed, "the window holds rows when the source publishes in it"
                        + (" (files mode: your exports hold none for this window)" if user_files and not passed else ""),
                        severity="WARN" if user_files else "ERROR",
                        metadata={"rows": int(count), "publication_expected": expected})


def ohlc_consistent(conn: duckdb.DuckDBPyConnection, table: str, window: Window | None = None,
                    bar_id: str = "symbol") -> CheckOutcome:
    """high >= low, open and close inside [low, high], prices > 0, volume >= 0. Vendor settle files
    (rows without an instrument id) are known to publish a settlement outside the day's range and
    ranges from another session (ES 1997-2009: 46 of 3,139 days): that only warns, since returns and
    features use the settle; a non-positive price or negative volume blocks whatever its origin."""
    table = checked_table(table)
    where, params = _window_clause(window)
    bad, vendor_bad, negative_volume, non_positive = conn.execute(
        f"""SELECT count(*) FILTER (high < low OR open > high OR open < low OR close > high OR close < low),
                   count(*) FILTER ((high < low OR open > high OR open < low OR close > high OR close < low)
                                    AND instrument_id IS NULL),
                   count(*) FILTER (volume < 0),
                   count(*) FILTER (close <= 0 OR open <= 0 OR low <= 0)
            FROM {table} WHERE {where}""",
        params,
    ).fetchone()
    only_vendor_ranges = bad == vendor_bad and negative_volume == 0 and non_positive == 0
    examples = [f"{symbol} {day}: O {o} H {h} L {lo} C {c}" for symbol, day, o, h, lo, c in conn.execute(
        f"""SELECT {checked_column(bar_id)}, trade_date, open, high, low, close FROM {table}
            WHERE {where} AND (high < low OR open > high OR open < low OR close > high OR close < low
                               OR volume < 0 OR close <= 0 OR open <= 0 OR low <= 0)
            ORDER BY trade_date, symbol LIMIT 10""", params).fetchall()] if bad or negative_volume or non_positive else []
    return CheckOutcome(
        "ohlc_consistent", bad == 0 and negative_volume == 0 and non_positive == 0,
        "high >= low, open and close inside [low, high], prices > 0, volume >= 0",
        severity="WARN" if bad and only_vendor_ranges else "ERROR",
        metadata={"inconsistent_bars": int(bad), "of_which_vendor_file_rows": int(vendor_bad),
                  "negative_volume": int(negative_volume), "non_positive_prices": int(non_positive),
                  "first_offending_bars": examples or "none"},
    )


def finite_values(conn: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], window: Window | None = None,
                  name: str = "finite_values") -> CheckOutcome:
    table = checked_table(table)
    where, params = _window_clause(window)
    parts = ", ".join(f"count(*) FILTER (isinf({checked_column(c)}) OR isnan({c}))" for c in columns)
    counts = conn.execute(f"SELECT {parts} FROM {table} WHERE {where}", params).fetchone()
    offenders = {c: int(n) for c, n in zip(columns, counts) if n}
    return CheckOutcome(name, not offenders, "no Inf or NaN (missing is NULL)", metadata={"columns_with_inf_or_nan": offenders or "none"})


def gaps(expected_missing: list[str], what: str) -> CheckOutcome:
    """WARN: keys (symbols, series) that should have published but returned nothing."""
    return CheckOutcome(
        "no_gaps", not expected_missing, f"every expected {what} returned rows", severity="WARN",
        metadata={f"missing_{what}": ", ".join(expected_missing) if expected_missing else "none", "count": len(expected_missing)},
    )


def quantiles_ordered(frame: pd.DataFrame, columns: Sequence[str]) -> CheckOutcome:
    import numpy as np

    values = frame[list(columns)].to_numpy(dtype=float)
    crossing = int(np.sum(np.any(np.diff(values, axis=1) < 0, axis=1))) if len(values) else 0
    non_finite = int(np.sum(~np.isfinite(values)))
    return CheckOutcome("quantiles_ordered", crossing == 0 and non_finite == 0, f"{' <= '.join(columns)} on every row, all finite",
                        metadata={"crossing_rows": crossing, "non_finite_values": non_finite, "rows": int(len(values))})


def numeric_columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = checked_table(table).split(".")
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "AND data_type IN ('DOUBLE', 'FLOAT', 'REAL') ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows]


def no_inf(conn: duckdb.DuckDBPyConnection, table: str) -> CheckOutcome:
    outcome = finite_values(conn, table, numeric_columns(conn, table), name="no_inf")
    outcome.description = "no Inf or NaN in any numeric column (guarded divisions give NULL)"
    return outcome


def covers_trading_days(conn: duckdb.DuckDBPyConnection, table: str, root: str = "ZL") -> CheckOutcome:
    """One row per trading day of `root`: no day lost or duplicated by the joins."""
    table = checked_table(table)
    rows, days = conn.execute(
        f"SELECT (SELECT count(*) FROM {table}), "
        "(SELECT count(DISTINCT trade_date) FROM raw.futures_ohlcv_1d WHERE root = ? AND rank = 0)",
        [root],
    ).fetchone()
    return CheckOutcome("covers_trading_days", rows == days and rows > 0, f"one row per {root} trading day",
                        metadata={"rows": int(rows), f"{root.lower()}_trading_days": int(days)})


def history_long_enough(conn: duckdb.DuckDBPyConnection, table: str, minimum: int = 1000) -> CheckOutcome:
    rows = conn.execute(f"SELECT count(*) FROM {checked_table(table)}").fetchone()[0]
    return CheckOutcome("history_long_enough", rows > minimum, f"more than {minimum} rows of history to train on",
                        severity="WARN", metadata={"rows": int(rows), "minimum": minimum})


def null_share(conn: duckdb.DuckDBPyConnection, table: str, warmup_rows: int, max_share: float,
               exclude: Sequence[str] = ()) -> CheckOutcome:
    """WARN listing every feature whose NULL share after the warm-up exceeds `max_share`."""
    import pandas as pd

    table = checked_table(table)
    frame = conn.execute(f"SELECT * FROM {table} ORDER BY trade_date").df().iloc[warmup_rows:]
    columns = [c for c in frame.columns if c not in set(exclude) and c != "trade_date"]
    shares = frame[columns].isna().mean() if len(frame) else pd.Series(1.0, index=columns)
    offenders = {c: round(float(v), 4) for c, v in shares.items() if v > max_share}
    return CheckOutcome("null_share", not offenders, f"every feature is non-NULL on at least {1 - max_share:.0%} of rows after warm-up",
                        severity="WARN", metadata={"features_over_limit": offenders or "none", "rows_checked": int(len(frame))})


def targets_within_known_prices(conn: duckdb.DuckDBPyConnection, table: str, horizons: dict[str, int]) -> CheckOutcome:
    """A target is present only if its whole horizon has settled, and ends on a known trading day."""
    table = checked_table(table)
    last = conn.execute("SELECT max(trade_date) FROM raw.futures_ohlcv_1d WHERE root = 'ZL' AND rank = 0").fetchone()[0]
    offenders = {}
    for horizon in horizons:
        target, end = checked_column(f"target_{horizon}"), checked_column(f"target_end_{horizon}")
        bad = conn.execute(
            f"SELECT count(*) FROM {table} WHERE {target} IS NOT NULL AND ({end} IS NULL OR {end} > ?)", [last]
        ).fetchone()[0]
        if bad:
            offenders[horizon] = int(bad)
    return CheckOutcome("targets_within_known_prices", not offenders, "no target uses a price after the last known one",
                        metadata={"offending_rows": offenders or "none", "last_known_price": str(last)})


def fresh(conn: duckdb.DuckDBPyConnection, table: str, today: dt.date, max_age_days: int) -> CheckOutcome:
    """WARN when the newest publication in the table is older than the source's cadence allows
    (a stalled feed; expected while backfilling old history)."""
    latest = conn.execute(f"SELECT max(as_of_date) FROM {checked_table(table)}").fetchone()[0]
    age = (today - latest).days if latest else None
    passed = age is not None and age <= max_age_days
    return CheckOutcome("fresh", passed, f"latest publication at most {max_age_days} days old", severity="WARN",
                        metadata={"latest_as_of_date": str(latest), "age_days": age, "max_age_days": max_age_days})


def non_negative(conn: duckdb.DuckDBPyConnection, table: str, non_negative_columns: Sequence[str],
                 positive_columns: Sequence[str], window: Window | None = None) -> CheckOutcome:
    table = checked_table(table)
    where, params = _window_clause(window)
    parts = [f"count(*) FILTER ({checked_column(c)} < 0)" for c in non_negative_columns]
    parts += [f"count(*) FILTER ({checked_column(c)} <= 0)" for c in positive_columns]
    counts = conn.execute(f"SELECT {', '.join(parts)} FROM {table} WHERE {where}", params).fetchone()
    names = [f"{c} < 0" for c in non_negative_columns] + [f"{c} <= 0" for c in positive_columns]
    offenders = {n: int(v) for n, v in zip(names, counts) if v}
    return CheckOutcome("non_negative", not offenders, "quantities >= 0 and prices > 0",
                        metadata={"offending_rows": offenders or "none"})


def bucket_readiness(conn: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], warmup_rows: int) -> CheckOutcome:
    """WARN naming bucket features with no data after warm-up: the bucket still builds, but a
    source behind it is empty (the readiness table, measured instead of guessed)."""
    table = checked_table(table)
    parts = ", ".join(f"count({checked_column(c)})" for c in columns)
    frame_rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    counts = conn.execute(f"SELECT {parts} FROM (SELECT * FROM {table} ORDER BY trade_date OFFSET ?)", [warmup_rows]).fetchone()
    usable = max(frame_rows - warmup_rows, 1)
    coverage = {c: round(n / usable, 3) for c, n in zip(columns, counts)}
    empty = [c for c, share in coverage.items() if share == 0]
    return CheckOutcome("bucket_ready", not empty, "every bucket feature has data after the warm-up", severity="WARN",
                        metadata={"coverage": coverage, "empty_features": ", ".join(empty) or "none"})


def column_coverage(conn: duckdb.DuckDBPyConnection, table: str, column: str, warmup_rows: int, minimum: float,
                    name: str, severity: str = "ERROR") -> CheckOutcome:
    """Share of non-NULL values of one column after the warm-up is at least `minimum`."""
    table, column = checked_table(table), checked_column(column)
    rows, present = conn.execute(
        f"SELECT count(*), count({column}) FROM (SELECT {column} FROM {table} ORDER BY trade_date OFFSET ?)", [warmup_rows]
    ).fetchone()
    share = present / rows if rows else 0.0
    return CheckOutcome(name, share > minimum, f"{column} is non-NULL on more than {minimum:.0%} of rows after warm-up",
                        severity=severity, metadata={"non_null_share": round(share, 4), "rows_checked": int(rows)})


def rolls_adjusted(conn: duckdb.DuckDBPyConnection, root: str = "ZL") -> CheckOutcome:
    """No return of `root`'s front month (and so no target summing them) spans an unadjusted
    roll: wherever the front contract's instrument id changes, the day is a roll whose return
    is one contract's (second-month based) or zeroed, never the gap between two contracts."""
    unadjusted, rolls, undetectable = conn.execute(
        """WITH r AS (
               SELECT trade_date, instrument_id, roll_method, log_return, raw_log_return,
                      lag(instrument_id) OVER (ORDER BY trade_date) AS previous_id
               FROM features.futures_returns WHERE root = ?)
           SELECT count(*) FILTER (instrument_id <> previous_id
                                   AND (roll_method NOT IN ('second_month', 'gap_removed')
                                        OR (abs(log_return - raw_log_return) < 1e-12 AND abs(raw_log_return) > 1e-12))),
                  count(*) FILTER (roll_method IN ('second_month', 'gap_removed')),
                  count(*) FILTER (instrument_id IS NULL)
           FROM r""",
        [root],
    ).fetchone()
    return CheckOutcome(
        "targets_roll_adjusted", unadjusted == 0, f"every change of {root}'s front contract is a roll-adjusted return",
        metadata={"unadjusted_rolls": int(unadjusted), "rolls_adjusted": int(rolls),
                  "rows_without_instrument_id": int(undetectable),
                  "note": "rows without instrument ids (vendor CSVs) are adjusted by open-interest migration or the "
                          "Change column; only instrument ids make an unadjusted roll provable"})


def schema_fingerprint(conn: duckdb.DuckDBPyConnection, table: str) -> str:
    import hashlib

    schema, name = checked_table(table).split(".")
    columns = conn.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                           "ORDER BY column_index", [schema, name]).fetchall()
    return hashlib.sha256(repr(columns).encode()).hexdigest()[:16]


def schema_unchanged(current_schema: str, current_config: str, previous_schema: str | None,
                     previous_config: str | None) -> CheckOutcome:
    """The column schema may change only when the SQL or config that defines it changed."""
    changed = previous_schema is not None and previous_schema != current_schema
    explained = previous_config != current_config
    return CheckOutcome(
        "schema_unchanged", not changed or explained, "the column schema changes only with the SQL or config",
        metadata={"schema_fingerprint": current_schema, "previous_schema_fingerprint": previous_schema or "none",
                  "config_fingerprint": current_config, "previous_config_fingerprint": previous_config or "none"})


def point_in_time(mismatches: dict[str, list[str]], days: Sequence) -> CheckOutcome:
    return CheckOutcome("point_in_time", not mismatches,
                        "features recomputed from raw data truncated at sampled dates equal the full-history rows",
                        metadata={"days_checked": [str(d) for d in days], "mismatches": mismatches or "none"})


# ---------------------------------------------------------------- gates on features.futures_returns
# Corrupted vendor files (an unsigned Change read as signed, a block of flipped signs, rolls left
# in, a price series rescaled mid-way, a stale price carried forward) all leave marks in the
# returns that real markets never show. Each limit below holds on every root and year of the
# real 1959-2009 exports in ../shared/real (see the README's data-fault coverage).
RETURNS_TABLE = "features.futures_returns"
POSITIVE_SHARE_RANGE = (0.35, 0.65)  # real: 0.39-0.60 per root and year
MIN_RETURNS_FOR_BALANCE = 100  # a partial year with fewer non-zero returns is not judged
CHANGE_SIGN_CONFLICT_SHARE = 0.01  # in a year with signed Change, at most 1% of days may disagree
MAX_ABS_DAILY_LOG_MOVE = 0.7  # x2 or /2 in a day, rolls included (real max 0.38: CL, 17 Jan 1991)
MAX_STALE_RUN = 7  # identical settles on consecutive trading days (real max 4)


def returns_sign_agreement(conn: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """On non-roll days the adjusted return has the sign of the settle difference; and in a root-year
    whose vendor Change column is signed (it holds negative values), Change agrees in sign with the
    settle difference (a block of flipped signs is damaged data, whichever column is wrong)."""
    return_conflicts = conn.execute(
        f"SELECT count(*) FROM {RETURNS_TABLE} WHERE roll_method = 'none' AND raw_log_return <> 0 "
        "AND sign(log_return) <> sign(raw_log_return)").fetchone()[0]
    rows = conn.execute(
        f"""WITH r AS (SELECT root, year(trade_date) AS year, roll_method, raw_log_return, vendor_change FROM {RETURNS_TABLE}),
               signed AS (SELECT root, year FROM r GROUP BY root, year HAVING bool_or(vendor_change < 0))
           SELECT root, year, count(*) AS days,
                  count(*) FILTER (sign(vendor_change) <> sign(raw_log_return)) AS conflicts
           FROM r JOIN signed USING (root, year)
           WHERE roll_method = 'none' AND vendor_change <> 0 AND raw_log_return <> 0
           GROUP BY root, year ORDER BY root, year""").fetchall()
    change_conflicts = {f"{root} {year}": f"{conflicts}/{days}" for root, year, days, conflicts in rows
                        if conflicts > CHANGE_SIGN_CONFLICT_SHARE * days}
    return CheckOutcome(
        "returns_sign_agreement", return_conflicts == 0 and not change_conflicts,
        "on non-roll days the adjusted return has the sign of the settle difference, and a signed Change column agrees",
        metadata={"return_sign_conflicts": int(return_conflicts), "change_sign_conflicts_by_root_year": change_conflicts or "none",
                  "max_conflict_share": CHANGE_SIGN_CONFLICT_SHARE})


def returns_balance(conn: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Share of positive daily returns (among non-zero ones) per root and calendar year inside
    [0.35, 0.65]: a Change column misread as signed makes every return positive."""
    low, high = POSITIVE_SHARE_RANGE
    rows = conn.execute(
        f"""SELECT root, year(trade_date) AS year, count(*) AS n, avg(CASE WHEN log_return > 0 THEN 1.0 ELSE 0.0 END) AS share
            FROM {RETURNS_TABLE} WHERE log_return <> 0 GROUP BY root, year HAVING count(*) >= ? ORDER BY root, year""",
        [MIN_RETURNS_FOR_BALANCE]).fetchall()
    offenders = {f"{root} {year}": round(share, 3) for root, year, _, share in rows if not low <= share <= high}
    shares = [share for *_, share in rows]
    return CheckOutcome(
        "returns_balance", not offenders, f"share of positive daily returns per root and year in [{low}, {high}]",
        metadata={"out_of_range": offenders or "none", "root_years_checked": len(rows),
                  "lowest_share": round(min(shares), 3) if shares else None,
                  "highest_share": round(max(shares), 3) if shares else None})


def rolls_per_year(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int, int, int]]:
    """(root, year, rolls as known that day, settled rolls, listed contracts) for every complete
    calendar year of every root (data from the first to the last weeks of the year)."""
    return conn.execute(
        f"""SELECT r.root, year(r.trade_date) AS year, count(*) FILTER (r.is_roll) AS rolls,
                   count(*) FILTER (r.settled_is_roll) AS settled_rolls, any_value(s.contracts_per_year)
            FROM {RETURNS_TABLE} r JOIN features.config_symbols s USING (root)
            GROUP BY r.root, year
            HAVING min(r.trade_date) <= make_date(year, 1, 10) AND max(r.trade_date) >= make_date(year, 12, 20)
            ORDER BY r.root, year""").fetchall()


def roll_frequency(conn: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Detected rolls per complete year (as known that day, and settled) are at least half the
    root's listed contract months and at most twice: too few means roll gaps left in the returns,
    too many means real returns zeroed."""
    rows = rolls_per_year(conn)
    offenders = {f"{root} {year}": f"{rolls} rolls known that day, {settled} settled, {listed} listed months"
                 for root, year, rolls, settled, listed in rows
                 if not (listed / 2 <= rolls <= 2 * listed and listed / 2 <= settled <= 2 * listed)}
    by_root: dict[str, list[int]] = {}
    for root, _, rolls, settled, _ in rows:
        by_root.setdefault(root, []).extend([rolls, settled])
    return CheckOutcome(
        "roll_frequency", not offenders, "rolls per complete year between half and twice the listed contract months",
        metadata={"out_of_range": offenders or "none", "complete_root_years": len(rows),
                  "rolls_per_year_min_max": {root: [min(v), max(v)] for root, v in sorted(by_root.items())} or "none"})


def price_moves_plausible(conn: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """No day's raw settle move (rolls included) exceeds x2 or /2: a series rescaled mid-way
    (cents vs dollars) or a misplaced decimal."""
    rows = conn.execute(
        f"SELECT root, trade_date, raw_log_return FROM {RETURNS_TABLE} WHERE abs(raw_log_return) > ? ORDER BY root, trade_date",
        [MAX_ABS_DAILY_LOG_MOVE]).fetchall()
    return CheckOutcome(
        "price_moves_plausible", not rows, f"no daily settle move beyond a factor of {math.exp(MAX_ABS_DAILY_LOG_MOVE):.1f}",
        metadata={"implausible_moves": len(rows),
                  "first": [f"{root} {day}: log move {move:+.2f}" for root, day, move in rows[:5]] or "none"})


def prices_not_stale(conn: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """No settle repeated on MAX_STALE_RUN or more consecutive trading days: a feed carrying a
    stale price forward."""
    rows = conn.execute(
        f"""WITH r AS (SELECT root, trade_date, close,
                              CASE WHEN close = lag(close) OVER w THEN 0 ELSE 1 END AS starts_run
                       FROM {RETURNS_TABLE} WINDOW w AS (PARTITION BY root ORDER BY trade_date)),
                g AS (SELECT *, sum(starts_run) OVER (PARTITION BY root ORDER BY trade_date) AS run FROM r)
            SELECT root, min(trade_date), max(trade_date), count(*) AS days FROM g
            GROUP BY root, run HAVING count(*) >= ? ORDER BY root, min(trade_date)""",
        [MAX_STALE_RUN]).fetchall()
    return CheckOutcome(
        "prices_not_stale", not rows, f"no settle repeated on {MAX_STALE_RUN} or more consecutive trading days",
        metadata={"stale_runs": len(rows),
                  "first": [f"{root} {start}..{end}: {days} days" for root, start, end, days in rows[:5]] or "none"})


FUTURES_RETURNS_GATES = [
    Check("returns_sign_agreement", "On non-roll days the adjusted return has the sign of the settle difference; a signed "
                                    "vendor Change column agrees with it", returns_sign_agreement),
    Check("returns_balance", "Share of positive daily returns per root and year in [0.35, 0.65]", returns_balance),
    Check("roll_frequency", "Rolls per complete year between half and twice the root's listed contract months", roll_frequency),
    Check("price_moves_plausible", "No daily settle move beyond x2 or /2 (a rescaled series, a misplaced decimal)",
          price_moves_plausible),
    Check("prices_not_stale", "No settle repeated on 7 or more consecutive trading days", prices_not_stale),
]


def futures_returns_gates(conn: duckdb.DuckDBPyConnection) -> list[CheckOutcome]:
    """The blocking gates on features.futures_returns: what stops corrupted vendor returns."""
    return evaluate(FUTURES_RETURNS_GATES, conn)
