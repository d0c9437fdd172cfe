"""Dagster resources: thin wrappers that hand plain-Python objects to the asset code."""


import datetime as dt
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

from cbi_platform.lib import warehouse
from cbi_platform.lib.landing import LandingZone
from cbi_platform.lib.sources.base import RetryConfig
from cbi_platform.lib.sources.context import FetchContext


class Warehouse(DuckDBResource):
    """The DuckDB warehouse. Applies the numbered migrations once per process before first use;
    `read_connection` opens read-only for steps that only read."""

    sql_dir: str = Field(description="Directory holding schema/ and features/ SQL")

    @contextmanager
    def get_connection(self):
        with warehouse.connection(self.database) as conn:
            _migrate_once(self.database, self.sql_dir, conn)
            yield conn

    @contextmanager
    def read_connection(self):
        if warehouse.on_local_disk(self.database) and not Path(self.database).exists():
            raise FileNotFoundError(f"warehouse {self.database} does not exist yet: materialise the raw assets first")
        with warehouse.connection(self.database, read_only=True) as conn:
            yield conn


_MIGRATED: set[tuple[str, str]] = set()


def _migrate_once(database: str, sql_dir: str, conn) -> None:
    key = (database, sql_dir)
    if key not in _MIGRATED or database == ":memory:":
        warehouse.apply_migrations(conn, Path(sql_dir))
        _MIGRATED.add(key)


class PlatformConfig(dg.ConfigurableResource):
    """What every step reads besides its data: the config directory, and the data mode every model,
    forecast and report is labelled with (the mode the sources run in)."""

    config_dir: str
    data_mode: str = Field(default="sample", description="sample | live | replay | files")


class SourceResource(dg.ConfigurableResource):
    """Where raw bytes come from: `sample` (the simulated world behind the real APIs' URLs),
    `live` (the real APIs; keys from the environment), `replay` (the landing zone) or `files`
    (user-supplied exports), as `platform.data_mode` says. API keys are never part of this config."""

    platform: PlatformConfig
    landing_url: str = Field(description="the landing zone: a directory or s3://bucket/prefix")
    files_dir: str
    sample_seed: int = 1
    sample_signal: float = Field(default=1.0, description="1.0: planted signal; 0.0: the null world")
    history_start: str = Field(default="2010-06-06", description="how far back the first partition reaches (futures)")
    max_attempts: int = 5
    base_delay_seconds: float = 1.0

    @property
    def mode(self) -> str:
        return self.platform.data_mode

    @property
    def config_dir(self) -> str:
        return self.platform.config_dir

    def fetch_context(self, today: dt.date | None = None) -> FetchContext:
        today = today or dt.date.today()
        transport = None
        if self.mode == "sample":
            from cbi_platform.lib.sample.transport import SampleWorldTransport
            from cbi_platform.lib.sample.world import get_world

            transport = SampleWorldTransport(get_world(self.sample_seed, self.sample_signal, Path(self.config_dir)), today)
        return FetchContext(
            mode=self.mode,
            landing=LandingZone(self.landing_url),
            files_dir=Path(self.files_dir),
            config_dir=Path(self.config_dir),
            today=today,
            transport=transport,
            retry=RetryConfig(max_attempts=self.max_attempts, base_delay=self.base_delay_seconds),
            history_start=dt.date.fromisoformat(self.history_start),
        )


class ModelStore(dg.ConfigurableResource):
    """The model store, a folder or s3://bucket/prefix (lib.ml.registry.model_dir names each model's
    directory, lib.ml.records each version's record), and beside it the snapshots of what the models
    learn from (lib.snapshot)."""

    root: str
    snapshots: str


class ReportStore(dg.ConfigurableResource):
    """Where the HTML report and its PNGs are written: a directory or s3://bucket/prefix."""

    root: str
