"""The deployed pieces as local processes: a real PostgreSQL 15 per test module
(`processes.postgres_server`), the webserver, the code server."""

import signal
import subprocess
import time
from pathlib import Path

import pytest

from cbi_platform_tests.processes import free_port, postgres_server


def _default_sigint() -> None:
    # Dagster's servers map SIGTERM onto SIGINT's handler; a child of a shell that ignores SIGINT
    # (any background job) would then ignore SIGTERM too and never stop.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_server(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    """A long-running server process, its output in `log` (a pipe nobody reads would fill up
    and block it)."""
    from cbi_platform.lib.settings import PROJECT_ROOT

    with open(log, "wb") as out:
        return subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=_default_sigint)


def server_failed(process: subprocess.Popen, log: Path, what: str) -> RuntimeError:
    process.kill()
    process.wait()
    return RuntimeError(f"{what} did not come up:\n{log.read_text(errors='replace')[-3000:]}")


def wait_for_server(url: str, process: subprocess.Popen, log: Path, what: str, timeout: float = 120) -> None:
    """Until a Dagster webserver at `url` answers /server_info; if the process dies or the time
    runs out, it is killed and the error carries the end of its log."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{url}/server_info", timeout=2)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise server_failed(process, log, what) from None
            time.sleep(0.5)


def start_webserver(env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    """`dagster-webserver -m cbi_platform.definitions` on a free loopback port, answering: (process, url)."""
    import sys

    port = free_port()
    process = start_server([str(Path(sys.executable).with_name("dagster-webserver")), "-h", "127.0.0.1", "-p",
                            str(port), "-m", "cbi_platform.definitions"], env, log)
    url = f"http://127.0.0.1:{port}"
    wait_for_server(url, process, log, "webserver")
    return process, url


def stop_server(process: subprocess.Popen, log: Path) -> None:
    """Stop as `docker stop` does (SIGTERM), and fail if the server ignores it."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise RuntimeError(f"server ignored SIGTERM for 30 s:\n{log.read_text(errors='replace')[-3000:]}") from None


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as server:
        yield server
