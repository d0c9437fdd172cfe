"""Out-of-sample evaluation of a ZL matrix end to end, without Dagster: the main model, the
shrunk linear model and the baselines by walk-forward (plus, when given, specialists on their own
matrices, as the platform's bucket models), the greedy ensemble over them, and its skill against
climatology with the block-bootstrap noise band. Used by the leakage canaries and the benchmarks."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cbi_platform.lib.ml import ensemble
from cbi_platform.lib.ml.member_model import fit_model
from cbi_platform.lib.ml.models import BASELINES, AutoGluonQuantile, ShrunkLinear
from cbi_platform.lib.ml.quantiles import QCOLS, coverage, pinball, sequential_calibration
from cbi_platform.lib.ml.skill import SkillTest, skill_test
from cbi_platform.lib.ml.train import TrainingConfig, feature_columns


@dataclass
class HorizonEvaluation:
    horizon: str
    horizon_days: int
    ensemble: SkillTest  # the ensemble against climatology on its honest dates
    main: SkillTest  # the main model alone against climatology on the same dates
    coverage: float  # calibrated P10-P90 coverage of the ensemble
    calibrated: pd.DataFrame  # the sequentially calibrated forecasts that coverage is measured on
    weights: dict[str, float]
    losses: pd.DataFrame  # as_of_date, fold, ensemble, climatology: per-day pinball losses
    climatology: pd.DataFrame  # climatology's walk-forward forecasts on the ensemble's dates (uncalibrated)


def _specialist_run(name: str, matrix: pd.DataFrame, config: TrainingConfig, root: Path):
    features = feature_columns(matrix)
    return fit_model(matrix, model_name=name, model_asset=f"models/{name}", features=features, config=config,
                     make_model=lambda label, days, path: AutoGluonQuantile(label, features, config.hyperparameters, path,
                                                                            config.time_limit),
                     store_root=root, data_mode="evaluation", explain=False)


def evaluate(matrix: pd.DataFrame, config: TrainingConfig, features: list[str] | None = None,
             horizons: list[str] | None = None,
             specialists: dict[str, pd.DataFrame] | None = None) -> dict[str, HorizonEvaluation]:
    """`specialists`: member name -> its matrix (its features plus the same targets), each an
    AutoGluon quantile member like the main model."""
    features = features if features is not None else feature_columns(matrix)
    config = TrainingConfig(**{**config.__dict__, "horizons": {h: d for h, d in config.horizons.items()
                                                                 if horizons is None or h in horizons}})
    with tempfile.TemporaryDirectory(prefix="cbi_eval_") as scratch:
        root = Path(scratch)
        runs = [
            fit_model(matrix, model_name="zl_main", model_asset="models/zl_main", features=features, config=config,
                      make_model=lambda label, days, path: AutoGluonQuantile(label, features, config.hyperparameters, path,
                                                                             config.time_limit),
                      store_root=root, data_mode="evaluation", explain=False),
            fit_model(matrix, model_name="zl_linear", model_asset="models/zl_linear", features=features, config=config,
                      make_model=lambda label, days, path: ShrunkLinear(label, days, features, config.linear_shrinkage_grid),
                      store_root=root, data_mode="evaluation"),
            *[fit_model(matrix, model_name=name, model_asset="models/zl_baselines", features=[], config=config,
                        make_model=lambda label, days, path, cls=cls: cls(label, days), store_root=root,
                        data_mode="evaluation") for name, cls in BASELINES.items()],
            *[_specialist_run(name, frame, config, root) for name, frame in (specialists or {}).items()],
        ]
        oof = pd.concat([r.oof for r in runs], ignore_index=True)
        out = {}
        for horizon, days in config.horizons.items():
            fitted = ensemble.fit_horizon(oof, horizon, days, root / "ensemble", try_stacking=False)
            dates = set(fitted.oof["as_of_date"])
            on_dates = {m: oof[(oof["model"] == m) & (oof["horizon"] == horizon) & oof["as_of_date"].isin(dates)]
                        .sort_values("as_of_date") for m in ("climatology", "zl_main")}
            realised = fitted.oof["realised"].to_numpy()
            reference = on_dates["climatology"][list(QCOLS)].to_numpy()
            calibrated = sequential_calibration(fitted.oof, days)
            later = calibrated[calibrated["fold"] > calibrated["fold"].min()]
            losses = pd.DataFrame({"as_of_date": fitted.oof["as_of_date"].to_numpy(), "fold": fitted.oof["fold"].to_numpy(),
                                   "ensemble": pinball(realised, fitted.oof[list(QCOLS)].to_numpy()),
                                   "climatology": pinball(realised, reference)})
            out[horizon] = HorizonEvaluation(
                horizon=horizon,
                horizon_days=days,
                ensemble=skill_test(realised, fitted.oof[list(QCOLS)].to_numpy(), reference, days),
                main=skill_test(realised, on_dates["zl_main"][list(QCOLS)].to_numpy(), reference, days),
                coverage=coverage(later["realised"], later["q10"], later["q90"]),
                calibrated=later,
                weights=dict(zip(fitted.members, map(float, fitted.weights))),
                losses=losses,
                climatology=on_dates["climatology"].reset_index(drop=True),
            )
        return out


def strategy_summary(results: dict[str, HorizonEvaluation], matrix: pd.DataFrame, config_dir) -> pd.DataFrame:
    """The strategy backtest (lib/risk/strategy.py, config/risk.yaml) on an evaluation's calibrated
    ensemble forecasts, beside the same rule on calibrated climatology and buy-and-hold: what
    forecasts/zl_strategy_backtest reports for a published ensemble."""
    from cbi_platform.lib.risk import strategy

    horizons = {h: r.horizon_days for h, r in results.items()}
    return strategy.run_all(pd.concat([r.calibrated.assign(horizon=h) for h, r in results.items()], ignore_index=True),
                            strategy.calibrated_climatology(
                                pd.concat([r.climatology.assign(horizon=h) for h, r in results.items()], ignore_index=True),
                                horizons),
                            strategy.market_from_matrix(matrix), horizons, strategy.load_strategy_config(config_dir))[0]
