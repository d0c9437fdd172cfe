"""DuckDB lets one process write at a time. Two runs launched together, each writing the
warehouse, both succeed: the `warehouse` pool (limit 1, from the instance config) makes the
second wait for the first instead of failing on the file lock."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from cbi_platform.instance import LOCAL_INSTANCE_YAML
from cbi_platform.lib.settings import PROJECT_ROOT


def test_two_warehouse_runs_launched_together_both_succeed(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(LOCAL_INSTANCE_YAML)
    env = {**os.environ, "DAGSTER_HOME": str(home), "CBI_DATA_DIR": str(tmp_path / "data")}
    from dagster._core.instance.ref import InstanceRef  # an instance for a given home, without touching DAGSTER_HOME

    # the instance exists before runs are launched (as `make demo`/`make ui` and the deployed
    # Postgres ensure): two processes creating a fresh SQLite schema at once race on its DDL
    dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))).dispose()
    dagster = str(Path(sys.executable).with_name("dagster"))
    runs = [
        subprocess.Popen([dagster, "asset", "materialize", "-m", "cbi_platform.definitions", "--select", selection,
                          "--partition", partition], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
        for selection, partition in (("raw/epa_rin_prices", "2026-11-01"), ("raw/cftc_cot", "2026-11-01"))
    ]
    outputs = [run.communicate(timeout=600)[0].decode(errors="replace") for run in runs]
    assert [run.returncode for run in runs] == [0, 0], "\n".join(o[-2000:] for o in outputs)
    assert not any("Could not set lock" in o for o in outputs)
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    statuses = sorted(r.status.value for r in instance.get_runs())
    assert statuses == ["SUCCESS", "SUCCESS"]
    assert instance.get_materialized_partitions(dg.AssetKey(["raw", "cftc_cot"])) == {"2026-11-01"}  # the week from Sunday, November 1
    instance.dispose()
