"""`make ui` stops promptly when told to, even when started as a background job (which inherits
SIGINT ignored: see cbi_platform/ui.py)."""

import os
import signal
import subprocess
import sys
import time

from cbi_platform.lib.settings import PROJECT_ROOT
from cbi_platform_tests.deploy.conftest import free_port, wait_for_server


def _as_a_background_job() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_the_ui_started_in_the_background_stops_on_sigterm(tmp_path):
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "CBI_DATA_DIR": str(tmp_path / "data")}
    env.pop("CBI_AUTOMATION", None)
    log = tmp_path / "ui.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "cbi_platform.ui", str(port)], cwd=PROJECT_ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, preexec_fn=_as_a_background_job,
                                   start_new_session=True)
    try:
        wait_for_server(f"http://127.0.0.1:{port}", process, log, "make ui", timeout=180)
        time.sleep(5)  # the daemon and code server are up too
        started = time.monotonic()
        process.terminate()
        process.wait(timeout=60)
        stopped_after = time.monotonic() - started
        assert stopped_after < 20, (stopped_after, log.read_text(errors="replace")[-2000:])
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # nothing it started is left behind: within a few seconds the session holds no process any more
    deadline = time.monotonic() + 15
    while (leftovers := _processes_in_session(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.5)
    if leftovers:
        os.killpg(process.pid, signal.SIGKILL)
    assert leftovers == []


def _processes_in_session(session_id: int) -> list[str]:
    listing = subprocess.run(["ps", "-o", "args=", "-s", str(session_id)], capture_output=True, text=True).stdout
    return [line[:160] for line in listing.splitlines() if line.strip()]
