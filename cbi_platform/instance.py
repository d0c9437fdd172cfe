"""The local Dagster instance home (DAGSTER_HOME, default data/dagster_home): `make demo` and
`make ui` share it, so the UI shows what the demo materialised. SQLite storage locally; the
deployed instance (deploy/dagster.yaml) uses Postgres with the same pool limits."""

from __future__ import annotations

import os
import sys
from pathlib import Path

LOCAL_INSTANCE_YAML = """\
# Written by cbi_platform.instance for local runs (make demo / make ui).
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 4
  pools:
    # one slot per pool: `warehouse` (DuckDB allows one writing process) and `training` (one
    # AutoGluon fit at a time: it already uses every core)
    default_limit: 1
    granularity: op
run_coordinator:
  module: dagster._core.run_coordinator.queued_run_coordinator
  class: QueuedRunCoordinator
"""


# Dagster's planned events: one per run for a partition range instead of one per partition and
# asset, a third of a backfill's bookkeeping on SQLite (make bench backfill). The price:
# partitions of a failed ranged run show as missing, not failed (the run shows failed).
# docker-compose.yml sets the same for the deployed processes.
DAGSTER_ENVIRONMENT = {"DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"}


def ensure_home(data_dir: Path) -> Path:
    """DAGSTER_HOME (created with the local instance config if missing) and Dagster's environment
    for this process and the ones it starts (`make ui`'s daemon and run workers)."""
    home = Path(os.environ.get("DAGSTER_HOME") or data_dir / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(LOCAL_INSTANCE_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    for name, value in DAGSTER_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    return home


if __name__ == "__main__":
    from cbi_platform.lib.settings import Settings

    print(ensure_home(Settings.from_env().data_dir))
    sys.exit(0)
