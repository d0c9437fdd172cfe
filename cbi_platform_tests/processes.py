"""Local servers the tests and benches start as their own processes (PostgreSQL, Dask, an S3
server): a free loopback port, and a stop that cannot leave one behind."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it is still running after `timeout` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@contextmanager
def postgres_server() -> Iterator[dict]:
    """A real PostgreSQL 15 (the server binaries on the machine image) in a temporary directory on
    a loopback port, stopped afterwards. The server refuses to run as root, so it runs as the
    `postgres` user. Yields what deploy/dagster.yaml reads from DAGSTER_POSTGRES_*."""
    if not (PG_BIN / "initdb").exists():
        raise FileNotFoundError(f"PostgreSQL 15 server binaries are missing from {PG_BIN}")
    base = Path(tempfile.mkdtemp(prefix="cbi_pg_"))
    if os.geteuid() == 0:
        shutil.chown(base, user="postgres")
    data, port = base / "data", free_port()
    subprocess.run(as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "dagster"),
                   check=True, capture_output=True)
    subprocess.run(as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-o",
                               f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "-w", "start"),
                   check=True, capture_output=True)
    try:
        subprocess.run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "dagster", "dagster"],
                       check=True, capture_output=True)
        yield {"host": "127.0.0.1", "port": port, "user": "dagster", "password": "unused-with-trust", "db": "dagster"}
    finally:
        subprocess.run(as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
        time.sleep(0.1)


def deploy_instance_home(home: Path, postgres: dict) -> dict[str, str]:
    """A DAGSTER_HOME with deploy/dagster.yaml (its local paths under `home`) and the environment
    the deployed processes get: the server's DAGSTER_POSTGRES_* and docker-compose.yml's Dagster
    tuning (DAGSTER_EVENT_BATCH_SIZE and the like)."""
    from cbi_platform.lib.config import load_yaml
    from cbi_platform.lib.settings import PROJECT_ROOT

    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text((PROJECT_ROOT / "deploy" / "dagster.yaml").read_text().replace(
        "/opt/dagster/dagster_home/storage", str(home / "storage")))
    compose_env = load_yaml(PROJECT_ROOT / "docker-compose.yml")["x-cbi-env"]
    tuning = {k: str(v) for k, v in compose_env.items() if k.startswith("DAGSTER_") and not k.startswith("DAGSTER_POSTGRES_")}
    return {"DAGSTER_HOME": str(home), **tuning,
            **{f"DAGSTER_POSTGRES_{name.upper()}": str(value) for name, value in postgres.items()}}
