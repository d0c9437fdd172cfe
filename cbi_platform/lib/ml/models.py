"""Quantile models with one interface: fit on a training frame, predict the quantile grid.

- `Climatology`: empirical quantiles of past h-day returns in the training window.
- `VolScaledClimatology`: the same quantiles of returns standardised by the trailing realised
  volatility known at each row, rescaled by the current volatility.
- `RandomWalk`: the volatility-scaled spread centred on a zero drift: futures prices are close
  to martingales, and a training window's average trend is mostly noise that, at long horizons,
  shifts every interval.
- `ShrunkLinear`: a heavily shrunk ridge regression of the volatility-standardised return on
  standardised features, with the empirical quantiles of its residuals. Trees need far more
  independent samples than overlapping monthly targets give to find a weak additive signal; a
  shrunk linear model is the classic, sample-efficient way to catch one without overfitting.
- `AutoGluonQuantile`: AutoGluon `TabularPredictor(problem_type="quantile")` with explicit
  hyperparameters, no bagging (k-fold bagging shuffles rows and would train on the future), and
  the purged latest block as tuning data.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from cbi_platform.lib.ml.quantiles import QUANTILES, pinball, sort_quantiles

CPUS_ENV = "CBI_TRAINING_CPUS"
# AutoGluon's hyperparameter keys and the name each trained model of that family gets on the
# leaderboard (LightGBM, LightGBM_2, ... for a list of GBM configurations). A config's ag_args
# name_suffix (LightGBMXT) makes a name no family is counted under: the profiles set none.
MODEL_FAMILIES = {"GBM": "LightGBM", "CAT": "CatBoost", "XGB": "XGBoost", "XT": "ExtraTrees", "RF": "RandomForest",
                  "NN_TORCH": "NeuralNetTorch", "FASTAI": "NeuralNetFastAI", "KNN": "KNeighbors", "LR": "LinearModel"}


def _trained(model_names: list[str], prefix: str) -> int:
    """Leaderboard names of one family: LightGBM, LightGBM_2, ... (not LightGBMXT)."""
    return sum(1 for name in model_names
               if name == prefix or (name.startswith(f"{prefix}_") and name[len(prefix) + 1:].isdigit()))


def families_missing(model_names: list[str], hyperparameters: dict[str, Any]) -> dict[str, int]:
    """How many configurations of each family listed in `hyperparameters` did not train (AutoGluon
    skips a family that runs out of time, lacks its package or cannot do quantiles, and says so
    only in its own log)."""
    missing = {}
    for key, configs in hyperparameters.items():
        wanted = len(configs) if isinstance(configs, list) else 1
        trained = _trained(model_names, MODEL_FAMILIES.get(key, key))
        if trained < wanted:
            missing[key] = wanted - trained
    return missing


def tabular_predictor():
    """AutoGluon's TabularPredictor, with the environment it records read once per process.

    Each save and each load of a predictor lists every installed distribution (importlib.metadata,
    about 500 here) for its `metadata.json`: 0.65 s of a 1.5 s fast-profile fit, most of a
    load. The installed packages do not change while a process runs, so they are listed once; each
    caller gets its own copy of the same dict, and the file AutoGluon writes is unchanged."""
    import copy
    import functools

    from autogluon.tabular import TabularPredictor  # heavy: imported only when a model is fitted or loaded
    from autogluon.tabular.predictor import predictor as predictor_module

    if not getattr(predictor_module.get_autogluon_metadata, "read_once", False):
        listed = functools.cache(predictor_module.get_autogluon_metadata)

        def get_autogluon_metadata() -> dict:
            return copy.deepcopy(listed())

        get_autogluon_metadata.read_once = True
        predictor_module.get_autogluon_metadata = get_autogluon_metadata
    return TabularPredictor


def training_cpus() -> int | None:
    """The cores one AutoGluon tabular fit may use: CBI_TRAINING_CPUS where a step shares its
    machine (a Dask worker's share of the host, a pod's CPU limit: threads beyond it only contend),
    else None: AutoGluon's choice, every core it sees. Not part of a model's version: results do
    not depend on it beyond floating-point noise."""
    configured = os.environ.get(CPUS_ENV, "").strip()
    if not configured:
        return None
    try:
        cores = int(configured)
    except ValueError:
        cores = 0
    if cores < 1:
        raise ValueError(f"{CPUS_ENV}={configured!r}: a whole number of cores, at least 1")
    return cores


def fit_resources() -> dict:
    """AutoGluon's ag_args_fit for the cores above (none: AutoGluon decides)."""
    cores = training_cpus()
    return {} if cores is None else {"num_cpus": cores}


class QuantileModel(Protocol):
    """What every ZL member shares, and all the walk-forward, the registry and publication use."""

    kind: str  # "statistical": parameters in the manifest (state); "autogluon": saved under its own path
    label: str  # the target column, target_<horizon>

    def fit(self, train: pd.DataFrame, tune: pd.DataFrame) -> "QuantileModel":
        """Learn from `train`; `tune` (the purged latest block) early-stops or picks shrinkage."""

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """(rows, len(QUANTILES)) forecasts of the label, non-decreasing along each row."""
VOL_COLUMN = "zl_vol_63d"


class Climatology:
    kind = "statistical"

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
    kind = "statistical"

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
        z = z[np.isfinite(z)]
        self.quantiles = np.quantile(z, QUANTILES) - self._drift(z)
        return self

    def _drift(self, standardised: np.ndarray) -> float:
        """The part of the standardised returns' location not kept in the forecast: none."""
        return 0.0

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return (self._vol(frame) * self.scale)[:, None] * self.quantiles[None, :]


class RandomWalk(VolScaledClimatology):
    """A driftless random walk: the standardised quantiles of `VolScaledClimatology` shifted so
    their mean is zero. The training window's mean return is a noisy drift estimate whose error
    grows with the horizon h while the spread grows with sqrt(h): on real ZL, the 1990s'
    falling prices centred every 6-month forecast of the 2000s below zero."""

    def _drift(self, standardised: np.ndarray) -> float:
        return float(np.mean(standardised))


# The baselines in models/zl_baselines, by member name: forecast, scored and ensembled like any model.
BASELINES = {"climatology": Climatology, "vol_climatology": VolScaledClimatology, "random_walk": RandomWalk}


class ShrunkLinear:
    """Ridge on standardised features for the volatility-standardised return; the penalty is
    chosen from `shrinkage_grid` on the purged tuning block (the latest rows of the training
    window), then the model is refit on train + tune with it."""

    kind = "statistical"
    CLIP = 5.0  # standardised features beyond +-5 sd are clipped: one outlier must not steer the fit

    def __init__(self, label: str, horizon_days: int, features: list[str] | None = None,
                 shrinkage_grid: tuple[float, ...] = (1.0,), vol_column: str = VOL_COLUMN):
        self.label = label
        self.horizon_days = horizon_days
        self.scale = math.sqrt(horizon_days / 252.0)
        self.features = list(features or [])
        self.shrinkage_grid = tuple(float(g) for g in shrinkage_grid)
        self.shrinkage = self.shrinkage_grid[0]  # ridge penalty per training row on standardised features
        self.vol_column = vol_column
        self.mean = np.zeros(len(self.features))
        self.sd = np.ones(len(self.features))
        self.coef = np.zeros(len(self.features))
        self.intercept = 0.0
        self.residual_quantiles = np.zeros(len(QUANTILES))
        self.fallback_vol = 0.0
        self.tuning_scores: dict[float, float] = {}

    def state(self) -> dict:
        return {"features": self.features, "shrinkage": self.shrinkage, "vol_column": self.vol_column,
                "mean": self.mean.tolist(), "sd": self.sd.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept, "residual_quantiles": self.residual_quantiles.tolist(),
                "fallback_vol": self.fallback_vol, "tuning_scores": {str(k): v for k, v in self.tuning_scores.items()}}

    def load_state(self, state: dict) -> None:
        self.features, self.shrinkage, self.vol_column = list(state["features"]), float(state["shrinkage"]), state["vol_column"]
        self.mean, self.sd, self.coef = (np.array(state[k], dtype=float) for k in ("mean", "sd", "coef"))
        self.intercept = float(state["intercept"])
        self.residual_quantiles = np.array(state["residual_quantiles"], dtype=float)
        self.fallback_vol = float(state["fallback_vol"])
        self.tuning_scores = {float(k): float(v) for k, v in state.get("tuning_scores", {}).items()}

    def _vol(self, frame: pd.DataFrame) -> np.ndarray:
        vol = frame[self.vol_column].to_numpy(dtype=float) * self.scale
        return np.where(np.isfinite(vol) & (vol > 0), vol, self.fallback_vol * self.scale)

    def _design(self, frame: pd.DataFrame) -> np.ndarray:
        raw = frame[self.features].to_numpy(dtype=float)
        z = (raw - self.mean) / self.sd
        # a missing feature sits at its training mean: it then contributes nothing
        return np.clip(np.where(np.isfinite(z), z, 0.0), -self.CLIP, self.CLIP)

    def _fit(self, frame: pd.DataFrame, shrinkage: float) -> None:
        vols = frame[self.vol_column].to_numpy(dtype=float)
        self.fallback_vol = float(np.nanmedian(vols[vols > 0])) if np.any(vols > 0) else 0.2
        target = frame[self.label].to_numpy(dtype=float) / self._vol(frame)
        ok = np.isfinite(target)
        raw = frame[self.features].to_numpy(dtype=float)[ok]
        finite = np.isfinite(raw)
        count = np.maximum(finite.sum(axis=0), 1)
        self.mean = np.where(finite, raw, 0.0).sum(axis=0) / count
        sd = np.sqrt((np.where(finite, raw - self.mean, 0.0) ** 2).sum(axis=0) / count)
        # a feature never observed in the window (or constant) gets weight zero, not a division by zero
        self.sd = np.where(sd > 0, sd, 1.0)
        x, y = self._design(frame[ok]), target[ok]
        centre = x.mean(axis=0)
        centred = x - centre
        gram = centred.T @ centred + shrinkage * len(y) * np.eye(x.shape[1])
        self.coef = np.linalg.solve(gram, centred.T @ (y - y.mean())) if x.shape[1] else np.zeros(0)
        self.intercept = float(y.mean() - centre @ self.coef)
        self.residual_quantiles = np.quantile(y - (x @ self.coef + self.intercept), QUANTILES)
        self.shrinkage = shrinkage

    def fit(self, train: pd.DataFrame, tune: pd.DataFrame) -> "ShrunkLinear":

        scored = tune[np.isfinite(tune[self.label].to_numpy(dtype=float))]
        if len(self.shrinkage_grid) > 1 and len(scored):
            for shrinkage in self.shrinkage_grid:
                self._fit(train, shrinkage)
                self.tuning_scores[shrinkage] = float(pinball(scored[self.label].to_numpy(dtype=float),
                                                              self.predict(scored)).mean())
            chosen = min(self.tuning_scores, key=self.tuning_scores.get)
        else:
            chosen = self.shrinkage_grid[0]
        self._fit(pd.concat([train, tune]), chosen)
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        location = self._design(frame) @ self.coef + self.intercept
        return self._vol(frame)[:, None] * (location[:, None] + self.residual_quantiles[None, :])


@dataclass
class AutoGluonQuantile:
    label: str
    features: list[str]
    hyperparameters: dict[str, Any]
    path: Path
    time_limit: float | None = None
    kind: str = "autogluon"
    predictor: Any = field(default=None, repr=False)
    families_missing: dict[str, int] = field(default_factory=dict)

    def fit(self, train: pd.DataFrame, tune: pd.DataFrame) -> "AutoGluonQuantile":
        columns = self.features + [self.label]
        self.predictor = tabular_predictor()(
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
            ag_args_fit=fit_resources(),
        )
        # recorded, not logged: the walk-forward reports it once over all its fits
        self.families_missing = families_missing(self.predictor.model_names(), self.hyperparameters)
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
