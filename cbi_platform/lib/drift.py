"""Forecast drift: realised P10-P90 coverage of the live forecasts whose outcome is now known."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Drift:
    horizon: str
    outcomes: int
    coverage: float | None
    band: tuple[float, float]

    @property
    def drifting(self) -> bool:
        return self.coverage is not None and not self.band[0] <= self.coverage <= self.band[1]


def realised_coverage(conn: duckdb.DuckDBPyConnection, horizon: str, window: int, min_outcomes: int,
                      band: tuple[float, float]) -> Drift:
    """Coverage over the latest `window` archived live forecasts at `horizon` with a known outcome
    (one per as_of_date: the latest published version)."""
    if horizon not in ("1w", "1m", "3m", "6m"):
        raise ValueError(f"unknown horizon {horizon!r}")
    rows = conn.execute(
        f"""WITH latest AS (
                SELECT * FROM forecasts.zl_forecast_archive WHERE horizon = ?
                QUALIFY row_number() OVER (PARTITION BY as_of_date ORDER BY published_at DESC) = 1
            )
            SELECT a.q10, a.q90, m.target_{horizon} AS realised
            FROM latest a JOIN features.zl_daily_matrix m ON m.trade_date = a.as_of_date
            WHERE m.target_{horizon} IS NOT NULL
            ORDER BY a.as_of_date DESC LIMIT ?""",
        [horizon, window],
    ).fetchall()
    if len(rows) < min_outcomes:
        return Drift(horizon, len(rows), None, band)
    inside = sum(1 for q10, q90, realised in rows if q10 <= realised <= q90)
    return Drift(horizon, len(rows), inside / len(rows), band)
