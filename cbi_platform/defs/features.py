"""Feature assets: each runs its SQL file under sql/features/ and checks the result."""


from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from cbi_platform.defs.checks import results, specs
from cbi_platform.defs.conditions import on_upstream_update
from cbi_platform.defs.ingest.common import WAREHOUSE_POOL
from cbi_platform.defs.resources import PlatformConfig, Warehouse
from cbi_platform.defs.settings import SETTINGS
from cbi_platform.lib import quality
from cbi_platform.lib.config import configured_horizons
from cbi_platform.lib.display import markdown
from cbi_platform.lib.features import load_buckets
from cbi_platform.lib.quality import Check

HORIZONS = configured_horizons(SETTINGS.config_dir)
WARMUP_ROWS = 130  # the longest rolling window (6m) plus a margin


@dataclass
class Built:
    """What a feature table's checks look at: the table just built, and where its definition lives."""

    context: dg.AssetExecutionContext
    conn: object
    table: str
    sql_dir: Path
    config_dir: Path
    metadata: dict  # the materialisation's metadata: the schema check records its fingerprints here


def no_inf(description: str = "No Inf or NaN anywhere: guarded divisions yield NULL") -> Check:
    return Check("no_inf", description, lambda b: quality.no_inf(b.conn, b.table))


def primary_key_unique(key: Sequence[str], description: str) -> Check:
    return Check("primary_key_unique", description, lambda b: quality.primary_key_unique(b.conn, b.table, list(key)))


COVERS_TRADING_DAYS = Check("covers_trading_days", "One row per ZL trading day", lambda b: quality.covers_trading_days(b.conn, b.table))


def null_share(exclude: Sequence[str] = ()) -> Check:
    return Check("null_share", "Each feature non-NULL on 90%+ of rows after warm-up (WARN lists offenders)",
                 lambda b: quality.null_share(b.conn, b.table, WARMUP_ROWS, 0.10, exclude=exclude), blocking=False)


def daily_checks(exclude: Sequence[str] = ()) -> list[Check]:
    """The checks of every table with one row per ZL trading day that models train on."""
    return [no_inf(), primary_key_unique(["trade_date"], "No duplicate dates"), COVERS_TRADING_DAYS,
            Check("history_long_enough", "More than 1000 rows to train on (WARN)",
                  lambda b: quality.history_long_enough(b.conn, b.table), blocking=False),
            null_share(exclude)]


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
    checks: Sequence[Check] = (),
    extra_tables: Sequence[str] = (),
) -> dg.AssetsDefinition:
    key = dg.AssetKey(["features", name])
    checks = [*checks, SCHEMA_CHECK]

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(d.split("/")) for d in deps],
        description=description,
        group_name="features",
        kinds={"duckdb", "sql"},
        owners=["team:quant-research"],
        pool=WAREHOUSE_POOL,
        check_specs=specs(key, checks),
        metadata={"sql": f"sql/features/*_{name}.sql"},
        automation_condition=on_upstream_update(),
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: Warehouse, platform: PlatformConfig) -> dg.MaterializeResult:
        from cbi_platform.lib import features as feature_sql

        sql_dir = warehouse.sql_dir

        with warehouse.get_connection() as conn:
            feature_sql.run_sql(conn, Path(sql_dir), name, Path(platform.config_dir))
            metadata = table_metadata(conn, f"features.{name}", feature_sql.column_docs(Path(sql_dir)))
            for extra in extra_tables:
                metadata[f"{extra}_rows"] = conn.execute(f"SELECT count(*) FROM features.{extra}").fetchone()[0]
            built = Built(context, conn, f"features.{name}", Path(sql_dir), Path(platform.config_dir), metadata)
            check_results = results(checks, built)
        return dg.MaterializeResult(metadata=metadata, check_results=check_results)

    return _asset


def _schema_unchanged(built: Built) -> quality.CheckOutcome:
    """Compare this build's column schema with the previous materialisation's, and record this
    build's fingerprints in `metadata` for the next one."""
    from cbi_platform.lib import features as feature_sql

    context, metadata = built.context, built.metadata
    event = context.instance.get_latest_materialization_event(context.asset_key)
    previous = event.asset_materialization.metadata if event and event.asset_materialization else {}

    def previous_value(key):
        entry = previous.get(key)
        return entry.value if entry is not None else None

    schema = quality.schema_fingerprint(built.conn, built.table)
    config = feature_sql.definition_fingerprint(built.sql_dir, built.config_dir)
    metadata["schema_fingerprint"], metadata["config_fingerprint"] = schema, config
    return quality.schema_unchanged(schema, config, previous_value("schema_fingerprint"), previous_value("config_fingerprint"))


SCHEMA_CHECK = Check("schema_unchanged", "The column schema changes only when the SQL or config defining it changed",
                     _schema_unchanged)


def _point_in_time(built: Built) -> quality.CheckOutcome:
    from cbi_platform.lib import features as feature_sql

    days = feature_sql.point_in_time_sample_days(built.conn)
    mismatches = feature_sql.point_in_time_mismatches(built.conn, built.sql_dir, days, config_dir=built.config_dir)
    return quality.point_in_time(mismatches, days)


def _feature_drift(built: Built) -> quality.CheckOutcome:
    """PSI per feature, latest quarter vs the earlier rows: WARN naming the features that moved."""
    from cbi_platform.lib.drift import load_psi_limits, matrix_feature_drift, retrain_requested

    limits = load_psi_limits(built.config_dir)
    drift = matrix_feature_drift(built.conn, limits)
    moved = drift[drift["level"].isin(["warn", "retrain"])]
    verdict = (f"{len(moved)} features shifted in the latest {limits.recent_rows} rows (PSI > {limits.warn}): "
               + ", ".join(f"{r.feature} {r.psi:.2f}" for r in moved.head(8).itertuples())
               if len(moved) else f"no feature's PSI above {limits.warn} in the latest {limits.recent_rows} rows")
    return quality.CheckOutcome("feature_drift", moved.empty, verdict, severity="WARN", metadata={
        "retrain_requested": retrain_requested(drift, limits),
        "psi_top": dg.MetadataValue.md(markdown(drift.head(20), floatfmt=".3f")),
        "insufficient_evidence": int((drift["level"] == "insufficient").sum())})


futures_returns = feature_asset(
    "futures_returns",
    deps=["raw/futures_ohlcv_1d"],
    description=(
        "Roll-adjusted daily log returns of every root's continuous front month (a return across a roll "
        "is one contract's return, using the second month's previous close; in vendor files without instrument "
        "ids a roll is found from the Change column or, without it, open interest in each contract's roll "
        "segment, and its gap removed), plus features.roll_calendar. Blocking gates stop corrupted vendor data."
    ),
    checks=[no_inf("No Inf or NaN in returns"),
            primary_key_unique(["root", "trade_date"], "One row per root and day"),
            *(gate.on(lambda b: b.conn) for gate in quality.FUTURES_RETURNS_GATES)],
    extra_tables=["roll_calendar"],
)

macro_pit = feature_asset(
    "macro_pit",
    deps=["raw/fred_observations", "raw/futures_ohlcv_1d"],
    description=(
        "Point-in-time FRED values on the ZL trading calendar: for each day, the latest observation "
        "published by then at its newest vintage published by then (never a later revision); plus features.macro_wide, "
        "the same values with one column per series the feature views use."
    ),
    checks=[primary_key_unique(["trade_date", "series_id"], "One row per day and series")],
    extra_tables=["macro_wide"],
)

core_macro_fx = feature_asset(
    "core_macro_fx",
    deps=["features/futures_returns", "features/macro_pit"],
    description="The ~50 base features every bucket inherits: FX, macro, ZL price/volume, cross-asset.",
    checks=[*daily_checks(),
            # WARN: a deployment without BRL futures still trains; the gap is visible
            Check("terms_of_trade_coverage", "Terms of trade (needs the 6L future) non-NULL on 95%+ of rows after warm-up (WARN)",
                  lambda b: quality.column_coverage(b.conn, b.table, "terms_of_trade", WARMUP_ROWS, 0.95,
                                                    "terms_of_trade_coverage", severity="WARN"), blocking=False)],
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
    checks=[no_inf(), primary_key_unique(["trade_date"], "No duplicate dates"), COVERS_TRADING_DAYS, null_share()],
)


def bucket_asset(bucket: str) -> dg.AssetsDefinition:
    key = dg.AssetKey(["features", f"bucket_{bucket}"])
    table = f"features.bucket_{bucket}"

    def ready(built: Built) -> quality.CheckOutcome:
        own = list(load_buckets(built.config_dir)[bucket].features)
        outcome = quality.bucket_readiness(built.conn, built.table, own, WARMUP_ROWS)
        built.metadata["bucket_features"] = dg.MetadataValue.json(own)
        built.metadata["readiness"] = dg.MetadataValue.json(outcome.metadata["coverage"])
        return outcome

    checks = [no_inf("No Inf or NaN anywhere"), COVERS_TRADING_DAYS,
              Check("bucket_ready", "Every bucket feature has data after warm-up (WARN names the empty ones: a source gap)",
                    ready, blocking=False),
              SCHEMA_CHECK]

    @dg.asset(key=key, deps=[dg.AssetKey(["features", "core_macro_fx"]), dg.AssetKey(["features", "bucket_inputs"])],
              description=f"The {bucket} bucket view: core_macro_fx plus the {bucket} features chosen in config/buckets.yaml "
                          f"({load_buckets(SETTINGS.config_dir)[bucket].description}).",
              group_name="features", kinds={"duckdb", "sql"}, owners=["team:quant-research"], pool=WAREHOUSE_POOL,
              check_specs=specs(key, checks), metadata={"config": "config/buckets.yaml"},
              automation_condition=on_upstream_update())
    def _bucket(context: dg.AssetExecutionContext, warehouse: Warehouse, platform: PlatformConfig) -> dg.MaterializeResult:
        from cbi_platform.lib import features as feature_sql

        with warehouse.get_connection() as conn:
            feature_sql.build_bucket_view(conn, Path(platform.config_dir), bucket)
            metadata = table_metadata(conn, table, feature_sql.column_docs(Path(warehouse.sql_dir)))
            built = Built(context, conn, table, Path(warehouse.sql_dir), Path(platform.config_dir), metadata)
            check_results = results(checks, built)
        return dg.MaterializeResult(metadata=metadata, check_results=check_results)

    return _bucket


BUCKET_FEATURE_ASSETS = [bucket_asset(bucket) for bucket in load_buckets(SETTINGS.config_dir)]

zl_daily_matrix = feature_asset(
    "zl_daily_matrix",
    deps=["features/core_macro_fx", "features/bucket_inputs"],
    description=(
        "The ZL training matrix: one row per trading day, every feature, and forward log-return targets "
        "at 1w/1m/3m/6m (5/21/63/126 trading days), NULL until the horizon has settled."
    ),
    checks=[*daily_checks(exclude=[f"target_{h}" for h in HORIZONS] + [f"target_end_{h}" for h in HORIZONS]),
            Check("targets_within_known_prices", "No target uses a price after the last known one",
                  lambda b: quality.targets_within_known_prices(b.conn, b.table, HORIZONS)),
            Check("targets_roll_adjusted", "No return or target spans an unadjusted roll of the ZL front month",
                  lambda b: quality.rolls_adjusted(b.conn, "ZL")),
            Check("point_in_time", "Features recomputed from raw data truncated at sampled dates equal the stored rows",
                  _point_in_time),
            Check("feature_drift", "PSI of each feature, latest quarter vs the earlier rows, at most 0.2 (WARN lists the "
                                   "features that moved; config/schedules.yaml models.drift.psi)", _feature_drift, blocking=False)],
)



mes_hourly = feature_asset(
    "mes_hourly",
    deps=["raw/futures_ohlcv_1h", "features/futures_returns", "features/macro_pit", "raw/news_items"],
    description=(
        "The hourly panel for the MES TimeSeriesPredictor: one item per futures root, the forward roll-adjusted log "
        "price as target, calendar covariates (hour, weekday, month start/end) and daily aggregates known by the "
        "previous day (FRED values by category: avg/min/max/count; VIX)."
    ),
    checks=[no_inf("No Inf or NaN anywhere"), primary_key_unique(["item_id", "timestamp"], "One row per root and bar")],
)
FEATURE_ASSETS = [futures_returns, macro_pit, core_macro_fx, bucket_inputs, *BUCKET_FEATURE_ASSETS, zl_daily_matrix,
                  mes_hourly]
