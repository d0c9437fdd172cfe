"""Feature assets: each runs its SQL file under sql/features/ and checks the result."""


from collections.abc import Callable, Sequence
from pathlib import Path

import dagster as dg

from cbi_platform.defs.checks import specs, to_result
from cbi_platform.defs.conditions import on_upstream_update
from cbi_platform.defs.ingest.common import WAREHOUSE_POOL
from cbi_platform.defs.partitions import SETTINGS
from cbi_platform.defs.resources import SourceResource, Warehouse
from cbi_platform.lib import quality
from cbi_platform.lib.config import configured_horizons
from cbi_platform.lib.features import load_buckets
from cbi_platform.lib.tables import markdown

HORIZONS = configured_horizons(SETTINGS.config_dir)
WARMUP_ROWS = 130  # the longest rolling window (6m) plus a margin
DAILY_CHECKS = [
    ("no_inf", "No Inf or NaN anywhere: guarded divisions yield NULL", True),
    ("primary_key_unique", "No duplicate dates", True),
    ("covers_trading_days", "One row per ZL trading day", True),
    ("history_long_enough", "More than 1000 rows to train on (WARN)", False),
    ("null_share", "Each feature non-NULL on 90%+ of rows after warm-up (WARN lists offenders)", False),
]


def table_metadata(conn, table: str, docs: dict[str, str]) -> dict:
    from cbi_platform.lib import features as feature_sql

    schema = feature_sql.table_schema(conn, table)
    rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return {
        "table": table,
        "dagster/row_count": int(rows),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(r.column_name, r.data_type, description=docs.get(r.column_name))
                     for r in schema.itertuples()]
        ),
    }


def feature_asset(
    name: str,
    deps: Sequence[str],
    description: str,
    checks: Sequence[tuple[str, str, bool]] = (),
    run_checks: Callable[[object, Path, Path], list[quality.CheckOutcome]] | None = None,
    extra_tables: Sequence[str] = (),
) -> dg.AssetsDefinition:
    key = dg.AssetKey(["features", name])

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(d.split("/")) for d in deps],
        description=description,
        group_name="features",
        kinds={"duckdb", "sql"},
        owners=["team:quant-research"],
        pool=WAREHOUSE_POOL,
        check_specs=specs(key, [*checks, SCHEMA_CHECK]),
        metadata={"sql": f"sql/features/*_{name}.sql"},
        automation_condition=on_upstream_update(),
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: Warehouse, sources: SourceResource) -> dg.MaterializeResult:
        from cbi_platform.lib import features as feature_sql

        sql_dir = warehouse.sql_dir

        with warehouse.get_connection() as conn:
            feature_sql.run_sql(conn, Path(sql_dir), name, Path(sources.config_dir))
            metadata = table_metadata(conn, f"features.{name}", feature_sql.column_docs(Path(sql_dir)))
            for extra in extra_tables:
                metadata[f"{extra}_rows"] = conn.execute(f"SELECT count(*) FROM features.{extra}").fetchone()[0]
            outcomes = (run_checks(conn, Path(sql_dir), Path(sources.config_dir)) if run_checks else []) + [
                _schema_check(context, conn, f"features.{name}", Path(sql_dir), Path(sources.config_dir), metadata)]
        return dg.MaterializeResult(metadata=metadata, check_results=[to_result(o) for o in outcomes])

    return _asset


SCHEMA_CHECK = ("schema_unchanged", "The column schema changes only when the SQL or config defining it changed", True)


def _schema_check(context: dg.AssetExecutionContext, conn, table: str, sql_dir: Path, config_dir: Path,
                  metadata: dict) -> quality.CheckOutcome:
    """Compare this build's column schema with the previous materialisation's, and record this
    build's fingerprints in `metadata` for the next one."""
    from cbi_platform.lib import features as feature_sql

    event = context.instance.get_latest_materialization_event(context.asset_key)
    previous = event.asset_materialization.metadata if event and event.asset_materialization else {}

    def previous_value(key):
        entry = previous.get(key)
        return entry.value if entry is not None else None

    schema = quality.schema_fingerprint(conn, table)
    config = feature_sql.definition_fingerprint(sql_dir, config_dir)
    metadata["schema_fingerprint"], metadata["config_fingerprint"] = schema, config
    return quality.schema_unchanged(schema, config, previous_value("schema_fingerprint"), previous_value("config_fingerprint"))


def _point_in_time(conn, sql_dir: Path, config_dir: Path) -> quality.CheckOutcome:
    from cbi_platform.lib import features as feature_sql

    days = feature_sql.point_in_time_sample_days(conn)
    return quality.point_in_time(feature_sql.point_in_time_mismatches(conn, sql_dir, days, config_dir=config_dir), days)


def _terms_of_trade_coverage(conn) -> quality.CheckOutcome:
    # WARN: a deployment without BRL futures still trains; the gap is visible
    return quality.column_coverage(conn, "features.core_macro_fx", "terms_of_trade", WARMUP_ROWS, 0.95,
                                   "terms_of_trade_coverage", severity="WARN")


def _feature_drift(conn, config_dir: Path) -> quality.CheckOutcome:
    """PSI per feature, latest quarter vs the earlier rows: WARN naming the features that moved."""
    from cbi_platform.lib.drift import load_psi_limits, matrix_feature_drift, retrain_requested

    limits = load_psi_limits(config_dir)
    drift = matrix_feature_drift(conn, limits)
    moved = drift[drift["level"].isin(["warn", "retrain"])]
    verdict = (f"{len(moved)} features shifted in the latest {limits.recent_rows} rows (PSI > {limits.warn}): "
               + ", ".join(f"{r.feature} {r.psi:.2f}" for r in moved.head(8).itertuples())
               if len(moved) else f"no feature's PSI above {limits.warn} in the latest {limits.recent_rows} rows")
    return quality.CheckOutcome("feature_drift", moved.empty, verdict, severity="WARN", metadata={
        "retrain_requested": retrain_requested(drift, limits),
        "psi_top": dg.MetadataValue.md(markdown(drift.head(20), floatfmt=".3f")),
        "insufficient_evidence": int((drift["level"] == "insufficient").sum())})


def _daily_checks(table: str, extra: Callable[[object, Path, Path], list] | None = None, exclude: Sequence[str] = ()):
    def run(conn, sql_dir: Path, config_dir: Path):
        outcomes = [
            quality.no_inf(conn, table),
            quality.primary_key_unique(conn, table, ["trade_date"]),
            quality.covers_trading_days(conn, table),
            quality.history_long_enough(conn, table),
            quality.null_share(conn, table, WARMUP_ROWS, 0.10, exclude=exclude),
        ]
        return outcomes + (extra(conn, sql_dir, config_dir) if extra else [])
    return run


futures_returns = feature_asset(
    "futures_returns",
    deps=["raw/futures_ohlcv_1d"],
    description=(
        "Roll-adjusted daily log returns of every root's continuous front month (a return across a roll "
        "is one contract's return, using the second month's previous close; in vendor files without instrument "
        "ids a roll is found from the Change column or, without it, open interest in each contract's roll "
        "segment, and its gap removed), plus features.roll_calendar. Blocking gates stop corrupted vendor data."
    ),
    checks=[("no_inf", "No Inf or NaN in returns", True),
            ("primary_key_unique", "One row per root and day", True),
            ("returns_sign_agreement", "On non-roll days the adjusted return has the sign of the settle difference; a "
                                       "signed vendor Change column agrees with it", True),
            ("returns_balance", "Share of positive daily returns per root and year in [0.35, 0.65]", True),
            ("roll_frequency", "Rolls per complete year between half and twice the root's listed contract months", True),
            ("price_moves_plausible", "No daily settle move beyond x2 or /2 (a rescaled series, a misplaced decimal)", True),
            ("prices_not_stale", "No settle repeated on 7 or more consecutive trading days", True)],
    run_checks=lambda conn, sql_dir, config_dir: [quality.no_inf(conn, "features.futures_returns"),
                             quality.primary_key_unique(conn, "features.futures_returns", ["root", "trade_date"]),
                             *quality.futures_returns_gates(conn)],
    extra_tables=["roll_calendar"],
)

macro_pit = feature_asset(
    "macro_pit",
    deps=["raw/fred_observations", "raw/futures_ohlcv_1d"],
    description=(
        "Point-in-time FRED values on the ZL trading calendar: for each day, the latest observation "
        "published by then at its newest vintage published by then (never a later revision)."
    ),
    checks=[("primary_key_unique", "One row per day and series", True)],
    run_checks=lambda conn, sql_dir, config_dir: [quality.primary_key_unique(conn, "features.macro_pit", ["trade_date", "series_id"])],
)

core_macro_fx = feature_asset(
    "core_macro_fx",
    deps=["features/futures_returns", "features/macro_pit"],
    description="The ~50 base features every bucket inherits: FX, macro, ZL price/volume, cross-asset.",
    checks=[*DAILY_CHECKS, ("terms_of_trade_coverage", "Terms of trade (needs the 6L future) non-NULL on 95%+ of rows "
                                                       "after warm-up (WARN)", False)],
    run_checks=_daily_checks("features.core_macro_fx", extra=lambda conn, sql_dir, config_dir: [_terms_of_trade_coverage(conn)]),
)

bucket_inputs = feature_asset(
    "bucket_inputs",
    deps=["features/futures_returns", "features/macro_pit", "features/core_macro_fx", "raw/futures_statistics_1d",
          "raw/options_ohlcv_1d", "raw/options_definitions", "raw/cftc_cot", "raw/epa_rin_prices", "raw/usda_export_sales",
          "raw/usda_wasde", "raw/eia_series", "raw/news_items"],
    description=(
        "Every bucket-specific feature on the ZL trading calendar (crush, China, FX, Fed, tariff, biofuel, energy, "
        "volatility inputs); weekly and monthly sources joined on their publication date, carried forward to daily."
    ),
    checks=[("no_inf", "No Inf or NaN anywhere: guarded divisions yield NULL", True),
            ("primary_key_unique", "No duplicate dates", True),
            ("covers_trading_days", "One row per ZL trading day", True),
            ("null_share", "Each feature non-NULL on 90%+ of rows after warm-up (WARN lists offenders)", False)],
    run_checks=lambda conn, sql_dir, config_dir: [quality.no_inf(conn, "features.bucket_inputs"),
                             quality.primary_key_unique(conn, "features.bucket_inputs", ["trade_date"]),
                             quality.covers_trading_days(conn, "features.bucket_inputs"),
                             quality.null_share(conn, "features.bucket_inputs", WARMUP_ROWS, 0.10)],
)


def bucket_asset(bucket: str) -> dg.AssetsDefinition:
    key = dg.AssetKey(["features", f"bucket_{bucket}"])
    table = f"features.bucket_{bucket}"
    checks = [("no_inf", "No Inf or NaN anywhere", True),
              ("covers_trading_days", "One row per ZL trading day", True),
              ("bucket_ready", "Every bucket feature has data after warm-up (WARN names the empty ones: a source gap)", False)]

    @dg.asset(key=key, deps=[dg.AssetKey(["features", "core_macro_fx"]), dg.AssetKey(["features", "bucket_inputs"])],
              description=f"The {bucket} bucket view: core_macro_fx plus the {bucket} features chosen in config/buckets.yaml "
                          f"({load_buckets(SETTINGS.config_dir)[bucket].description}).",
              group_name="features", kinds={"duckdb", "sql"}, owners=["team:quant-research"], pool=WAREHOUSE_POOL,
              check_specs=specs(key, [*checks, SCHEMA_CHECK]), metadata={"config": "config/buckets.yaml"},
              automation_condition=on_upstream_update())
    def _bucket(context: dg.AssetExecutionContext, warehouse: Warehouse, sources: SourceResource) -> dg.MaterializeResult:
        from cbi_platform.lib import features as feature_sql

        with warehouse.get_connection() as conn:
            own = feature_sql.build_bucket_view(conn, Path(sources.config_dir), bucket)
            metadata = table_metadata(conn, table, feature_sql.column_docs(Path(warehouse.sql_dir)))
            readiness = quality.bucket_readiness(conn, table, own, WARMUP_ROWS)
            outcomes = [quality.no_inf(conn, table), quality.covers_trading_days(conn, table), readiness,
                        _schema_check(context, conn, table, Path(warehouse.sql_dir), Path(sources.config_dir), metadata)]
        metadata["bucket_features"] = dg.MetadataValue.json(own)
        metadata["readiness"] = dg.MetadataValue.json(readiness.metadata["coverage"])
        return dg.MaterializeResult(metadata=metadata, check_results=[to_result(o) for o in outcomes])

    return _bucket


BUCKET_FEATURE_ASSETS = [bucket_asset(bucket) for bucket in load_buckets(SETTINGS.config_dir)]

zl_daily_matrix = feature_asset(
    "zl_daily_matrix",
    deps=["features/core_macro_fx", "features/bucket_inputs"],
    description=(
        "The ZL training matrix: one row per trading day, every feature, and forward log-return targets "
        "at 1w/1m/3m/6m (5/21/63/126 trading days), NULL until the horizon has settled."
    ),
    checks=[*DAILY_CHECKS, ("targets_within_known_prices", "No target uses a price after the last known one", True),
            ("targets_roll_adjusted", "No return or target spans an unadjusted roll of the ZL front month", True),
            ("point_in_time", "Features recomputed from raw data truncated at sampled dates equal the stored rows", True),
            ("feature_drift", "PSI of each feature, latest quarter vs the earlier rows, at most 0.2 (WARN lists the "
                              "features that moved; config/schedules.yaml models.drift.psi)", False)],
    run_checks=_daily_checks(
        "features.zl_daily_matrix",
        extra=lambda conn, sql_dir, config_dir: [
            quality.targets_within_known_prices(conn, "features.zl_daily_matrix", HORIZONS),
            quality.rolls_adjusted(conn, "ZL"), _point_in_time(conn, sql_dir, config_dir),
            _feature_drift(conn, config_dir)],
        exclude=[f"target_{h}" for h in HORIZONS] + [f"target_end_{h}" for h in HORIZONS],
    ),
)



mes_hourly = feature_asset(
    "mes_hourly",
    deps=["raw/futures_ohlcv_1h", "features/futures_returns", "features/macro_pit", "raw/news_items"],
    description=(
        "The hourly panel for the MES TimeSeriesPredictor: one item per futures root, the forward roll-adjusted log "
        "price as target, calendar covariates (hour, weekday, month start/end) and daily aggregates known by the "
        "previous day (FRED values by category: avg/min/max/count; VIX)."
    ),
    checks=[("no_inf", "No Inf or NaN anywhere", True),
            ("primary_key_unique", "One row per root and bar", True)],
    run_checks=lambda conn, sql_dir, config_dir: [quality.no_inf(conn, "features.mes_hourly"),
                             quality.primary_key_unique(conn, "features.mes_hourly", ["item_id", "timestamp"])],
)
FEATURE_ASSETS = [futures_returns, macro_pit, core_macro_fx, bucket_inputs, *BUCKET_FEATURE_ASSETS, zl_daily_matrix,
                  mes_hourly]
