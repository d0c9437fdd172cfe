"""A quantile member's lifecycle (zl_main, the bucket specialists, zl_linear, the baselines), in
plain Python: its version, the walk-forward of every horizon (lib/ml/train.py), the final models
saved and published, its record (registry rows, out-of-fold predictions: lib/ml/records.py) and
the figures shown in the UI. Nothing here opens the warehouse."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cbi_platform.lib.garbage import existing_objects_frozen
from cbi_platform.lib.ml import records, registry
from cbi_platform.lib.ml.models import QuantileModel
from cbi_platform.lib.ml.quantiles import QCOLS, coverage, pinball, sequential_calibration
from cbi_platform.lib.ml.train import TARGET_PREFIX, HorizonResult, TrainingConfig, data_fingerprint, train_horizon

ModelFactory = Callable[[str, int, Path], QuantileModel]  # (label, horizon_days, path) -> an unfitted model


@dataclass
class ModelRun:
    model_asset: str
    model_name: str
    version: str
    data_fingerprint: str
    results: dict[str, HorizonResult]
    oof: pd.DataFrame
    registry_rows: list[dict]
    metrics: dict[str, dict]
    leaderboards: dict[str, pd.DataFrame] = field(default_factory=dict)
    importances: dict[str, pd.DataFrame] = field(default_factory=dict)


def horizon_metrics(oof: pd.DataFrame, horizon_days: int) -> dict:
    if oof.empty:
        return {"oof_rows": 0}
    predicted = oof[list(QCOLS)].to_numpy()
    calibrated = sequential_calibration(oof, horizon_days)
    later = calibrated[calibrated["fold"] > calibrated["fold"].min()]
    return {
        "oof_rows": int(len(oof)),
        "oof_start": str(pd.Timestamp(oof["as_of_date"].min()).date()),
        "oof_pinball": float(pinball(oof["realised"], predicted).mean()),
        "coverage_p10_p90_raw": coverage(oof["realised"], oof["q10"], oof["q90"]),
        "coverage_p10_p90_calibrated": coverage(later["realised"], later["q10"], later["q90"]) if len(later) else None,
    }


def model_version(matrix: pd.DataFrame, model_name: str, features: list[str], config: TrainingConfig) -> tuple[str, str]:
    """(version, data fingerprint): the same training data, features and config give the same
    version, so an unchanged model is recognised and not retrained. Only rows with a known outcome
    at some horizon are fingerprinted: training sees no other row, and today's row (new news, a
    late macro print) changes what the model is asked, not what it learned."""
    targets = [c for c in matrix.columns if c.startswith(TARGET_PREFIX)]
    trained_on = matrix[targets].notna().any(axis=1)
    fingerprint = data_fingerprint(matrix.loc[trained_on, ["trade_date", *features, *targets]])
    version = hashlib.sha256(f"{model_name}|{fingerprint}|{config.fingerprint()}|{sorted(features)}".encode()).hexdigest()[:12]
    return version, fingerprint


@existing_objects_frozen
def fit_model(
    matrix: pd.DataFrame,
    *,
    model_name: str,
    model_asset: str,
    features: list[str],
    make_model: ModelFactory,
    config: TrainingConfig,
    store_root: str | Path,
    data_mode: str,
    explain: bool = True,
) -> ModelRun:
    version, fingerprint = model_version(matrix, model_name, features, config)
    results, oof_parts, registry_rows, metrics = {}, [], [], {}
    leaderboards, importances = {}, {}
    for horizon, days in config.horizons.items():
        path = registry.model_dir(store_root, model_asset, version, horizon)
        working = registry.working_dir(path)
        result = train_horizon(matrix, horizon, config, lambda label, p, days=days: make_model(label, days, p), working,
                              name=model_name)
        results[horizon] = result
        oof = result.oof.assign(model=model_name, horizon=horizon, model_version=version)
        oof_parts.append(oof)
        metrics[horizon] = horizon_metrics(result.oof, days)
        registry.save(result.model, working, {"model_asset": model_asset, "version": version, "horizon": horizon,
                                               "horizon_days": days, "profile": config.profile, "data_fingerprint": fingerprint})
        registry.publish(path)
        if explain and result.model.kind == "autogluon":
            leaderboards[horizon] = result.model.leaderboard(result.tune)
            importances[horizon] = result.model.feature_importance(result.tune)
        registry_rows.append(
            {
                "model_asset": model_asset,
                "model": model_name,
                "version": version,
                "horizon": horizon,
                "trained_at": registry.now(),
                "autogluon_version": registry.installed_autogluon_version() if result.model.kind == "autogluon" else None,
                "profile": config.profile,
                "data_fingerprint": fingerprint,
                "train_rows": result.train_rows,
                "train_end": result.train_end,
                "path": path,
                "data_mode": data_mode,
                "metrics": {**metrics[horizon], "folds": result.folds, "families_missing": result.families_missing},
            }
        )
    oof_all = pd.concat(oof_parts, ignore_index=True)
    return ModelRun(model_asset, model_name, version, fingerprint, results, oof_all, registry_rows, metrics,
                    leaderboards, importances)


def record(run: ModelRun) -> records.Record:
    """What the warehouse learns of the run (its registry rows and out-of-fold predictions), with
    the leaderboards and feature importances of each horizon."""
    reports = {**{f"leaderboard_{h}": board for h, board in run.leaderboards.items()},
               **{f"importance_{h}": imp for h, imp in run.importances.items()}}
    return records.Record(run.model_asset, run.model_name, run.version, registry.MANIFEST, run.registry_rows, run.oof,
                          reports=reports)
