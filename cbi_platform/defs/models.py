"""Model assets: thin wrappers around lib.ml.pipeline."""


from pathlib import Path

import dagster as dg

from cbi_platform.defs.checks import specs, to_result
from cbi_platform.defs.ingest.common import WAREHOUSE_POOL
from cbi_platform.defs.partitions import SETTINGS
from cbi_platform.defs.resources import ModelStore, SourceResource, Warehouse
from cbi_platform.lib import quality
from cbi_platform.lib.tables import markdown

MATRIX = dg.AssetKey(["features", "zl_daily_matrix"])


class TrainingRunConfig(dg.Config):
    profile: str = ""  # fast | medium | high | best | extreme; empty: $CBI_PROFILE (default fast)
    force_retrain: bool = False  # retrain even when data, features and config are unchanged


def _profile(config: TrainingRunConfig) -> str:
    return config.profile or SETTINGS.profile


def _read_matrix(warehouse: Warehouse):
    with warehouse.read_connection() as conn:
        return conn.execute("SELECT * FROM features.zl_daily_matrix ORDER BY trade_date").df()


def run_metadata(runs) -> dict:
    import pandas as pd

    rows = []
    for run in runs:
        for horizon, m in run.metrics.items():
            rows.append({"model": run.model_name, "horizon": horizon, **{k: v for k, v in m.items() if k != "folds"}})
    metadata = {
        "versions": dg.MetadataValue.json({r.model_name: r.version for r in runs}),
        "oof_skill": dg.MetadataValue.md(markdown(pd.DataFrame(rows))),
        "dagster/row_count": int(sum(len(r.oof) for r in runs)),
    }
    for run in runs:
        for horizon, board in run.leaderboards.items():
            metadata[f"leaderboard_{horizon}"] = dg.MetadataValue.md(markdown(board))
        if run.importances:
            merged = pd.concat([imp.set_index("feature")["importance"].rename(h) for h, imp in run.importances.items()], axis=1)
            merged = merged.assign(mean=merged.mean(axis=1)).sort_values("mean", ascending=False).reset_index()
            metadata["feature_importance"] = dg.MetadataValue.md(markdown(merged.head(25)))
    return metadata


def train_or_reuse(context, config: TrainingRunConfig, warehouse: Warehouse, matrix, *, model_name: str,
                   model_asset: str, features: list[str], make_model, training, model_store: ModelStore,
                   sources: SourceResource):
    """Train unless this exact version (data, features, config) is already registered.
    Returns the lib.ml.pipeline.ModelRun, or None when the registered version is reused."""
    from cbi_platform.lib.ml.pipeline import already_trained, fit_model, model_version

    version, _ = model_version(matrix, model_name, features, training)
    if not config.force_retrain:
        with warehouse.read_connection() as conn:
            if already_trained(conn, model_asset, version, training.horizons):
                context.log.info(f"{model_name} {version}: data, features and config unchanged; not retraining")
                return None
    return fit_model(matrix, model_name=model_name, model_asset=model_asset, features=features, make_model=make_model,
                     config=training, store_root=Path(model_store.root), data_mode=sources.mode)


def unchanged_result(names: list[str]) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"retrained": False, "note": f"{', '.join(names)}: unchanged, previous version kept"},
                                check_results=[to_result(quality.CheckOutcome("quantiles_ordered", True, "unchanged model version"))])


def _store_and_check(warehouse: Warehouse, runs) -> dg.MaterializeResult:
    import pandas as pd

    from cbi_platform.lib.ml.pipeline import store
    from cbi_platform.lib.ml.quantiles import QCOLS

    with warehouse.get_connection() as conn:
        for run in runs:
            store(conn, run)
    oof = pd.concat([r.oof for r in runs], ignore_index=True)
    outcome = quality.quantiles_ordered(oof, QCOLS)
    return dg.MaterializeResult(metadata=run_metadata(runs), check_results=[to_result(outcome)])


MODEL_CHECKS = [("quantiles_ordered", "Out-of-fold quantiles never cross and are finite", True)]


@dg.asset(
    key=["models", "zl_baselines"],
    deps=[MATRIX],
    description=(
        "First-class baselines for every horizon: climatology (empirical quantiles of past h-day ZL "
        "returns) and volatility-scaled climatology (the same, rescaled by trailing realised volatility). "
        "Walk-forward out-of-fold predictions like any model; the ensemble can fall back to them."
    ),
    group_name="models",
    kinds={"python", "scikitlearn"},
    owners=["team:quant-research"],
    pool=WAREHOUSE_POOL,
    check_specs=specs(dg.AssetKey(["models", "zl_baselines"]), MODEL_CHECKS),
)
def zl_baselines(context: dg.AssetExecutionContext, config: TrainingRunConfig, warehouse: Warehouse,
                 model_store: ModelStore, sources: SourceResource) -> dg.MaterializeResult:
    from cbi_platform.lib.ml.models import Climatology, VolScaledClimatology
    from cbi_platform.lib.ml.train import load_training_config

    training = load_training_config(Path(sources.config_dir), _profile(config))
    matrix = _read_matrix(warehouse)
    runs = [
        train_or_reuse(context, config, warehouse, matrix, model_name=name, model_asset="models/zl_baselines", features=[],
                       make_model=factory, training=training, model_store=model_store, sources=sources)
        for name, factory in (
            ("climatology", lambda label, days, path: Climatology(label, days)),
            ("vol_climatology", lambda label, days, path: VolScaledClimatology(label, days)),
        )
    ]
    runs = [r for r in runs if r is not None]
    if not runs:
        return unchanged_result(["climatology", "vol_climatology"])
    return _store_and_check(warehouse, runs)


@dg.asset(
    key=["models", "zl_main"],
    deps=[MATRIX],
    description=(
        "The main ZL predictor: one AutoGluon quantile TabularPredictor per horizon (1w/1m/3m/6m) on every "
        "feature of the ZL daily matrix; purged, embargoed walk-forward validation, no shuffled bagging."
    ),
    group_name="models",
    kinds={"python", "autogluon"},
    owners=["team:quant-research"],
    pool=WAREHOUSE_POOL,
    check_specs=specs(dg.AssetKey(["models", "zl_main"]), MODEL_CHECKS),
)
def zl_main(context: dg.AssetExecutionContext, config: TrainingRunConfig, warehouse: Warehouse,
            model_store: ModelStore, sources: SourceResource) -> dg.MaterializeResult:
    from cbi_platform.lib.ml.models import AutoGluonQuantile
    from cbi_platform.lib.ml.train import feature_columns, load_training_config

    training = load_training_config(Path(sources.config_dir), _profile(config))
    matrix = _read_matrix(warehouse)
    features = feature_columns(matrix)
    context.log.info(f"training zl_main on {len(features)} features, profile {training.profile}")
    run = train_or_reuse(
        context, config, warehouse, matrix, model_name="zl_main", model_asset="models/zl_main", features=features,
        make_model=lambda label, days, path: AutoGluonQuantile(label, features, training.hyperparameters, path, training.time_limit),
        training=training, model_store=model_store, sources=sources,
    )
    if run is None:
        return unchanged_result(["zl_main"])
    return _store_and_check(warehouse, [run])


MODEL_ASSETS = [zl_baselines, zl_main]
