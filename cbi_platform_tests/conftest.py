"""Shared fixtures. Real recorded payloads are read from ../shared (never copied into the repo)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

# Tests keep Dagster's per-partition bookkeeping small: daily partitions over the last six weeks,
# the first one carrying the history from 2016 on. Set before anything imports the Dagster
# definitions, which read them.
os.environ.setdefault("CBI_START_DATE", (dt.date.today() - dt.timedelta(days=42)).isoformat())
os.environ.setdefault("CBI_HISTORY_START", "2016-01-04")

import pytest

from cbi_platform.lib import warehouse
from cbi_platform.lib.landing import LandingZone
from cbi_platform.lib.settings import PROJECT_ROOT, Settings
from cbi_platform.lib.sources.base import RetryConfig
from cbi_platform.lib.sources.context import FetchContext

SHARED = (PROJECT_ROOT.parent / "shared").resolve()
FIXTURES = SHARED / "fixtures"
REAL = SHARED / "real"
CONFIG_DIR = PROJECT_ROOT / "config"
SQL_DIR = PROJECT_ROOT / "sql"
TODAY = dt.date(2026, 11, 20)  # a fixed "today" keeps sample-world tests independent of the clock


def shared_file(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the tests read real payloads from ../shared (see README)")
    return path


@pytest.fixture
def settings(tmp_path) -> Settings:
    base = Settings.from_env()
    return base.with_overrides(data_dir=tmp_path / "data", warehouse_path=str(tmp_path / "data" / "cbi.duckdb"),
                               files_dir=tmp_path / "files", source_mode="sample")


@pytest.fixture
def conn(tmp_path):
    connection = warehouse.connect(tmp_path / "test.duckdb")
    warehouse.apply_migrations(connection, SQL_DIR)
    yield connection
    connection.close()


def sample_context(tmp_path: Path, signal: float = 1.0, seed: int = 7, today: dt.date = TODAY) -> FetchContext:
    from cbi_platform.lib.sample.transport import SampleWorldTransport
    from cbi_platform.lib.sample.world import get_world

    world = get_world(seed, signal, CONFIG_DIR)
    return FetchContext("sample", LandingZone(tmp_path / "landing"), tmp_path / "files", CONFIG_DIR, today,
                        SampleWorldTransport(world, today), RetryConfig(max_attempts=3, base_delay=0.0))


@pytest.fixture
def sample_ctx(tmp_path) -> FetchContext:
    return sample_context(tmp_path)
