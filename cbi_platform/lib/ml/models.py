"""Quantile models with one interface: fit on a training frame, predict the quantile grid.

- `Climatology`: empirical quantiles of past h-day returns in the training window.
- `VolScaledClimatology`: the same quantiles of returns standardised by the trailing realised
  volatility known at each row, rescaled by the current volatility.
- `AutoGluonQuantile`: AutoGluon `TabularPredictor(problem_type="quantile")` with explicit
  hyperparameters, no bagging (k-fold bagging shuffles rows and would train on the future), and
  the purged latest block as tuning data.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cbi_platform.lib.ml.quantiles import QUANTILES, sort_quantiles

log = logging.getLogger("cbi_platform.ml")
VOL_COLUMN = "zl_vol_63d"


class Climatology:
    kind = "baseline"

    def __init__(self, label: str, horizon_days: int):
        self.label = label
        self.horizon_days = horizon_days
        self.quantiles = np.zeros(len(QUANTILES))

    def state(self) -> dict:
        return {"quantiles": self.quantiles.tolist()}

    def load_state(self, state: dict) -> None:
        self.quantiles = np.array(state["quantiles"])

    def fit(self, train: pd.DataFrame, tune: pd.DataFrame) -> "Climatology":
        values = pd.concat([train[self.label], tune[self.label]]).dropna().to_numpy()
        self.quantiles = np.quantile(values, QUANTILES)
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.tile(self.quantiles, (len(frame), 1))


class VolScaledClimatology:
    kind = "baseline"

    def __init__(self, label: str, horizon_days: int, vol_column: str = VOL_COLUMN):
        self.label = label
        self.horizon_days = horizon_days
        self.scale = math.sqrt(horizon_days / 252.0)
        self.vol_column = vol_column
        self.quantiles = np.zeros(len(QUANTILES))
        self.fallback_vol = 0.0

    def state(self) -> dict:
        return {"quantiles": self.quantiles.tolist(), "fallback_vol": self.fallback_vol, "vol_column": self.vol_column}

    def load_state(self, state: dict) -> None:
        self.quantiles = np.array(state["quantiles"])
        self.fallback_vol = float(state["fallback_vol"])
        self.vol_column = state["vol_column"]

    def _vol(self, frame: pd.DataFrame) -> np.ndarray:
        vol = frame[self.vol_column].to_numpy(dtype=float)
        return np.where(np.isfinite(vol) & (vol > 0), vol, self.fallback_vol)

    def fit(self, train: pd.DataFrame, tune: pd.DataFrame) -> "VolScaledClimatology":
        both = pd.concat([train, tune])
        vols = both[self.vol_column].to_numpy(dtype=float)
        self.fallback_vol = float(np.nanmedian(vols[vols > 0])) if np.any(vols > 0) else 0.2
        z = both[self.label].to_numpy(dtype=float) / (self._vol(both) * self.scale)
        self.quantiles = np.quantile(z[np.isfinite(z)], QUANTILES)
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return (self._vol(frame) * self.scale)[:, None] * self.quantiles[None, :]


@dataclass
class AutoGluonQuantile:
    label: str
    features: list[str]
    hyperparameters: dict[str, Any]
    path: Path
    time_limit: float | None = None
    kind: str = "autogluon"
    predictor: Any = field(default=None, repr=False)

    def fit(self, train: pd.DataFrame, tune: pd.DataFrame) -> "AutoGluonQuantile":
        from autogluon.tabular import TabularPredictor  # heavy: imported only when training

        columns = self.features + [self.label]
        self.predictor = TabularPredictor(
            label=self.label,
            problem_type="quantile",
            quantile_levels=list(QUANTILES),
            eval_metric="pinball_loss",
            path=str(self.path),
            verbosity=0,
        ).fit(
            train[columns],
            tuning_data=tune[columns],
            hyperparameters=self.hyperparameters,
            num_bag_folds=0,
            num_stack_levels=0,
            fit_weighted_ensemble=len(self.hyperparameters) > 1,
            time_limit=self.time_limit,
            ag_args_fit={"num_cpus": 2},
        )
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        predicted = self.predictor.predict(frame[self.features])
        return sort_quantiles(predicted[list(QUANTILES)].to_numpy())

    def leaderboard(self, tune: pd.DataFrame) -> pd.DataFrame:
        board = self.predictor.leaderboard(tune[self.features + [self.label]], silent=True)
        return board[["model", "score_test", "score_val", "fit_time", "pred_time_val"]].rename(
            columns={"score_test": "tune_pinball", "score_val": "val_score"}
        )

    def feature_importance(self, tune: pd.DataFrame, rows: int = 500) -> pd.DataFrame:
        importance = self.predictor.feature_importance(
            tune[self.features + [self.label]], subsample_size=min(rows, len(tune)), num_shuffle_sets=1, silent=True
        )
        return importance[["importance"]].reset_index(names="feature")

    @staticmethod
    def autogluon_version() -> str:
        from autogluon.tabular import __version__

        return __version__
