"""The Dagster code location: every asset, check, job, schedule, sensor and resource.

Loading this module must stay fast: nothing here imports autogluon or torch (a test proves it).
"""

from __future__ import annotations

import dagster as dg

from cbi_platform.defs import automation
from cbi_platform.defs.executors import step_executor
from cbi_platform.defs.features import FEATURE_ASSETS
from cbi_platform.defs.forecasts import mes_predictions, zl_forecast_report, zl_predictions, zl_strategy_backtest
from cbi_platform.defs.ingest.cftc import cftc_cot
from cbi_platform.defs.ingest.databento import DATABENTO_ASSETS, futures_hourly
from cbi_platform.defs.ingest.eia import eia_series
from cbi_platform.defs.ingest.epa_rin import epa_rin_prices
from cbi_platform.defs.ingest.fred import fred
from cbi_platform.defs.ingest.news import news_items
from cbi_platform.defs.ingest.usda_esr import usda_export_sales
from cbi_platform.defs.ingest.usda_wasde import usda_wasde
from cbi_platform.defs.models import MES_SNAPSHOT_KEY, MODEL_ASSETS
from cbi_platform.defs.resources import ModelStore, PlatformConfig, ReportStore, SourceResource, Warehouse
from cbi_platform.defs.risk import zl_risk
from cbi_platform.defs.settings import SETTINGS

RAW_ASSETS = [fred, *DATABENTO_ASSETS, cftc_cot, epa_rin_prices, usda_export_sales, usda_wasde, eia_series, news_items]
# raw assets the demo backfills over the whole history; hourly bars only over recent weeks
HOURLY_ASSETS = [futures_hourly]
# the hourly MES path: vendor settle files (files mode) have no hourly bars to feed it
MES_ASSET_KEYS = {dg.AssetKey(["features", "mes_hourly"]), MES_SNAPSHOT_KEY, dg.AssetKey(["models", "mes_timeseries"]),
                  dg.AssetKey(["forecasts", "mes_predictions"])}
FORECAST_ASSETS = [zl_predictions, zl_risk, zl_strategy_backtest, mes_predictions, zl_forecast_report]
ALL_ASSETS = [*RAW_ASSETS, *FEATURE_ASSETS, *MODEL_ASSETS, *FORECAST_ASSETS]


def resources(settings=SETTINGS) -> dict:
    platform = PlatformConfig(config_dir=str(settings.config_dir), data_mode=settings.source_mode)
    return {
        "warehouse": Warehouse(database=settings.warehouse_path, sql_dir=str(settings.sql_dir)),
        "platform": platform,
        "sources": SourceResource(
            platform=platform,
            landing_url=settings.landing_url,
            files_dir=str(settings.files_dir),
            sample_seed=settings.sample_seed,
            sample_signal=settings.sample_signal,
            history_start=settings.history_start.isoformat(),
        ),
        "model_store": ModelStore(root=settings.model_url, snapshots=settings.snapshot_url),
        "reports": ReportStore(root=settings.report_url),
    }


INGEST_JOBS = {asset.node_def.name: automation.ingest_job(asset) for asset in RAW_ASSETS}
RETRAIN_JOB = automation.retrain_job(MODEL_ASSETS, FORECAST_ASSETS)
SCHEDULES = [automation.ingest_schedule(asset, INGEST_JOBS[asset.node_def.name]) for asset in RAW_ASSETS] + [
    automation.retrain_schedule(RETRAIN_JOB)]
SENSORS = [automation.news_sensor(INGEST_JOBS["news"]), automation.alert_on_run_failure,
           automation.alert_on_check_failure, automation.drift_sensor(RETRAIN_JOB), automation.refresh_sensor]

defs = dg.Definitions(assets=ALL_ASSETS, jobs=[*INGEST_JOBS.values(), RETRAIN_JOB], schedules=SCHEDULES,
                      sensors=SENSORS, resources=resources(), executor=step_executor(SETTINGS))
