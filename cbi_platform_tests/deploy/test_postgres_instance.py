"""The deployed instance config (deploy/dagster.yaml) on a real PostgreSQL: a partitioned
materialisation, then its events and asset checks read back from Postgres."""


import dagster as dg
import pytest

from cbi_platform.lib.settings import PROJECT_ROOT, Settings

DAY = "2026-11-02"


@pytest.fixture
def postgres_instance(postgres, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    text = (PROJECT_ROOT / "deploy" / "dagster.yaml").read_text().replace(
        "/opt/dagster/dagster_home/storage", str(home / "storage"))
    (home / "dagster.yaml").write_text(text)
    for name, key in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password"), ("DB", "db")):
        monkeypatch.setenv(f"DAGSTER_POSTGRES_{name}", str(postgres[key]))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
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
                            partition_key=DAY)
    assert result.success
    key = dg.AssetKey(["raw", "epa_rin_prices"])
    event = postgres_instance.get_latest_materialization_event(key)
    assert event.dagster_event.partition == DAY and event.run_id == result.run_id
    assert postgres_instance.get_materialized_partitions(key) == {DAY}
    check = dg.AssetCheckKey(key, "no_future_as_of")
    history = postgres_instance.event_log_storage.get_asset_check_execution_history(check, limit=5)
    assert history and history[0].run_id == result.run_id and history[0].status.value == "SUCCEEDED"
    # the run itself, read back through the Postgres run storage
    run = postgres_instance.get_run_by_id(result.run_id)
    assert run.is_success and run.tags["dagster/partition"] == DAY


def test_check_alerts_keep_working_tick_after_tick_on_postgres(postgres_instance, monkeypatch):
    from cbi_platform_tests.defs.test_automation import check_alerts_keep_working_tick_after_tick

    assert type(postgres_instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    check_alerts_keep_working_tick_after_tick(postgres_instance, monkeypatch)
