"""Progress of long loops (ingest ranges, walk-forward fits): `label: i of n, elapsed, ~left`.

Lines go to the `cbi_platform.progress` logger; the Dagster wrappers forward it to the run's log
(`defs.models.training_logs_to_run_log`) and `make demo`/`make backfill` print it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("cbi_platform.progress")


class Progress:
    """Counts finished units of `total`; the estimate assumes the rest cost what the done ones did."""

    def __init__(self, label: str, total: int, unit: str = "", clock: Callable[[], float] = time.monotonic):
        self.label, self.total, self.unit, self.clock = label, total, unit, clock
        self.completed = 0
        self.started = clock()

    def advance(self, count: int = 1, detail: str = "") -> str:
        self.completed += count
        elapsed = self.clock() - self.started
        left = elapsed / self.completed * (self.total - self.completed) if self.completed else float("nan")
        unit = f" {self.unit}" if self.unit else ""
        line = (f"{self.label}: {self.completed} of {self.total}{unit}{f' ({detail})' if detail else ''}, "
                f"{elapsed:.0f} s elapsed, ~{left:.0f} s left")
        log.info(line)
        return line
