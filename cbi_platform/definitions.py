"""The Dagster code location: every asset, check, job, schedule, sensor and resource.

Loading this module must stay fast: nothing here imports autogluon or torch (a test proves it).
"""

from __future__ import annotations

import warnings

import dagster as dg

# BackfillPolicy is marked beta; single-run ranged backfills are a deliberate choice here.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

from cbi_platform.defs.features import FEATURE_ASSETS
from cbi_platform.defs.forecasts import zl_predictions, zl_risk
from cbi_platform.defs.ingest.databento import futures_ohlcv_1d, futures_ohlcv_1h
from cbi_platform.defs.ingest.fred import fred_observations
from cbi_platform.defs.models import MODEL_ASSETS
from cbi_platform.defs.partitions import SETTINGS
from cbi_platform.defs.resources import ModelStore, SourceResource, Warehouse

RAW_ASSETS = [fred_observations, futures_ohlcv_1d, futures_ohlcv_1h]
ALL_ASSETS = [*RAW_ASSETS, *FEATURE_ASSETS, *MODEL_ASSETS, zl_predictions, zl_risk]


def resources(settings=SETTINGS) -> dict:
    return {
        "warehouse": Warehouse(database=settings.warehouse_path, sql_dir=str(settings.sql_dir)),
        "sources": SourceResource(
            mode=settings.source_mode,
            landing_dir=str(settings.landing_dir),
            files_dir=str(settings.files_dir),
            config_dir=str(settings.config_dir),
            sample_seed=settings.sample_seed,
            sample_signal=settings.sample_signal,
        ),
        "model_store": ModelStore(root=str(settings.model_dir)),
    }


defs = dg.Definitions(assets=ALL_ASSETS, resources=resources())
