import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest

from cbi_platform.lib import warehouse
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import SQL_DIR, motherduck_stand_in


def rows(day: dt.date, value: float, series="DGS10") -> pd.DataFrame:
    return pd.DataFrame({"series_id": [series], "observation_date": [day], "realtime_start": [day],
                         "realtime_end": [dt.date(9999, 12, 31)], "value": [value], "vintage_source": ["alfred"],
                         "as_of_date": [day], "ingested_at": [pd.Timestamp("2024-01-01")]})


def count(conn, table="raw.fred_observations") -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_migrations_create_schemas_once(tmp_path):
    conn = warehouse.connect(tmp_path / "w.duckdb")
    first = warehouse.apply_migrations(conn, SQL_DIR)
    assert first and all(name.endswith(".sql") for name in first)
    assert warehouse.apply_migrations(conn, SQL_DIR) == []
    schemas = {r[0] for r in conn.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
    assert set(warehouse.SCHEMAS) <= schemas


def test_a_changed_migration_is_refused(tmp_path):
    sql = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql)
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.apply_migrations(conn, sql)
    first = sorted((sql / "schema").glob("001_*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(warehouse.WarehouseError, match="changed after it was applied"):
        warehouse.apply_migrations(conn, sql)


def test_replace_window_is_idempotent_and_scoped(conn):
    day1, day2 = dt.date(2024, 1, 2), dt.date(2024, 1, 3)
    warehouse.replace_window(conn, "raw.fred_observations", rows(day1, 4.0), Window(day1, day2))
    warehouse.replace_window(conn, "raw.fred_observations", rows(day2, 4.1), Window(day2, day2 + dt.timedelta(days=1)))
    before = conn.execute("SELECT * FROM raw.fred_observations ORDER BY as_of_date").df()
    warehouse.replace_window(conn, "raw.fred_observations", rows(day1, 4.0), Window(day1, day2))
    after = conn.execute("SELECT * FROM raw.fred_observations ORDER BY as_of_date").df()
    pd.testing.assert_frame_equal(before, after)
    # replacing day 1 with nothing removes day 1 only
    warehouse.replace_window(conn, "raw.fred_observations", rows(day1, 4.0).iloc[0:0], Window(day1, day2))
    assert conn.execute("SELECT as_of_date FROM raw.fred_observations").fetchall() == [(day2,)]


def test_rows_outside_the_window_are_refused(conn):
    day = dt.date(2024, 1, 2)
    with pytest.raises(warehouse.WarehouseError, match="outside window"):
        later = Window(day + dt.timedelta(days=1), day + dt.timedelta(days=2))
        warehouse.replace_window(conn, "raw.fred_observations", rows(day, 1.0), later)


def test_a_failing_insert_rolls_back_the_delete(conn):
    day = dt.date(2024, 1, 2)
    window = Window(day, day + dt.timedelta(days=1))
    warehouse.replace_window(conn, "raw.fred_observations", rows(day, 4.0), window)
    duplicate = pd.concat([rows(day, 5.0), rows(day, 6.0)])  # violates the primary key
    with pytest.raises(duckdb.ConstraintException):
        warehouse.replace_window(conn, "raw.fred_observations", duplicate, window)
    assert conn.execute("SELECT value FROM raw.fred_observations").fetchall() == [(4.0,)]


def test_history_window_replaces_everything_before_its_end(conn):
    early, late = dt.date(1999, 1, 4), dt.date(2010, 6, 7)
    warehouse.replace_window(conn, "raw.fred_observations", pd.concat([rows(early, 1.0), rows(late, 2.0)]),
                             Window(dt.date(2010, 6, 6), dt.date(2010, 6, 8), include_history=True))
    assert count(conn) == 2
    warehouse.replace_window(conn, "raw.fred_observations", rows(late, 3.0), Window(dt.date(2010, 6, 6), dt.date(2010, 6, 8), True))
    assert conn.execute("SELECT value FROM raw.fred_observations").fetchall() == [(3.0,)]


def test_identifiers_are_validated(conn):
    with pytest.raises(warehouse.WarehouseError):
        warehouse.replace_window(conn, "raw.fred_observations; DROP TABLE x", rows(dt.date(2024, 1, 2), 1.0),
                                 Window(dt.date(2024, 1, 2), dt.date(2024, 1, 3)))
    with pytest.raises(warehouse.WarehouseError):
        warehouse.replace_window(conn, "raw.fred_observations", rows(dt.date(2024, 1, 2), 1.0),
                                 Window(dt.date(2024, 1, 2), dt.date(2024, 1, 3)), date_column="as_of_date OR 1=1")


def test_a_motherduck_warehouse_reaches_duckdb_as_named_and_nothing_touches_the_disk(tmp_path, monkeypatch):
    from cbi_platform.defs.resources import Warehouse

    monkeypatch.chdir(tmp_path)  # where a relative "md:cbi" file or directory would appear
    stand_in = tmp_path / "served" / "motherduck.duckdb"
    stand_in.parent.mkdir()
    resource = Warehouse(database="md:cbi", sql_dir=str(SQL_DIR))
    with motherduck_stand_in(stand_in) as calls:
        with resource.get_connection() as conn:  # migrates, then writes
            conn.execute("CREATE TABLE ops.probe AS SELECT 42 AS answer")
        with resource.read_connection() as conn:
            answer = conn.execute("SELECT answer FROM ops.probe").fetchone()[0]
    assert calls == [("md:cbi", False, None), ("md:cbi", True, None)]
    assert answer == 42
    assert sorted(p.name for p in tmp_path.iterdir()) == ["served"]


def test_a_token_in_the_warehouse_location_is_refused(monkeypatch):
    from cbi_platform.lib.settings import Settings

    monkeypatch.setenv("CBI_WAREHOUSE", "md:cbi?motherduck_token=sekrit-123")
    with pytest.raises(warehouse.WarehouseError, match="MOTHERDUCK_TOKEN") as refused:
        Settings.from_env()
    assert "sekrit-123" not in str(refused.value)
    monkeypatch.setenv("CBI_WAREHOUSE", "md:cbi")
    assert Settings.from_env().warehouse_path == "md:cbi"


def test_a_writer_waits_for_another_process_holding_the_file_then_gives_up_after_its_wait(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "w.duckdb"
    warehouse.connect(path).close()
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}); "
                               "print('held', flush=True); time.sleep(4)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.IOException, match="lock"):
            warehouse.connect(path, wait_seconds=0.5)
        conn = warehouse.connect(path, wait_seconds=60)  # the holder exits after a few seconds
        assert conn.execute("SELECT 1").fetchone() == (1,)
        conn.close()
    finally:
        holder.kill()
        holder.wait()
