"""The MES hourly model's lifecycle around lib.ml.timeseries, without Dagster: its version (the
panel and the profile's config), its registry row and record (lib/ml/records.py: whether that
version is already stored), its gate against the seasonal-naive benchmark, and the published
forecast of every root."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from cbi_platform.lib import warehouse
from cbi_platform.lib.ml import records, registry
from cbi_platform.lib.ml.timeseries import TimeSeriesConfig, TimeSeriesResult, load_timeseries_config
from cbi_platform.lib.ml.train import data_fingerprint
from cbi_platform.lib.quality import CheckOutcome, quantiles_ordered

NAME = "mes_timeseries"
ASSET = "models/mes_timeseries"
FOCUS = "MES"  # the item the gate judges and the UI shows; the others are there to learn from
GATE = "mes_beats_seasonal_naive"
PREDICTOR_FILE = "predictor.pkl"  # what AutoGluon's TimeSeriesPredictor saves in its directory


@dataclass(frozen=True)
class ModelVersion:
    version: str  # what the registry and the model store name it by
    fingerprint: str  # of the panel alone


def model_version(panel: pd.DataFrame, config: TimeSeriesConfig) -> ModelVersion:
    """Changes with any bar of the panel or any setting of the profile, nothing else."""
    fingerprint = data_fingerprint(panel)
    return ModelVersion(hashlib.sha256(f"mes|{fingerprint}|{config}".encode()).hexdigest()[:12], fingerprint)


def horizon(config: TimeSeriesConfig) -> str:
    return f"{config.prediction_length}h"


def model_dir(root: str | Path, version: ModelVersion) -> str:
    return registry.model_dir(root, ASSET, version.version)


def record_metrics(record: records.Record) -> dict:
    """The metrics a stored version was trained with, so a kept model is gated as when trained."""
    return record.registry_rows[0]["metrics"]


@dataclass(frozen=True)
class Trained:
    result: TimeSeriesResult
    registry_row: dict
    record_url: str


def train_and_record(panel: pd.DataFrame, config: TimeSeriesConfig, version: ModelVersion, store_root: str,
                     data_mode: str) -> Trained:
    """Train the version, publish its predictor to the model store and write its record."""
    from cbi_platform.lib.ml.timeseries import train

    path = model_dir(store_root, version)
    result = train(panel, config, registry.working_dir(path))
    registry.publish(path)
    row = registry_row(result, version, panel, config, path, data_mode)
    return Trained(result, row, records.write(store_root, record(row, result)))


def record(row: dict, result: TimeSeriesResult) -> records.Record:
    return records.Record(ASSET, NAME, row["version"], PREDICTOR_FILE, [row],
                          reports={"leaderboard": result.leaderboard, "mase_by_item": result.item_mase})


def registry_row(result: TimeSeriesResult, version: ModelVersion, panel: pd.DataFrame, config: TimeSeriesConfig,
                 path: str, data_mode: str) -> dict:
    focus = result.item_mase.set_index("item_id")
    return {
        "model_asset": ASSET, "model": NAME, "version": version.version, "horizon": horizon(config),
        "trained_at": registry.now(), "autogluon_version": registry.installed_autogluon_version(),
        "profile": config.profile, "data_fingerprint": version.fingerprint, "train_rows": int(len(panel)),
        "train_end": pd.Timestamp(panel["timestamp"].max()), "path": path, "data_mode": data_mode,
        "metrics": {"best_model": result.best_model, **result.holdout_scores,
                    "mes": focus.loc[FOCUS].to_dict() if FOCUS in focus.index else None},
    }


def gate(metrics: dict, config: TimeSeriesConfig) -> CheckOutcome:
    """From the metrics it was trained with (a kept model is judged exactly as when trained)."""
    focus = metrics.get("mes")
    relative = float(focus[f"relative_{config.eval_metric}"]) if focus else float("nan")
    if not focus:
        text = f"no {FOCUS} forecasts on the holdout windows: {FOCUS} had too few bars to be trained"
    elif relative < 1.0:
        text = f"{FOCUS} relative {config.eval_metric} {relative:.3f} < 1: beats seasonal naive on the holdout windows"
    else:
        text = (f"{FOCUS} relative {config.eval_metric} {relative:.3f} >= 1: no better than seasonal naive on the "
                f"same holdout windows")
    return CheckOutcome(GATE, relative < 1.0, text, metadata={
        "mes_relative_mase": relative, "mes_mase": float(focus[config.eval_metric]) if focus else None,
        "holdout_windows": config.holdout_windows, "window_bars": config.holdout_length})


@dataclass
class Published:
    frame: pd.DataFrame  # item_id, step, bar_time, p10_price.., last_close, as_of, model, model_version, ...
    model: str
    prediction_length: int

    def outcomes(self) -> list[CheckOutcome]:
        focus = self.frame[self.frame["item_id"] == FOCUS]
        return [
            quantiles_ordered(self.frame, ["p10_price", "p50_price", "p90_price"]),
            CheckOutcome("mes_forecast_present", len(focus) == self.prediction_length,
                         f"{FOCUS} forecast for {len(focus)} of {self.prediction_length} steps",
                         metadata={"mes_steps": int(len(focus))}),
        ]

    def focus_table(self, steps: int = 24) -> pd.DataFrame:
        focus = self.frame[self.frame["item_id"] == FOCUS]
        return focus[["step", "bar_time", "p10_price", "p50_price", "p90_price"]].head(steps)


def publish(conn: duckdb.DuckDBPyConnection, config_dir: Path, data_mode: str) -> Published:
    """Forecast the next bars of every root with the latest registered model (its own profile and
    its best model on the holdout) and replace forecasts.mes_predictions with them."""
    from cbi_platform.lib.ml.timeseries import forecast_next, load_predictor

    entry = registry.latest(conn, NAME)[0]
    metrics, profile = conn.execute("SELECT metrics, profile FROM training.model_registry WHERE model = ? AND version = ?",
                                    [NAME, entry.version]).fetchone()
    best = json.loads(metrics)["best_model"]
    config = load_timeseries_config(Path(config_dir), profile)
    panel = conn.execute("SELECT * FROM features.mes_hourly ORDER BY item_id, timestamp").df()
    frame = forecast_next(load_predictor(registry.fetched(entry.path)), panel, config, Path(config_dir), best)
    frame = frame.assign(model=best, model_version=entry.version, data_mode=data_mode,
                         created_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    warehouse.replace_rows(conn, "forecasts.mes_predictions", frame.drop(columns=["q10", "q50", "q90"]))
    return Published(frame, best, config.prediction_length)
