"""Shared fixtures. Real recorded payloads are read from ../shared (never copied into the repo)."""

from __future__ import annotations

import datetime as dt
import os
from contextlib import contextmanager
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


@contextmanager
def motherduck_stand_in(local: Path):
    """What a MotherDuck warehouse sees, without its service (unreachable here): every call that
    reaches duckdb.connect is recorded as (database, read_only, the Dagster op running it or None),
    and an `md:` database is served from the local file `local`. A filesystem assumption about an
    `md:` name (Path(...).exists(), mkdir) fails on its own, before reaching this."""
    import dagster as dg
    import duckdb
    from dagster._core.errors import DagsterInvariantViolationError

    real_connect = duckdb.connect
    calls: list[tuple[str, bool, str | None]] = []

    def connect(database: str = ":memory:", read_only: bool = False, **kwargs):
        try:
            op = dg.AssetExecutionContext.get().op_def.name
        except DagsterInvariantViolationError:
            op = None
        calls.append((database, read_only, op))
        target = str(local) if str(database).startswith(warehouse.MOTHERDUCK_PREFIXES) else database
        return real_connect(target, read_only=read_only, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(duckdb, "connect", connect)
        yield calls


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    from cbi_platform_tests.s3_server import s3_server

    with s3_server(tmp_path_factory.mktemp("s3") / "moto.log") as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(s3_endpoint, monkeypatch) -> str:
    """A fresh, empty bucket on the loopback S3 server, with the environment a deployment gives
    (endpoint and credentials as variables, never in URLs); yields `s3://<bucket>`."""
    import uuid

    import boto3

    from cbi_platform.lib.storage import S3_ENDPOINT_ENV

    monkeypatch.setenv(S3_ENDPOINT_ENV, s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key-never-shown")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = f"cbi-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return f"s3://{bucket}"
