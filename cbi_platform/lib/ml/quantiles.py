"""Quantile forecasts: the grid, ordering, calibration and scores.

Scores come from `scoringrules` (pinball = quantile score; CRPS approximated from quantiles),
with the pure-numpy backend: no JIT compile on first use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

QUANTILES = (0.05, 0.1, 0.5, 0.9, 0.95)
QCOLS = ("q05", "q10", "q50", "q90", "q95")


def qcol(level: float) -> str:
    return f"q{round(level * 100):02d}"


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


def calibration_shifts(observed: np.ndarray, predicted: np.ndarray, levels=QUANTILES) -> np.ndarray:
    """Conformal (split) recalibration per level: the additive shift c_k such that, on past
    out-of-fold residuals, a fraction `level` of outcomes fall below q_k + c_k. With the
    finite-sample correction of split conformal prediction, rounded outward."""
    observed = np.asarray(observed, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    n = len(observed)
    if n < 20:
        return np.zeros(len(levels))
    residuals = observed[:, None] - predicted
    shifts = []
    for k, level in enumerate(levels):
        # upper quantiles round up and lower ones down, so intervals err on the wide side
        adjusted = min(1.0, level * (n + 1) / n) if level >= 0.5 else max(0.0, (level * (n + 1) - 1) / n)
        shifts.append(np.quantile(residuals[:, k], adjusted, method="higher" if level >= 0.5 else "lower"))
    return np.array(shifts)


def apply_shifts(predicted: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    return sort_quantiles(np.asarray(predicted, dtype=float) + shifts[None, :])


def sequential_calibration(frame: pd.DataFrame, fold_column: str = "fold", target: str = "realised") -> pd.DataFrame:
    """Calibrate each fold's predictions with shifts learnt on the folds before it only, so the
    calibrated out-of-fold predictions stay honest. The first fold is left as predicted."""
    out = frame.copy()
    folds = sorted(frame[fold_column].unique())
    for fold in folds[1:]:
        past = frame[frame[fold_column] < fold]
        shifts = calibration_shifts(past[target].to_numpy(), past[list(QCOLS)].to_numpy())
        mask = frame[fold_column] == fold
        out.loc[mask, list(QCOLS)] = apply_shifts(frame.loc[mask, list(QCOLS)].to_numpy(), shifts)
    return out
