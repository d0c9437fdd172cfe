"""Drift: realised P10-P90 coverage of the live forecasts whose outcome is now known, and the
population stability (PSI) of every feature between the training window and the latest quarter."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

PSI_FLOOR = 1e-4  # a bin share of zero would make a term infinite


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
    from cbi_platform.lib.warehouse import checked_column

    target = checked_column(f"target_{horizon}")  # a safe identifier; a horizon the matrix lacks fails in SQL
    rows = conn.execute(
        f"""WITH latest AS (
                SELECT * FROM forecasts.zl_forecast_archive WHERE horizon = ?
                QUALIFY row_number() OVER (PARTITION BY as_of_date ORDER BY published_at DESC) = 1
            )
            SELECT a.q10, a.q90, m.{target} AS realised
            FROM latest a JOIN features.zl_daily_matrix m ON m.trade_date = a.as_of_date
            WHERE m.{target} IS NOT NULL
            ORDER BY a.as_of_date DESC LIMIT ?""",
        [horizon, window],
    ).fetchall()
    if len(rows) < min_outcomes:
        return Drift(horizon, len(rows), None, band)
    inside = sum(1 for q10, q90, realised in rows if q10 <= realised <= q90)
    return Drift(horizon, len(rows), inside / len(rows), band)


PSI_BINS = 5  # on a quarter (63 rows) 10 bins put an unchanged feature's PSI at 0.17 on average,
# beyond 0.2 three times in ten; 5 bins at 0.07 (0.2: 2.5%, 0.25: 0.9% of unchanged features)


def population_stability(reference: np.ndarray, recent: np.ndarray, bins: int = PSI_BINS) -> float:
    """PSI = sum over bins of (recent share - reference share) * ln(recent share / reference
    share), on the reference's quantile bins (outer bins open-ended; ties merge bins, so a flag
    has two). Missing values are left out of both. Shares are floored at PSI_FLOOR."""
    reference = np.asarray(reference, dtype=float)
    recent = np.asarray(recent, dtype=float)
    reference, recent = reference[np.isfinite(reference)], recent[np.isfinite(recent)]
    if not len(reference) or not len(recent):
        return float("nan")
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    expected = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=len(edges) + 1) / len(reference)
    actual = np.bincount(np.searchsorted(edges, recent, side="right"), minlength=len(edges) + 1) / len(recent)
    expected, actual = np.maximum(expected, PSI_FLOOR), np.maximum(actual, PSI_FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


@dataclass(frozen=True)
class PsiLimits:
    warn: float = 0.2      # the usual "moderate shift" line
    retrain: float = 0.25  # "significant shift"
    # the drift sensor asks for a retrain when more than this share of the judged features
    # shift significantly: one feature in a hundred does by chance alone (see PSI_BINS)
    retrain_share: float = 0.10
    recent_rows: int = 63  # the latest quarter of trading days
    min_rows: int = 20     # fewer non-missing values on either side: not judged


def retrain_requested(drift: pd.DataFrame, limits: PsiLimits = PsiLimits()) -> bool:
    judged = drift[drift["level"] != "insufficient"]
    return bool(len(judged)) and float((judged["level"] == "retrain").mean()) > limits.retrain_share


def feature_drift(matrix: pd.DataFrame, features: list[str], limits: PsiLimits = PsiLimits(),
                  trained_through=None) -> pd.DataFrame:
    """PSI of each feature, largest first: feature, psi, reference_rows, recent_rows, level (ok |
    warn | retrain | insufficient). Reference: the rows the deployed model was trained on (up to
    `trained_through`, else every row before the latest quarter); recent: the latest
    `recent_rows` rows it has not seen. Right after a retrain there are none to judge: a quarter
    of persistent series (rates, volatility) always differs from sixteen years of them, which
    is drift only for a model that has not seen it."""
    frame = matrix.sort_values("trade_date")
    if trained_through is not None:
        seen = pd.to_datetime(frame["trade_date"]) <= pd.Timestamp(trained_through)
        reference, recent = frame[seen.to_numpy()], frame[~seen.to_numpy()].iloc[-limits.recent_rows:]
    else:
        reference, recent = frame.iloc[:-limits.recent_rows], frame.iloc[-limits.recent_rows:]
    rows = []
    for feature in features:
        before, after = reference[feature].to_numpy(dtype=float), recent[feature].to_numpy(dtype=float)
        counts = int(np.isfinite(before).sum()), int(np.isfinite(after).sum())
        psi = population_stability(before, after) if min(counts) >= limits.min_rows else float("nan")
        level = ("insufficient" if np.isnan(psi) else "retrain" if psi > limits.retrain
                 else "warn" if psi > limits.warn else "ok")
        rows.append({"feature": feature, "psi": psi, "reference_rows": counts[0], "recent_rows": counts[1], "level": level})
    frame = pd.DataFrame(rows, columns=["feature", "psi", "reference_rows", "recent_rows", "level"])
    return frame.sort_values("psi", ascending=False, na_position="last").reset_index(drop=True)


def load_psi_limits(config_dir) -> PsiLimits:
    """config/schedules.yaml models.drift.psi (every key optional)."""
    from pathlib import Path

    from cbi_platform.lib.config import ConfigError, load_yaml

    values = (load_yaml(Path(config_dir) / "schedules.yaml").get("models", {}).get("drift", {}) or {}).get("psi") or {}
    known = set(PsiLimits.__dataclass_fields__)
    if set(values) - known:
        raise ConfigError(f"schedules.yaml models.drift.psi: unknown keys {sorted(set(values) - known)}")
    return PsiLimits(**values)


def matrix_feature_drift(conn: duckdb.DuckDBPyConnection, limits: PsiLimits) -> pd.DataFrame:
    """`feature_drift` over every feature column of features.zl_daily_matrix, against what the
    registered main model was trained through (its shortest horizon's last training row)."""
    matrix = conn.execute("SELECT COLUMNS(lambda c: NOT starts_with(c, 'target_')) FROM features.zl_daily_matrix "
                          "ORDER BY trade_date").df()
    trained = conn.execute("""SELECT max(train_end) FROM training.model_registry WHERE model = 'zl_main'
                              AND version = (SELECT version FROM training.model_registry WHERE model = 'zl_main'
                                             ORDER BY trained_at DESC LIMIT 1)""").fetchone()[0]
    return feature_drift(matrix, [c for c in matrix.columns if c != "trade_date"], limits, trained)
