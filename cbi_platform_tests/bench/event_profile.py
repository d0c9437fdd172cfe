"""One ranged run of a raw asset through Dagster under cProfile, in the environment it is given (a
fresh data dir and instance: the `dagster_event_profile` bench starts it). Prints one JSON line:
the run's wall time, and how much of it each part took, by cumulative time of the functions
that do it, so a bench line can say where a partition's cost goes.

    python -m cbi_platform_tests.bench.event_profile <asset op name>
"""

import cProfile
import json
import pstats
import sys
import time

# id: (what, file path suffix, function): summed cumulative seconds of the matching functions; a
# part whose storage is not the instance's reads 0
PARTS = {
    "ingest": ("ingest (fetch, parse, write) and its checks", "cbi_platform/defs/ingest/common.py", "checked_ingest"),
    "events": ("Dagster handling the run's events (the instance's handle_new_event)",
               "dagster/_core/instance/methods/event_methods.py", "handle_new_event"),
    "planned": ("  of it the planned events, written when the run is created", "dagster/_core/instance/runs/run_domain.py",
                "_log_asset_planned_events"),
    "check_rows": ("    of them a row per check and partition (an unpartitioned check gets one each)",
                   "dagster/_core/storage/event_log/sql_event_log.py", "_store_asset_check_evaluation_planned"),
    "sqlite_connect": ("  SQLite: a new SQLAlchemy engine, connection and commit per write",
                       "event_log/sqlite/sqlite_event_log.py", "_connect"),
    "sqlite_commit": ("  SQLite: sqlite3 commits", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    "pg_connect": ("  Postgres: a new connection per write (NullPool)", "~", "<built-in method psycopg2._psycopg._connect>"),
    "pg_execute": ("  Postgres: statements executed", "~", "<method 'execute' of 'psycopg2.extensions.cursor' objects>"),
    "compile": ("  SQL statements compiled afresh by SQLAlchemy", "sqlalchemy/sql/elements.py", "_compile_w_cache"),
}


def main(name: str) -> None:
    from cbi_platform import definitions as cbi
    from cbi_platform.defs.settings import Settings
    from cbi_platform.demo import local_instance, materialize_range

    settings = Settings.from_env()
    instance = local_instance(settings)
    asset = next(a for a in cbi.RAW_ASSETS if a.node_def.name == name)
    keys = asset.partitions_def.get_partition_keys()
    resources = cbi.resources(settings)
    resources["sources"].fetch_context()  # the sample world, built once per process: not a partition's cost
    profile = cProfile.Profile()
    t0 = time.perf_counter()
    profile.enable()
    result = materialize_range([asset], keys[0], keys[-1], instance, resources)
    profile.disable()
    seconds = time.perf_counter() - t0
    if not result.success:
        raise SystemExit(f"{name}: the ranged run failed")
    stats = pstats.Stats(profile).stats
    parts = {part: sum(entry[3] for (path, _, function), entry in stats.items()
                       if path.endswith(suffix) and function == wanted)
             for part, (_, suffix, wanted) in PARTS.items()}
    print(json.dumps({"asset": name, "storage": type(instance.event_log_storage).__name__, "partitions": len(keys),
                      "tables": len(asset.keys), "checks": len(asset.check_keys), "seconds": seconds, "parts": parts}))


if __name__ == "__main__":
    main(sys.argv[1])
