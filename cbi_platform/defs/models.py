"""Model assets: thin wrappers around lib.ml.

Training steps are stateless: they read an immutable Parquet snapshot of their input
(models/zl_training_snapshot, models/mes_training_snapshot: the only model-side steps that read the
warehouse) and write the model folders and each version's record (registry rows, out-of-fold
predictions, weights) to the model store; models/training_tables, a small step in the warehouse
pool, loads the records into training.*. So a training step can run on any worker.

- models/zl_main and models/<bucket>_specialist (member bucket_<bucket>): AutoGluon quantile
  specialists, walk-forward;
- models/zl_linear: the shrunk linear quantile model on every feature;
- models/zl_baselines: climatology and volatility-scaled climatology;
- models/zl_ensemble: greedy vs stacked over all of them, with the do-no-harm gate;
- models/mes_timeseries: the hourly TimeSeriesPredictor across every root.
"""

from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import dagster as dg
from pydantic import Field

from cbi_platform.defs.checks import reported, specs
from cbi_platform.defs.conditions import on_any_upstream_update
from cbi_platform.defs.executors import training_pool
from cbi_platform.defs.ingest.common import WAREHOUSE_POOL
from cbi_platform.defs.resources import ModelStore, PlatformConfig, Warehouse
from cbi_platform.defs.settings import SETTINGS
from cbi_platform.lib import quality
from cbi_platform.lib.display import markdown
from cbi_platform.lib.features import load_buckets
from cbi_platform.lib.ml.models import BASELINES
from cbi_platform.lib.quality import Check

MATRIX = dg.AssetKey(["features", "zl_daily_matrix"])
MES_PANEL = dg.AssetKey(["features", "mes_hourly"])
BUCKETS = tuple(load_buckets(SETTINGS.config_dir))
ZL_SNAPSHOT_KEY = dg.AssetKey(["models", "zl_training_snapshot"])
MES_SNAPSHOT_KEY = dg.AssetKey(["models", "mes_training_snapshot"])
# one training step at a time on one machine (AutoGluon already uses every core); side by side
# where the deployment's pool limit allows (deploy/k8s/values.yaml)
TRAINING_POOL = training_pool(SETTINGS)


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


def kept_record(context, model_store: ModelStore, model_name: str, model_asset: str, version: str):
    """(URL, lib.ml.records.Record) of a record of this version that can be kept: in this model
    store, else where the asset's latest materialisation left it (a store since moved, say to a
    bucket); None: train."""
    from cbi_platform.lib.ml import records

    record = records.stored(model_store.root, model_asset, version)
    if record is not None:
        return records.record_url(model_store.root, model_asset, version), record
    key = dg.AssetKey.from_user_string(model_asset)
    there = recorded(context, [key])[key].get(model_name)
    record = records.stored_at(there, version) if there else None
    return (there, record) if record is not None else None


@contextmanager
def training_logs_to_run_log(context):
    """Forward lib's progress lines (`cbi_platform.progress`: fit i of n, elapsed, ~left) and its
    training warnings (`cbi_platform.ml`: e.g. a model family AutoGluon skipped) to the run's log
    while a step trains. The ml logger's own level is left alone: the handler filters."""
    import logging

    class ToRunLog(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            (context.log.warning if record.levelno >= logging.WARNING else context.log.info)(record.getMessage())

    progress, ml = logging.getLogger("cbi_platform.progress"), logging.getLogger("cbi_platform.ml")
    progress_handler, ml_handler = ToRunLog(logging.INFO), ToRunLog(logging.WARNING)
    progress_level = progress.level
    progress.setLevel(logging.INFO)  # progress lines are INFO; the root's default WARNING would drop them
    progress.addHandler(progress_handler)
    ml.addHandler(ml_handler)
    try:
        yield
    finally:
        progress.removeHandler(progress_handler)
        ml.removeHandler(ml_handler)
        progress.setLevel(progress_level)


def train_or_reuse(context, config: TrainingRunConfig, matrix, *, model_name: str, model_asset: str,
                   features: list[str], make_model, training, model_store: ModelStore, platform: PlatformConfig):
    """Train unless this exact version (data, features and config) is already stored. Returns (the
    lib.ml.member_model.ModelRun or None when a stored version is kept, version, its record's URL)."""
    from cbi_platform.lib.ml import member_model, records
    from cbi_platform.lib.ml.member_model import fit_model, model_version

    version, _ = model_version(matrix, model_name, features, training)
    found = None if config.force_retrain else kept_record(context, model_store, model_name, model_asset, version)
    if found:
        context.log.info(f"{model_name} {version}: data, features and config unchanged; not retraining")
        return None, version, found[0]
    with training_logs_to_run_log(context):
        run = fit_model(matrix, model_name=model_name, model_asset=model_asset, features=features,
                        make_model=make_model, config=training, store_root=model_store.root, data_mode=platform.data_mode)
    return run, version, records.write(model_store.root, member_model.record(run))


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


def kept(context: dg.AssetExecutionContext, versions: set[str], note: str, stored: dict[str, str]) -> dict:
    """Metadata of a materialisation that kept the stored model versions (`stored`: model name ->
    its record's URL, what models/training_tables loads)."""
    trained = as_trained(context, versions)
    shown = "" if trained else " (its training is not recorded on this instance)"
    return {**trained, "retrained": False, "note": f"{note}{shown}", "version_kept": ", ".join(sorted(versions)),
            RECORDS: dg.MetadataValue.json(stored)}


RECORDS = "records"  # metadata of every model materialisation: model name -> its record's URL


def materialized_metadata(context, keys) -> dict[dg.AssetKey, dict]:
    """Per key, the metadata of this run's materialisation when it made one, else of the latest
    (none: {}). A run's steps thus learn from its own snapshot and combine its own members, even
    when another run materialises them meanwhile. The run's log is read once for all keys."""
    found = {}
    for entry in context.instance.all_logs(context.run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        materialization = entry.asset_materialization
        if materialization is not None and materialization.asset_key in keys:
            found[materialization.asset_key] = dict(materialization.metadata)  # the run's last one wins
    for key in keys:
        if key not in found:
            event = context.instance.get_latest_materialization_event(key)
            found[key] = dict(event.asset_materialization.metadata) if event and event.asset_materialization else {}
    return found


def recorded(context, keys) -> dict[dg.AssetKey, dict[str, str]]:
    """Per model asset, the records its materialisation (materialized_metadata) stands for: model
    name -> record URL; none if it was never materialised."""
    return {key: dict(metadata[RECORDS].value) if RECORDS in metadata else {}
            for key, metadata in materialized_metadata(context, keys).items()}


def snapshot_of(context, key: dg.AssetKey, name: str):
    """The frame a training step learns from: snapshot `name` of the snapshot asset's
    materialisation (materialized_metadata), read from the store and checked against its fingerprint."""
    from cbi_platform.lib import snapshot

    entry = materialized_metadata(context, [key])[key].get(SNAPSHOTS)
    if entry is None or name not in entry.value:
        raise dg.Failure(f"no snapshot {name} of {key.to_user_string()}: materialise {key.to_user_string()} first")
    chosen = snapshot.Snapshot.from_dict(name, entry.value[name])
    context.log.info(f"training on snapshot {chosen.url} ({chosen.rows} rows, fingerprint {chosen.fingerprint})")
    return snapshot.read(chosen)


def _record_and_report(context, outcomes, names: list[str], model_store: ModelStore,
                       extra: dict | None = None) -> dg.MaterializeResult:
    import pandas as pd

    from cbi_platform.lib.ml.quantiles import QCOLS

    runs = [run for run, *_ in outcomes if run is not None]
    stored = {name: url for name, (_, _, url) in zip(names, outcomes)}
    if not runs:
        versions = {version for _, version, _ in outcomes}
        return dg.MaterializeResult(
            metadata=kept(context, versions, f"{', '.join(names)}: unchanged, previous version kept; below, as trained",
                          stored),
            check_results=reported(MODEL_CHECKS, [quality.CheckOutcome("quantiles_ordered", True, "unchanged model version")]))
    oof = pd.concat([r.oof for r in runs], ignore_index=True)
    return dg.MaterializeResult(metadata={"retrained": True, RECORDS: dg.MetadataValue.json(stored), **run_metadata(runs),
                                          **(extra or {})},
                                check_results=reported(MODEL_CHECKS, [quality.quantiles_ordered(oof, QCOLS)]))


MODEL_CHECKS = [Check.reported("quantiles_ordered", "Out-of-fold quantiles never cross and are finite")]


SNAPSHOTS = "snapshots"  # metadata of a snapshot asset: table name -> lib.snapshot.Snapshot.as_dict()
# the ZL tables a member learns from: the whole matrix (main model, linear, baselines) or a bucket's
ZL_TABLES = ("zl_daily_matrix", *[f"bucket_{bucket}" for bucket in BUCKETS])


def _snapshot_metadata(taken) -> dict:
    import pandas as pd

    shown = pd.DataFrame([{"table": s.name, "rows": s.rows, "fingerprint": s.fingerprint, "url": s.url} for s in taken])
    return {SNAPSHOTS: dg.MetadataValue.json({s.name: s.as_dict() for s in taken}),
            "snapshot_files": dg.MetadataValue.md(markdown(shown)), "dagster/row_count": int(shown["rows"].max())}


def snapshot_asset(key: dg.AssetKey, deps: list[dg.AssetKey], description: str,
                   queries: dict[str, str]) -> dg.AssetsDefinition:
    """A warehouse reader that freezes each query's rows as a snapshot named by its table."""

    @dg.asset(key=key, deps=deps, description=description, group_name="models", kinds={"duckdb", "parquet"},
              owners=["team:quant-research"], pool=WAREHOUSE_POOL)
    def _snapshot(context: dg.AssetExecutionContext, warehouse: Warehouse, model_store: ModelStore) -> dg.MaterializeResult:
        from cbi_platform.lib import snapshot

        with warehouse.read_connection() as conn:
            taken = [snapshot.write(model_store.snapshots, table, conn.execute(sql).df()) for table, sql in queries.items()]
        return dg.MaterializeResult(metadata=_snapshot_metadata(taken))

    return _snapshot


def _member_sql(table: str) -> str:
    from cbi_platform.lib.forecast import member_matrix_sql  # no pandas at definition load

    return member_matrix_sql(table if table.startswith("bucket_") else "zl_main")


zl_training_snapshot = snapshot_asset(
    ZL_SNAPSHOT_KEY, [MATRIX, *[dg.AssetKey(["features", f"bucket_{bucket}"]) for bucket in BUCKETS]],
    "What the ZL models learn from, frozen: the daily matrix and each bucket's view with the matrix's targets, "
    "written once as Parquet under <CBI_STORE>/snapshots/ and named by the SHA-256 of its bytes. Training steps "
    "read these files (checking the fingerprint), never the warehouse, so they can run on any worker.",
    {table: _member_sql(table) for table in ZL_TABLES},
)
mes_training_snapshot = snapshot_asset(
    MES_SNAPSHOT_KEY, [MES_PANEL],
    "The MES hourly panel (every root) frozen as Parquet under <CBI_STORE>/snapshots/, named by the SHA-256 of its "
    "bytes: what models/mes_timeseries trains on, without a warehouse connection.",
    {"mes_hourly": "SELECT * FROM features.mes_hourly ORDER BY item_id, timestamp"},
)


def specialist_asset(name: str, feature_table: str, description: str, asset_name: str | None = None) -> dg.AssetsDefinition:
    """An AutoGluon quantile specialist per horizon on one feature view (plus the targets).
    `name` is the ensemble member (training tables, weights); `asset_name` the graph's label,
    when the member's name is also its feature view's (bucket_fx: features/bucket_fx and
    models/fx_specialist would otherwise show the same label)."""
    key = dg.AssetKey(["models", asset_name or name])

    @dg.asset(key=key, deps=[ZL_SNAPSHOT_KEY], description=description, group_name="models",
              kinds={"python", "autogluon"}, owners=["team:quant-research"], pool=TRAINING_POOL,
              check_specs=specs(key, MODEL_CHECKS))
    def _specialist(context: dg.AssetExecutionContext, config: TrainingRunConfig, model_store: ModelStore,
                    platform: PlatformConfig) -> dg.MaterializeResult:
        from cbi_platform.lib.ml.models import AutoGluonQuantile
        from cbi_platform.lib.ml.train import feature_columns

        training = _training(platform, config)
        matrix = snapshot_of(context, ZL_SNAPSHOT_KEY, feature_table)
        features = feature_columns(matrix)
        context.log.info(f"training {name} on {len(features)} features, profile {training.profile}")
        outcome = train_or_reuse(
            context, config, matrix, model_name=name, model_asset=key.to_user_string(), features=features,
            make_model=lambda label, days, path: AutoGluonQuantile(label, features, training.hyperparameters, path,
                                                                   training.time_limit),
            training=training, model_store=model_store, platform=platform,
        )
        return _record_and_report(context, [outcome], [name], model_store)

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
    deps=[ZL_SNAPSHOT_KEY],
    description=(
        "First-class baselines for every horizon: climatology (empirical quantiles of past h-day ZL returns), "
        "volatility-scaled climatology (the same, rescaled by trailing realised volatility) and a driftless random walk "
        "(the volatility-scaled spread centred on zero drift). Walk-forward "
        "out-of-fold predictions like any model; the ensemble can fall back to them."
    ),
    group_name="models",
    kinds={"python", "numpy"},
    owners=["team:quant-research"],
    pool=TRAINING_POOL,
    check_specs=specs(dg.AssetKey(["models", "zl_baselines"]), MODEL_CHECKS),
)
def zl_baselines(context: dg.AssetExecutionContext, config: TrainingRunConfig, model_store: ModelStore,
                 platform: PlatformConfig) -> dg.MaterializeResult:
    training = _training(platform, config)
    matrix = snapshot_of(context, ZL_SNAPSHOT_KEY, "zl_daily_matrix")
    outcomes = [
        train_or_reuse(context, config, matrix, model_name=name, model_asset="models/zl_baselines", features=[],
                       make_model=lambda label, days, path, cls=cls: cls(label, days), training=training,
                       model_store=model_store, platform=platform)
        for name, cls in BASELINES.items()
    ]
    return _record_and_report(context, outcomes, list(BASELINES), model_store)


@dg.asset(
    key=["models", "zl_linear"],
    deps=[ZL_SNAPSHOT_KEY],
    description=(
        "The shrunk linear quantile model: a strongly penalised ridge regression of the volatility-standardised "
        "forward return on every standardised feature of the ZL matrix, with the empirical quantiles of its "
        "residuals. Overlapping monthly targets leave ~120 independent outcomes in ten years: too few for trees to "
        "find a weak additive signal, enough for a shrunk linear fit. Walk-forward validated like every member."
    ),
    group_name="models",
    kinds={"python", "numpy"},
    owners=["team:quant-research"],
    pool=TRAINING_POOL,
    check_specs=specs(dg.AssetKey(["models", "zl_linear"]), MODEL_CHECKS),
)
def zl_linear(context: dg.AssetExecutionContext, config: TrainingRunConfig, model_store: ModelStore,
              platform: PlatformConfig) -> dg.MaterializeResult:
    import pandas as pd

    from cbi_platform.lib.ml.models import ShrunkLinear
    from cbi_platform.lib.ml.train import feature_columns

    training = _training(platform, config)
    matrix = snapshot_of(context, ZL_SNAPSHOT_KEY, "zl_daily_matrix")
    features = feature_columns(matrix)
    run, version, url = train_or_reuse(
        context, config, matrix, model_name="zl_linear", model_asset="models/zl_linear", features=features,
        make_model=lambda label, days, path: ShrunkLinear(label, days, features, training.linear_shrinkage_grid),
        training=training, model_store=model_store, platform=platform,
    )
    extra = {}
    if run:
        # the largest standardised coefficients: what the linear model leans on, per horizon
        coefs = pd.DataFrame({h: pd.Series(r.model.coef, index=features) for h, r in run.results.items()})
        top = coefs.loc[coefs.abs().max(axis=1).sort_values(ascending=False).index[:20]]
        extra["coefficients"] = dg.MetadataValue.md(markdown(top.round(4).reset_index(names="feature")))
    return _record_and_report(context, [(run, version, url)], ["zl_linear"], model_store, extra)


MEMBER_ASSETS = [zl_main, *BUCKET_MODELS, zl_linear, zl_baselines]
MEMBER_KEYS = [next(iter(a.keys)) for a in MEMBER_ASSETS]
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
    deps=MEMBER_KEYS,
    description=(
        "The ZL ensemble over the eight bucket specialists, the main model, the shrunk linear model and the baselines, "
        "per horizon: a greedy "
        "weighted ensemble and a stacked AutoGluon meta-learner are each refit fold by fold on earlier out-of-fold "
        "forecasts, and the one with the lower honest pinball loss is kept. Gates: do no harm against climatology, "
        "calibrated coverage, no crossing quantiles; too-good skill on real data raises a leakage alarm. Reads the "
        "members' out-of-fold predictions from their records in the model store, not from the warehouse."
    ),
    group_name="models",
    kinds={"python", "autogluon"},
    owners=["team:quant-research"],
    pool=TRAINING_POOL,
    check_specs=specs(ENSEMBLE_KEY, ENSEMBLE_CHECKS),
)
def zl_ensemble(context: dg.AssetExecutionContext, config: TrainingRunConfig, model_store: ModelStore,
                platform: PlatformConfig) -> dg.MaterializeResult:
    import pandas as pd

    from cbi_platform.lib.ml import ensemble_model, records

    training = _training(platform, config)
    member_records = {name: url for urls in recorded(context, MEMBER_KEYS).values() for name, url in urls.items()}
    missing = sorted(set(MEMBER_NAMES) - set(member_records))
    if missing:
        raise dg.Failure(f"no record of members {', '.join(missing)} in their assets' latest materialisations (never "
                         f"trained, or trained before records existed): materialise "
                         f"{', '.join(k.to_user_string() for k in MEMBER_KEYS)} first")
    member_oof = {name: records.read(member_records[name]).oof for name in MEMBER_NAMES}
    without = sorted(name for name, frame in member_oof.items() if frame is None or frame.empty)
    if without:
        raise dg.Failure(f"members without out-of-fold predictions in their records: {', '.join(without)}; retrain them")
    oof = pd.concat(member_oof.values(), ignore_index=True)
    version = ensemble_model.ensemble_version(oof, training)
    found = None if config.force_retrain else kept_record(context, model_store, ensemble_model.NAME, ensemble_model.ASSET,
                                                          version)
    if found:
        context.log.info(f"zl_ensemble {version}: members' forecasts and config unchanged; not refitting")
        return dg.MaterializeResult(
            metadata=kept(context, {version}, "members' forecasts and config unchanged; below, as fitted",
                          {ensemble_model.NAME: found[0]}),
            check_results=reported(ENSEMBLE_CHECKS, [
                quality.CheckOutcome(c.name, True, "unchanged ensemble version, gates passed when fitted")
                for c in ENSEMBLE_CHECKS]))
    run = ensemble_model.fit(oof, training, model_store.root, platform.data_mode)
    stored = {ensemble_model.NAME: records.write(model_store.root, ensemble_model.record(run))}
    gates = ensemble_model.gates(run, platform.data_mode, ensemble_model.load_skill_gates(Path(platform.config_dir)))
    return dg.MaterializeResult(
        metadata={
            "retrained": True,
            "version": run.version,
            RECORDS: dg.MetadataValue.json(stored),
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
    deps=[MES_SNAPSHOT_KEY],
    description=(
        "The MES hourly forecaster: one AutoGluon TimeSeriesPredictor across every futures root (item_id = root, "
        "transfer learning), known calendar covariates, past daily-aggregate covariates, P10/P50/P90 over the next "
        "24 trading hours; scored on rolling holdout windows of exactly prediction_length bars never trained on."
    ),
    group_name="models",
    kinds={"python", "autogluon"},
    owners=["team:quant-research"],
    pool=TRAINING_POOL,
    check_specs=specs(MES_KEY, MES_CHECKS),
)
def mes_timeseries(context: dg.AssetExecutionContext, config: TrainingRunConfig, model_store: ModelStore,
                   platform: PlatformConfig) -> dg.MaterializeResult:
    from cbi_platform.lib.ml import mes
    from cbi_platform.lib.ml.timeseries import load_timeseries_config

    ts_config = load_timeseries_config(Path(platform.config_dir), config.chosen_profile())
    panel = snapshot_of(context, MES_SNAPSHOT_KEY, "mes_hourly")
    version = mes.model_version(panel, ts_config)
    found = None if config.force_retrain else kept_record(context, model_store, mes.NAME, mes.ASSET, version.version)
    if found:
        url, record = found
        context.log.info(f"mes_timeseries {version.version}: data and config unchanged; not retraining")
        return dg.MaterializeResult(
            metadata=kept(context, {version.version}, "data and config unchanged; below, as trained", {mes.NAME: url}),
            check_results=reported(MES_CHECKS, [mes.gate(mes.record_metrics(record), ts_config)]))
    trained = mes.train_and_record(panel, ts_config, version, model_store.root, platform.data_mode)
    result = trained.result
    for line in result.skipped:
        context.log.info(line)
    return dg.MaterializeResult(
        metadata={
            "retrained": True,
            "version": version.version,
            RECORDS: dg.MetadataValue.json({mes.NAME: trained.record_url}),
            "best_model": result.best_model,
            "leaderboard": dg.MetadataValue.md(markdown(result.leaderboard)),
            "holdout": dg.MetadataValue.json(result.holdout_scores),
            "mase_by_item": dg.MetadataValue.md(markdown(result.item_mase.sort_values(ts_config.eval_metric))),
            "skipped_models": dg.MetadataValue.md("\n".join(result.skipped) or "none"),
        },
        check_results=reported(MES_CHECKS, [mes.gate(trained.registry_row["metrics"], ts_config)]),
    )


TRAINED_KEYS = [*MEMBER_KEYS, ENSEMBLE_KEY, MES_KEY]
TRAINING_TABLES_KEY = dg.AssetKey(["models", "training_tables"])


@dg.asset(
    key=TRAINING_TABLES_KEY,
    deps=TRAINED_KEYS,
    description=(
        "The one model-side writer of the warehouse: loads the record of every model's latest materialisation "
        "(registry rows, out-of-fold predictions, the ensemble's weights) from the model store into "
        "training.model_registry, training.oof_predictions and training.ensemble_weights. A record already loaded "
        "is skipped; a model never materialised has nothing to load; a record that cannot be read fails the step, "
        "named, after every other record is loaded."
    ),
    group_name="models",
    kinds={"python", "duckdb"},
    owners=["team:quant-research"],
    pool=WAREHOUSE_POOL,
    automation_condition=on_any_upstream_update(),
)
def training_tables(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    import pandas as pd

    from cbi_platform.lib.ml import records

    rows, unreadable = [], []
    with warehouse.get_connection() as conn:
        for key, urls in recorded(context, TRAINED_KEYS).items():
            for name, url in urls.items():
                try:
                    record = records.read(url)
                except records.RecordError as exc:
                    unreadable.append(f"{key.to_user_string()} {name}: {exc}")
                    continue
                fresh = not records.loaded(conn, record)
                if fresh:
                    records.load(conn, record)
                rows.append({"asset": key.to_user_string(), "model": name, "version": record.version, "loaded": fresh,
                             "oof_rows": 0 if record.oof is None else len(record.oof)})
    if unreadable:
        raise dg.Failure("model records not loaded into training.*:\n" + "\n".join(unreadable))
    shown = pd.DataFrame(rows, columns=["asset", "model", "version", "loaded", "oof_rows"])
    context.log.info(f"{int(shown['loaded'].sum())} of {len(shown)} model records loaded into training.*; "
                     "the others were loaded already")
    return dg.MaterializeResult(metadata={"records": dg.MetadataValue.md(markdown(shown)),
                                          "loaded": int(shown["loaded"].sum()), "dagster/row_count": int(len(shown))})


SNAPSHOT_ASSETS = [zl_training_snapshot, mes_training_snapshot]
TRAINING_ASSETS = [*MEMBER_ASSETS, zl_ensemble, mes_timeseries]  # the steps that train (TrainingRunConfig)
MODEL_ASSETS = [*SNAPSHOT_ASSETS, *TRAINING_ASSETS, training_tables]
