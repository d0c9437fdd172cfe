"""Walk-forward training of one quantile model for one horizon.

Out-of-fold predictions come from expanding-window folds (purged, embargoed); the final model
trains on every row whose target is known and predicts the rows whose outcome is still pending
(the latest one is tomorrow's forecast).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cbi_platform.lib.config import configured_horizons, load_yaml
from cbi_platform.lib.ml import splits
from cbi_platform.lib.ml.models import VOL_COLUMN
from cbi_platform.lib.ml.quantiles import QCOLS
from cbi_platform.lib.progress import Progress

log = logging.getLogger("cbi_platform.ml")

TARGET_PREFIX = "target_"
TARGET_END_PREFIX = "target_end_"
NON_FEATURES = {"trade_date"}


@dataclass(frozen=True)
class TrainingConfig:
    profile: str
    horizons: dict[str, int]
    folds: int
    test_days: int
    embargo_days: int
    tune_fraction: float
    min_train_rows: int
    hyperparameters: dict[str, Any]
    time_limit: float | None
    linear_shrinkage_grid: tuple[float, ...]

    def fingerprint(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:12]


def load_training_config(config_dir: Path, profile: str, data_mode: str = "sample") -> TrainingConfig:
    """The profile's settings; on real data (any mode but `sample`) with at least
    `validation.real_data_min_folds` walk-forward test years."""
    data = load_yaml(Path(config_dir) / "training.yaml")
    profiles = data["profiles"]
    if profile not in profiles:
        raise ValueError(f"unknown training profile {profile!r}; choose one of {', '.join(profiles)}")
    chosen = profiles[profile]
    validation = data["validation"]
    return TrainingConfig(
        profile=profile,
        horizons=configured_horizons(config_dir),
        folds=int(chosen["folds"]) if data_mode == "sample" else max(int(chosen["folds"]), int(validation["real_data_min_folds"])),
        test_days=int(validation["test_days"]),
        embargo_days=int(validation["embargo_days"]),
        tune_fraction=float(validation["tune_fraction"]),
        min_train_rows=int(validation["min_train_rows"]),
        hyperparameters=dict(chosen["hyperparameters"]),
        time_limit=chosen.get("time_limit"),
        linear_shrinkage_grid=tuple(float(g) for g in data["linear"]["shrinkage_grid"]),
    )


def feature_columns(matrix: pd.DataFrame) -> list[str]:
    return [c for c in matrix.columns if c not in NON_FEATURES and not c.startswith(TARGET_PREFIX)]


def data_fingerprint(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes())
    digest.update(",".join(frame.columns).encode())
    return digest.hexdigest()[:16]


@dataclass
class HorizonResult:
    horizon: str
    oof: pd.DataFrame  # as_of_date, fold, q05..q95, realised
    pending: pd.DataFrame  # as_of_date, q05..q95: rows whose outcome is not known yet
    folds: list[dict]
    model: Any = field(repr=False)
    tune: pd.DataFrame = field(repr=False)
    train_rows: int = 0
    train_end: Any = None
    # the most configurations of each listed family that did not train in any one fit
    families_missing: dict[str, int] = field(default_factory=dict)


def usable_rows(matrix: pd.DataFrame) -> pd.DataFrame:
    """Rows after the feature warm-up (the trailing volatility baselines need is known)."""
    frame = matrix.sort_values("trade_date").reset_index(drop=True)
    return frame[frame[VOL_COLUMN].notna()].reset_index(drop=True)


def train_horizon(
    matrix: pd.DataFrame,
    horizon: str,
    config: TrainingConfig,
    make_model: Callable[[str, Path], Any],
    final_path: Path,
    name: str = "model",
) -> HorizonResult:
    """Walk-forward OOF predictions, then the final fit. `make_model(label, path)` builds a
    fresh model for each fold (AutoGluon writes to `path`); each fit logs a progress line."""
    label, end = f"{TARGET_PREFIX}{horizon}", f"{TARGET_END_PREFIX}{horizon}"
    rows = usable_rows(matrix)
    known = rows[rows[label].notna() & rows[end].notna()].reset_index(drop=True)
    pending = rows[rows[label].isna()].reset_index(drop=True)
    dates, target_end = pd.to_datetime(known["trade_date"]), pd.to_datetime(known[end])
    folds = splits.walk_forward(dates, target_end, config.folds, config.test_days, config.embargo_days,
                                config.tune_fraction, config.min_train_rows)
    oof_parts, short_fits = [], []
    progress = Progress(f"{name} {horizon}", len(folds) + 1, "fits")
    with tempfile.TemporaryDirectory(prefix=f"cbi_wf_{horizon}_") as scratch:
        for fold in folds:
            model = make_model(label, Path(scratch) / f"fold{fold.index}")
            model.fit(known.iloc[fold.train], known.iloc[fold.tune])
            short_fits.append(getattr(model, "families_missing", {}))
            test = known.iloc[fold.test]
            predicted = model.predict(test)
            part = pd.DataFrame(predicted, columns=list(QCOLS))
            part.insert(0, "as_of_date", test["trade_date"].to_numpy())
            part.insert(1, "fold", fold.index)
            part["realised"] = test[label].to_numpy()
            oof_parts.append(part)
            progress.advance(detail=f"walk-forward fold {fold.index + 1} of {len(folds)}")
    final = splits.final_fit(dates, target_end, config.embargo_days, config.tune_fraction)
    model = make_model(label, final_path)
    model.fit(known.iloc[final.train], known.iloc[final.tune])
    short_fits.append(getattr(model, "families_missing", {}))
    progress.advance(detail="final fit")
    missing = _families_missing_over(short_fits, f"{name} {horizon}")
    pending_pred = pd.DataFrame(model.predict(pending), columns=list(QCOLS)) if len(pending) else pd.DataFrame(columns=list(QCOLS))
    pending_pred.insert(0, "as_of_date", pending["trade_date"].to_numpy())
    oof = pd.concat(oof_parts, ignore_index=True) if oof_parts else pd.DataFrame(columns=["as_of_date", "fold", *QCOLS, "realised"])
    return HorizonResult(
        horizon=horizon,
        oof=oof,
        pending=pending_pred,
        folds=[f.describe(dates) for f in folds] + [final.describe(dates)],
        model=model,
        tune=known.iloc[final.tune],
        train_rows=int(len(final.train)),
        train_end=known["trade_date"].iloc[final.tune[-1]] if len(final.tune) else None,
        families_missing=missing,
    )


def _families_missing_over(fits: list[dict[str, int]], what: str) -> dict[str, int]:
    """The families a profile lists that some fits did not train, warned once for the whole
    walk-forward (AutoGluon says why only in its own, silenced, log)."""
    short = [fit for fit in fits if fit]
    missing: dict[str, int] = {}
    for fit in short:
        for family, count in fit.items():
            missing[family] = max(missing.get(family, 0), count)
    if short:
        log.warning("%s: AutoGluon trained fewer models than the profile lists in %d of %d fits, missing up to %s "
                    "(out of time, a package not installed, or no quantile mode)", what, len(short), len(fits), missing)
    return missing
