"""An S3-compatible server (moto's) as its own process on 127.0.0.1, for the object-storage tests;
stopped (killed if need be) on exit."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from cbi_platform_tests.processes import free_port, stop_process


@contextmanager
def s3_server(log: Path, start_timeout: float = 60) -> Iterator[str]:
    """Yields the endpoint URL (http://127.0.0.1:<port>)."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with open(log, "w") as output:
        process = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                try:
                    httpx.get(endpoint, timeout=2)
                    break
                except httpx.TransportError as exc:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise TimeoutError(f"the S3 server did not start within {start_timeout:.0f} s:\n"
                                           f"{log.read_text()[-2000:]}") from exc
                    time.sleep(0.3)
            yield endpoint
        finally:
            stop_process(process, timeout=10)
