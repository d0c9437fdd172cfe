"""The deployed instance config (deploy/dagster.yaml) on a real PostgreSQL: a partitioned
materialisation, then its events and asset checks read back from Postgres."""


import dagster as dg
import pytest

from cbi_platform.lib.settings import Settings
from cbi_platform_tests.processes import deploy_instance_home

WEEK = "2026-11-01"  # a weekly partition of raw/epa_rin_prices (weeks start on Sunday)


@pytest.fixture
def postgres_instance(postgres, tmp_path, monkeypatch):
    """The deployed instance: deploy/dagster.yaml and docker-compose.yml's Dagster environment."""
    for name, value in deploy_instance_home(tmp_path / "dagster_home", postgres).items():
        monkeypatch.setenv(name, value)
    instance = dg.DagsterInstance.get()
    yield instance
    instance.dispose()


def test_partitioned_run_events_and_checks_live_in_postgres(postgres_instance, tmp_path):
    from cbi_platform import definitions as cbi

    storage = type(postgres_instance.event_log_storage).__name__
    assert storage == "PostgresEventLogStorage" and type(postgres_instance.run_storage).__name__ == "PostgresRunStorage"
    settings = Settings.from_env().with_overrides(data_dir=tmp_path / "data",
                                                  warehouse_path=str(tmp_path / "data" / "cbi.duckdb"), source_mode="sample")
    result = dg.materialize([cbi.epa_rin_prices], instance=postgres_instance, resources=cbi.resources(settings),
                            partition_key=WEEK)
    assert result.success
    key = dg.AssetKey(["raw", "epa_rin_prices"])
    event = postgres_instance.get_latest_materialization_event(key)
    assert event.dagster_event.partition == WEEK and event.run_id == result.run_id
    # one partition: the rows per key and the requests are in the partition's own event
    assert {"rows_by_key", "requests", "gaps", "gap_count"} <= set(event.asset_materialization.metadata)
    assert postgres_instance.get_materialized_partitions(key) == {WEEK}
    check = dg.AssetCheckKey(key, "no_future_as_of")
    history = postgres_instance.event_log_storage.get_asset_check_execution_history(check, limit=5)
    assert history and history[0].run_id == result.run_id and history[0].status.value == "SUCCEEDED"
    # the run itself, read back through the Postgres run storage
    run = postgres_instance.get_run_by_id(result.run_id)
    assert run.is_success and run.tags["dagster/partition"] == WEEK


def test_check_alerts_keep_working_tick_after_tick_on_postgres(postgres_instance, monkeypatch):
    from cbi_platform_tests.defs.test_automation import check_alerts_keep_working_tick_after_tick

    assert type(postgres_instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    check_alerts_keep_working_tick_after_tick(postgres_instance, monkeypatch)


def test_ranged_ingest_with_batched_events_on_postgres(postgres_instance, tmp_path):
    from cbi_platform_tests.defs.test_ranged_ingest import ranged_ingest_is_all_or_nothing

    ranged_ingest_is_all_or_nothing(postgres_instance, tmp_path)
