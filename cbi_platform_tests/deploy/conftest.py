"""A real PostgreSQL 15 (the server binaries on the machine image), started per test module in a
temporary directory on a loopback port and stopped afterwards. The server refuses to run as
root, so it runs as the `postgres` user."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@pytest.fixture(scope="module")
def postgres():
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
