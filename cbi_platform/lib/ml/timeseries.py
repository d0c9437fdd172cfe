"""The MES hourly forecaster: one AutoGluon TimeSeriesPredictor across every futures root.

Bars are trading hours, not clock hours: weekends, holidays and the daily maintenance break have
no bars. The predictor sees each item's bars as a regular hourly sequence (a synthetic clock);
the real bar times stay in the data as calendar covariates, and forecasts are mapped back to the
real next trading hours of each root. The last `holdout_windows` windows of `holdout_length` bars
of every item are never trained on: each is forecast from the bars before it (rolling origin,
no refit) and scored; the holdout window must be exactly `prediction_length` long (a mismatch
once let scores mix horizons), so a mismatch is a configuration error.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cbi_platform.lib.calendar import bar_hours, template_sessions
from cbi_platform.lib.config import load_sources, load_yaml
from cbi_platform.lib.garbage import existing_objects_frozen
from cbi_platform.lib.parallel import joblib_workers_released

log = logging.getLogger("cbi_platform.ml.timeseries")
KNOWN_COVARIATES = ["hour_utc", "day_of_week_utc", "month_start", "month_end"]
NOT_COVARIATES = {"item_id", "timestamp", "trade_date", "target", "close"}
SYNTHETIC_START = pd.Timestamp("2000-01-03")
UNAVAILABLE_IN_AUTOGLUON_1_6 = ("MQRNN", "MQCNN", "MQF2", "Transformer")
# The benchmark every profile trains: MASE's own yardstick, scored on the same holdout windows.
# MASE's usual in-sample scale drifts with the volatility regime (a stressed holdout inflates
# every model's MASE); the ratio to the benchmark on the same windows does not.
BENCHMARK = "SeasonalNaive"


class HoldoutMismatch(ValueError):
    pass


@dataclass(frozen=True)
class TimeSeriesConfig:
    profile: str
    prediction_length: int
    holdout_length: int
    holdout_windows: int
    eval_metric: str
    quantiles: tuple[float, ...]
    history_bars: int
    models: tuple[str, ...]
    foundation_paths: dict[str, str]
    time_limit: float | None

    def check_holdout(self) -> None:
        if self.holdout_length != self.prediction_length:
            raise HoldoutMismatch(
                f"timeseries holdout_length ({self.holdout_length}) must equal prediction_length "
                f"({self.prediction_length}): scores over a longer or shorter window mix horizons"
            )

    def hyperparameters(self) -> tuple[dict[str, Any], list[str]]:
        """AutoGluon hyperparameters for the profile's models, and the log lines of foundation
        models skipped for want of local weights."""
        chosen, skipped = {}, []
        for name in self.models:
            if name in self.foundation_paths:
                path = self.foundation_paths[name]
                if not path or not Path(path).exists():
                    skipped.append(f"skipping {name}: no local model_path configured (weights cannot be downloaded here); "
                                   f"set it in config/training.yaml or its environment variable")
                    continue
                chosen[name] = {"model_path": path}
            else:
                chosen[name] = {}
        return chosen, skipped


def load_timeseries_config(config_dir: Path, profile: str) -> TimeSeriesConfig:
    data = load_yaml(Path(config_dir) / "training.yaml")["timeseries"]
    if profile not in data["profiles"]:
        raise ValueError(f"unknown timeseries profile {profile!r}; choose one of {', '.join(data['profiles'])}")
    chosen = data["profiles"][profile]
    foundation = {name: os.environ.get(spec.get("env", ""), "") or spec.get("model_path", "")
                  for name, spec in data.get("foundation_models", {}).items()}
    unknown = set(chosen["models"]) & set(UNAVAILABLE_IN_AUTOGLUON_1_6)
    if unknown:
        raise ValueError(f"models {sorted(unknown)} do not exist in AutoGluon 1.6")
    return TimeSeriesConfig(
        profile=profile,
        prediction_length=int(data["prediction_length"]),
        holdout_length=int(data["holdout_length"]),
        holdout_windows=int(data.get("holdout_windows", 1)),
        eval_metric=str(data["eval_metric"]),
        quantiles=tuple(float(q) for q in data["quantiles"]),
        history_bars=int(data["history_bars"]),
        models=tuple(chosen["models"]),
        foundation_paths=foundation,
        time_limit=chosen.get("time_limit"),
    )


def regular_frame(panel: pd.DataFrame, history_bars: int) -> pd.DataFrame:
    """The latest `history_bars` bars of each item on a synthetic regular hourly clock."""
    panel = panel.sort_values(["item_id", "timestamp"])
    panel = panel.groupby("item_id", group_keys=False).tail(history_bars).copy()
    step = panel.groupby("item_id").cumcount()
    panel["real_timestamp"] = panel["timestamp"]
    panel["timestamp"] = SYNTHETIC_START + pd.to_timedelta(step, unit="h")
    columns = ["item_id", "timestamp", "target", *KNOWN_COVARIATES,
               *[c for c in panel.columns if c not in NOT_COVARIATES | set(KNOWN_COVARIATES) | {"real_timestamp"}]]
    frame = panel[columns].copy()
    numeric = [c for c in columns if c not in ("item_id", "timestamp")]
    frame[numeric] = frame[numeric].astype(float).groupby(frame["item_id"]).ffill().fillna(0.0)
    return frame.assign(real_timestamp=panel["real_timestamp"].to_numpy())


def future_bar_times(last_bar: pd.Timestamp, session_template: str, count: int) -> list[pd.Timestamp]:
    """The next `count` real trading-hour bars after `last_bar` for a session template (on its own
    trading dates: no grain bars on the grain markets' holidays)."""
    days = template_sessions(session_template)
    start = np.searchsorted(days, np.datetime64(pd.Timestamp(last_bar).date(), "D"), side="left")
    out: list[pd.Timestamp] = []
    for day in days[start:]:
        for hour in bar_hours(day.astype(object), session_template):
            if hour.tz_localize(None) > pd.Timestamp(last_bar):
                out.append(hour.tz_localize(None))
                if len(out) == count:
                    return out
    raise ValueError("the trading calendar ends before the forecast horizon")


def future_covariates(frame: pd.DataFrame, templates: dict[str, str], prediction_length: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Known covariates for the next bars of each item (synthetic clock) and the real times."""
    rows, real = [], []
    for item, part in frame.groupby("item_id"):
        last_synthetic, last_real = part["timestamp"].iloc[-1], part["real_timestamp"].iloc[-1]
        times = future_bar_times(last_real, templates.get(item, "globex"), prediction_length)
        for k, when in enumerate(times, start=1):
            synthetic = last_synthetic + pd.Timedelta(hours=k)
            rows.append({"item_id": item, "timestamp": synthetic, "hour_utc": when.hour, "day_of_week_utc": when.isoweekday(),
                         "month_start": int(when.day <= 3), "month_end": int(when.day >= when.days_in_month - 2)})
            real.append({"item_id": item, "timestamp": synthetic, "bar_time": when, "step": k})
    return pd.DataFrame(rows), pd.DataFrame(real)


@dataclass
class TimeSeriesResult:
    leaderboard: pd.DataFrame  # per model: mean holdout MASE and WQL over the windows, fit time
    holdout_scores: dict[str, float]  # the chosen model's mean MASE / WQL over the windows
    item_mase: pd.DataFrame  # item_id, MASE and relative MASE (vs seasonal naive, same windows) of the chosen model
    skipped: list[str]
    best_model: str
    predictor: Any = field(repr=False, default=None)


def _ts_frame(frame: pd.DataFrame):
    from autogluon.timeseries import TimeSeriesDataFrame

    return TimeSeriesDataFrame.from_data_frame(frame.drop(columns=["real_timestamp"], errors="ignore"),
                                               id_column="item_id", timestamp_column="timestamp")


def seasonal_scale(train: pd.DataFrame, season: int = 24) -> pd.Series:
    """MASE denominator per item: mean absolute seasonal-naive error in the training data."""
    def scale(part: pd.Series) -> float:
        values = part.to_numpy()
        return float(np.mean(np.abs(values[season:] - values[:-season]))) if len(values) > season else float("nan")
    return train.groupby("item_id")["target"].apply(scale)


@joblib_workers_released
@existing_objects_frozen
def train(panel: pd.DataFrame, config: TimeSeriesConfig, path: Path) -> TimeSeriesResult:
    from autogluon.timeseries import TimeSeriesDataFrame, TimeSeriesPredictor

    config.check_holdout()
    hyperparameters, skipped = config.hyperparameters()
    if BENCHMARK not in hyperparameters:
        raise ValueError(f"timeseries profile {config.profile} must train the {BENCHMARK} benchmark")
    for line in skipped:
        log.info(line)
    horizon, windows = config.prediction_length, config.holdout_windows
    frame = regular_frame(panel, config.history_bars)
    lengths = frame.groupby("item_id").size()
    needed = (windows + 3) * horizon  # the holdout windows plus enough history to fit and validate
    frame = frame[frame["item_id"].isin(lengths[lengths > needed].index)].reset_index(drop=True)
    if frame.empty:
        raise ValueError(f"features/mes_hourly is too short: every item has at most {int(lengths.max()) if len(lengths) else 0} "
                         f"bars, training needs more than {needed} (ingest more hourly partitions)")
    position = frame.groupby("item_id").cumcount(ascending=False)  # 0 = the latest bar
    train_frame = frame[position >= windows * horizon]
    predictor = TimeSeriesPredictor(
        prediction_length=horizon, target="target", eval_metric=config.eval_metric, freq="h",
        quantile_levels=list(config.quantiles), known_covariates_names=KNOWN_COVARIATES, path=str(path), verbosity=0,
    ).fit(_ts_frame(train_frame), hyperparameters=hyperparameters, time_limit=config.time_limit,
          enable_ensemble=len(hyperparameters) > 1, random_seed=0)
    scale = seasonal_scale(train_frame)
    boards, windows_seen = [], []
    for w in range(windows):
        newest = (windows - 1 - w) * horizon  # bars after this window
        visible = frame[position >= newest]
        board = predictor.leaderboard(_ts_frame(visible), extra_metrics=["WQL"])
        boards.append(board.set_index("model")[["score_test", "WQL", "fit_time_marginal"]])
        windows_seen.append(visible)
    averaged = sum(boards) / windows
    leaderboard = pd.DataFrame({
        "model": averaged.index,
        f"holdout_{config.eval_metric}": -averaged["score_test"].to_numpy(),
        "holdout_WQL": -averaged["WQL"].to_numpy(),
        "fit_time_s": averaged["fit_time_marginal"].to_numpy(),
    }).sort_values(f"holdout_{config.eval_metric}", kind="stable").reset_index(drop=True)
    # the model that forecasts is the one the user sees score best on the held-out windows (not
    # AutoGluon's pick on its own validation window); with a handful of candidates the selection
    # makes its holdout score slightly optimistic
    best = str(leaderboard["model"].iloc[0])
    errors = []
    for visible in windows_seen:
        window = visible.groupby("item_id", group_keys=False).tail(horizon)
        context = visible.drop(window.index)
        known = TimeSeriesDataFrame.from_data_frame(window[["item_id", "timestamp", *KNOWN_COVARIATES]])
        merged = window[["item_id", "timestamp", "target"]]
        for model, column in ((best, "abs_error"), (BENCHMARK, "benchmark_abs_error")):
            predicted = predictor.predict(_ts_frame(context), known_covariates=known, model=model).reset_index()
            predicted = predicted.rename(columns={"0.5": f"median_{column}"})[["item_id", "timestamp", f"median_{column}"]]
            merged = merged.merge(predicted, on=["item_id", "timestamp"])
            merged[column] = (merged["target"] - merged[f"median_{column}"]).abs()
        errors.append(merged)
    error_frame = pd.concat(errors, ignore_index=True)
    by_item = error_frame.groupby("item_id")[["abs_error", "benchmark_abs_error"]].mean()
    item_mase = pd.DataFrame({
        config.eval_metric: by_item["abs_error"] / scale.reindex(by_item.index),
        f"relative_{config.eval_metric}": by_item["abs_error"] / by_item["benchmark_abs_error"],
    }).reset_index()
    chosen = leaderboard.set_index("model").loc[best]
    holdout = {config.eval_metric: float(chosen[f"holdout_{config.eval_metric}"]), "WQL": float(chosen["holdout_WQL"])}

    return TimeSeriesResult(leaderboard, holdout, item_mase, skipped, best, predictor)


def load_predictor(path: Path):
    from autogluon.timeseries import TimeSeriesPredictor

    return TimeSeriesPredictor.load(str(path))


@joblib_workers_released
def forecast_next(predictor, panel: pd.DataFrame, config: TimeSeriesConfig, config_dir: Path, model: str) -> pd.DataFrame:
    """Forecast the next `prediction_length` trading-hour bars of every item from the latest data:
    item_id, step, bar_time (real UTC bar start), q.. (log price), p.._price, last_close."""
    from autogluon.timeseries import TimeSeriesDataFrame

    frame = regular_frame(panel, config.history_bars)
    templates = {s.root: s.session for s in load_sources(config_dir).symbols}
    known, real = future_covariates(frame, templates, config.prediction_length)
    predicted = predictor.predict(_ts_frame(frame), known_covariates=TimeSeriesDataFrame.from_data_frame(known),
                                  model=model).reset_index()
    predicted = predicted.merge(real, on=["item_id", "timestamp"])
    last = panel.sort_values("timestamp").groupby("item_id")[["close", "target", "timestamp"]].last()
    offset = np.log(last["close"]) - last["target"]  # undo the forward roll adjustment
    out = pd.DataFrame({"item_id": predicted["item_id"], "step": predicted["step"], "bar_time": predicted["bar_time"]})
    for q in config.quantiles:
        name = f"q{round(q * 100):02d}"
        out[name] = predicted[str(q)].to_numpy()
        out[f"p{round(q * 100):02d}_price"] = np.exp(out[name] + out["item_id"].map(offset))
    out["last_close"] = out["item_id"].map(last["close"])
    out["as_of"] = out["item_id"].map(last["timestamp"])
    return out
