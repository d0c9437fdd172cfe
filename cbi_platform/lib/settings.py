"""Runtime settings, read from the environment once per process.

Everything a deployment changes is an environment variable (`.env.example` lists them); secrets
(API keys) are *not* settings: sources read them from the environment at fetch time, in `live`
mode only, so they never reach resource config, logs or metadata.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from cbi_platform.lib.sources.base import MODES
from cbi_platform.lib.warehouse import check_location

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _flag(name: str) -> bool:
    value = _env(name, "off").lower()
    if value not in ("on", "off"):
        raise ValueError(f"{name} must be on or off, got {value!r}")
    return value == "on"


EXECUTORS = ("multiprocess", "dask", "k8s")


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _env(name, default).lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse_path: str
    source_mode: str
    sample_seed: int
    sample_signal: float
    start_date: dt.date
    history_start: dt.date
    files_dir: Path
    profile: str
    end_date: dt.date | None = None  # the day after the last day partitioned (default: through today)
    # schedules and sensors that fetch, recompute or retrain start running (a deployment) or
    # stopped (a person opening the UI to look: nothing recomputes behind their back)
    automation: bool = False
    # where steps run (README "Scaling out"): `multiprocess` on this machine, `dask` on the
    # cluster whose scheduler is at dask_scheduler, `k8s` one Kubernetes Job per step
    executor: str = "multiprocess"
    dask_scheduler: str = ""
    # where the landing zone, the model store and the reports live: a directory (default:
    # data_dir) or an object store, s3://bucket/prefix (lib/storage.py), which workers that share
    # no disk can all reach
    store: str = ""
    config_dir: Path = field(default=PROJECT_ROOT / "config")
    sql_dir: Path = field(default=PROJECT_ROOT / "sql")

    @property
    def store_url(self) -> str:
        return self.store or str(self.data_dir)

    @property
    def landing_url(self) -> str:
        return f"{self.store_url.rstrip('/')}/landing"

    @property
    def report_url(self) -> str:
        return f"{self.store_url.rstrip('/')}/reports"

    @property
    def model_url(self) -> str:
        return f"{self.store_url.rstrip('/')}/models"

    @property
    def snapshot_url(self) -> str:
        return f"{self.store_url.rstrip('/')}/snapshots"

    @property
    def report_dir(self) -> Path:
        return self.data_dir / "reports"

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def from_env(cls) -> "Settings":
        data_dir = Path(_env("CBI_DATA_DIR", str(PROJECT_ROOT / "data"))).resolve()
        mode = _choice("CBI_SOURCE_MODE", "sample", MODES)
        return cls(
            data_dir=data_dir,
            warehouse_path=check_location(_env("CBI_WAREHOUSE", str(data_dir / "cbi.duckdb"))),
            source_mode=mode,
            sample_seed=int(_env("CBI_SAMPLE_SEED", "1")),
            sample_signal=float(_env("CBI_SAMPLE_SIGNAL", "1.0")),
            start_date=dt.date.fromisoformat(_env("CBI_START_DATE", "2010-06-06")),
            history_start=dt.date.fromisoformat(_env("CBI_HISTORY_START", "2010-06-06")),
            files_dir=Path(_env("CBI_FILES_DIR", str(data_dir / "files"))).resolve(),
            profile=_env("CBI_PROFILE", "fast"),
            config_dir=Path(_env("CBI_CONFIG_DIR", str(PROJECT_ROOT / "config"))).resolve(),
            sql_dir=Path(_env("CBI_SQL_DIR", str(PROJECT_ROOT / "sql"))).resolve(),
            end_date=dt.date.fromisoformat(_env("CBI_END_DATE", "")) if _env("CBI_END_DATE", "") else None,
            automation=_flag("CBI_AUTOMATION"),
            executor=_choice("CBI_EXECUTOR", "multiprocess", EXECUTORS),
            dask_scheduler=_env("CBI_DASK_SCHEDULER", ""),
            store=_env("CBI_STORE", ""),
        )
