"""A real Dask cluster on loopback for tests and benchmarks: a scheduler and N workers, each its
own process started with `dask scheduler` / `dask worker`, stopped (killed if need be) on exit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cbi_platform_tests.processes import stop_process


@dataclass
class DaskCluster:
    address: str
    worker_pids: list[int]


def _dask_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("dask")), *args]


@contextmanager
def dask_cluster(workers: int, env: dict[str, str], log_dir: Path, port: int, start_timeout: float = 60) -> Iterator[DaskCluster]:
    """A scheduler on 127.0.0.1:`port` and `workers` workers. Workers run tasks in their own process
    (`--no-nanny`, one thread each), so a step's pid is its worker's; `env` is what the steps see
    (the platform's settings, the same as the run's)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    scheduler_file = log_dir / "scheduler.json"
    processes: list[subprocess.Popen] = []
    logs = []

    def start(name: str, command: list[str]) -> subprocess.Popen:
        log = open(log_dir / f"{name}.log", "w")  # noqa: SIM115 - closed below
        logs.append(log)
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        processes.append(process)
        return process

    try:
        start("scheduler", _dask_command("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
                                         "--scheduler-file", str(scheduler_file)))
        address = _wait_for(lambda: json.loads(scheduler_file.read_text())["address"] if scheduler_file.exists() else None,
                            start_timeout, "the Dask scheduler", log_dir)
        worker_processes = [
            start(f"worker{i}", _dask_command("worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                                              "--no-dashboard", "--memory-limit", "0", "--name", f"worker{i}",
                                              "--local-directory", str(log_dir / f"worker{i}")))
            for i in range(workers)
        ]
        _wait_for(lambda: _workers_ready(address, workers), start_timeout, f"{workers} Dask workers", log_dir)
        yield DaskCluster(address, [p.pid for p in worker_processes])
    finally:
        for process in reversed(processes):
            stop_process(process)
        for log in logs:
            log.close()


def _workers_ready(address: str, expected: int) -> bool | None:
    from distributed import Client

    with Client(address, timeout=10) as client:
        return len(client.scheduler_info(n_workers=-1)["workers"]) >= expected or None


def _wait_for(probe, timeout: float, what: str, log_dir: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = probe()
        except (OSError, ValueError, KeyError):
            value = None
        if value:
            return value
        time.sleep(0.5)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(log_dir.glob("*.log")))
    raise TimeoutError(f"{what} did not start within {timeout:.0f} s\n{logs}")


def materialize(selection: list[str], env: dict[str, str], retrain: bool = True, timeout: float = 3600) -> subprocess.CompletedProcess:
    """`dagster asset materialize` of `selection` as a user launches it, in `env` (CBI_EXECUTOR=dask
    and the scheduler's address: the steps run on the cluster); every model in it retrained."""
    from cbi_platform.defs.models import TRAINING_ASSETS

    training = {asset.op.name for asset in TRAINING_ASSETS}
    models = [key.replace("/", "__") for key in selection if key.replace("/", "__") in training] if retrain else []
    run_config = {"ops": {op: {"config": {"force_retrain": True}} for op in models}}
    return subprocess.run([sys.executable, "-m", "dagster", "asset", "materialize", "-m", "cbi_platform.definitions",
                           "--select", ",".join(selection), "--config-json", json.dumps(run_config)],
                          env=env, capture_output=True, text=True, timeout=timeout)


def dask_environment(base: dict[str, str], port: int, project_root: Path) -> dict[str, str]:
    """The platform's settings for a run on the cluster at 127.0.0.1:`port`; workers import this checkout."""
    return {**base, "CBI_EXECUTOR": "dask", "CBI_DASK_SCHEDULER": f"tcp://127.0.0.1:{port}", "PYTHONPATH": str(project_root)}
