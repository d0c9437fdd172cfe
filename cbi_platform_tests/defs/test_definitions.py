import json
import subprocess
import sys

import dagster as dg

from cbi_platform.lib.settings import PROJECT_ROOT

SNAPSHOT = {
    "features/bucket_biofuel": {"group": "features", "partitioned": False, "checks": ['bucket_ready', 'covers_trading_days', 'no_inf', 'schema_unchanged']},
    "features/bucket_china": {"group": "features", "partitioned": False, "checks": ['bucket_ready', 'covers_trading_days', 'no_inf', 'schema_unchanged']},
    "features/bucket_crush": {"group": "features", "partitioned": False, "checks": ['bucket_ready', 'covers_trading_days', 'no_inf', 'schema_unchanged']},
    "features/bucket_energy": {"group": "features", "partitioned": False, "checks": ['bucket_ready', 'covers_trading_days', 'no_inf', 'schema_unchanged']},
    "features/bucket_fed": {"group": "features", "partitioned": False, "checks": ['bucket_ready', 'covers_trading_days', 'no_inf', 'schema_unchanged']},
    "features/bucket_fx": {"group": "features", "partitioned": False, "checks": ['bucket_ready', 'covers_trading_days', 'no_inf', 'schema_unchanged']},
    "features/bucket_inputs": {"group": "features", "partitioned": False, "checks": ['covers_trading_days', 'no_inf', 'null_share', 'primary_key_unique', 'schema_unchanged']},
    "features/bucket_tariff": {"group": "features", "partitioned": False, "checks": ['bucket_ready', 'covers_trading_days', 'no_inf', 'schema_unchanged']},
    "features/bucket_volatility": {"group": "features", "partitioned": False, "checks": ['bucket_ready', 'covers_trading_days', 'no_inf', 'schema_unchanged']},
    "features/core_macro_fx": {"group": "features", "partitioned": False, "checks": ['covers_trading_days', 'history_long_enough', 'no_inf', 'null_share', 'primary_key_unique', 'schema_unchanged', 'terms_of_trade_coverage']},
    "features/futures_returns": {"group": "features", "partitioned": False, "checks": ['no_inf', 'price_moves_plausible', 'prices_not_stale', 'primary_key_unique', 'returns_balance', 'returns_sign_agreement', 'roll_frequency', 'schema_unchanged']},
    "features/macro_pit": {"group": "features", "partitioned": False, "checks": ['primary_key_unique', 'schema_unchanged']},
    "features/mes_hourly": {"group": "features", "partitioned": False, "checks": ['no_inf', 'primary_key_unique', 'schema_unchanged']},
    "features/zl_daily_matrix": {"group": "features", "partitioned": False, "checks": ['covers_trading_days', 'feature_drift', 'history_long_enough', 'no_inf', 'null_share', 'point_in_time', 'primary_key_unique', 'schema_unchanged', 'targets_roll_adjusted', 'targets_within_known_prices']},
    "forecasts/mes_predictions": {"group": "forecasts", "partitioned": False, "checks": ['mes_forecast_present', 'quantiles_ordered']},
    "risk/monte_carlo_scenarios": {"group": "risk", "partitioned": False, "checks": []},
    "risk/risk_metrics": {"group": "risk", "partitioned": False, "checks": ['es_backtest_1m', 'es_backtest_1w', 'es_backtest_3m', 'es_backtest_6m', 'scenarios_match_quantiles', 'var_backtest_1m', 'var_backtest_1w', 'var_backtest_3m', 'var_backtest_6m', 'var_dq_1m', 'var_dq_1w', 'var_dq_3m', 'var_dq_6m', 'var_ordered']},
    "forecasts/zl_strategy_backtest": {"group": "forecasts", "partitioned": False, "checks": []},
    "forecasts/zl_predictions": {"group": "forecasts", "partitioned": False, "checks": ['latest_forecast_present', 'quantiles_ordered']},
    "models/biofuel_specialist": {"group": "models", "partitioned": False, "checks": ['quantiles_ordered']},
    "models/china_specialist": {"group": "models", "partitioned": False, "checks": ['quantiles_ordered']},
    "models/crush_specialist": {"group": "models", "partitioned": False, "checks": ['quantiles_ordered']},
    "models/energy_specialist": {"group": "models", "partitioned": False, "checks": ['quantiles_ordered']},
    "models/fed_specialist": {"group": "models", "partitioned": False, "checks": ['quantiles_ordered']},
    "models/fx_specialist": {"group": "models", "partitioned": False, "checks": ['quantiles_ordered']},
    "models/tariff_specialist": {"group": "models", "partitioned": False, "checks": ['quantiles_ordered']},
    "models/volatility_specialist": {"group": "models", "partitioned": False, "checks": ['quantiles_ordered']},
    "models/mes_timeseries": {"group": "models", "partitioned": False, "checks": ['mes_beats_seasonal_naive']},
    "models/zl_baselines": {"group": "models", "partitioned": False, "checks": ['quantiles_ordered']},
    "models/zl_ensemble": {"group": "models", "partitioned": False, "checks": ['coverage_in_band', 'do_no_harm', 'implausible_skill', 'leakage_alarm', 'quantiles_ordered']},
    "models/zl_linear": {"group": "models", "partitioned": False, "checks": ['quantiles_ordered']},
    "models/zl_main": {"group": "models", "partitioned": False, "checks": ['quantiles_ordered']},
    "models/zl_training_snapshot": {"group": "models", "partitioned": False, "checks": []},
    "models/mes_training_snapshot": {"group": "models", "partitioned": False, "checks": []},
    "models/training_tables": {"group": "models", "partitioned": False, "checks": []},
    "raw/cftc_cot": {"group": "ingest_positioning", "partitioned": True, "checks": ['fresh', 'no_future_as_of', 'no_gaps', 'positions_balance', 'primary_key_unique', 'rows_present']},
    "raw/eia_series": {"group": "ingest_energy", "partitioned": True, "checks": ['finite_values', 'fresh', 'no_future_as_of', 'no_gaps', 'primary_key_unique', 'rows_present']},
    "raw/epa_rin_prices": {"group": "ingest_biofuel", "partitioned": True, "checks": ['fresh', 'no_future_as_of', 'no_gaps', 'non_negative', 'primary_key_unique', 'rows_present']},
    "raw/fred_observations": {"group": "ingest_macro", "partitioned": True, "checks": ['finite_values', 'fresh', 'no_future_as_of', 'no_gaps', 'primary_key_unique', 'rows_present']},
    "raw/fred_series": {"group": "ingest_macro", "partitioned": True, "checks": ['fresh', 'no_future_as_of', 'primary_key_unique', 'rows_present']},
    "raw/futures_ohlcv_1d": {"group": "ingest_market", "partitioned": True, "checks": ['finite_values', 'fresh', 'no_future_as_of', 'no_gaps', 'ohlc_consistent', 'primary_key_unique', 'rows_present']},
    "raw/futures_ohlcv_1h": {"group": "ingest_market", "partitioned": True, "checks": ['finite_values', 'fresh', 'no_future_as_of', 'no_gaps', 'ohlc_consistent', 'primary_key_unique', 'rows_present']},
    "raw/futures_statistics_1d": {"group": "ingest_market", "partitioned": True, "checks": ['fresh', 'no_future_as_of', 'no_gaps', 'non_negative', 'primary_key_unique', 'rows_present']},
    "raw/news_items": {"group": "ingest_news", "partitioned": True, "checks": ['fresh', 'no_future_as_of', 'no_gaps', 'primary_key_unique', 'rows_present']},
    "raw/options_definitions": {"group": "ingest_market", "partitioned": True, "checks": ['fresh', 'no_future_as_of', 'primary_key_unique', 'rows_present']},
    "raw/options_ohlcv_1d": {"group": "ingest_market", "partitioned": True, "checks": ['fresh', 'no_future_as_of', 'no_gaps', 'ohlc_consistent', 'primary_key_unique', 'rows_present']},
    "raw/usda_esr_commodities": {"group": "ingest_ags", "partitioned": True, "checks": ['fresh', 'no_future_as_of', 'primary_key_unique', 'rows_present']},
    "raw/usda_esr_countries": {"group": "ingest_ags", "partitioned": True, "checks": ['fresh', 'no_future_as_of', 'primary_key_unique', 'rows_present']},
    "raw/usda_esr_units": {"group": "ingest_ags", "partitioned": True, "checks": ['fresh', 'no_future_as_of', 'primary_key_unique', 'rows_present']},
    "raw/usda_export_sales": {"group": "ingest_ags", "partitioned": True, "checks": ['fresh', 'no_future_as_of', 'no_gaps', 'primary_key_unique', 'rows_present']},
    "raw/usda_wasde": {"group": "ingest_ags", "partitioned": True, "checks": ['fresh', 'no_future_as_of', 'no_gaps', 'primary_key_unique', 'rows_present']},
    "reports/zl_forecast": {"group": "reports", "partitioned": False, "checks": []},
}


def test_loading_definitions_imports_neither_autogluon_nor_torch():
    code = ("import sys, cbi_platform.definitions as d; d.defs.resolve_asset_graph(); "
            "print(sorted(m for m in ('autogluon', 'torch', 'lightgbm', 'databento') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_asset_specs_snapshot():
    from cbi_platform.definitions import defs

    graph = defs.resolve_asset_graph()
    actual = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        checks = sorted(c.name for c in graph.get_check_keys_for_assets([key]))
        actual[key.to_user_string()] = {"group": node.group_name, "partitioned": node.partitions_def is not None, "checks": checks}
    assert actual == SNAPSHOT, json.dumps(actual, indent=1)


def test_every_asset_is_documented_and_owned():
    from cbi_platform.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        spec = graph.get(key)
        assert spec.description and len(spec.description) > 40, key
        assert spec.owners, key
        assert spec.kinds, key


def test_raw_assets_backfill_in_ranged_runs_with_retries_and_the_warehouse_pool():
    from cbi_platform import definitions as cbi

    for asset in cbi.RAW_ASSETS:
        assert asset.backfill_policy == dg.BackfillPolicy.single_run()
        assert asset.op.pool == "warehouse"
        assert asset.op.retry_policy.backoff == dg.Backoff.EXPONENTIAL and asset.op.retry_policy.jitter is not None


def test_every_asset_has_its_own_label_on_the_graph_and_its_group_is_its_key_prefix():
    from cbi_platform.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = list(graph.get_all_asset_keys())
    labels = [key.path[-1] for key in keys]
    assert sorted({label for label in labels if labels.count(label) > 1}) == []
    mismatched = {key.to_user_string(): graph.get(key).group_name for key in keys
                  if not graph.get(key).group_name.startswith(key.path[0] if key.path[0] != "raw" else "ingest_")}
    assert mismatched == {}


def test_run_config_fields_left_unset_fall_back_to_config_and_a_flat_position_is_kept():
    from cbi_platform.defs.models import TrainingRunConfig
    from cbi_platform.defs.risk import RiskConfig
    from cbi_platform.defs.settings import SETTINGS

    settings = {"position": {"contracts": 5}, "scenarios": 10_000}
    assert RiskConfig().resolved(settings) == (5.0, 10_000)
    assert RiskConfig(position_contracts=0.0, scenarios=500).resolved(settings) == (0.0, 500)
    assert RiskConfig(position_contracts=-2.0).resolved(settings) == (-2.0, 10_000)
    assert TrainingRunConfig().chosen_profile() == SETTINGS.profile
    assert TrainingRunConfig(profile="medium").chosen_profile() == "medium"


def test_each_raw_tables_name_and_primary_key_agree_in_its_ddl_its_source_and_its_asset(tmp_path):
    """A raw table's identity is stated in the DDL, the source's TableSpec and the asset's RawTable:
    they must not drift apart (the primary key is what upserts, dedupes and the checks key on)."""
    import cbi_platform.definitions  # noqa: F401  (builds every raw asset)
    from cbi_platform.defs.ingest.common import DECLARED
    from cbi_platform.lib import warehouse
    from cbi_platform_tests.conftest import SQL_DIR

    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, SQL_DIR)
    ddl = {f"{schema}.{table}": tuple(columns) for schema, table, columns in conn.execute(
        "SELECT schema_name, table_name, constraint_column_names FROM duckdb_constraints() "
        "WHERE constraint_type = 'PRIMARY KEY' AND schema_name = 'raw'").fetchall()}
    conn.close()
    # the hourly bars carry no index (sql/schema/013: too costly to maintain on the largest table):
    # their key is enforced by the primary_key_unique check alone
    unindexed = {"raw.futures_ohlcv_1h": ("symbol", "ts_event")}
    declared = set()
    for source, tables in DECLARED:
        spec = source()
        assert [t.name for t in spec.tables] == [t.table for t in tables], spec.name
        for table_spec, raw_table in zip(spec.tables, tables):
            expected = ddl.get(raw_table.table) or unindexed[raw_table.table]
            assert table_spec.primary_key == raw_table.primary_key == expected, raw_table.table
            declared.add(raw_table.table)
    assert declared == set(ddl) | set(unindexed)  # and every raw table the DDL creates has an asset
