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


def ensure_home(data_dir: Path) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or data_dir / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(LOCAL_INSTANCE_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


if __name__ == "__main__":
    from cbi_platform.lib.settings import Settings

    print(ensure_home(Settings.from_env().data_dir))
    sys.exit(0)
