"""Quantile forecasts: the grid, ordering, calibration and scores.

Scores come from `scoringrules` (pinball = quantile score; CRPS approximated from quantiles),
with the pure-numpy backend: no JIT compile on first use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

QUANTILES = (0.05, 0.1, 0.5, 0.9, 0.95)
QCOLS = ("q05", "q10", "q50", "q90", "q95")


def sort_quantiles(values: np.ndarray) -> np.ndarray:
    """Rearrange each row into non-decreasing order (no crossing quantiles)."""
    return np.sort(np.asarray(values, dtype=float), axis=1)


def pinball(observed: np.ndarray, predicted: np.ndarray, levels=QUANTILES) -> np.ndarray:
    """Mean pinball loss per row over the quantile levels."""
    import scoringrules as sr

    observed = np.asarray(observed, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    scores = np.stack(
        [sr.quantile_score(observed, predicted[:, k], level, backend="numpy") for k, level in enumerate(levels)], axis=1
    )
    return np.asarray(scores).mean(axis=1)


def crps(observed: np.ndarray, predicted: np.ndarray, levels=QUANTILES) -> np.ndarray:
    import scoringrules as sr

    return np.asarray(sr.crps_quantile(np.asarray(observed, float), np.asarray(predicted, float),
                                       np.asarray(levels), backend="numpy"))


def coverage(observed: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    observed = np.asarray(observed, dtype=float)
    return float(np.mean((observed >= lower) & (observed <= upper))) if len(observed) else float("nan")


MIN_EFFECTIVE_OUTCOMES = 10
TARGET_COVERAGE = 0.8


def effective_outcomes(rows: int, horizon_days: int) -> float:
    """Forecasts of h-day returns made on consecutive days share most of their outcome: n rows
    hold about n / h independent outcomes."""
    return rows / max(1, horizon_days)


def calibration_scale(observed: np.ndarray, predicted: np.ndarray, horizon_days: int) -> float:
    """Split-conformal interval scaling: the factor s that, applied to every quantile's distance
    from the median, makes the P10-P90 interval cover 80% of past out-of-fold outcomes (with
    the finite-sample correction, rounded outward). One parameter, so it stays stable on few
    outcomes; with fewer than MIN_EFFECTIVE_OUTCOMES independent outcomes it is left at 1:
    there is not enough evidence to move the interval."""
    observed = np.asarray(observed, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    n = len(observed)
    if effective_outcomes(n, horizon_days) < MIN_EFFECTIVE_OUTCOMES:
        return 1.0
    median = predicted[:, 2]
    lower, upper = median - predicted[:, 1], predicted[:, 3] - median
    distance = observed - median
    half_width = np.where(distance < 0, lower, upper)
    score = np.abs(distance) / np.maximum(half_width, 1e-12)
    level = min(1.0, TARGET_COVERAGE * (n + 1) / n)
    return float(np.quantile(score, level, method="higher"))


def apply_scale(predicted: np.ndarray, scale: float) -> np.ndarray:
    predicted = np.asarray(predicted, dtype=float)
    median = predicted[:, 2:3]
    return sort_quantiles(median + scale * (predicted - median))


def resolved_before(fold: np.ndarray, start_fold, horizon_days: int) -> np.ndarray:
    """Rows of earlier folds whose outcome was known before `start_fold`'s first forecast.

    `fold` is in time order, one row per session: the outcome of the row at session p is known
    at the close of p + horizon_days, so the last `horizon_days` rows before a fold (and one
    session of margin) resolve inside it and may not inform it."""
    fold = np.asarray(fold)
    start = int(np.argmax(fold == start_fold))
    mask = np.zeros(len(fold), dtype=bool)
    mask[: max(0, start - horizon_days)] = True
    return mask & (fold < start_fold)


def sequential_calibration(frame: pd.DataFrame, horizon_days: int, fold_column: str = "fold",
                           target: str = "realised") -> pd.DataFrame:
    """Calibrate each fold's predictions with the scale learnt only on earlier outcomes already
    known when the fold begins, so the calibrated out-of-fold predictions stay honest. The
    first fold is left as predicted. Rows must be in time order, one per session."""
    out = frame.copy()
    folds = frame[fold_column].to_numpy()
    for fold in sorted(set(folds))[1:]:
        past = frame[resolved_before(folds, fold, horizon_days)]
        scale = calibration_scale(past[target].to_numpy(), past[list(QCOLS)].to_numpy(), horizon_days)
        mask = folds == fold
        out.loc[mask, list(QCOLS)] = apply_scale(frame.loc[mask, list(QCOLS)].to_numpy(), scale)
    return out


SHORT_HORIZON_COVERAGE = (0.75, 0.88)  # the real-data bench's yardstick for 1w-3m over ten test years


def calibrated_coverage_range(rows: int, horizon_days: int, simulations: int = 2000, seed: int = 0,
                              percentiles: tuple[float, float] = (5.0, 95.0)) -> tuple[float, float]:
    """5th-95th percentile of the P10-P90 coverage that a perfectly calibrated forecaster shows on
    `rows` consecutive daily forecasts of overlapping h-day outcomes (Gaussian random walk): how
    far from 80% a measured coverage may fall by chance alone, overlap included."""
    rng = np.random.default_rng(seed)
    half_width = 1.2815515655446004 * np.sqrt(horizon_days)  # the normal's P90
    rates = np.empty(simulations)
    for k in range(simulations):
        path = np.concatenate([[0.0], np.cumsum(rng.standard_normal(rows + horizon_days))])
        outcomes = path[horizon_days:horizon_days + rows] - path[:rows]
        rates[k] = np.mean(np.abs(outcomes) <= half_width)
    low, high = np.percentile(rates, list(percentiles))
    return float(low), float(high)
