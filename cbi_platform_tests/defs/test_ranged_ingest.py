"""A ranged backfill run on the local instance (SQLite, as `make demo`/`make backfill` run it):
one materialisation per partition written, none when the run fails. The Postgres module runs the
same on the deployed instance config, with docker-compose.yml's event batching."""

import dagster as dg

from cbi_platform.lib.settings import Settings

KEY = dg.AssetKey(["raw", "epa_rin_prices"])


def _ranged(instance, settings, span):
    from cbi_platform import definitions as cbi

    tags = {"dagster/asset_partition_range_start": span[0], "dagster/asset_partition_range_end": span[1]}
    return dg.materialize([cbi.epa_rin_prices], instance=instance, resources=cbi.resources(settings), tags=tags,
                          raise_on_error=False)


def ranged_ingest_is_all_or_nothing(instance, tmp_path) -> None:
    from cbi_platform import definitions as cbi

    keys = cbi.epa_rin_prices.partitions_def.get_partition_keys()
    before = instance.get_materialized_partitions(KEY)  # an instance other tests used may hold some
    # two ranges of two weeks nobody materialised, not the first (it carries the history)
    start = next(i for i in range(1, len(keys) - 3) if not before & set(keys[i:i + 4]))
    written, failing = keys[start:start + 2], keys[start + 2:start + 4]
    settings = Settings.from_env().with_overrides(data_dir=tmp_path / "data", source_mode="sample",
                                                  warehouse_path=str(tmp_path / "cbi.duckdb"))
    result = _ranged(instance, settings, (written[0], written[-1]))
    assert result.success
    # one planned event for the whole range (DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS), not one each
    planned = instance.get_records_for_run(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
    assert len(planned.records) == 1
    assert instance.get_materialized_partitions(KEY) == before | set(written)
    records = instance.fetch_materializations(KEY, limit=1000).records
    ranged = sorted(r.partition_key for r in records if r.partition_key in written)
    assert ranged == sorted(written)  # one each: no event written twice
    # each partition's event carries a few scalars; the rows per key went once into the run's log
    metadata = next(r for r in records if r.partition_key == written[0]).asset_materialization.metadata
    assert {"rows_by_key", "requests"}.isdisjoint(metadata) and metadata["gap_count"].value == 0 and "gaps" not in metadata
    logged = [e.message for e in instance.all_logs(result.run_id) if "rows by key" in (e.message or "")]
    assert len(logged) == 1 and f"[{written[0]}_" in logged[0] and "D4" in logged[0]
    # replay with nothing landed for these days: the source fails, the run fails, nothing is marked
    replay = settings.with_overrides(data_dir=tmp_path / "nothing_landed", source_mode="replay")
    failed = _ranged(instance, replay, (failing[0], failing[-1]))
    assert not failed.success
    assert instance.get_run_by_id(failed.run_id).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_materialized_partitions(KEY) == before | set(written)
    assert len(instance.fetch_materializations(KEY, limit=1000).records) == len(records)


def test_ranged_ingest_on_the_local_instance(tmp_path, monkeypatch):
    from cbi_platform.instance import DAGSTER_ENVIRONMENT, ensure_home

    for name in DAGSTER_ENVIRONMENT:  # ensure_home sets them; restored after the test
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    ensure_home(tmp_path)
    with dg.DagsterInstance.get() as instance:
        assert type(instance.event_log_storage).__name__ == "SqliteEventLogStorage"
        ranged_ingest_is_all_or_nothing(instance, tmp_path)
