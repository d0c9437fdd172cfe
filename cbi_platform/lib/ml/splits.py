"""Time-ordered validation: purged, embargoed, expanding-window walk-forward.

A row's target covers the sessions after it up to its `target_end`. A training row is usable
for a block that starts at session `a` only if its target ended before `a - embargo`: its
outcome was fully known, with a margin, before the block began. No shuffling anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Fold:
    index: int
    train: np.ndarray  # positional indices into the (date-sorted) rows with known targets
    tune: np.ndarray   # latest block of the training window, for early stopping
    test: np.ndarray   # empty for the final fit

    def describe(self, dates: pd.Series) -> dict:
        def span(idx: np.ndarray) -> tuple[str, str] | None:
            return (str(dates.iloc[idx[0]].date()), str(dates.iloc[idx[-1]].date())) if len(idx) else None

        return {"fold": self.index, "train": span(self.train), "tune": span(self.tune), "test": span(self.test),
                "train_rows": int(len(self.train)), "tune_rows": int(len(self.tune)), "test_rows": int(len(self.test))}


def _usable_before(target_end_pos: np.ndarray, start: int, embargo: int, upto: int) -> np.ndarray:
    """Rows before `upto` whose target ended before `start - embargo`."""
    candidates = np.arange(upto)
    return candidates[target_end_pos[:upto] < start - embargo]


def _split_tune(train: np.ndarray, target_end_pos: np.ndarray, tune_fraction: float, embargo: int) -> tuple[np.ndarray, np.ndarray]:
    n_tune = max(1, int(len(train) * tune_fraction))
    tune = train[-n_tune:]
    fit = train[target_end_pos[train] < tune[0] - embargo]
    return fit, tune


def target_end_positions(dates: pd.Series, target_end: pd.Series) -> np.ndarray:
    """Position (session index) of each row's target end among the row dates."""
    positions = np.searchsorted(dates.to_numpy(), target_end.to_numpy(), side="left")
    return positions.astype(int)


def walk_forward(
    dates: pd.Series,
    target_end: pd.Series,
    n_folds: int,
    test_size: int,
    embargo: int,
    tune_fraction: float,
    min_train: int,
) -> list[Fold]:
    """Expanding-window folds over the last `n_folds * test_size` rows (oldest first); folds
    that would train on fewer than `min_train` rows are skipped."""
    n = len(dates)
    end_pos = target_end_positions(dates, target_end)
    folds = []
    for k in range(n_folds):
        start = n - (n_folds - k) * test_size
        stop = start + test_size
        if start <= 0:
            continue
        train = _usable_before(end_pos, start, embargo, start)
        if len(train) < min_train:
            continue
        fit, tune = _split_tune(train, end_pos, tune_fraction, embargo)
        folds.append(Fold(len(folds), fit, tune, np.arange(start, stop)))
    return folds


def final_fit(dates: pd.Series, target_end: pd.Series, embargo: int, tune_fraction: float) -> Fold:
    """All rows with known targets: train on the older part, tune on the latest block."""
    end_pos = target_end_positions(dates, target_end)
    train = np.arange(len(dates))
    fit, tune = _split_tune(train, end_pos, tune_fraction, embargo)
    return Fold(-1, fit, tune, np.array([], dtype=int))
