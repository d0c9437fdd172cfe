"""`make ui`: `dagster dev` on the local instance (the one `make demo` writes), bound to loopback,
stopping promptly on Ctrl-C or SIGTERM.

Why a launcher: a command started in the background by a non-interactive shell (`make ui &`, a
script, an IDE task) inherits SIGINT as *ignored*. Python then installs no Ctrl-C handler, and
Dagster's processes, which route SIGTERM to the SIGINT handler, ignore SIGTERM too: `dagster dev`
kept running for more than a minute after being told to stop. Restoring the default SIGINT
disposition before exec gives it back its handlers.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def dev_command(port: int = 3000) -> list[str]:
    dagster = Path(sys.executable).with_name("dagster")
    return [str(dagster), "dev", "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"]


def main(argv: list[str] | None = None) -> None:
    from cbi_platform.instance import ensure_home
    from cbi_platform.lib.settings import PROJECT_ROOT, Settings

    os.chdir(PROJECT_ROOT)  # workspace.yaml's working_directory is relative to it
    args = sys.argv[1:] if argv is None else argv
    ensure_home(Settings.from_env().data_dir)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # survives exec; an ignored SIGINT would too
    command = dev_command(int(args[0]) if args else 3000)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
