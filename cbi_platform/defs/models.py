"""Model assets: thin wrappers around lib.ml.

- models/zl_main and models/<bucket>_specialist (member bucket_<bucket>): AutoGluon quantile
  specialists, walk-forward;
- models/zl_linear: the shrunk linear quantile model on every feature;
- models/zl_baselines: climatology and volatility-scaled climatology;
- models/zl_ensemble: greedy vs stacked over all of them, with the do-no-harm gate;
- models/mes_timeseries: the hourly TimeSeriesPredictor across every root.
"""

from pathlib import Path
from typing import Optional

import dagster as dg
from pydantic import Field

from cbi_platform.defs.checks import reported, specs
from cbi_platform.defs.ingest.common import WAREHOUSE_POOL
from cbi_platform.defs.resources import ModelStore, PlatformConfig, Warehouse
from cbi_platform.defs.settings import SETTINGS
from cbi_platform.lib import quality
from cbi_platform.lib.display import markdown
from cbi_platform.lib.features import load_buckets
from cbi_platform.lib.ml.models import BASELINES
from cbi_platform.lib.quality import Check

MATRIX = dg.AssetKey(["features", "zl_daily_matrix"])
BUCKETS = tuple(load_buckets(SETTINGS.config_dir))


class TrainingRunConfig(dg.Config):
    """Run config of every model asset: the quantile members, the ensemble and the MES time series."""

    profile: Optional[str] = Field(default=None, description="fast | medium | high | best | extreme; "
                                                             "unset: $CBI_PROFILE (default fast)")
    force_retrain: bool = Field(default=False, description="retrain even when data, features and config are unchanged")

    def chosen_profile(self) -> str:
        return self.profile or SETTINGS.profile


def _training(platform: PlatformConfig, config: TrainingRunConfig):
    from cbi_platform.lib.ml.train import load_training_config

    return load_training_config(Path(platform.config_dir), config.chosen_profile(), platform.data_mode)


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
                   platform: PlatformConfig):
    """Train unless this exact version (data, features, config) is already registered.
    Returns (the lib.ml.member_model.ModelRun or None when the registered version is reused, version)."""
    from cbi_platform.lib.ml.member_model import already_trained, fit_model, model_version

    version, _ = model_version(matrix, model_name, features, training)
    if not config.force_retrain:
        with warehouse.read_connection() as conn:
            if already_trained(conn, model_asset, version, training.horizons):
                context.log.info(f"{model_name} {version}: data, features and config unchanged; not retraining")
                return None, version
    return fit_model(matrix, model_name=model_name, model_asset=model_asset, features=features, make_model=make_model,
                     config=training, store_root=model_store.root, data_mode=platform.data_mode), version


def _trained_versions(metadata) -> set[str]:
    versions = metadata.get("versions")
    if versions is not None:
        return set(versions.value.values())
    version = metadata.get("version")
    return {version.value} if version is not None else set()


def as_trained(context: dg.AssetExecutionContext, versions: set[str]) -> dict:
    """The metadata of the materialisation that trained these versions (weights, scores,
    leaderboards), so the latest event of a model kept unchanged still shows them; empty when
    this instance never recorded that training (the model was trained elsewhere)."""
    cursor = None
    for _ in range(20):  # newest first
        page = context.instance.fetch_materializations(context.asset_key, limit=50, cursor=cursor)
        for record in page.records:
            metadata = record.asset_materialization.metadata
            retrained = metadata.get("retrained")
            if retrained is not None and retrained.value and _trained_versions(metadata) == versions:
                return {k: v for k, v in metadata.items() if k != "retrained"}
        if not page.has_more:
            break
        cursor = page.cursor
    return {}


def kept(context: dg.AssetExecutionContext, versions: set[str], note: str) -> dict:
    """Metadata of a materialisation that kept the registered model versions."""
    trained = as_trained(context, versions)
    shown = "" if trained else " (its training is not recorded on this instance)"
    return {**trained, "retrained": False, "note": f"{note}{shown}", "version_kept": ", ".join(sorted(versions))}


def _store_and_report(context, warehouse: Warehouse, outcomes, names: list[str], extra: dict | None = None) -> dg.MaterializeResult:
    import pandas as pd

    from cbi_platform.lib.ml.member_model import store
    from cbi_platform.lib.ml.quantiles import QCOLS

    runs = [run for run, _ in outcomes if run is not None]
    if not runs:
        versions = {version for _, version in outcomes}
        return dg.MaterializeResult(
            metadata=kept(context, versions, f"{', '.join(names)}: unchanged, previous version kept; below, as trained"),
            check_results=reported(MODEL_CHECKS, [quality.CheckOutcome("quantiles_ordered", True, "unchanged model version")]))
    with warehouse.get_connection() as conn:
        for run in runs:
            store(conn, run)
    oof = pd.concat([r.oof for r in runs], ignore_index=True)
    return dg.MaterializeResult(metadata={"retrained": True, **run_metadata(runs), **(extra or {})},
                                check_results=reported(MODEL_CHECKS, [quality.quantiles_ordered(oof, QCOLS)]))


MODEL_CHECKS = [Check.reported("quantiles_ordered", "Out-of-fold quantiles never cross and are finite")]


def _zl_matrix(warehouse: Warehouse):
    with warehouse.read_connection() as conn:
        return conn.execute("SELECT * FROM features.zl_daily_matrix ORDER BY trade_date").df()


def specialist_asset(name: str, feature_table: str, description: str, asset_name: str | None = None) -> dg.AssetsDefinition:
    """An AutoGluon quantile specialist per horizon on one feature view (plus the targets).
    `name` is the ensemble member (training tables, weights); `asset_name` the graph's label,
    when the member's name is also its feature view's (bucket_fx: features/bucket_fx and
    models/fx_specialist would otherwise show the same label)."""
    key = dg.AssetKey(["models", asset_name or name])

    @dg.asset(key=key, deps=[MATRIX, dg.AssetKey(["features", feature_table])], description=description,
              group_name="models", kinds={"python", "autogluon"}, owners=["team:quant-research"], pool=WAREHOUSE_POOL,
              check_specs=specs(key, MODEL_CHECKS))
    def _specialist(context: dg.AssetExecutionContext, config: TrainingRunConfig, warehouse: Warehouse,
                    model_store: ModelStore, platform: PlatformConfig) -> dg.MaterializeResult:
        from cbi_platform.lib.forecast import member_matrix_sql
        from cbi_platform.lib.ml.models import AutoGluonQuantile
        from cbi_platform.lib.ml.train import feature_columns

        training = _training(platform, config)
        with warehouse.read_connection() as conn:
            matrix = conn.execute(member_matrix_sql(name)).df()
        features = feature_columns(matrix)
        context.log.info(f"training {name} on {len(features)} features, profile {training.profile}")
        outcome = train_or_reuse(
            context, config, warehouse, matrix, model_name=name, model_asset=key.to_user_string(), features=features,
            make_model=lambda label, days, path: AutoGluonQuantile(label, features, training.hyperparameters, path,
                                                                   training.time_limit),
            training=training, model_store=model_store, platform=platform,
        )
        return _store_and_report(context, warehouse, [outcome], [name])

    return _specialist


zl_main = specialist_asset(
    "zl_main", "zl_daily_matrix",
    "The main ZL predictor: one AutoGluon quantile TabularPredictor per horizon (1w/1m/3m/6m) on every feature of "
    "the ZL daily matrix (core + all buckets); purged, embargoed walk-forward validation, no shuffled bagging.",
)

BUCKET_MODELS = [
    specialist_asset(
        f"bucket_{bucket}", f"bucket_{bucket}",
        f"The {bucket} bucket specialist: AutoGluon quantile TabularPredictors (one per horizon) on the core features "
        f"plus the {bucket} bucket's own (features/bucket_{bucket}), walk-forward validated like the main model; "
        f"ensemble member bucket_{bucket}.",
        asset_name=f"{bucket}_specialist",
    )
    for bucket in BUCKETS
]


@dg.asset(
    key=["models", "zl_baselines"],
    deps=[MATRIX],
    description=(
        "First-class baselines for every horizon: climatology (empirical quantiles of past h-day ZL returns), "
        "volatility-scaled climatology (the same, rescaled by trailing realised volatility) and a driftless random walk "
        "(the volatility-scaled spread centred on zero drift). Walk-forward "
        "out-of-fold predictions like any model; the ensemble can fall back to them."
    ),
    group_name="models",
    kinds={"python", "numpy"},
    owners=["team:quant-research"],
    pool=WAREHOUSE_POOL,
    check_specs=specs(dg.AssetKey(["models", "zl_baselines"]), MODEL_CHECKS),
)
def zl_baselines(context: dg.AssetExecutionContext, config: TrainingRunConfig, warehouse: Warehouse,
                 model_store: ModelStore, platform: PlatformConfig) -> dg.MaterializeResult:
    training = _training(platform, config)
    matrix = _zl_matrix(warehouse)
    outcomes = [
        train_or_reuse(context, config, warehouse, matrix, model_name=name, model_asset="models/zl_baselines", features=[],
                       make_model=lambda label, days, path, cls=cls: cls(label, days), training=training,
                       model_store=model_store, platform=platform)
        for name, cls in BASELINES.items()
    ]
    return _store_and_report(context, warehouse, outcomes, list(BASELINES))


@dg.asset(
    key=["models", "zl_linear"],
    deps=[MATRIX],
    description=(
        "The shrunk linear quantile model: a strongly penalised ridge regression of the volatility-standardised "
        "forward return on every standardised feature of the ZL matrix, with the empirical quantiles of its "
        "residuals. Overlapping monthly targets leave ~120 independent outcomes in ten years: too few for trees to "
        "find a weak additive signal, enough for a shrunk linear fit. Walk-forward validated like every member."
    ),
    group_name="models",
    kinds={"python", "numpy"},
    owners=["team:quant-research"],
    pool=WAREHOUSE_POOL,
    check_specs=specs(dg.AssetKey(["models", "zl_linear"]), MODEL_CHECKS),
)
def zl_linear(context: dg.AssetExecutionContext, config: TrainingRunConfig, warehouse: Warehouse,
              model_store: ModelStore, platform: PlatformConfig) -> dg.MaterializeResult:
    import pandas as pd

    from cbi_platform.lib.ml.models import ShrunkLinear
    from cbi_platform.lib.ml.train import feature_columns

    training = _training(platform, config)
    matrix = _zl_matrix(warehouse)
    features = feature_columns(matrix)
    run, version = train_or_reuse(
        context, config, warehouse, matrix, model_name="zl_linear", model_asset="models/zl_linear", features=features,
        make_model=lambda label, days, path: ShrunkLinear(label, days, features, training.linear_shrinkage_grid),
        training=training, model_store=model_store, platform=platform,
    )
    extra = {}
    if run:
        # the largest standardised coefficients: what the linear model leans on, per horizon
        coefs = pd.DataFrame({h: pd.Series(r.model.coef, index=features) for h, r in run.results.items()})
        top = coefs.loc[coefs.abs().max(axis=1).sort_values(ascending=False).index[:20]]
        extra["coefficients"] = dg.MetadataValue.md(markdown(top.round(4).reset_index(names="feature")))
    return _store_and_report(context, warehouse, [(run, version)], ["zl_linear"], extra)


MEMBER_ASSETS = [zl_main, *BUCKET_MODELS, zl_linear, zl_baselines]
# the ensemble's members by model name (training.oof_predictions.model), baselines included
MEMBER_NAMES = ["zl_main", *[f"bucket_{bucket}" for bucket in BUCKETS], "zl_linear", *BASELINES]
ENSEMBLE_KEY = dg.AssetKey(["models", "zl_ensemble"])
ENSEMBLE_CHECKS = [
    Check.reported("do_no_harm", "Out-of-sample pinball loss no worse than climatology beyond the block-bootstrap noise band"),
    Check.reported("coverage_in_band", "Calibrated P10-P90 coverage inside the 0.5-99.5% range of a perfectly calibrated "
                                       "forecaster on as many overlapping outcomes; a horizon with fewer than 10 independent "
                                       "outcomes warns as insufficient evidence"),
    Check.reported("quantiles_ordered", "Ensemble quantiles never cross and are finite"),
    Check.reported("leakage_alarm", "Skill above +5% vs climatology at 1w/1m on real data is investigated, not celebrated "
                                    "(WARN)", blocking=False),
    Check.reported("implausible_skill", "Skill above +10% at 1w/1m or +15% at 3m/6m on real data blocks publication until a "
                                        "person signs the version off (config/training.yaml skill_gates)"),
]


@dg.asset(
    key=ENSEMBLE_KEY,
    deps=[next(iter(a.keys)) for a in MEMBER_ASSETS],
    description=(
        "The ZL ensemble over the eight bucket specialists, the main model, the shrunk linear model and the baselines, "
        "per horizon: a greedy "
        "weighted ensemble and a stacked AutoGluon meta-learner are each refit fold by fold on earlier out-of-fold "
        "forecasts, and the one with the lower honest pinball loss is kept. Gates: do no harm against climatology, "
        "calibrated coverage, no crossing quantiles; too-good skill on real data raises a leakage alarm."
    ),
    group_name="models",
    kinds={"python", "autogluon"},
    owners=["team:quant-research"],
    pool=WAREHOUSE_POOL,
    check_specs=specs(ENSEMBLE_KEY, ENSEMBLE_CHECKS),
)
def zl_ensemble(context: dg.AssetExecutionContext, config: TrainingRunConfig, warehouse: Warehouse,
                model_store: ModelStore, platform: PlatformConfig) -> dg.MaterializeResult:
    import pandas as pd

    from cbi_platform.lib.ml import ensemble_model

    training = _training(platform, config)
    members = MEMBER_NAMES
    with warehouse.read_connection() as conn:
        oof = conn.execute("SELECT * FROM training.oof_predictions WHERE model IN (SELECT unnest(?))", [members]).df()
        version = ensemble_model.ensemble_version(oof, training)
        if not config.force_retrain and ensemble_model.already_fitted(conn, version, training.horizons):
            context.log.info(f"zl_ensemble {version}: members' forecasts and config unchanged; not refitting")
            return dg.MaterializeResult(
                metadata=kept(context, {version}, "members' forecasts and config unchanged; below, as fitted"),
                check_results=reported(ENSEMBLE_CHECKS, [
                    quality.CheckOutcome(c.name, True, "unchanged ensemble version, gates passed when fitted")
                    for c in ENSEMBLE_CHECKS]))
    run = ensemble_model.fit(oof, training, model_store.root, platform.data_mode)
    with warehouse.get_connection() as conn:
        ensemble_model.store(conn, run)
    gates = ensemble_model.gates(run, platform.data_mode, ensemble_model.load_skill_gates(Path(platform.config_dir)))
    return dg.MaterializeResult(
        metadata={
            "retrained": True,
            "version": run.version,
            "methods": dg.MetadataValue.json(run.methods),
            "weights": dg.MetadataValue.md(markdown(run.weights_table())),
            "honest_scores": dg.MetadataValue.md(markdown(run.scores_table())),
            "skill_vs_climatology": dg.MetadataValue.md(markdown(pd.DataFrame(run.skill_rows()))),
            "dagster/row_count": int(len(run.oof)),
        },
        check_results=reported(ENSEMBLE_CHECKS, gates),
    )


MES_KEY = dg.AssetKey(["models", "mes_timeseries"])
MES_CHECKS = [Check.reported("mes_beats_seasonal_naive",
                             "MES holdout MASE relative to the seasonal-naive benchmark on the same windows < 1")]


@dg.asset(
    key=MES_KEY,
    deps=[dg.AssetKey(["features", "mes_hourly"])],
    description=(
        "The MES hourly forecaster: one AutoGluon TimeSeriesPredictor across every futures root (item_id = root, "
        "transfer learning), known calendar covariates, past daily-aggregate covariates, P10/P50/P90 over the next "
        "24 trading hours; scored on rolling holdout windows of exactly prediction_length bars never trained on."
    ),
    group_name="models",
    kinds={"python", "autogluon"},
    owners=["team:quant-research"],
    pool=WAREHOUSE_POOL,
    check_specs=specs(MES_KEY, MES_CHECKS),
)
def mes_timeseries(context: dg.AssetExecutionContext, config: TrainingRunConfig, warehouse: Warehouse,
                   model_store: ModelStore, platform: PlatformConfig) -> dg.MaterializeResult:
    from cbi_platform.lib.ml import mes, registry
    from cbi_platform.lib.ml.timeseries import load_timeseries_config, train

    ts_config = load_timeseries_config(Path(platform.config_dir), config.chosen_profile())
    with warehouse.read_connection() as conn:
        panel = conn.execute("SELECT * FROM features.mes_hourly ORDER BY item_id, timestamp").df()
    version = mes.model_version(panel, ts_config)
    path = mes.model_dir(model_store.root, version)
    with warehouse.read_connection() as conn:
        known = mes.registered_metrics(conn, version, ts_config)
    if known is not None and not config.force_retrain:
        context.log.info(f"mes_timeseries {version.version}: data and config unchanged; not retraining")
        return dg.MaterializeResult(
            metadata=kept(context, {version.version}, "data and config unchanged; below, as trained"),
            check_results=reported(MES_CHECKS, [mes.gate(known, ts_config)]))
    result = train(panel, ts_config, registry.working_dir(path))
    registry.publish(path)
    for line in result.skipped:
        context.log.info(line)
    row = mes.registry_row(result, version, panel, ts_config, path, platform.data_mode)
    with warehouse.get_connection() as conn:
        registry.register(conn, [row])
    return dg.MaterializeResult(
        metadata={
            "retrained": True,
            "version": version.version,
            "best_model": result.best_model,
            "leaderboard": dg.MetadataValue.md(markdown(result.leaderboard)),
            "holdout": dg.MetadataValue.json(result.holdout_scores),
            "mase_by_item": dg.MetadataValue.md(markdown(result.item_mase.sort_values(ts_config.eval_metric))),
            "skipped_models": dg.MetadataValue.md("\n".join(result.skipped) or "none"),
        },
        check_results=reported(MES_CHECKS, [mes.gate(row["metrics"], ts_config)]),
    )


MODEL_ASSETS = [*MEMBER_ASSETS, zl_ensemble, mes_timeseries]
